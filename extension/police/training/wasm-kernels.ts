// tfjs-backend-wasm's Slice and SplitV copy their whole input out of the wasm heap before taking the slice (`readSync`):
// the flat optimizer's split of fig1's 133k parameters cost 1.3 ms a step, 8 whole copies. These read the heap in place.
import * as tf from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-wasm's BackendWasm the kernels we register (here and in native-matmul.ts) use. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
  disposeData(dataId: object): boolean;
}

interface SliceArgs {
  inputs: { x: tf.TensorInfo };
  attrs: { begin: number | number[]; size?: number | number[] };
  backend: WasmHeapBackend;
}

let registered = false;

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

/** Replaces wasm's Slice (contiguous and 2-D slices) and SplitV with in-heap copies; other slices go to tfjs's own kernel. */
export function registerWasmSliceKernels(): void {
  if (registered || tf.getBackend() !== 'wasm') return;
  const original = tf.getKernel('Slice', 'wasm');
  if (!original) return;
  registered = true;
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
    return original.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
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
