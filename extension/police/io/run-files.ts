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
} as const;

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
