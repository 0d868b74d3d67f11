// Parse a spec for the view with the same validation the editor and CLI use.
import { validateSpecText, type ValidationResult } from '../../police/spec/parse';

export function parseSpecText(text: string, specPath: string): ValidationResult {
  try {
    return validateSpecText(text, specPath);
  } catch (error) {
    // The view must never take the host down over a spec; report it like any other problem.
    const message = `${specPath}: ${error instanceof Error ? error.message : String(error)}`;
    const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    return { problems: [{ message, severity: 'error', range, offset: 0, length: 0, code: 'internal' }] };
  }
}
