// Live diagnostics for *.police.json: the same validation as `police validate`, debounced, never throwing.
import * as vscode from 'vscode';
import { validateSpecText } from '../police/spec/parse';
import type { Problem } from '../police/spec/problems';
import { Disposable, toDisposable } from './dispose';
import { editorProblems } from './editor-problems';

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

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    this._register(
      toDisposable(() => {
        for (const timer of this.timers.values()) clearTimeout(timer);
        this.timers.clear();
      }),
    );
    this._register(vscode.workspace.onDidOpenTextDocument((d) => this.validateNow(d)));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)));
    this._register(vscode.workspace.onDidSaveTextDocument((d) => this.validateNow(d)));
    this._register(vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)));
    for (const document of vscode.workspace.textDocuments) this.validateNow(document);
  }

  /** Validate at once and return the problems (commands use this before training). */
  validateNow(document: vscode.TextDocument): Problem[] {
    if (!isSpecDocument(document)) return [];
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    let problems: Problem[];
    try {
      problems = validateSpecText(document.getText(), document.uri.fsPath).problems;
    } catch (err) {
      // A validator bug must not take the editor down: report it once, as a diagnostic and in the log.
      this.log.error(`validating ${document.uri.fsPath} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      problems = [
        {
          message: `POLICE could not validate this spec: ${err instanceof Error ? err.message : String(err)}`,
          severity: 'error',
          range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
          offset: 0,
          length: 0,
          code: 'internal',
        },
      ];
    }
    const shown = editorProblems(problems);
    this.collection.set(document.uri, shown.map(toDiagnostic));
    return problems;
  }

  private schedule(document: vscode.TextDocument): void {
    if (!isSpecDocument(document)) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => this.validateNow(document), DEBOUNCE_MS),
    );
  }

  private forget(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.collection.delete(document.uri);
  }
}
