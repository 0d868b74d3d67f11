// What every `police` command does with SPEC: read it through the safe reader, and confine the files it names unless the user opts out.
import { readTextLimited } from '../police/io/safe-read';
import { validateSpecText, type ValidateOptions, type ValidationResult } from '../police/spec/parse';

/** The flag that lets a spec read data files outside its own folder tree. */
export const ALLOW_DATA_OUTSIDE_FLAG = 'allow-data-outside';
export const ALLOW_DATA_OUTSIDE_OPTION = { [ALLOW_DATA_OUTSIDE_FLAG]: { type: 'boolean', default: false } } as const;

export function validateOptions(allowDataOutside: boolean | undefined): ValidateOptions {
  return allowDataOutside ? { dataRoots: { anywhere: true } } : { optIn: `pass --${ALLOW_DATA_OUTSIDE_FLAG} to read it anyway` };
}

/** The spec's text (a regular file within READ_LIMITS.spec); throws a SafeReadError naming the file and the reason. */
export function readSpecText(specPath: string): string {
  return readTextLimited(specPath, { kind: 'spec' });
}

export function validateSpecFile(specPath: string, text: string, allowDataOutside: boolean | undefined): ValidationResult {
  return validateSpecText(text, specPath, validateOptions(allowDataOutside));
}
