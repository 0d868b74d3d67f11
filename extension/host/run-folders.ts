// Run folders on disk (<runsRoot>/<spec-name>/<timestamp>): naming, listing and summaries. No 'vscode' import, so it is unit-testable.
import { existsSync, promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import type { Certificate } from '../police/proof/certificate-types';
import { RUN_FILES, tempFileSuffix, tempRunPrefix, type RunRecord } from '../police/io/run-files';
import { batchLossText, fullDataLossText } from '../police/training/loss-names';
import { readTextLimitedAsync, readTextTailAsync, SafeReadError } from '../police/io/safe-read';

/** The Runs view reads only the end of metrics.jsonl: the last rows hold the final loss, whatever the file's length. */
const METRICS_TAIL_BYTES = 64 * 1024;

export type CertificateState = 'proved' | 'not-proved' | 'approximate' | 'missing' | 'unreadable';

export interface RunSummary {
  specName: string;
  /** The folder name: the run's start time. */
  id: string;
  dir: string;
  /** The last logged batch loss and its step (metrics.jsonl). */
  lastBatchLoss?: number;
  steps?: number;
  /** summary.json, absent in runs written before it existed. */
  record?: RunRecord;
  certificate: CertificateState;
  /** The run's own spec copy, when present. */
  specCopy?: string;
}

/** `foo.police.json` → `foo`; any other file name loses its last extension only. */
export function specNameFromPath(specPath: string): string {
  const file = basename(specPath);
  const stripped = file.endsWith('.police.json') ? file.slice(0, -'.police.json'.length) : file.replace(/\.[^.]*$/, '');
  // Folder names must survive every file system: keep letters, digits, dot, dash, underscore.
  return stripped.replace(/[^A-Za-z0-9._-]/g, '_') || 'spec';
}

/** A sortable, file-name-safe timestamp: 2026-11-22T10-15-03-123Z. */
export function runTimestamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** A fresh run folder path for a spec, unique even when two runs start in the same millisecond. */
export function newRunDir(runsRoot: string, specPath: string, now: Date = new Date()): string {
  const parent = join(runsRoot, specNameFromPath(specPath));
  const stamp = runTimestamp(now);
  let candidate = join(parent, stamp);
  for (let n = 2; existsSync(candidate); n++) candidate = join(parent, `${stamp}-${n}`);
  return candidate;
}

/** A run folder is complete once the trainer renamed it into place: hidden or temporary siblings are not runs. */
function isRunFolderName(name: string): boolean {
  return !name.startsWith('.') && !/\.(tmp|partial)$/i.test(name) && !name.includes('.tmp');
}

async function readCertificateState(dir: string): Promise<CertificateState> {
  let text: string;
  try {
    text = await readTextLimitedAsync(join(dir, RUN_FILES.certificate), { kind: 'certificate' });
  } catch (err) {
    // A certificate that is there but refused (a device, a link to one, too large) is unreadable, not missing.
    return err instanceof SafeReadError && err.reason === 'missing' ? 'missing' : 'unreadable';
  }
  try {
    const certificate = JSON.parse(text) as Certificate;
    if (certificate.proved) return 'proved';
    if (Array.isArray(certificate.regions) && certificate.regions.some((r) => r.status === 'approximate')) {
      return certificate.regions.every((r) => r.status !== 'not-proved') ? 'approximate' : 'not-proved';
    }
    return 'not-proved';
  } catch {
    return 'unreadable';
  }
}

/** Last `loss` (and `step`) in metrics.jsonl; tolerant of a torn last line. */
async function readFinalMetrics(dir: string): Promise<{ loss?: number; step?: number }> {
  let text: string;
  try {
    text = await readTextTailAsync(join(dir, RUN_FILES.metrics), METRICS_TAIL_BYTES);
  } catch {
    return {};
  }
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      const record = JSON.parse(line) as { loss?: unknown; step?: unknown };
      if (typeof record.loss === 'number') {
        return { loss: record.loss, step: typeof record.step === 'number' ? record.step : undefined };
      }
    } catch {
      // A torn line: keep looking further up.
    }
  }
  return {};
}

/** summary.json, when the run has a readable one. */
export async function readRunRecord(dir: string): Promise<RunRecord | undefined> {
  try {
    const record = JSON.parse(await readTextLimitedAsync(join(dir, RUN_FILES.summary), { kind: 'summary' })) as Partial<RunRecord>;
    return record.format === 'police-run/1' && typeof record.fullDataLoss === 'number' && typeof record.keptStep === 'number'
      ? (record as RunRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

export async function summarizeRun(specName: string, dir: string): Promise<RunSummary> {
  const [certificate, metrics, record] = await Promise.all([readCertificateState(dir), readFinalMetrics(dir), readRunRecord(dir)]);
  const specCopy = join(dir, RUN_FILES.spec);
  return {
    specName,
    id: basename(dir),
    dir,
    lastBatchLoss: metrics.loss,
    steps: metrics.step,
    ...(record ? { record } : {}),
    certificate,
    specCopy: existsSync(specCopy) ? specCopy : undefined,
  };
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && isRunFolderName(e.name)).map((e) => e.name);
  } catch {
    return [];
  }
}

/** Every complete run, grouped by spec name (sorted), newest run first. */
export async function listRuns(runsRoot: string): Promise<Map<string, RunSummary[]>> {
  const result = new Map<string, RunSummary[]>();
  for (const specName of (await subfolders(runsRoot)).sort()) {
    const ids = (await subfolders(join(runsRoot, specName))).sort().reverse();
    const runs = await Promise.all(ids.map((id) => summarizeRun(specName, join(runsRoot, specName, id))));
    if (runs.length > 0) result.set(specName, runs);
  }
  return result;
}

/**
 * After a trainer was stopped, killed or crashed: remove what it left beside `runDir` (its temporary
 * sibling folder), so only whole runs remain. `runDir` itself is kept when present: it only appears by
 * an atomic rename, so it is whole.
 */
export async function removeLeftovers(runDir: string): Promise<string[]> {
  const parent = join(runDir, '..');
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return [];
  }
  // Only the writers' temp folders of this very run: a sibling run (`<own>-2`, `<own>1`) is whole and stays.
  const prefix = tempRunPrefix(runDir);
  const leftovers = names.filter((name) => name.startsWith(prefix));
  await Promise.all(leftovers.map((name) => fs.rm(join(parent, name), { recursive: true, force: true })));
  return leftovers;
}

/** After a cancelled or failed `police analyze` (process `pid`): remove the files it was writing inside `runDir`. */
export async function removeWriterTempFiles(runDir: string, pid: number): Promise<string[]> {
  const suffix = tempFileSuffix(pid);
  const leftovers = (await fs.readdir(runDir).catch(() => [] as string[])).filter((name) => name.endsWith(suffix));
  await Promise.all(leftovers.map((name) => fs.rm(join(runDir, name), { force: true })));
  return leftovers;
}

/** The run's loss, named: the full-data loss from summary.json, else (older runs) the last logged batch loss. */
export function describeRunLoss(run: RunSummary): string {
  if (run.record) return fullDataLossText(run.record.fullDataLoss);
  return run.lastBatchLoss === undefined ? 'loss unknown' : batchLossText(run.lastBatchLoss, run.steps);
}

export function describeRun(run: RunSummary): string {
  const cert = run.certificate === 'missing' ? 'no certificate' : run.certificate;
  return `${describeRunLoss(run)} · ${cert}`;
}
