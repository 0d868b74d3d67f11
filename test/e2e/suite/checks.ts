// The suite's assertions about the VS Code API, run inside the extension host: by the e2e probe in code-server,
// and by suite/index.ts under @vscode/test-electron. Each check asserts and returns what it saw (for the log).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'police-studio.police-studio';

export interface SeenDiagnostic {
  message: string;
  severity: 'error' | 'warning' | 'info' | 'hint';
  source?: string;
  code?: string;
  range: [number, number, number, number];
}

const SEVERITY_NAMES = ['error', 'warning', 'info', 'hint'] as const;

function toSeen(d: vscode.Diagnostic): SeenDiagnostic {
  const code = typeof d.code === 'object' ? String(d.code.value) : d.code === undefined ? undefined : String(d.code);
  return {
    message: d.message,
    severity: SEVERITY_NAMES[d.severity],
    source: d.source,
    code,
    range: [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character],
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function fileUri(path: string): vscode.Uri {
  return vscode.Uri.file(path);
}

/** The extension is installed, activates, and registers every POLICE command the manifest promises. */
export async function extensionActivates(): Promise<{ commands: string[] }> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed`);
  await extension.activate();
  const registered = new Set(await vscode.commands.getCommands(true));
  const promised = (extension.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
  const missing = promised.filter((c) => !registered.has(c));
  assert.deepEqual(missing, [], `commands in package.json but not registered: ${missing.join(', ')}`);
  return { commands: promised };
}

/** A *.police.json file opens in the police-json language. */
export async function specOpensAsPoliceJson(args: { path: string }): Promise<{ languageId: string }> {
  const document = await vscode.workspace.openTextDocument(fileUri(args.path));
  assert.equal(document.languageId, 'police-json', `${args.path} opened as ${document.languageId}`);
  return { languageId: document.languageId };
}

/** The JSON language server (through jsonLanguageParticipants + the schema) offers `label` at the position. */
export async function completionOffers(args: {
  path: string;
  line: number;
  character: number;
  label: string;
}): Promise<{ labels: string[] }> {
  const uri = fileUri(args.path);
  const labels = await until(`completion "${args.label}" at ${args.line}:${args.character}`, async () => {
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider',
      uri,
      new vscode.Position(args.line, args.character),
    );
    const seen = list.items.map((item) => (typeof item.label === 'string' ? item.label : item.label.label).replace(/^"|"$/g, ''));
    return seen.includes(args.label) ? seen : undefined;
  });
  return { labels };
}

/** Hover over a property shows the schema's description. */
export async function hoverShows(args: { path: string; line: number; character: number; text: string }): Promise<{ hover: string }> {
  const uri = fileUri(args.path);
  const hover = await until(`hover containing "${args.text}"`, async () => {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      uri,
      new vscode.Position(args.line, args.character),
    );
    const text = hovers
      .flatMap((h) => h.contents)
      .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
      .join('\n');
    return text.includes(args.text) ? text : undefined;
  });
  return { hover };
}

/** The document has a diagnostic whose message matches, at exactly this range (0-based line/character). */
export async function diagnosticAt(args: {
  path: string;
  message: string;
  range: [number, number, number, number];
  severity?: SeenDiagnostic['severity'];
}): Promise<{ diagnostics: SeenDiagnostic[] }> {
  const uri = fileUri(args.path);
  const pattern = new RegExp(args.message, 'i');
  let last: SeenDiagnostic[] = [];
  try {
    await until(`a diagnostic /${args.message}/ at ${args.range.join(',')}`, () => {
      last = vscode.languages.getDiagnostics(uri).map(toSeen);
      return last.some(
        (d) => pattern.test(d.message) && d.range.join(',') === args.range.join(',') && (!args.severity || d.severity === args.severity),
      )
        ? true
        : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; diagnostics were ${JSON.stringify(last)}`);
  }
  return { diagnostics: last };
}

/** No errors on the document (from any source: schema, POLICE). */
export async function noErrors(args: { path: string }): Promise<{ diagnostics: SeenDiagnostic[] }> {
  const uri = fileUri(args.path);
  let last: SeenDiagnostic[] = [];
  try {
    await until('no error diagnostics', () => {
      last = vscode.languages.getDiagnostics(uri).map(toSeen);
      return last.every((d) => d.severity !== 'error') ? true : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; diagnostics were ${JSON.stringify(last)}`);
  }
  return { diagnostics: last };
}

export const checks = {
  extensionActivates,
  specOpensAsPoliceJson,
  completionOffers,
  hoverShows,
  diagnosticAt,
  noErrors,
};
export type CheckName = keyof typeof checks;
