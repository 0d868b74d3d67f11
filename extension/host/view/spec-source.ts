// Parse a spec for the view with the same validation the editor and CLI use, through the host's validation worker.
import { validateSpecText, type ValidationResult } from '../../police/spec/parse';

type Validate = (text: string, specPath: string) => Promise<ValidationResult>;

let workerValidation: Validate | undefined;

/** The extension routes the view's validations through its worker (and data-access rules); without it they run here. */
export function useSpecValidation(validate: Validate | undefined): void {
  workerValidation = validate;
}

export async function parseSpecText(text: string, specPath: string): Promise<ValidationResult> {
  try {
    return workerValidation ? await workerValidation(text, specPath) : validateSpecText(text, specPath);
  } catch (error) {
    // The view must never take the host down over a spec; report it like any other problem.
    const message = `${specPath}: ${error instanceof Error ? error.message : String(error)}`;
    const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    return { problems: [{ message, severity: 'error', range, offset: 0, length: 0, code: 'internal' }] };
  }
}
