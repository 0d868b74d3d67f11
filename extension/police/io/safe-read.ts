// Every file POLICE reads goes through here: a regular file (no device, FIFO or directory), at most a stated size, read with a cap.
import {
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  openSync,
  readSync,
  promises as fsp,
  realpathSync,
  type ReadStream,
} from 'node:fs';
import * as path from 'node:path';

const MiB = 1024 * 1024;

/**
 * Byte limits per kind of file. A spec is hand-written JSON (matrices included), so 4 MiB is generous and keeps
 * validation interactive; network files hold float32 weights as JSON text (about 20 bytes per parameter, so
 * 256 MiB is about 13 million parameters, and V8 cannot hold one string above 512 MiB anyway); certificates and
 * analyses are per-region summaries; metrics.jsonl is one line per logged step (the Runs view reads its tail).
 */
export const READ_LIMITS = {
  spec: 4 * MiB,
  csv: 256 * MiB,
  network: 256 * MiB,
  certificate: 64 * MiB,
  metrics: 64 * MiB,
  analysis: 64 * MiB,
  /** summary.json: a few numbers about a run. */
  summary: 1 * MiB,
  /** Model files for import/export formats (ONNX, safetensors, tfjs weights). */
  model: 1024 * MiB,
} as const;

export type ReadKind = keyof typeof READ_LIMITS;

export type SafeReadFailure = 'missing' | 'not-a-file' | 'too-large' | 'unreadable' | 'outside';

/** A file POLICE refused or failed to read; the message names the file and the reason, never its contents. */
export class SafeReadError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly reason: SafeReadFailure,
  ) {
    super(message);
    this.name = 'SafeReadError';
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(bytes % 1024 === 0 ? 0 : 1)} KiB`;
  return `${bytes} bytes`;
}

function describeOpenError(file: string, err: unknown): SafeReadError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new SafeReadError(`cannot read ${file}: no such file`, file, 'missing');
  if (code === 'EISDIR') return new SafeReadError(`cannot read ${file}: it is a folder, not a file`, file, 'not-a-file');
  if (code === 'EACCES' || code === 'EPERM') return new SafeReadError(`cannot read ${file}: permission denied`, file, 'unreadable');
  if (code === 'ELOOP') return new SafeReadError(`cannot read ${file}: too many symbolic links`, file, 'unreadable');
  return new SafeReadError(`cannot read ${file}: ${code ?? (err instanceof Error ? err.message : String(err))}`, file, 'unreadable');
}

function tooLarge(file: string, what: string, limit: number, size?: number): SafeReadError {
  const actual = size === undefined ? `more than ${formatBytes(limit)}` : formatBytes(size);
  return new SafeReadError(`${file} is ${actual}, above the ${formatBytes(limit)} limit for ${what}`, file, 'too-large');
}

/** Opens without blocking (a FIFO would wait for a writer) and checks, on the open descriptor, that it is a regular file within `limit`. */
function openChecked(file: string, limit: number, what: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw describeOpenError(file, err);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw new SafeReadError(`cannot read ${file}: it is a folder, not a file`, file, 'not-a-file');
    if (!stats.isFile())
      throw new SafeReadError(`cannot read ${file}: it is not a regular file (a device, pipe or socket)`, file, 'not-a-file');
    if (stats.size > limit) throw tooLarge(file, what, limit, stats.size);
    return { fd, size: stats.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

export interface ReadOptions {
  /** Which limit applies (READ_LIMITS); `limit` overrides the number. */
  kind: ReadKind;
  limit?: number;
  /** Words for the message ("a spec", "a CSV file"); the kind's name by default. */
  what?: string;
}

const WHAT: Record<ReadKind, string> = {
  spec: 'a spec',
  csv: 'a CSV file',
  network: 'a network file',
  certificate: 'a certificate',
  metrics: 'a metrics file',
  analysis: 'an analysis file',
  summary: 'a run summary',
  model: 'a model file',
};

/**
 * The bytes of a regular file of at most the kind's limit. The size is checked before reading and the read
 * itself is capped, so a file that lies about its size (/proc) or grows meanwhile cannot exceed the limit.
 */
export function readFileLimited(file: string, options: ReadOptions): Buffer {
  const limit = options.limit ?? READ_LIMITS[options.kind];
  const what = options.what ?? WHAT[options.kind];
  const { fd, size } = openChecked(file, limit, what);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    let chunk = Buffer.allocUnsafe(Math.min(Math.max(size, 64 * 1024), limit + 1));
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      total += read;
      if (total > limit) throw tooLarge(file, what, limit);
      chunks.push(Buffer.from(chunk.subarray(0, read)));
      chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, limit + 1 - total));
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    throw err instanceof SafeReadError ? err : describeOpenError(file, err);
  } finally {
    closeSync(fd);
  }
}

/** The first `bytes` bytes of a regular file within the kind's limit (a CSV header), without reading the rest. */
export function readFileHead(file: string, bytes: number, options: ReadOptions): Buffer {
  const limit = options.limit ?? READ_LIMITS[options.kind];
  const { fd } = openChecked(file, limit, options.what ?? WHAT[options.kind]);
  try {
    const buffer = Buffer.alloc(bytes);
    const read = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read);
  } catch (err) {
    throw describeOpenError(file, err);
  } finally {
    closeSync(fd);
  }
}

/** An open read stream over a checked regular file (for parsing large files as a stream); its size is returned too. */
export function openCheckedStream(file: string, options: ReadOptions): { stream: ReadStream; size: number } {
  const limit = options.limit ?? READ_LIMITS[options.kind];
  const { fd, size } = openChecked(file, limit, options.what ?? WHAT[options.kind]);
  // The stream owns the descriptor from here; `end` caps what it reads at the limit even if the file grows.
  return { stream: createReadStream('', { fd, start: 0, end: limit, autoClose: true }), size };
}

/** The UTF-8 text of a regular file of at most the kind's limit (see readFileLimited). */
export function readTextLimited(file: string, options: ReadOptions): string {
  return readFileLimited(file, options).toString('utf8');
}

/** The same checks, for callers on the extension host's event loop: the read runs off the main thread. */
export async function readTextLimitedAsync(file: string, options: ReadOptions): Promise<string> {
  const limit = options.limit ?? READ_LIMITS[options.kind];
  const what = options.what ?? WHAT[options.kind];
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw describeOpenError(file, err);
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new SafeReadError(`cannot read ${file}: it is a folder, not a file`, file, 'not-a-file');
    if (!stats.isFile())
      throw new SafeReadError(`cannot read ${file}: it is not a regular file (a device, pipe or socket)`, file, 'not-a-file');
    if (stats.size > limit) throw tooLarge(file, what, limit, stats.size);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(Math.min(1024 * 1024, limit + 1 - total));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) throw tooLarge(file, what, limit);
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (err) {
    throw err instanceof SafeReadError ? err : describeOpenError(file, err);
  } finally {
    await handle.close();
  }
}

/** The last `bytes` of a regular file (e.g. the final lines of metrics.jsonl), whatever its size. */
export async function readTextTailAsync(file: string, bytes: number): Promise<string> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw describeOpenError(file, err);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new SafeReadError(`cannot read ${file}: it is not a regular file`, file, 'not-a-file');
    const start = Math.max(0, stats.size - bytes);
    const buffer = Buffer.alloc(Math.min(bytes, stats.size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Checks, without reading, that `file` is a regular file within `limit` bytes; returns its size. */
export function checkRegularFile(file: string, options: ReadOptions): number {
  const limit = options.limit ?? READ_LIMITS[options.kind];
  const { fd, size } = openChecked(file, limit, options.what ?? WHAT[options.kind]);
  closeSync(fd);
  return size;
}

/** Where a spec may read files from: folders (their real paths are compared), or anywhere when the user opted in. */
export type DataRoots = { anywhere: true } | { anywhere?: false; folders: string[] };

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function realOrSelf(folder: string): string {
  try {
    return realpathSync(folder);
  } catch {
    return path.resolve(folder);
  }
}

/**
 * The real path of `file` (symbolic links resolved) when it lies inside one of `roots`' real paths; otherwise a
 * SafeReadError saying where it points and how to allow it (`optIn` names the flag or setting).
 */
export function confinedPath(file: string, roots: DataRoots, optIn: string): string {
  let real: string;
  try {
    real = realpathSync(file);
  } catch (err) {
    throw describeOpenError(file, err);
  }
  if (roots.anywhere) return real;
  const folders = roots.folders.map(realOrSelf);
  if (folders.some((folder) => isInside(real, folder))) return real;
  const where = folders.length === 1 ? `the folder ${folders[0]}` : `the folders ${folders.join(', ')}`;
  const via = real === path.resolve(file) ? '' : ` (it resolves to ${real})`;
  throw new SafeReadError(`${file} is outside ${where}${via}; data files are read only inside it (${optIn})`, file, 'outside');
}
