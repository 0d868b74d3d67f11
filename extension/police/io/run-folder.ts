// A run folder written atomically: a hidden sibling temp folder renamed into place, never over an existing run.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Certificate } from '../proof/certificate-types';
import { certify } from '../proof/certificate';
import { exportLayersModel } from './export';
import type { FoldedNetwork } from '../network/network';
import type { ResolvedSpec } from '../spec/types';
import type { MetricsRow, TrainResult } from '../training/train';

import { RUN_FILES, tempRunDir, tempRunPrefix, type RunRecord } from './run-files';

export interface RunContents {
  specText: string;
  network: FoldedNetwork;
  certificate: Certificate;
  metrics: MetricsRow[];
  initialNetwork?: FoldedNetwork;
  record?: RunRecord;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp folders that killed writers left beside `runDir` (their process is gone). */
function removeStaleTemps(runDir: string): void {
  const parent = path.dirname(runDir);
  const prefix = tempRunPrefix(runDir);
  if (!existsSync(parent)) return;
  for (const entry of readdirSync(parent)) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid))
      rmSync(path.join(parent, entry), { recursive: true, force: true });
  }
}

/**
 * Writes every file of the run into `.<name>.tmp-<pid>` beside `runDir`, then renames it into place.
 * A killed writer leaves no `runDir` at all; an existing `runDir` is refused, never touched.
 */
export async function writeRunFolder(runDir: string, contents: RunContents): Promise<void> {
  const target = path.resolve(runDir);
  if (existsSync(target)) throw new Error(`run folder ${target} already exists; choose another --out (runs are never overwritten)`);
  mkdirSync(path.dirname(target), { recursive: true });
  removeStaleTemps(target);
  const temp = tempRunDir(target);
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp);
  try {
    const exported = await exportLayersModel(contents.network);
    writeFileSync(path.join(temp, RUN_FILES.spec), contents.specText);
    writeFileSync(path.join(temp, RUN_FILES.network), JSON.stringify(contents.network));
    writeFileSync(path.join(temp, RUN_FILES.model), JSON.stringify(exported.modelJson));
    writeFileSync(path.join(temp, RUN_FILES.weights), exported.weights);
    writeFileSync(path.join(temp, RUN_FILES.certificate), JSON.stringify(contents.certificate, null, 2));
    if (contents.record) writeFileSync(path.join(temp, RUN_FILES.summary), JSON.stringify(contents.record, null, 2));
    if (contents.initialNetwork) writeFileSync(path.join(temp, RUN_FILES.initialNetwork), JSON.stringify(contents.initialNetwork));
    writeFileSync(
      path.join(temp, RUN_FILES.metrics),
      contents.metrics.map((row) => JSON.stringify(row)).join('\n') + (contents.metrics.length ? '\n' : ''),
    );
    if (existsSync(target)) throw new Error(`run folder ${target} appeared while writing; refusing to overwrite it`);
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
}

/** Certifies a trained network for the spec's regions and writes the whole run; returns the certificate. */
export async function finishRun(spec: ResolvedSpec, specText: string, result: TrainResult, runDir: string): Promise<Certificate> {
  const certificate = certify(result.network, spec.regions, { spec: spec.name });
  await writeRunFolder(runDir, {
    specText,
    network: result.network,
    certificate,
    metrics: result.metrics,
    initialNetwork: result.initialNetwork,
    record: runRecord(result),
  });
  return certificate;
}

export function runRecord(result: TrainResult): RunRecord {
  return {
    format: 'police-run/1',
    fullDataLoss: result.finalLoss,
    ...(result.accuracy !== undefined ? { accuracy: result.accuracy } : {}),
    stepsDone: result.stepsDone,
    totalSteps: result.totalSteps,
    keptStep: result.keptStep,
    elapsedMs: result.elapsedMs,
    backend: result.backend,
  };
}
