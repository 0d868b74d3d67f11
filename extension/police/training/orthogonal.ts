// Orthogonality as tensor and float64 operations: the polar factor, the off-diagonal Gram penalty, Gram–Schmidt.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Polar factor by Newton–Schulz, X ← 1.5X − 0.5X(XᵀX): orthonormal columns (rows of W) when fan_out ≤ fan_in, orthonormal
 * rows otherwise. Scaled first by a Gershgorin bound so every singular value starts in (0, 1].
 */
export function polar(kernel: tf.Tensor2D, steps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [rows, cols] = kernel.shape;
    const gram = (x: tf.Tensor2D): tf.Tensor2D => (cols <= rows ? tf.matMul(tf.transpose(x), x) : tf.matMul(x, tf.transpose(x)));
    const apply = (x: tf.Tensor2D, g: tf.Tensor2D): tf.Tensor2D => (cols <= rows ? tf.matMul(x, g) : tf.matMul(g, x));
    const g0 = gram(kernel);
    let x: tf.Tensor2D = tf.div(kernel, tf.sqrt(tf.max(tf.sum(tf.abs(g0), 1))));
    for (let s = 0; s < steps; s++) x = tf.sub(tf.mul(x, 1.5), tf.mul(apply(x, gram(x)), 0.5));
    return x;
  });
}

/** Σ_{k≠k'} ⟨w_k, w_k'⟩² of one layer, from its kernel Wᵀ: ‖WWᵀ‖²_F − Σ_k ‖w_k‖⁴. */
export function offDiagonalPenalty(kernel: tf.Tensor2D): tf.Scalar {
  const gram = tf.matMul(tf.transpose(kernel), kernel);
  return tf.sub<tf.Scalar>(tf.sum(tf.square(gram)), tf.sum(tf.square(tf.sum(tf.square(kernel), 0))));
}

/** Orthonormal columns (or rows, when there are more columns than rows) by modified Gram–Schmidt twice, in float64. */
export function orthonormalize(values: Float32Array, rows: number, cols: number): Float32Array {
  const byColumns = cols <= rows;
  const count = byColumns ? cols : rows;
  const length = byColumns ? rows : cols;
  const at = (v: number, k: number) => (byColumns ? k * cols + v : v * cols + k);
  const vectors = Array.from({ length: count }, (_, v) => Float64Array.from({ length }, (_, k) => values[at(v, k)]));
  for (let v = 0; v < count; v++) {
    const x = vectors[v];
    for (let pass = 0; pass < 2; pass++) {
      for (let u = 0; u < v; u++) {
        let d = 0;
        for (let k = 0; k < length; k++) d += x[k] * vectors[u][k];
        for (let k = 0; k < length; k++) x[k] -= d * vectors[u][k];
      }
    }
    let n = 0;
    for (let k = 0; k < length; k++) n += x[k] * x[k];
    n = Math.sqrt(n);
    // A (measure-zero) dependent vector becomes a unit basis vector orthogonalised on the next pass.
    for (let k = 0; k < length; k++) x[k] = n > 1e-12 ? x[k] / n : k === v ? 1 : 0;
  }
  const out = new Float32Array(values.length);
  vectors.forEach((x, v) => x.forEach((value, k) => (out[at(v, k)] = value)));
  return out;
}
