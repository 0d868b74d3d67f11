// Which validation problems the editor shows as POLICE diagnostics (no vscode: unit-tested).
import type { Problem } from '../police/spec/problems';

/**
 * Codes of problems the JSON language server also reports for a *.police.json file: syntax errors, and schema
 * violations through jsonValidation (our schema). Shown once, by the language server.
 */
export const JSON_SERVER_CODES: ReadonlySet<string> = new Set(['syntax', 'schema', 'unknown-activation']);

export interface EditorDocument {
  /** Untitled documents match no jsonValidation fileMatch: the language server does not check them against the schema. */
  untitled: boolean;
  text: string;
}

/** The problems to publish as POLICE diagnostics: the semantic ones, plus schema ones the language server cannot see. */
export function editorProblems(problems: Problem[], document: EditorDocument): Problem[] {
  // An empty file is not a schema violation to the language server: only POLICE says what a spec needs.
  const schemaSeen = !document.untitled && document.text.trim() !== '';
  return problems.filter((p) => p.code !== 'syntax' && !(schemaSeen && JSON_SERVER_CODES.has(p.code)));
}
