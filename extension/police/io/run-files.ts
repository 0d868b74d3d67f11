// The names of what a run folder holds, free of heavy imports so the extension host can use them.
import * as path from 'node:path';

export const WEIGHTS_FILE = 'weights.bin';

export const RUN_FILES = {
  spec: 'spec.police.json',
  network: 'network.json',
  model: 'model.json',
  weights: WEIGHTS_FILE,
  certificate: 'certificate.json',
  metrics: 'metrics.jsonl',
  /** The network before training (orthogonality before/after in `police analyze`). */
  initialNetwork: 'network-init.json',
  /** How the training went: full-data loss, kept step, time, backend (RunRecord). */
  summary: 'summary.json',
} as const;

/** summary.json: what a finished run's certificate and weights do not say about its training. */
export interface RunRecord {
  format: 'police-run/1';
  /** Loss of the kept network over every training sample (the batch losses are in metrics.jsonl). */
  fullDataLoss: number;
  /** Classification only: fraction of the samples classified correctly. */
  accuracy?: number;
  stepsDone: number;
  totalSteps: number;
  /** The step whose weights the run holds (may be before the last; see train.ts's BestNetwork). */
  keptStep: number;
  elapsedMs: number;
  backend: string;
}

export const ANALYSIS_FILES = { json: 'analysis.json', markdown: 'analysis.md' } as const;

/** Prefix of every writer's temporary folder for `runDir` (`.<name>.tmp-<pid>`, beside it). */
export function tempRunPrefix(runDir: string): string {
  return `.${path.basename(runDir)}.tmp-`;
}

/** The temp file a writer with this pid writes before renaming it to `file` (analysis files inside a run). */
export function tempFilePath(file: string, pid = process.pid): string {
  return `${file}${tempFileSuffix(pid)}`;
}

export function tempFileSuffix(pid: number): string {
  return `.tmp-${pid}`;
}

/** The temp folder a writer with this pid uses for `runDir`. */
export function tempRunDir(runDir: string, pid = process.pid): string {
  return path.join(path.dirname(runDir), `${tempRunPrefix(runDir)}${pid}`);
}
