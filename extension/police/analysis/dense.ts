// Small float64 linear algebra for the analyses (matrices of at most a few hundred columns).
import type { Matrix, Vector } from '../spec';

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

/**
 * Least squares min ‖A x − y‖ by modified Gram–Schmidt QR with re-orthogonalisation; columns that are
 * (numerically) combinations of earlier ones get x = 0, so rank-deficient A still gives a solution.
 */
export function leastSquares(a: Matrix, y: Vector, relTol = 1e-10): { x: Vector; residual: number; rank: number } {
  const rows = a.length;
  const cols = rows === 0 ? 0 : a[0].length;
  const q: Float64Array[] = [];
  const kept: number[] = [];
  const r: number[][] = [];
  let scale = 0;
  for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) scale = Math.max(scale, Math.abs(a[i][j]));
  for (let j = 0; j < cols; j++) {
    const col = new Float64Array(rows);
    for (let i = 0; i < rows; i++) col[i] = a[i][j];
    const coef = new Array<number>(q.length).fill(0);
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < q.length; k++) {
        let dot = 0;
        for (let i = 0; i < rows; i++) dot += q[k][i] * col[i];
        coef[k] += dot;
        for (let i = 0; i < rows; i++) col[i] -= dot * q[k][i];
      }
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += col[i] * col[i];
    norm = Math.sqrt(norm);
    if (norm <= relTol * Math.max(scale, 1e-300) * Math.sqrt(rows)) continue;
    for (let i = 0; i < rows; i++) col[i] /= norm;
    r.push([...coef, norm]);
    q.push(col);
    kept.push(j);
  }
  // Project y: c = Qᵀy (twice, for stability), residual = y − Qc.
  const res = Float64Array.from(y);
  const c = new Array<number>(q.length).fill(0);
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < q.length; k++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += q[k][i] * res[i];
      c[k] += dot;
      for (let i = 0; i < rows; i++) res[i] -= dot * q[k][i];
    }
  }
  // Back-substitution on the upper-triangular R (r[k][k'] for k' ≤ k holds column kept[k]'s coefficients).
  const z = new Array<number>(q.length).fill(0);
  for (let k = q.length - 1; k >= 0; k--) {
    let s = c[k];
    for (let k2 = k + 1; k2 < q.length; k2++) s -= r[k2][k] * z[k2];
    z[k] = s / r[k][k];
  }
  const x = new Array<number>(cols).fill(0);
  kept.forEach((j, k) => (x[j] = z[k]));
  let residual = 0;
  for (let i = 0; i < rows; i++) residual += res[i] * res[i];
  return { x, residual: Math.sqrt(residual), rank: q.length };
}

export function dot(a: Vector, b: Vector): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: Vector): number {
  return Math.sqrt(dot(a, a));
}

/** Seeded uniform generator in [0, 1) (mulberry32), so analyses are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform generator (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
