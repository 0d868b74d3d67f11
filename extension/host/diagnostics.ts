// Live diagnostics for *.police.json: the same validation as `police validate`, debounced, in a worker thread, never throwing.
import { dirname, isAbsolute } from 'node:path';
import * as vscode from 'vscode';
import type { DataRoots } from '../police/io/safe-read';
import type { ValidateOptions, ValidationResult } from '../police/spec/parse';
import type { Problem } from '../police/spec/problems';
import { Disposable, toDisposable } from './dispose';
import { editorProblems } from './editor-problems';
import type { SpecValidator } from './spec-validation';

/**
 * Where a spec in this window may read data files: the workspace folders; anywhere when the user set
 * police.allowDataOutsideWorkspace in a trusted workspace. An untrusted workspace never reads outside itself.
 */
export function dataAccessFor(specPath: string): ValidateOptions {
  const uri = vscode.Uri.file(specPath);
  const trusted = vscode.workspace.isTrusted;
  if (trusted && vscode.workspace.getConfiguration('police', uri).get<boolean>('allowDataOutsideWorkspace', false))
    return { dataRoots: { anywhere: true } };
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  // A spec opened on its own in a trusted window may read beside itself; an untrusted window without a folder reads nothing.
  if (folders.length === 0 && trusted && isAbsolute(specPath)) folders.push(dirname(specPath));
  const dataRoots: DataRoots = { folders };
  return {
    dataRoots,
    optIn: trusted
      ? 'set police.allowDataOutsideWorkspace to read data outside the workspace'
      : 'this workspace is not trusted, so nothing outside it is read',
  };
}

export const POLICE_LANGUAGE_ID = 'police-json';
const DEBOUNCE_MS = 300;

export function isSpecDocument(document: vscode.TextDocument): boolean {
  return document.languageId === POLICE_LANGUAGE_ID || document.uri.path.endsWith('.police.json');
}

const SEVERITY: Record<Problem['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export function toDiagnostic(problem: Problem): vscode.Diagnostic {
  const range = new vscode.Range(
    problem.range.start.line,
    problem.range.start.character,
    problem.range.end.line,
    problem.range.end.character,
  );
  const diagnostic = new vscode.Diagnostic(range, problem.message, SEVERITY[problem.severity] ?? vscode.DiagnosticSeverity.Error);
  diagnostic.source = 'police';
  diagnostic.code = problem.code;
  return diagnostic;
}

export class SpecDiagnostics extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection('police'));
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly validator: SpecValidator,
  ) {
    super();
    this._register(
      toDisposable(() => {
        for (const timer of this.timers.values()) clearTimeout(timer);
        this.timers.clear();
      }),
    );
    this._register(vscode.workspace.onDidOpenTextDocument((d) => void this.validateNow(d)));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)));
    this._register(vscode.workspace.onDidSaveTextDocument((d) => void this.validateNow(d)));
    this._register(vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)));
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.revalidateAll()));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('police.allowDataOutsideWorkspace')) this.revalidateAll();
      }),
    );
    this.revalidateAll();
  }

  /** The full result (problems, and the resolved spec when valid), validated off the host's thread. */
  validate(document: vscode.TextDocument, withSpec = true): Promise<ValidationResult> {
    return this.validator.validate(document.getText(), document.uri.fsPath, dataAccessFor(document.uri.fsPath), withSpec);
  }

  /** Validate at once, show the problems, and return the result (commands use this before training; `withSpec` for the view). */
  async validateNow(document: vscode.TextDocument, withSpec = false): Promise<ValidationResult> {
    if (!isSpecDocument(document)) return { problems: [] };
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    const version = document.version;
    const result = await this.validate(document, withSpec);
    const { problems } = result;
    const internal = problems.find((p) => p.code === 'internal');
    if (internal) this.log.error(`validating ${document.uri.fsPath}: ${internal.message}`);
    // An answer for an older text must not replace the newer one's diagnostics.
    if (document.isClosed || document.version !== version) return result;
    const shown = editorProblems(problems);
    this.collection.set(document.uri, shown.map(toDiagnostic));
    return result;
  }

  private revalidateAll(): void {
    for (const document of vscode.workspace.textDocuments) void this.validateNow(document);
  }

  private schedule(document: vscode.TextDocument): void {
    if (!isSpecDocument(document)) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => void this.validateNow(document), DEBOUNCE_MS),
    );
  }

  private forget(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.collection.delete(document.uri);
  }
}
