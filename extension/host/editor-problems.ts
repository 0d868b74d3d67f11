// Which validation problems the editor shows as POLICE diagnostics (no vscode: unit-tested).
import type { Problem } from '../police/spec/problems';

/**
 * The problems to publish as POLICE diagnostics: every one but syntax errors, which the JSON language server reports
 * (as errors) for a police-json document. Schema violations are ours alone: the language server's copy of the schema
 * (schemas/editor-schema.mjs) completes and documents but does not validate, so each shows once, as an error.
 */
export function editorProblems(problems: Problem[]): Problem[] {
  return problems.filter((p) => p.code !== 'syntax');
}
