// Picks the fastest TensorFlow.js backend present at run time (tensorflow → wasm → cpu) and tunes it for training.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; the union package 'tfjs' would, we import only core.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
// A named import: the package's sideEffects list would let esbuild drop a bare import (and the cpu backend with it).
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The backend a user asks for: a named one, or the fastest present. */
export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  /** The backend actually running: 'tensorflow', 'wasm' or 'cpu'. */
  backend: string;
  /** Why a preferred backend was not used, one line each. */
  notes: string[];
}

const chosen = new Map<BackendPreference, BackendChoice>();
/** Also keeps the cpu backend's registration in the bundle. */
export const cpuBackendVersion = version_cpu;
let gradientsPatched = false;

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

async function tryWasm(notes: string[]): Promise<boolean> {
  const dir = wasmDirectory();
  if (!dir) {
    notes.push('wasm backend: tfjs-backend-wasm-simd.wasm not found next to the bundle or in node_modules');
    return false;
  }
  setWasmPaths(dir + path.sep);
  try {
    if (await tf.setBackend('wasm')) return true;
    notes.push('wasm backend did not start');
  } catch (err) {
    notes.push(`wasm backend failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return false;
}

/**
 * Selects the backend once per process. 'auto' tries tensorflow, wasm, cpu in that order;
 * a named preference falls back along the same order when it cannot start, and says why.
 */
export async function initBackend(preference: BackendPreference = 'auto'): Promise<BackendChoice> {
  const cached = chosen.get(preference);
  if (cached && tf.getBackend() === cached.backend) return cached;
  const notes: string[] = [];
  const order: BackendPreference[] =
    preference === 'cpu' ? ['cpu'] : preference === 'wasm' ? ['wasm', 'cpu'] : ['tensorflow', 'wasm', 'cpu'];
  let backend = 'cpu';
  for (const name of order) {
    if (name === 'tensorflow' && (await tryTensorflow(notes))) {
      backend = 'tensorflow';
      break;
    }
    if (name === 'wasm' && (await tryWasm(notes))) {
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
  patchMatMulGradient();
  if (preference !== 'auto' && backend !== preference) notes.unshift(`preferred backend '${preference}' unavailable; running '${backend}'`);
  // Under 'auto' a missing tfjs-node is the normal case, not news; a named preference explains itself.
  const choice = { backend: tf.getBackend(), notes: preference === 'auto' ? [] : notes };
  chosen.set(preference, choice);
  return choice;
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * Re-registers BatchMatMul's gradient with explicit transposes and plain matMuls: in wasm a matMul
 * with transpose flags is 10–40× slower than transposing first (DESIGN §3).
 */
export function patchMatMulGradient(): void {
  if (gradientsPatched) return;
  gradientsPatched = true;
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const t = (x: tf.Tensor) => tf.transpose(x, swapLastTwo(x.rank));
      const g = dy as tf.Tensor;
      const mm = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D);
      if (!transposeA && !transposeB) return { a: () => mm(g, t(b)), b: () => mm(t(a), g) };
      if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(t(g), a) };
      if (transposeA && !transposeB) return { a: () => mm(b, t(g)), b: () => mm(a, g) };
      return { a: () => mm(t(b), t(g)), b: () => mm(t(g), t(a)) };
    },
  });
}

/** Which backend is running now (after initBackend). */
export function currentBackend(): string {
  return tf.getBackend();
}
