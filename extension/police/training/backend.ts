// Picks the fastest TensorFlow.js backend present at run time for the model at hand (tensorflow, webgpu, wasm, cpu) and tunes it for training.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; the union package 'tfjs' would, we import only core.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
// A named import: the package's sideEffects list would let esbuild drop a bare import (and the cpu backend with it).
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { allCores, requestedWasmThreads, resetWasmBackend, startThreadedWasm } from './wasm-threads';
import { registerWasmKernels } from './wasm-kernels';
import { registerWasmMatMul, type NativeMatMul } from './wasm-matmul';

/** The backend a user asks for: a named one, or the fastest present. */
export type BackendPreference = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** Every preference, in the order the `police.backend` setting lists them. */
export const BACKEND_PREFERENCES: BackendPreference[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface BackendChoice {
  /** The backend actually running: 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  backend: string;
  /** Why a preferred backend was not used, one line each. */
  notes: string[];
  /** One line: what runs and why (the adapter, the rule 'auto' applied). */
  reason: string;
}

/** What 'auto' weighs: the floating-point work of one training step. */
export interface Workload {
  stepFlops: number;
}

/**
 * Under 'auto', a GPU pays off from this much work per step: below it, per-op launch and read-back latency dominate and
 * one wasm thread is faster (fig1's 0.4 GFLOP step is ~20 ms on wasm; a WebGPU step costs ≥ ~250 op launches).
 */
export const GPU_MIN_STEP_FLOPS = 2e9;

/**
 * Under 'auto', wasm uses every core from this much work per step, else one thread. On 2 free cores two threads already pay
 * from ~0.15 GFLOP (fig1 17–23 vs 26–28 s), but with one core taken by another job they lost 1.8× (fig1 52–58 vs 29–32 s);
 * from here on matmuls dominate: ahead on free cores ((2,3,1024) 645 vs 483 ms), about even under load (680 vs 704).
 */
export const WASM_THREADS_MIN_STEP_FLOPS = 8e9;

/** How a caller sizes the wasm thread pool; undefined leaves it to POLICE_WASM_THREADS, else to 'auto'. */
export interface BackendOptions {
  /** The `police.wasmThreads` setting: 0 = every core, 1 = one thread, n = n threads. */
  wasmThreads?: number;
}

const chosen = new Map<string, BackendChoice>();
/** Why webgpu cannot run here, once found out (loading Dawn twice is pointless). */
let webgpuProblem: string | undefined;
let webgpuAdapter: { description: string; software: boolean } | undefined;
/** Also keeps the cpu backend's registration in the bundle. */
export const cpuBackendVersion = version_cpu;
/**
 * Threads of the wasm backend once started (a process starts it once: the pool cannot change afterwards), and why; with
 * ONNX Runtime's matmuls they are its threads, wasm itself running on one.
 */
let wasmStarted: { threads: number; why: string; matmuls: NativeMatMul } | undefined;

/** Loads an optional native package without letting the bundler see it (it must stay external). */
function optionalRequire(name: string): { error?: string } {
  try {
    const req = typeof require === 'function' ? require : undefined;
    if (!req) return { error: 'require() is not available' };
    req(name);
    return {};
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { error: message };
  }
}

/** The folder holding tfjs-backend-wasm's .wasm files: next to the bundle, else in node_modules. */
export function wasmDirectory(): string | undefined {
  const candidates = [
    __dirname,
    path.resolve(__dirname, '..', '..', 'dist'),
    path.resolve(__dirname, '..', '..', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'),
    path.resolve(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'),
  ];
  return candidates.find((dir) => existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm')));
}

async function tryTensorflow(notes: string[]): Promise<boolean> {
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const loaded = optionalRequire(name);
    if (loaded.error === undefined && (await tf.setBackend('tensorflow').catch(() => false))) return true;
    notes.push(`${name} is not available (${loaded.error ?? 'backend did not start'})`);
  }
  return false;
}

/** The Vulkan ICD manifests of software renderers: an adapter on one of these is a CPU pretending to be a GPU. */
function isSoftwareAdapter(info: { vendor?: string; architecture?: string; device?: string; description?: string }): boolean {
  return /swiftshader|llvmpipe|lavapipe|software/i.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

/**
 * Gives Node a WebGPU (Dawn, from the optional 'webgpu' package) and registers tfjs-backend-webgpu on its adapter.
 * Returns why not when the package, the Vulkan/Metal/D3D loader or an adapter is missing.
 */
async function loadWebgpu(): Promise<string | undefined> {
  if (webgpuAdapter) return undefined;
  if (webgpuProblem !== undefined) return webgpuProblem;
  try {
    // Imported before navigator.gpu exists, so that the package does not register a factory of its own.
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
    if (!g.navigator?.gpu) {
      // Kept out of the bundle: a native addon with one binary per platform (build.mjs marks it external).
      const dawn = (await import(/* webpackIgnore: true */ 'webgpu')) as { create: (flags: string[]) => GPU; globals: object };
      Object.assign(globalThis, dawn.globals);
      const gpu = dawn.create([]);
      if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
      else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
    const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return (webgpuProblem = 'webgpu: no GPU adapter found (no Vulkan, Metal or D3D12 driver)');
    const info = adapter.info;
    const description = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
    webgpuAdapter = { description, software: isSoftwareAdapter(info) };
    tf.registerBackend('webgpu', async () => {
      const limits = adapter.limits;
      const device = await adapter.requestDevice({
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      });
      return new WebGPUBackend(device, info);
    });
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return (webgpuProblem = `webgpu: the 'webgpu' package (Dawn) could not start (${message})`);
  }
}

async function tryWebgpu(notes: string[], workload: Workload | undefined, preference: BackendPreference): Promise<boolean> {
  // A small step runs faster on wasm whatever the GPU: 'auto' does not even load Dawn for it.
  if (preference === 'auto' && (!workload || workload.stepFlops < GPU_MIN_STEP_FLOPS)) {
    notes.push(
      `webgpu: not tried, the step (${workload ? (workload.stepFlops / 1e9).toFixed(2) : '?'} GFLOP) is below ${GPU_MIN_STEP_FLOPS / 1e9} GFLOP, where per-op GPU latency makes wasm faster`,
    );
    return false;
  }
  const problem = await loadWebgpu();
  if (problem) {
    notes.push(problem);
    return false;
  }
  const adapter = webgpuAdapter!;
  if (preference === 'auto') {
    // A software adapter (SwiftShader) is slower than wasm for everything; a small step is faster on wasm too.
    if (adapter.software) {
      notes.push(`webgpu: adapter ${adapter.description} is software rendering, slower than wasm`);
      return false;
    }
  }
  try {
    if (await tf.setBackend('webgpu')) return true;
    notes.push(`webgpu: backend on ${adapter.description} did not start`);
  } catch (err) {
    notes.push(`webgpu: backend on ${adapter.description} failed (${err instanceof Error ? err.message : String(err)})`);
  }
  return false;
}

/** The adapter webgpu runs on, once loaded (for the backend line). */
export function webgpuAdapterDescription(): string | undefined {
  return webgpuAdapter?.description;
}

/** Threads to start wasm with, and why: the setting or POLICE_WASM_THREADS when given, else 'auto's rule on the step's work. */
export function wasmThreadsFor(workload: Workload | undefined, options: BackendOptions = {}): { threads: number; why: string } {
  const requested = requestedWasmThreads(options.wasmThreads);
  if (requested !== undefined)
    return {
      threads: requested.threads,
      why: requested.source === 'POLICE_WASM_THREADS' ? 'POLICE_WASM_THREADS' : 'asked for (--threads or the police.wasmThreads setting)',
    };
  const gflop = ((workload?.stepFlops ?? 0) / 1e9).toFixed(2);
  const cores = allCores();
  if (cores > 1 && workload && workload.stepFlops >= WASM_THREADS_MIN_STEP_FLOPS)
    return {
      threads: cores,
      why: `auto: the step (${gflop} GFLOP) is at least ${WASM_THREADS_MIN_STEP_FLOPS / 1e9} GFLOP, where threads pay`,
    };
  return {
    threads: 1,
    why:
      cores > 1
        ? `auto: the step (${gflop} GFLOP) is below ${WASM_THREADS_MIN_STEP_FLOPS / 1e9} GFLOP, where threads lose as soon as another job takes a core`
        : 'one core',
  };
}

async function tryWasm(notes: string[], workload: Workload | undefined, options: BackendOptions): Promise<boolean> {
  const dir = wasmDirectory();
  if (!dir) {
    notes.push('wasm backend: tfjs-backend-wasm-simd.wasm not found next to the bundle or in node_modules');
    return false;
  }
  setWasmPaths(dir + path.sep);
  try {
    if (!wasmStarted) {
      const wanted = wasmThreadsFor(workload, options);
      const matmuls = await registerWasmMatMul(wanted.threads);
      if (matmuls.native) {
        // The threads are ONNX Runtime's; wasm runs the rest of the step on one.
        wasmStarted = { threads: wanted.threads, why: wanted.why, matmuls };
      } else if (wanted.threads > 1) {
        const threaded = await startThreadedWasm(wanted.threads, dir);
        if ('threads' in threaded) {
          wasmStarted = { threads: threaded.threads, why: wanted.why, matmuls };
          return true;
        }
        notes.push(`wasm threads: ${threaded.reason}; running one thread`);
        resetWasmBackend();
        setWasmPaths(dir + path.sep);
        wasmStarted = { threads: 1, why: `${wanted.threads} threads asked (${wanted.why}), ${threaded.reason}`, matmuls };
      } else {
        wasmStarted = { threads: 1, why: wanted.why, matmuls };
      }
    }
    if (await tf.setBackend('wasm')) return true;
    notes.push('wasm backend did not start');
  } catch (err) {
    notes.push(`wasm backend failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return false;
}

/**
 * Selects the backend. 'auto' tries tensorflow, then webgpu on a hardware GPU when the step is big enough to gain from it
 * (`workload`), then wasm, then cpu; a named preference falls back along the same order when it cannot start, and says why.
 */
export async function initBackend(
  preference: BackendPreference = 'auto',
  workload?: Workload,
  options: BackendOptions = {},
): Promise<BackendChoice> {
  const key = `${preference}:${preference === 'auto' && workload && workload.stepFlops >= GPU_MIN_STEP_FLOPS ? 'big' : 'small'}:${options.wasmThreads ?? ''}`;
  const cached = chosen.get(key);
  if (cached && tf.getBackend() === cached.backend) return cached;
  const notes: string[] = [];
  const order: BackendPreference[] =
    preference === 'cpu'
      ? ['cpu']
      : preference === 'wasm'
        ? ['wasm', 'cpu']
        : preference === 'webgpu'
          ? ['webgpu', 'wasm', 'cpu']
          : ['tensorflow', 'webgpu', 'wasm', 'cpu'];
  let backend = 'cpu';
  for (const name of order) {
    if (name === 'tensorflow' && (await tryTensorflow(notes))) {
      backend = 'tensorflow';
      break;
    }
    if (name === 'webgpu' && (await tryWebgpu(notes, workload, preference))) {
      backend = 'webgpu';
      break;
    }
    if (name === 'wasm' && (await tryWasm(notes, workload, options))) {
      backend = 'wasm';
      break;
    }
    if (name === 'cpu') {
      await tf.setBackend('cpu');
      backend = 'cpu';
      break;
    }
  }
  await tf.ready();
  registerWasmKernels();
  if (preference !== 'auto' && backend !== preference) notes.unshift(`preferred backend '${preference}' unavailable; running '${backend}'`);
  const running = tf.getBackend();
  const why =
    running === 'webgpu'
      ? `webgpu on ${webgpuAdapter?.description ?? 'a GPU'}`
      : running === 'wasm'
        ? wasmDescription()
        : running === 'tensorflow'
          ? 'tensorflow (tfjs-node)'
          : 'cpu (plain JavaScript)';
  const gpuWhy =
    preference === 'auto'
      ? notes.find((n) => n.startsWith('webgpu:')) && running !== 'webgpu'
        ? `; auto: ${notes.find((n) => n.startsWith('webgpu:'))!.slice('webgpu: '.length)}`
        : running === 'webgpu'
          ? `; auto: the step (${((workload?.stepFlops ?? 0) / 1e9).toFixed(1)} GFLOP) is big enough to gain from the GPU`
          : ''
      : '';
  // The thread count's reason: auto's rule, the setting, the environment, or why threads did not start.
  const threadsWhy = running === 'wasm' && wasmStarted ? `; threads: ${wasmStarted.why.replace(/^auto: /, '')}` : '';
  const because = `${gpuWhy}${threadsWhy}`;
  // Under 'auto' a missing tfjs-node is the normal case, not news; a named preference explains itself.
  const choice = { backend: running, notes: preference === 'auto' ? [] : notes, reason: `${why}${because}` };
  chosen.set(key, choice);
  return choice;
}

/** The backend line's wasm part: its threads, and where its matmuls run. */
function wasmDescription(): string {
  const threads = wasmThreadCount() === 1 ? 'one thread' : `${wasmThreadCount()} threads`;
  const matmuls = wasmStarted?.matmuls;
  return matmuls?.native
    ? `wasm (SIMD; matmuls on ONNX Runtime's MLAS, ${threads})`
    : `wasm (SIMD, ${threads}; matmuls on XNNPACK${matmuls ? `: ${matmuls.reason}` : ''})`;
}

/** Threads the running wasm backend's training uses (1 before it starts or on the one-thread build). */
export function wasmThreadCount(): number {
  return wasmStarted?.threads ?? 1;
}

/** Floating-point work of one training step: forward, backward ≈ 2× forward, over the batch and the vertex rows. */
export function stepFlops(rows: number, widths: number[]): number {
  let macs = 0;
  for (let i = 0; i + 1 < widths.length; i++) macs += widths[i] * widths[i + 1];
  return 6 * rows * macs;
}

/** Which backend is running now (after initBackend). */
export function currentBackend(): string {
  return tf.getBackend();
}
