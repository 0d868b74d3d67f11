// Training ops rewritten onto kernels every backend runs fast: tfjs-wasm's LeakyRelu and Greater/Select cost 5–20× an
// element-wise multiply on a (batch + P)×W matrix (measured, DESIGN §3), and a step calls them per layer (Slice: wasm-kernels.ts).
import * as tf from '@tensorflow/tfjs-core';

/** Rows start … start + count − 1 of x (a contiguous block: a copy, with wasm-kernels' Slice). */
export function rowsOf(x: tf.Tensor2D, start: number, count: number): tf.Tensor2D {
  if (start === 0 && count === x.shape[0]) return x;
  return tf.slice(x, [start, 0], [count, x.shape[1]]);
}

/** Σ over rows as a 1×K row (a matmul with ones would pack x as XNNPACK weights: 3× slower on wasm). */
export function columnSums(x: tf.Tensor2D): tf.Tensor2D {
  return tf.sum(x, 0, true);
}

/** Leaky ReLU as x·step(x, α), and its gradient dy·step(x, α): same values as tf.leakyRelu, about 10× faster on wasm. */
export function leakyRelu<T extends tf.Tensor>(x: T | tf.TensorLike, alpha = 0.2): T {
  const input = (x instanceof tf.Tensor ? x : tf.tensor(x)) as T;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const z = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const slope = tf.step(z, alpha);
    save([slope]);
    return { value: tf.mul(z, slope), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]) };
  });
  return op(input) as T;
}

/** Gradient entries smaller than this are flushed to zero (see flushTinyGradients). */
export const TINY_GRADIENT = 1e-30;

/**
 * Identity forward; backward zeroes gradient entries under TINY_GRADIENT in magnitude. A confident classifier's softmax
 * gradient fills with subnormal floats, which x86 computes ~100× slower (wasm cannot flush them), and every backward
 * matmul carries them: fig1's step went from 25 to 110 ms once its loss fell. Adam's ε (1e-8) keeps such an entry's
 * effect on an update under 1e-22·lr.
 */
export function flushTinyGradients<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const z = args[0] as tf.Tensor;
    return {
      value: tf.reshape(z, z.shape),
      gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.step(tf.sub(tf.abs(dy), TINY_GRADIENT), 0)),
    };
  });
  return op(x) as T;
}
