// The wasm backend's matmuls: on ONNX Runtime's CPU GEMM (MLAS: AVX2/AVX-512/NEON with FMA) where the optional
// 'onnxruntime-node' package is installed or staged next to the bundle (tfjs-wasm's XNNPACK has 4-lane SIMD without FMA: fig1's 515×256×256 in 4.2 ms
// on one thread, MLAS 1.0 ms), else on XNNPACK with its operands transposed first (its transposed products are 10–40×
// slower). Everything else stays on wasm; the tensors stay in the wasm heap.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { onnx } from 'onnx-proto';
import { runKernelConfig, type WasmHeapBackend } from './wasm-kernels';

interface OrtTensor {
  data: Float32Array;
}
type OrtTensorConstructor = new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
/** onnxruntime-node's native session: its `run` is synchronous (the package's public API only wraps it in a promise). */
interface OrtNativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): Promise<void>;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, null>, options: object): Record<string, OrtTensor>;
}
interface OrtBinding {
  binding: { InferenceSession: new () => OrtNativeSession };
  initOrt(): void;
}

/**
 * Below this much work (multiply-adds) or this inner size a call's fixed cost (about 30 µs) or MLAS's short-K kernels lose
 * to XNNPACK, so those stay on wasm. Measured on one thread: 515×64·64×64 0.30 ms against 0.26, 1027×64·64×64 0.37
 * against 0.45, 515×2·2×256 0.31 against 0.1.
 */
const MIN_MACS = 1 << 22;
const MIN_INNER = 16;
/**
 * A transposed operand lowers the break-even: MLAS takes it as a flag, XNNPACK needs a transpose kernel first. Measured on one
 * thread: 512×64ᵀ·64×64 0.14 ms against 0.23, 2×515ᵀ·515×256 0.10 against 0.29; 512×64·64×1 about even.
 */
const MIN_TRANSPOSED_MACS = 1 << 16;

/** How the wasm backend's matmuls run: on ONNX Runtime with its thread count, or on XNNPACK and why. */
export type NativeMatMul = { native: true; threads: number } | { native: false; reason: string };

/** Decided once per process (the kernel is registered once); undefined before the first call. */
let decided: Promise<NativeMatMul> | undefined;
/** Products ONNX Runtime has run in this process: what the tests check the routing by. */
let nativeCalls = 0;

/** How many products went to ONNX Runtime so far. */
export function nativeMatMulCalls(): number {
  return nativeCalls;
}

/** One Gemm model per transpose pair, with symbolic sizes: ONNX Runtime plans it once and runs any shape. */
function gemmModel(transA: boolean, transB: boolean): Uint8Array {
  const float = onnx.TensorProto.DataType.FLOAT;
  const input = (name: string, dims: string[]) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: float, shape: { dim: dims.map((dimParam) => ({ dimParam })) } } } });
  const flag = (name: string, on: boolean) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: on ? 1 : 0 });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'police-matmul',
      node: [{ opType: 'Gemm', input: ['a', 'b'], output: ['c'], attribute: [flag('transA', transA), flag('transB', transB)] }],
      input: [input('a', transA ? ['K', 'M'] : ['M', 'K']), input('b', transB ? ['N', 'K'] : ['K', 'N'])],
      output: [input('c', ['M', 'N'])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Where onnxruntime-node loads from: the copy build.mjs stages next to the bundle (the VSIX carries one platform's), else
 * the installed package (npm ci, the tests run from source); undefined where neither is.
 */
function ortLocation(): string | undefined {
  const staged = path.join(__dirname, 'onnxruntime-node');
  if (existsSync(path.join(staged, 'package.json'))) return staged;
  try {
    return path.dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    return undefined;
  }
}

/** Whether onnxruntime-node can be found from here (without loading it). */
export function nativeMatMulInstalled(): boolean {
  return ortLocation() !== undefined;
}

/** The package, kept out of the bundle: a native addon with one binary per platform. */
function loadOrt(): { Tensor: OrtTensorConstructor; native: OrtBinding } {
  const location = ortLocation();
  if (!location) throw Object.assign(new Error('onnxruntime-node is not installed'), { code: 'MODULE_NOT_FOUND' });
  // A computed path: the bundler leaves it alone, and the staged copy resolves its own onnxruntime-common.
  const load = createRequire(__filename);
  const ort = load(location) as { Tensor: OrtTensorConstructor };
  return { Tensor: ort.Tensor, native: load(path.join(location, 'dist', 'binding.js')) as OrtBinding };
}

/**
 * Registers the wasm backend's BatchMatMul: 2-D matmuls (and batch-1 3-D ones) on ONNX Runtime with `threads` intra-op threads
 * where it loads (then the wasm backend itself runs on one thread: its kernels between two matmuls are small, and two pools
 * would fight for the cores), the rest on XNNPACK with transposed operands transposed first. Says why ONNX Runtime is not
 * used where the package is missing or `POLICE_NATIVE_MATMUL=0`; every call after the first returns the first's answer.
 */
export function registerWasmMatMul(threads: number): Promise<NativeMatMul> {
  decided ??= register(threads);
  return decided;
}

type MatMulArgs = {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  attrs: { transposeA: boolean; transposeB: boolean };
  backend: WasmHeapBackend;
};

/** ONNX Runtime's products: `run` for the transpose pair, or why there are none. */
type NativeProducts = { run: (args: MatMulArgs, M: number, K: number, N: number) => tf.TensorInfo } | { reason: string };

async function loadNativeProducts(threads: number): Promise<NativeProducts> {
  if (process.env.POLICE_NATIVE_MATMUL === '0') return { reason: 'POLICE_NATIVE_MATMUL=0' };
  let Tensor: OrtTensorConstructor;
  const sessions: OrtNativeSession[] = [];
  try {
    const loaded = loadOrt();
    Tensor = loaded.Tensor;
    loaded.native.initOrt();
    for (const [transA, transB] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      const session = new loaded.native.binding.InferenceSession();
      const bytes = gemmModel(transA, transB);
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      await session.loadModel(buffer, 0, buffer.byteLength, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Spinning workers would take the cores from the wasm kernels that run between two matmuls.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      sessions.push(session);
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Missing is not a failure (a platform ONNX Runtime ships no binaries for, or a copy without this one's): say so without a stack of paths.
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      return {
        reason: nativeMatMulInstalled()
          ? `onnxruntime-node has no binary for ${process.platform}-${process.arch}`
          : 'onnxruntime-node is not installed',
      };
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { reason: `onnxruntime-node could not start (${message})` };
  }
  const run = (args: MatMulArgs, M: number, K: number, N: number): tf.TensorInfo => {
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs;
    const out = args.backend.makeOutput(a.shape.length === 3 || b.shape.length === 3 ? [1, M, N] : [M, N], 'float32');
    try {
      // Views after makeOutput: growing the heap there detaches earlier views. The heap is never the threaded build's
      // SharedArrayBuffer (which the binding refuses): with these matmuls wasm runs on one thread (backend.ts).
      const feeds = {
        a: new Tensor('float32', args.backend.typedArrayFromHeap(a) as Float32Array, transposeA ? [K, M] : [M, K]),
        b: new Tensor('float32', args.backend.typedArrayFromHeap(b) as Float32Array, transposeB ? [N, K] : [K, N]),
      };
      const result = sessions[(transposeA ? 2 : 0) + (transposeB ? 1 : 0)].run(feeds, { c: null }, {});
      (args.backend.typedArrayFromHeap(out) as Float32Array).set(result.c.data);
    } catch (err) {
      args.backend.disposeData(out.dataId);
      throw err;
    }
    nativeCalls++;
    return out;
  };
  return { run };
}

/** The permutation that swaps a tensor's last two axes. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

async function register(threads: number): Promise<NativeMatMul> {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transposeKernel = tf.getKernel('Transpose', 'wasm');
  if (!original || !transposeKernel) return { native: false, reason: "tfjs-backend-wasm's BatchMatMul is not registered" };
  const native = await loadNativeProducts(threads);
  const xnnpack = (args: MatMulArgs) => runKernelConfig(original, args);
  const transpose = (x: tf.TensorInfo, backend: WasmHeapBackend) =>
    runKernelConfig(transposeKernel, { inputs: { x }, attrs: { perm: swapLastTwo(x.shape.length) }, backend });
  /** op(a)·op(b) on XNNPACK from plain products and transposes; every intermediate freed. */
  const transposedFirst = (args: MatMulArgs, M: number, N: number): tf.TensorInfo => {
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs;
    const { backend } = args;
    const temporaries: tf.TensorInfo[] = [];
    const temporary = (x: tf.TensorInfo) => (temporaries.push(x), x);
    const plain = (x: tf.TensorInfo, y: tf.TensorInfo) =>
      xnnpack({ inputs: { a: x, b: y }, attrs: { transposeA: false, transposeB: false }, backend });
    try {
      // aᵀ·b packs b as XNNPACK's weights, (bᵀ·a)ᵀ packs a: with a narrow a (fig1's 2-input layer's weight gradient) 3× cheaper.
      if (transposeA && !transposeB && 4 * M <= N) return transpose(temporary(plain(temporary(transpose(b, backend)), a)), backend);
      return plain(transposeA ? temporary(transpose(a, backend)) : a, transposeB ? temporary(transpose(b, backend)) : b);
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
  const matMul = (args: MatMulArgs): tf.TensorInfo => {
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const batchOne = (shape: number[]) => shape.length === 2 || (shape.length === 3 && shape[0] === 1);
    const [M, K] = transposeA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
    const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const innerB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const flagged = transposeA || transposeB;
    // Mismatched inner sizes go to the original kernel, which refuses them with tfjs's own message.
    if (innerB !== K || a.dtype !== 'float32' || b.dtype !== 'float32') return xnnpack(args);
    if (
      'run' in native &&
      batchOne(a.shape) &&
      batchOne(b.shape) &&
      K >= MIN_INNER &&
      M * K * N >= (flagged ? MIN_TRANSPOSED_MACS : MIN_MACS)
    )
      return native.run(args, M, K, N);
    return flagged ? transposedFirst(args, M, N) : xnnpack(args);
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  // The original's setup binds its wasm function when the backend starts; it still runs the calls left to XNNPACK.
  tf.registerKernel({ ...original, kernelFunc: matMul as unknown as tf.KernelFunc });
  return 'run' in native ? { native: true, threads } : { native: false, reason: native.reason };
}
