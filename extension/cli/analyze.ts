// `police analyze SPEC DIR [--json] [--probes K] [--seed S]`: smooth-activation residual, orthogonality and injectivity of a run.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeRun } from '../police/analysis/run-analysis';
import { ALLOW_DATA_OUTSIDE_OPTION, readSpecText, validateSpecFile } from './spec-file';

const USAGE = 'usage: police analyze SPEC DIR [--json] [--probes K] [--seed S] [--allow-data-outside]';

export async function analyzeCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        probes: { type: 'string' },
        seed: { type: 'string' },
        ...ALLOW_DATA_OUTSIDE_OPTION,
      },
    });
  } catch (err) {
    process.stderr.write(`police analyze: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 1;
  }
  const [specPath, runDir] = parsed.positionals;
  if (!specPath || !runDir) {
    process.stderr.write(`${USAGE}\n`);
    return 1;
  }
  const count = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer, got '${text}'`);
    return value;
  };
  let probes: number | undefined;
  let seed: number | undefined;
  try {
    probes = count('probes', parsed.values.probes);
    seed = count('seed', parsed.values.seed);
  } catch (err) {
    process.stderr.write(`police analyze: ${(err as Error).message}\n`);
    return 1;
  }
  let specText: string;
  try {
    specText = readSpecText(specPath);
  } catch (err) {
    process.stderr.write(`police analyze: ${(err as Error).message}\n`);
    return 1;
  }
  const { spec, problems } = validateSpecFile(path.resolve(specPath), specText, parsed.values['allow-data-outside']);
  const errors = problems.filter((p) => p.severity === 'error');
  if (!spec || errors.length > 0) {
    for (const p of errors)
      process.stderr.write(`${specPath}:${p.range.start.line + 1}:${p.range.start.character + 1}: error: ${p.message} [${p.code}]\n`);
    return 1;
  }
  try {
    const { report, markdown } = analyzeRun(spec, runDir, { probes, seed });
    process.stdout.write(parsed.values.json ? `${JSON.stringify(report)}\n` : markdown);
    return 0;
  } catch (err) {
    process.stderr.write(`police analyze: ${(err as Error).message}\n`);
    return 1;
  }
}
