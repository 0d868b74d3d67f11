// `police train SPEC --out DIR [--steps N] [--seed S] [--backend …] [--json]`: trains in-process, writes the run atomically, prints the certificate.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { BackendPreference } from '../protocol/messages';
import type { Certificate } from '../police/proof/certificate-types';
import { effectiveShiftRule } from '../police/training/model';
import { validateSpecText } from '../police/spec/parse';
import type { Problem } from '../police/spec/problems';
import { finishRun } from '../police/io/run-folder';
import { BACKEND_PREFERENCES, initBackend } from '../police/training/backend';
import { train, trainingWorkload, type TrainProgress } from '../police/training/train';
import { batchLossText, fullDataLossText, keptStepText } from '../police/training/loss-names';

const BACKENDS = BACKEND_PREFERENCES;

export const EXIT_PROVED = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_NOT_PROVED = 2;

function problemLine(specPath: string, problem: Problem): string {
  const { line, character } = problem.range.start;
  return `${specPath}:${line + 1}:${character + 1}: ${problem.severity}: ${problem.message}`;
}

function formatNumber(value: number): string {
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e4 ? value.toFixed(4).replace(/\.?0+$/, '') : value.toExponential(2);
}

function formatMatrix(rows: number[][], maxEntries = 12): string {
  const total = rows.reduce((n, r) => n + r.length, 0);
  if (total > maxEntries) return `${rows.length}×${rows[0]?.length ?? 0} matrix`;
  return `[${rows.map((r) => `[${r.map(formatNumber).join(', ')}]`).join(', ')}]`;
}

function formatVector(values: number[], maxEntries = 12): string {
  return values.length > maxEntries ? `vector of ${values.length}` : `[${values.map(formatNumber).join(', ')}]`;
}

/** One line per region: proved or not, the smallest margin, the affine map. */
export function certificateSummary(certificate: Certificate): string[] {
  const lines = certificate.regions.map((region) => {
    const head = `  ${region.name}: ${region.status === 'proved' ? 'proved' : region.status === 'approximate' ? 'approximate (not proved)' : 'NOT proved'}`;
    const where = region.firstViolation
      ? `, first sign disagreement at layer ${region.firstViolation.layer} unit ${region.firstViolation.unit}`
      : '';
    const map = `f(x) = A x + b, A = ${formatMatrix(region.affineMap.A)}, b = ${formatVector(region.affineMap.b)}`;
    return `${head} (min margin ${formatNumber(region.minMargin)}, max residual ${formatNumber(region.maxResidual)}${where}); ${map}`;
  });
  return [`certificate: ${certificate.proved ? 'every region proved affine' : 'NOT every region is proved'}`, ...lines];
}

class ProgressPrinter {
  private lastLine = 0;
  constructor(
    private readonly tty: boolean,
    private readonly quiet: boolean,
  ) {}
  update(p: TrainProgress): void {
    if (this.quiet) return;
    const shifted = p.health.reduce((n, h) => n + h.shifted, 0);
    const flips = p.health.reduce((n, h) => n + h.sideFlips, 0);
    const text = `step ${p.step}/${p.totalSteps}  ${batchLossText(p.loss)}  shifted units ${shifted}  side flips ${flips}  ${(p.elapsedMs / 1000).toFixed(1)} s`;
    if (this.tty) {
      const width = 30;
      const filled = Math.round((p.step / p.totalSteps) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
    } else if (p.elapsedMs - this.lastLine >= 1000 || p.step === p.totalSteps) {
      this.lastLine = p.elapsedMs;
      process.stderr.write(`${text}\n`);
    }
  }
  end(): void {
    if (this.tty && !this.quiet) process.stderr.write('\n');
  }
}

export async function trainCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        steps: { type: 'string' },
        seed: { type: 'string' },
        backend: { type: 'string', default: 'auto' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`police train: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_BAD_INPUT;
  }
  const { values, positionals } = parsed;
  const specPath = positionals[0];
  const usage = 'usage: police train SPEC --out DIR [--steps N] [--seed S] [--backend auto|tensorflow|webgpu|wasm|cpu] [--json]';
  if (!specPath || !values.out) {
    process.stderr.write(`${usage}\n`);
    return EXIT_BAD_INPUT;
  }
  const integer = (name: string, text: string | undefined, min: number): number | undefined | Error => {
    if (text === undefined) return undefined;
    const value = Number(text);
    return Number.isInteger(value) && value >= min ? value : new Error(`--${name} must be an integer ≥ ${min}, got '${text}'`);
  };
  const steps = integer('steps', values.steps, 1);
  const seed = integer('seed', values.seed, 0);
  if (steps instanceof Error || seed instanceof Error) {
    process.stderr.write(`police train: ${(steps instanceof Error ? steps : (seed as Error)).message}\n`);
    return EXIT_BAD_INPUT;
  }
  const backend = values.backend as BackendPreference;
  if (!BACKENDS.includes(backend)) {
    process.stderr.write(`police train: --backend must be one of ${BACKENDS.join(', ')}, got '${values.backend}'\n`);
    return EXIT_BAD_INPUT;
  }
  const runDir = path.resolve(values.out);
  if (existsSync(runDir)) {
    process.stderr.write(`police train: ${runDir} already exists; runs are never overwritten, choose another --out\n`);
    return EXIT_BAD_INPUT;
  }
  let text: string;
  try {
    text = readFileSync(specPath, 'utf8');
  } catch (err) {
    process.stderr.write(`police train: cannot read ${specPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return EXIT_BAD_INPUT;
  }
  const { spec, problems } = validateSpecText(text, path.resolve(specPath));
  const errors = problems.filter((p) => p.severity === 'error');
  if (!spec || errors.length > 0) {
    // The same shapes as `police validate`.
    if (values.json)
      process.stdout.write(
        `${JSON.stringify({ problems: problems.map(({ message, severity, range }) => ({ message, severity, range })) })}\n`,
      );
    else for (const problem of problems) process.stderr.write(`${problemLine(specPath, problem)}\n`);
    return EXIT_BAD_INPUT;
  }
  if (!values.json) for (const problem of problems) process.stderr.write(`${problemLine(specPath, problem)}\n`);

  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const printer = new ProgressPrinter(Boolean(process.stderr.isTTY), false);
  try {
    const choice = await initBackend(backend, trainingWorkload(spec));
    for (const note of choice.notes) process.stderr.write(`police train: ${note}\n`);
    const totalSteps = steps ?? spec.training.steps;
    const vertices = spec.regions.map((r) => `${r.name} (${r.vertices.length} vertices)`).join(', ');
    const rule = effectiveShiftRule(spec);
    process.stderr.write(
      `police train: ${spec.name}: ${totalSteps} steps on ${choice.reason}, POLICE ${spec.police.enabled ? `on (rule ${rule})` : 'OFF'} for ${vertices}\n`,
    );
    const trainOptions: Parameters<typeof train>[1] = {
      backend,
      progressIntervalMs: process.stderr.isTTY ? 100 : 250,
      onProgress: (p) => printer.update(p),
      shouldStop: () => stopRequested,
      onLog: (_level, message) => process.stderr.write(`police train: ${message}\n`),
    };
    if (steps !== undefined) trainOptions.steps = steps;
    if (seed !== undefined) trainOptions.seed = seed;
    const result = await train(spec, trainOptions);
    printer.end();
    if (result.stopped) {
      process.stderr.write(`police train: stopped at step ${result.stepsDone}; nothing written\n`);
      return 130;
    }
    const certificate = await finishRun(spec, text, result, runDir);
    const sideFlips = result.health.reduce((n, h) => n + h.sideFlips, 0);
    if (sideFlips > 0 && rule !== 'fixed') {
      process.stderr.write(
        `police train: ${sideFlips} side flips under rule '${rule}', each a jump of the function on a region (the loss spikes); "police": {"rule": "fixed"} keeps every unit's side\n`,
      );
    }
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({
          runDir,
          backend: result.backend,
          steps: result.stepsDone,
          keptStep: result.keptStep,
          sideFlips,
          finalLoss: result.finalLoss,
          fullDataLoss: result.finalLoss,
          accuracy: result.accuracy,
          elapsedMs: result.elapsedMs,
          proved: certificate.proved,
          regions: certificate.regions.map((r) => ({
            name: r.name,
            status: r.status,
            minMargin: r.minMargin,
            maxResidual: r.maxResidual,
            affineMap: r.affineMap,
          })),
        })}\n`,
      );
    } else {
      const accuracy = result.accuracy !== undefined ? `, accuracy ${(result.accuracy * 100).toFixed(1)} %` : '';
      process.stdout.write(
        [
          `trained ${spec.name}: ${result.stepsDone} steps on ${result.backend} in ${(result.elapsedMs / 1000).toFixed(1)} s, ${fullDataLossText(result.finalLoss)}${accuracy}${result.keptStep !== result.stepsDone ? `, ${keptStepText(result.keptStep, result.stepsDone)}` : ''}`,
          `run written to ${runDir}`,
          ...certificateSummary(certificate),
        ].join('\n') + '\n',
      );
    }
    return certificate.proved ? EXIT_PROVED : EXIT_NOT_PROVED;
  } catch (err) {
    printer.end();
    process.stderr.write(`police train: ${specPath}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_BAD_INPUT;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
