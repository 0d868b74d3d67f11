// `police validate SPEC [--json]`: exit 0 when valid (warnings allowed), 1 with errors or an unreadable file.
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { Problem } from '../police/spec/problems';
import { ALLOW_DATA_OUTSIDE_OPTION, readSpecText, validateSpecFile } from './spec-file';

const USAGE = 'usage: police validate SPEC [--json] [--allow-data-outside]';

function jsonProblems(problems: Problem[]): string {
  return JSON.stringify({ problems: problems.map(({ message, severity, range }) => ({ message, severity, range })) });
}

export async function validateCommand(args: string[]): Promise<number> {
  let json = false;
  let allowDataOutside = false;
  let specPath: string | undefined;
  try {
    const parsed = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' }, ...ALLOW_DATA_OUTSIDE_OPTION } });
    json = parsed.values.json === true;
    allowDataOutside = parsed.values['allow-data-outside'] === true;
    if (parsed.positionals.length !== 1)
      throw new Error(parsed.positionals.length === 0 ? 'missing SPEC' : `expected one SPEC, got ${parsed.positionals.length}`);
    specPath = parsed.positionals[0];
  } catch (err) {
    process.stderr.write(`police validate: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 1;
  }

  let text: string;
  try {
    text = readSpecText(specPath);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (json) {
      const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
      process.stdout.write(`${JSON.stringify({ problems: [{ message, severity: 'error', range }] })}\n`);
    } else process.stderr.write(`police validate: ${message}\n`);
    return 1;
  }

  const result = validateSpecFile(specPath, text, allowDataOutside);
  const hasErrors = result.problems.some((p) => p.severity === 'error');
  if (json) {
    process.stdout.write(`${jsonProblems(result.problems)}\n`);
  } else {
    const shown = relative(process.cwd(), specPath) || specPath;
    for (const p of result.problems) {
      process.stdout.write(`${shown}:${p.range.start.line + 1}:${p.range.start.character + 1}: ${p.severity}: ${p.message}\n`);
    }
    if (result.spec) {
      const regions = result.spec.regions.map((r) => `${r.name} (${r.form}, ${r.vertices.length} vertices)`).join(', ');
      process.stdout.write(
        `${shown}: valid: ${result.spec.inputDim}-D input, ${result.spec.regions.length} region${result.spec.regions.length === 1 ? '' : 's'}: ${regions}\n`,
      );
    } else {
      const errors = result.problems.filter((p) => p.severity === 'error').length;
      process.stdout.write(`${shown}: ${errors} error${errors === 1 ? '' : 's'}\n`);
    }
  }
  return hasErrors || !result.spec ? 1 : 0;
}
