// Spectral helpers the analyses need beyond linalg.ts: Gram of rows, symmetric eigen (Jacobi), rank by Cholesky pivots.
import type { Matrix, Vector } from '../spec/types';

/** Σ_i w_i w_iᵀ over the given rows (n×n), i.e. AᵀA for A made of those rows. */
export function rowGram(rows: Matrix, n: number): Matrix {
  const g: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const w of rows) {
    for (let i = 0; i < n; i++) {
      const wi = w[i];
      if (wi === 0) continue;
      const gi = g[i];
      for (let j = i; j < n; j++) gi[j] += wi * w[j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) g[i][j] = g[j][i];
  return g;
}

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: values ascending, vectors as columns' rows. */
export function symmetricEigen(matrix: Matrix): { values: Vector; vectors: Matrix } {
  const n = matrix.length;
  const a = matrix.map((row) => row.slice());
  const v: Matrix = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    let scale = 0;
    for (let i = 0; i < n; i++) {
      scale += a[i][i] * a[i][i];
      for (let j = i + 1; j < n; j++) off += a[i][j] * a[i][j];
    }
    if (off <= 1e-30 * (scale + 2 * off) || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p][q];
        if (apq === 0) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[i][i] - a[j][j]);
  return {
    values: order.map((i) => a[i][i]),
    // vectors[k] is the k-th eigenvector (unit length), matching values[k].
    vectors: order.map((i) => v.map((row) => row[i])),
  };
}

/** Smallest singular value of the matrix made of `rows` (n columns), and a unit vector it nearly annihilates. */
export function smallestSingular(rows: Matrix, n: number): { sigma: number; direction: Vector } {
  if (n === 0) return { sigma: Infinity, direction: [] };
  const { values, vectors } = symmetricEigen(rowGram(rows, n));
  return { sigma: Math.sqrt(Math.max(values[0], 0)), direction: vectors[0] };
}

/**
 * Smallest Cholesky pivot of a symmetric positive semi-definite matrix, relative to its largest diagonal entry:
 * 0 (up to rounding) exactly when the matrix is singular; cheaper than an eigen-decomposition for large n.
 */
export function relativeMinPivot(matrix: Matrix): number {
  const n = matrix.length;
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, matrix[i][i]);
  if (maxDiag <= 0) return 0;
  const l = new Float64Array(n * n);
  let minPivot = Infinity;
  for (let j = 0; j < n; j++) {
    let d = matrix[j][j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    minPivot = Math.min(minPivot, d);
    if (d <= 1e-13 * maxDiag) return Math.max(d, 0) / maxDiag;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = matrix[i][j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / ljj;
    }
  }
  return minPivot / maxDiag;
}
