// Kernels we register on tfjs-backend-wasm, reading and writing its heap in place. Its Slice and SplitV copy their whole
// input out of the heap before taking the slice (`readSync`): the flat optimizer's split of fig1's 133k parameters cost
// 1.3 ms a step, 8 whole copies. The POLICE shift runs as one kernel each way, on the host reference `computeShift`.
import * as tf from '@tensorflow/tfjs-core';
import { computeShift, POLICE_SHIFT_GRAD_KERNEL, POLICE_SHIFT_KERNEL, type PoliceShiftAttrs } from './police-layer';

/** The part of tfjs-backend-wasm's BackendWasm the kernels we register (here and in wasm-matmul.ts) use. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
  disposeData(dataId: object): boolean;
  incRef(dataId: object): void;
}

interface SliceArgs {
  inputs: { x: tf.TensorInfo };
  attrs: { begin: number | number[]; size?: number | number[] };
  backend: WasmHeapBackend;
}

let registered = false;

/** Runs a kernel we replaced (kept as `original`) on the cases we leave to it. */
export function runKernelConfig(kernel: tf.KernelConfig, args: object): tf.TensorInfo {
  return kernel.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

/** Copies rows × width values starting at `from` (row stride `stride`) out of the heap into a new output. */
function copyRows(backend: WasmHeapBackend, x: tf.TensorInfo, shape: number[], from: number, rows: number, width: number, stride: number) {
  const out = backend.makeOutput(shape, x.dtype);
  // Views after makeOutput: growing the heap there detaches earlier views.
  const source = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out);
  if (rows === 1 || width === stride) target.set(source.subarray(from, from + rows * width));
  else for (let r = 0; r < rows; r++) target.set(source.subarray(from + r * stride, from + r * stride + width), r * width);
  return out;
}

/**
 * Registers our wasm kernels: Slice (contiguous and 2-D slices; others go to tfjs's own kernel) and SplitV as in-heap copies,
 * Sum over leading axes in place, Identity as a shared buffer, and the POLICE shift's two kernels.
 */
export function registerWasmKernels(): void {
  if (registered || tf.getBackend() !== 'wasm') return;
  registered = true;
  registerSliceKernels();
  registerPoliceShiftKernels();
  registerSharedIdentity();
  registerLeadingAxesSum();
}

function registerSliceKernels(): void {
  const original = tf.getKernel('Slice', 'wasm');
  if (!original) return;
  const slice = (args: SliceArgs): tf.TensorInfo => {
    const { x } = args.inputs;
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, args.attrs.begin, args.attrs.size);
    if (x.dtype !== 'string') {
      const strides = tf.util.computeStrides(x.shape);
      if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
        const count = tf.util.sizeFromShape(size);
        return copyRows(args.backend, x, size, tf.slice_util.computeFlatOffset(begin, strides), 1, count, count);
      }
      if (x.shape.length === 2) return copyRows(args.backend, x, size, begin[0] * strides[0] + begin[1], size[0], size[1], strides[0]);
    }
    return runKernelConfig(original, args);
  };
  const splitV = (args: {
    inputs: { x: tf.TensorInfo };
    attrs: { numOrSizeSplits: number | number[]; axis: number };
    backend: WasmHeapBackend;
  }) => {
    const { x } = args.inputs;
    const axis = tf.util.parseAxisParam(args.attrs.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, args.attrs.numOrSizeSplits, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const part = slice({ inputs: { x }, attrs: { begin: [...begin], size }, backend: args.backend });
      begin[axis] += s;
      return part;
    });
  };
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({ kernelName: 'Slice', backendName: 'wasm', kernelFunc: slice as unknown as tf.KernelFunc });
  tf.unregisterKernel('SplitV', 'wasm');
  tf.registerKernel({ kernelName: 'SplitV', backendName: 'wasm', kernelFunc: splitV as unknown as tf.KernelFunc });
}

/** Σ over the rows of a rows×units row-major matrix, in float64. Eight rows at a time: 3× the speed of one (fewer stores to `sums`). */
function columnSums(x: Float32Array, rows: number, units: number): Float64Array {
  const sums = new Float64Array(units);
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    const start = r * units;
    for (let k = 0; k < units; k++) {
      const i = start + k;
      sums[k] +=
        x[i] +
        x[i + units] +
        x[i + 2 * units] +
        x[i + 3 * units] +
        x[i + 4 * units] +
        x[i + 5 * units] +
        x[i + 6 * units] +
        x[i + 7 * units];
    }
  }
  for (; r < rows; r++) for (let k = 0, i = r * units; k < units; k++, i++) sums[k] += x[i];
  return sums;
}

/** A float32 output of `shape` filled from `values` (a view taken after makeOutput, which may grow the heap). */
function outputFrom(backend: WasmHeapBackend, shape: number[], values: ArrayLike<number>): tf.TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).set(values);
  return out;
}

/** The shift of each layer as `computeShift` on the vertex rows in the heap: the exact host reference, in 3 kernels a layer. */
function registerPoliceShiftKernels(): void {
  const forward = (args: {
    inputs: { z: tf.TensorInfo; bias?: tf.TensorInfo; kept?: tf.TensorInfo };
    attrs: PoliceShiftAttrs;
    backend: WasmHeapBackend;
  }): tf.TensorInfo[] => {
    const { z, bias, kept } = args.inputs;
    const { batchRows, regionSizes, rule, margin } = args.attrs;
    const { backend } = args;
    const units = z.shape[1];
    const vertexRows = z.shape[0] - batchRows;
    const h = (backend.typedArrayFromHeap(z) as Float32Array).slice(batchRows * units);
    if (bias) {
      const b = backend.typedArrayFromHeap(bias) as Float32Array;
      for (let i = 0; i < h.length; i++) h[i] += b[i % units];
    }
    const keptSides = kept ? Int8Array.from(backend.typedArrayFromHeap(kept) as Float32Array) : undefined;
    const result = computeShift(h.subarray(0, vertexRows * units), units, regionSizes, rule, margin, keptSides);
    return [
      outputFrom(backend, [units], result.shift),
      outputFrom(backend, [regionSizes.length, units], result.sides),
      outputFrom(backend, [1, units], result.vertex),
      ...(keptSides ? [outputFrom(backend, [regionSizes.length, units], keptSides)] : []),
    ];
  };
  const backward = (args: {
    inputs: { dy: tf.TensorInfo; chosenRow: tf.TensorInfo };
    attrs: { batchRows: number };
    backend: WasmHeapBackend;
  }): tf.TensorInfo[] => {
    const { dy, chosenRow } = args.inputs;
    const { backend } = args;
    const [rows, units] = dy.shape;
    const dz = backend.makeOutput([rows, units], 'float32');
    const db = backend.makeOutput([units], 'float32');
    const g = backend.typedArrayFromHeap(dy) as Float32Array;
    const gz = backend.typedArrayFromHeap(dz) as Float32Array;
    const gb = backend.typedArrayFromHeap(db) as Float32Array;
    const row = backend.typedArrayFromHeap(chosenRow) as Float32Array;
    const sums = columnSums(g, rows, units);
    gz.set(g);
    // −Σ_rows dy at each shifted unit's chosen vertex row (the only row c depends on); b gets Σ_rows dy where c does not follow it.
    for (let k = 0; k < units; k++) {
      if (row[k] >= 0) {
        gz[(args.attrs.batchRows + row[k]) * units + k] -= sums[k];
        gb[k] = 0;
      } else {
        gb[k] = sums[k];
      }
    }
    return [dz, db];
  };
  tf.registerKernel({ kernelName: POLICE_SHIFT_KERNEL, backendName: 'wasm', kernelFunc: forward as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: POLICE_SHIFT_GRAD_KERNEL, backendName: 'wasm', kernelFunc: backward as unknown as tf.KernelFunc });
}

/**
 * Identity shares its input's buffer (as Reshape does, and tfjs's cpu backend does for Identity): no kernel writes into an
 * input, and every customGrad `save` is an Identity (fig1's leaky ReLUs copied three 515×256 slopes a step).
 */
function registerSharedIdentity(): void {
  const original = tf.getKernel('Identity', 'wasm');
  if (!original) return;
  const identity = (args: { inputs: { x: tf.TensorInfo }; backend: WasmHeapBackend }): tf.TensorInfo => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return runKernelConfig(original, args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: identity as unknown as tf.KernelFunc });
}

/** Sum over leading axes (a bias's gradient, Σ over rows) reads the heap in place: tfjs-wasm transposes first, 0.41 ms for 515×256 where this takes 0.1. */
function registerLeadingAxesSum(): void {
  const original = tf.getKernel('Sum', 'wasm');
  if (!original) return;
  const sum = (args: { inputs: { x: tf.TensorInfo }; attrs: { axis: number | number[]; keepDims: boolean }; backend: WasmHeapBackend }) => {
    const { x } = args.inputs;
    const axes = tf.util.parseAxisParam(args.attrs.axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((axis, i) => axis === i);
    if (x.dtype !== 'float32' || !leading) return runKernelConfig(original, args);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const units = tf.util.sizeFromShape(x.shape.slice(axes.length));
    const shape = args.attrs.keepDims ? x.shape.map((n, i) => (i < axes.length ? 1 : n)) : x.shape.slice(axes.length);
    return outputFrom(args.backend, shape, columnSums(args.backend.typedArrayFromHeap(x) as Float32Array, rows, units));
  };
  tf.unregisterKernel('Sum', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: sum as unknown as tf.KernelFunc });
}
