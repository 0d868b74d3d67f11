// tfjs-backend-wasm's threaded SIMD build under Node (issue 10): tfjs switches it off there; this switches it on and works around why.
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type * as workerThreads from 'node:worker_threads';

/** A threaded start that takes longer than this falls back to one thread (a pthread that never loads would hang training). */
export const WASM_THREADS_START_TIMEOUT_MS = 60_000;

/** The pthread worker script and the threaded glue it loads: written by build.mjs next to the bundle. */
export const PTHREAD_WORKER_FILE = 'tfjs-backend-wasm-threaded-simd.worker.js';
export const THREADED_GLUE_FILE = 'tfjs-backend-wasm-threaded-simd.js';

/** Every core this process may use (0 in a setting means this). */
export function allCores(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/**
 * The thread count asked for and who asked: POLICE_WASM_THREADS wins over the setting; 0 means every core; undefined
 * (also for a value that is not a whole number ≥ 0) leaves it to 'auto'.
 */
export function requestedWasmThreads(
  setting: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { threads: number; source: 'POLICE_WASM_THREADS' | 'setting' } | undefined {
  const raw = env.POLICE_WASM_THREADS;
  const fromEnv = raw !== undefined && raw.trim() !== '';
  const value = fromEnv ? Number(raw) : setting;
  if (value === undefined || !Number.isInteger(value) || value < 0) return undefined;
  return { threads: value === 0 ? allCores() : value, source: fromEnv ? 'POLICE_WASM_THREADS' : 'setting' };
}

/** tfjs's worker string as a script: its newlines sit inside string literals, where a script needs them escaped (as tfjs does for its Blob). */
export function pthreadWorkerSource(wasmWorkerContents: string): string {
  return wasmWorkerContents.replace(/\n/g, '\\n');
}

/** The worker script and glue on disk: next to the bundle (dist/), else written once from node_modules into the temp folder. */
function pthreadFiles(wasmDir: string): { worker: string; glue: string } | string {
  const besideBundle = [__dirname, wasmDir].find(
    (dir) => existsSync(path.join(dir, PTHREAD_WORKER_FILE)) && existsSync(path.join(dir, THREADED_GLUE_FILE)),
  );
  if (besideBundle) return { worker: path.join(besideBundle, PTHREAD_WORKER_FILE), glue: path.join(besideBundle, THREADED_GLUE_FILE) };
  // Running from source (tests, tsx): tfjs keeps the worker as a string in a module; Node's Worker needs a file.
  let pkg: string;
  try {
    pkg = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  } catch {
    return `the threaded worker script (${PTHREAD_WORKER_FILE}) is not next to the bundle and tfjs-backend-wasm is not installed`;
  }
  const outDir = path.join(os.tmpdir(), `police-wasm-threads-${process.getuid?.() ?? 'user'}`);
  const worker = path.join(outDir, PTHREAD_WORKER_FILE);
  const glue = path.join(outDir, THREADED_GLUE_FILE);
  const glueSource = readFileSync(path.join(pkg, 'wasm-out', THREADED_GLUE_FILE), 'utf8');
  const workerSource = pthreadWorkerSource(
    (createRequire(__filename)(path.join(pkg, 'wasm-out', PTHREAD_WORKER_FILE)) as { wasmWorkerContents: string }).wasmWorkerContents,
  );
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(worker) || readFileSync(worker, 'utf8') !== workerSource) writeFileSync(worker, workerSource);
  if (!existsSync(glue) || readFileSync(glue, 'utf8') !== glueSource) writeFileSync(glue, glueSource);
  return { worker, glue };
}

/** Pthread workers started by the glue, so that a failed start can end them. */
const started = new Set<workerThreads.Worker>();

/**
 * A Worker the glue can start under Node: tfjs hands it a blob: URL (refused by Node) for the script and a Blob for the glue
 * (which the worker cannot import); both become the files on disk. Never ref'd: live pthreads must not keep the process alive.
 */
function pthreadWorkerClass(NodeWorker: typeof workerThreads.Worker, files: { worker: string; glue: string }): typeof workerThreads.Worker {
  return class PthreadWorker extends NodeWorker {
    constructor(url: string | URL, options?: workerThreads.WorkerOptions) {
      super(String(url).startsWith('blob:') ? files.worker : url, options);
      started.add(this);
      this.unref();
      this.once('exit', () => started.delete(this));
    }
    override postMessage(message: unknown, transfer?: readonly workerThreads.TransferListItem[]): void {
      const load = message as { cmd?: string; urlOrBlob?: unknown };
      super.postMessage(
        load?.cmd === 'load' && typeof load.urlOrBlob !== 'string' ? { ...load, urlOrBlob: files.glue } : message,
        transfer,
      );
    }
    override ref(): void {
      // The glue refs a worker while its pthread runs; XNNPACK's pool threads run for the life of the process.
    }
  };
}

export type ThreadedStart = { threads: number } | { reason: string };

/**
 * Starts the wasm backend on the threaded SIMD build with `threads` threads. On any failure, or after
 * WASM_THREADS_START_TIMEOUT_MS, returns why; the caller then starts the one-thread build (`resetWasmBackend` first).
 */
export async function startThreadedWasm(
  threads: number,
  wasmDir: string,
  timeoutMs = WASM_THREADS_START_TIMEOUT_MS,
): Promise<ThreadedStart> {
  if (typeof SharedArrayBuffer === 'undefined') return { reason: 'SharedArrayBuffer is not available' };
  const files = pthreadFiles(wasmDir);
  if (typeof files === 'string') return { reason: files };
  // The module object itself (an ES namespace import is a frozen copy): the glue looks Worker up on it.
  const threadsModule = createRequire(__filename)('node:worker_threads') as { Worker: typeof workerThreads.Worker };
  const NodeWorker = threadsModule.Worker;
  // tfjs turns threads off whenever it runs in Node (tfjs issue 3830); the glue reads worker_threads.Worker when the backend starts.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  // XNNPACK's pool takes at most half the logical cores the glue counts (os.cpus()): count twice the threads asked while it starts.
  const osModule = createRequire(__filename)('node:os') as { cpus: typeof os.cpus };
  const cpus = osModule.cpus;
  let timer: NodeJS.Timeout | undefined;
  try {
    threadsModule.Worker = pthreadWorkerClass(NodeWorker, files);
    osModule.cpus = () => {
      const real = cpus();
      return Array.from({ length: Math.max(real.length, 2 * threads) }, (_, i) => real[i % real.length]);
    };
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`the threaded build did not start within ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
    });
    const outcome = await Promise.race([
      tf.setBackend('wasm').then(
        (ok) => (ok ? undefined : 'the threaded build did not start'),
        (err: unknown) => `the threaded build failed (${err instanceof Error ? err.message : String(err)})`,
      ),
      timeout,
    ]);
    if (outcome) return { reason: outcome };
    return { threads: getThreadsCount() };
  } finally {
    clearTimeout(timer);
    threadsModule.Worker = NodeWorker;
    osModule.cpus = cpus;
  }
}

/** After a failed threaded start: ends its pthreads and registers a fresh wasm backend that starts the one-thread build. */
export function resetWasmBackend(): void {
  const factory = tf.findBackendFactory('wasm');
  for (const worker of started) void worker.terminate();
  started.clear();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setThreadsCount(1);
  if (!factory) return;
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', factory, 2);
}
