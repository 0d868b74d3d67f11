// `police train SPEC --out DIR [--steps N] [--seed S] [--backend …] [--threads N] [--json]`: trains in a trainer child process, which writes the run atomically; prints the certificate.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { BackendPreference, StartTraining, TrainingDone } from '../protocol/messages';
import { TrainerClient, type TrainingOutcome } from '../trainer/client';
import type { Certificate } from '../police/proof/certificate-types';
import { effectiveShiftRule } from '../police/training/model';
import type { Problem } from '../police/spec/problems';
import type { TrainProgress } from '../police/training/train';
import { BACKEND_PREFERENCES } from '../police/training/backend';
import { batchLossText, fullDataLossText, keptStepText } from '../police/training/loss-names';
import { ALLOW_DATA_OUTSIDE_OPTION, readSpecText, validateOptions } from './spec-file';
import { validateSpecText } from '../police/spec/parse';

const BACKENDS: readonly BackendPreference[] = BACKEND_PREFERENCES;

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

/** 128 + the signal's number, as shells report a process ended by it. */
export const EXIT_SIGNAL: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/** The trainer child's entry: the bundled dist/trainer.js beside dist/cli.js, or the source under tsx (tests). */
function trainerEntry(): { script: string; execArgv: string[] } {
  if (__filename.endsWith('.ts')) return { script: path.join(__dirname, '..', 'trainer', 'main.ts'), execArgv: ['--import', 'tsx'] };
  return { script: path.join(__dirname, 'trainer.js'), execArgv: [] };
}

type TrainerOutcome =
  | { kind: 'done'; done: TrainingDone }
  | { kind: 'error'; message: string }
  | { kind: 'signal'; signal: 'SIGINT' | 'SIGTERM'; step: number }
  | { kind: 'crashed'; message: string };

/**
 * Runs one training in a trainer child process through the editor's own client, so that SIGINT/SIGTERM end it
 * within STOP_GRACE_MS even in the middle of a step (asked to stop, then killed, its temporary run folder removed).
 * Once it says 'finishing' the run is kept and written; a second signal kills it even then.
 */
async function runTrainer(start: StartTraining, printer: ProgressPrinter, onReady: (backend: string) => void): Promise<TrainerOutcome> {
  const { script, execArgv } = trainerEntry();
  let signalled: 'SIGINT' | 'SIGTERM' | undefined;
  const client = new TrainerClient(
    script,
    start,
    {
      message: () => undefined,
      ready: (backend, reason) => onReady(reason ?? backend),
      progress: (p) => printer.update(p),
      snapshot: () => undefined,
      finishing: () => undefined,
      log: (_level, message) => process.stderr.write(`police train: ${message}\n`),
      ended: () => undefined,
    },
    // The trainer's own prints (tfjs notices) must not mix into --json on stdout.
    { execArgv, output: (_stream, text) => process.stderr.write(text) },
  );
  const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
    // A second signal does not wait for anything, not even a finishing run.
    if (signalled) {
      void client.kill();
      return;
    }
    signalled = signal;
    void client.stop();
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  let outcome: TrainingOutcome;
  try {
    outcome = await client.exited;
  } finally {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
  }
  switch (outcome.kind) {
    case 'done':
      return { kind: 'done', done: outcome.done };
    case 'error':
      return { kind: 'error', message: outcome.message };
    case 'stopped':
      return { kind: 'signal', signal: signalled ?? 'SIGINT', step: outcome.step };
    case 'crashed':
      return signalled ? { kind: 'signal', signal: signalled, step: client.step } : outcome;
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
        threads: { type: 'string' },
        json: { type: 'boolean', default: false },
        ...ALLOW_DATA_OUTSIDE_OPTION,
      },
    });
  } catch (err) {
    process.stderr.write(`police train: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_BAD_INPUT;
  }
  const { values, positionals } = parsed;
  const specPath = positionals[0];
  const usage =
    'usage: police train SPEC --out DIR [--steps N] [--seed S] [--backend auto|tensorflow|webgpu|wasm|cpu] [--threads N] [--json] [--allow-data-outside]';
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
  const threads = integer('threads', values.threads, 0);
  if (steps instanceof Error || seed instanceof Error || threads instanceof Error) {
    const invalid = [steps, seed, threads].find((v): v is Error => v instanceof Error);
    process.stderr.write(`police train: ${invalid?.message ?? ''}\n`);
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
    text = readSpecText(specPath);
  } catch (err) {
    process.stderr.write(`police train: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_BAD_INPUT;
  }
  const absoluteSpec = path.resolve(specPath);
  const dataAccess = validateOptions(values['allow-data-outside']);
  const { spec, problems } = validateSpecText(text, absoluteSpec, dataAccess);
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

  const printer = new ProgressPrinter(Boolean(process.stderr.isTTY), false);
  const totalSteps = steps ?? spec.training.steps;
  const rule = effectiveShiftRule(spec);
  const start: StartTraining = {
    type: 'start',
    specPath: absoluteSpec,
    specText: text,
    runDir,
    backend,
    ...(typeof threads === 'number' ? { wasmThreads: threads } : {}),
    progressIntervalMs: process.stderr.isTTY ? 100 : 250,
    ...(steps !== undefined ? { steps } : {}),
    ...(seed !== undefined ? { seed } : {}),
    dataAccess,
  };
  const outcome = await runTrainer(start, printer, (chosen) => {
    const vertices = spec.regions.map((r) => `${r.name} (${r.vertices.length} vertices)`).join(', ');
    process.stderr.write(
      `police train: ${spec.name}: ${totalSteps} steps on ${chosen}. POLICE ${spec.police.enabled ? `on (rule ${rule})` : 'OFF'} for ${vertices}\n`,
    );
  });
  printer.end();
  switch (outcome.kind) {
    case 'signal':
      process.stderr.write(`police train: stopped by ${outcome.signal} at step ${outcome.step}; nothing written\n`);
      return EXIT_SIGNAL[outcome.signal];
    case 'error':
    case 'crashed':
      process.stderr.write(`police train: ${outcome.message}\n`);
      return EXIT_BAD_INPUT;
    case 'done':
      break;
  }
  const { certificate, record, sideFlips } = outcome.done;
  if (sideFlips > 0 && rule !== 'fixed') {
    process.stderr.write(
      `police train: ${sideFlips} side flips under rule '${rule}', each a jump of the function on a region (the loss spikes); "police": {"rule": "fixed"} keeps every unit's side\n`,
    );
  }
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        runDir,
        backend: record.backend,
        steps: record.stepsDone,
        keptStep: record.keptStep,
        sideFlips,
        finalLoss: record.fullDataLoss,
        fullDataLoss: record.fullDataLoss,
        accuracy: record.accuracy,
        elapsedMs: record.elapsedMs,
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
    const accuracy = record.accuracy !== undefined ? `, accuracy ${(record.accuracy * 100).toFixed(1)} %` : '';
    const kept = record.keptStep !== record.stepsDone ? `, ${keptStepText(record.keptStep, record.stepsDone)}` : '';
    process.stdout.write(
      [
        `trained ${spec.name}: ${record.stepsDone} steps on ${record.backend} in ${(record.elapsedMs / 1000).toFixed(1)} s, ${fullDataLossText(record.fullDataLoss)}${accuracy}${kept}`,
        `run written to ${runDir}`,
        ...certificateSummary(certificate),
      ].join('\n') + '\n',
    );
  }
  return certificate.proved ? EXIT_PROVED : EXIT_NOT_PROVED;
}
