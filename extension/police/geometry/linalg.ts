// Small dense float64 linear algebra for the certificate and the partition (plain arrays in, plain arrays out).
import type { Matrix, Vector } from '../spec/types';

export function zeros(rows: number, cols: number): Matrix {
  return Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
}

export function identity(n: number): Matrix {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m[i][i] = 1;
  return m;
}

export function transpose(a: Matrix): Matrix {
  const rows = a.length;
  const cols = rows ? a[0].length : 0;
  const t = zeros(cols, rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j][i] = a[i][j];
  return t;
}

export function matmul(a: Matrix, b: Matrix): Matrix {
  const inner = b.length;
  if (a.length && a[0].length !== inner) {
    throw new Error(`matmul: ${a.length}×${a[0].length} times ${inner}×${inner ? b[0].length : 0} does not conform`);
  }
  const cols = inner ? b[0].length : 0;
  const out = zeros(a.length, cols);
  for (let i = 0; i < a.length; i++) {
    const row = out[i];
    for (let k = 0; k < inner; k++) {
      const aik = a[i][k];
      if (aik === 0) continue;
      const bk = b[k];
      for (let j = 0; j < cols; j++) row[j] += aik * bk[j];
    }
  }
  return out;
}

export function dot(a: Vector, b: Vector): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Euclidean length. */
export function norm(a: Vector): number {
  return Math.sqrt(dot(a, a));
}

export function matvec(a: Matrix, x: Vector): Vector {
  return a.map((row) => {
    if (row.length !== x.length) throw new Error(`matvec: row of length ${row.length} times vector of length ${x.length}`);
    let sum = 0;
    for (let j = 0; j < row.length; j++) sum += row[j] * x[j];
    return sum;
  });
}

/** Largest absolute entry. */
export function maxAbs(a: Matrix | Vector): number {
  let m = 0;
  for (const v of a as (number | number[])[]) {
    if (typeof v === 'number') m = Math.max(m, Math.abs(v));
    else for (const w of v) m = Math.max(m, Math.abs(w));
  }
  return m;
}

/** Largest |a − b| entry-wise; Infinity when the shapes differ. */
export function maxAbsDiff(a: Matrix | Vector, b: Matrix | Vector): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (typeof x === 'number' && typeof y === 'number') m = Math.max(m, Math.abs(x - y));
    else if (Array.isArray(x) && Array.isArray(y)) m = Math.max(m, maxAbsDiff(x, y));
    else return Infinity;
  }
  return m;
}

export function normFrobenius(a: Matrix): number {
  let s = 0;
  for (const row of a) for (const v of row) s += v * v;
  return Math.sqrt(s);
}

/** Induced ∞-norm: largest absolute row sum. */
export function normInf(a: Matrix): number {
  let m = 0;
  for (const row of a)
    m = Math.max(
      m,
      row.reduce((s, v) => s + Math.abs(v), 0),
    );
  return m;
}

/** Solves A x = b for square A by Gaussian elimination with partial pivoting; throws when A is singular. */
export function solve(a: Matrix, b: Vector): Vector {
  const n = a.length;
  if (b.length !== n || a.some((row) => row.length !== n)) {
    throw new Error(`solve: expected a square ${n}×${n} matrix and a vector of length ${n}`);
  }
  const m = a.map((row) => row.slice());
  const x = b.slice();
  const scale = Math.max(maxAbs(a), Number.MIN_VALUE);
  for (let k = 0; k < n; k++) {
    let pivot = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i][k]) > Math.abs(m[pivot][k])) pivot = i;
    if (Math.abs(m[pivot][k]) <= n * Number.EPSILON * scale) throw new Error(`solve: matrix is singular (column ${k})`);
    [m[k], m[pivot]] = [m[pivot], m[k]];
    [x[k], x[pivot]] = [x[pivot], x[k]];
    for (let i = k + 1; i < n; i++) {
      const f = m[i][k] / m[k][k];
      if (f === 0) continue;
      for (let j = k; j < n; j++) m[i][j] -= f * m[k][j];
      x[i] -= f * x[k];
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    let s = x[k];
    for (let j = k + 1; j < n; j++) s -= m[k][j] * x[j];
    x[k] = s / m[k][k];
  }
  return x;
}

// ---------- Householder QR (column-major work arrays) ----------

interface Householder {
  rows: number;
  cols: number;
  /** Column-major rows×cols; R in the upper triangle after factorisation. */
  a: Float64Array;
  /** Unit reflector k acts on rows k… (H = I − 2vvᵀ); empty means identity. */
  reflectors: Float64Array[];
  /** Column j of the factored matrix is original column perm[j]. */
  perm: Int32Array;
  rank: number;
}

/** A P = Q R with optional column pivoting; stops at the numerical rank when pivoting (|R_kk| ≤ rcond·|R_00|). */
function householderQR(a: Float64Array, rows: number, cols: number, pivot: boolean, rcond: number): Householder {
  const perm = Int32Array.from({ length: cols }, (_, j) => j);
  const reflectors: Float64Array[] = [];
  const steps = Math.min(rows, cols);
  let first = 0;
  let rank = 0;
  for (let k = 0; k < steps; k++) {
    if (pivot) {
      let best = k;
      let bestNorm = -1;
      for (let j = k; j < cols; j++) {
        let s = 0;
        for (let i = k; i < rows; i++) s += a[j * rows + i] ** 2;
        if (s > bestNorm) {
          bestNorm = s;
          best = j;
        }
      }
      const norm = Math.sqrt(bestNorm);
      if (k === 0) first = norm;
      if (norm === 0 || norm <= rcond * first) break;
      if (best !== k) {
        for (let i = 0; i < rows; i++) {
          const t = a[k * rows + i];
          a[k * rows + i] = a[best * rows + i];
          a[best * rows + i] = t;
        }
        const t = perm[k];
        perm[k] = perm[best];
        perm[best] = t;
      }
    }
    const v = a.slice(k * rows + k, k * rows + rows);
    let normX = 0;
    for (let i = 0; i < v.length; i++) normX += v[i] * v[i];
    normX = Math.sqrt(normX);
    const alpha = v[0] >= 0 ? -normX : normX;
    v[0] -= alpha;
    let normV = 0;
    for (let i = 0; i < v.length; i++) normV += v[i] * v[i];
    normV = Math.sqrt(normV);
    if (normV === 0) {
      reflectors.push(new Float64Array(0));
    } else {
      for (let i = 0; i < v.length; i++) v[i] /= normV;
      reflectors.push(v);
      for (let j = k + 1; j < cols; j++) applyReflector(v, a, j * rows + k);
      a[k * rows + k] = alpha;
      for (let i = k + 1; i < rows; i++) a[k * rows + i] = 0;
    }
    rank = k + 1;
  }
  return { rows, cols, a, reflectors, perm, rank };
}

/** y[offset…] ← (I − 2vvᵀ) y[offset…]. */
function applyReflector(v: Float64Array, y: Float64Array, offset: number): void {
  if (v.length === 0) return;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * y[offset + i];
  s *= 2;
  for (let i = 0; i < v.length; i++) y[offset + i] -= s * v[i];
}

function toColumnMajor(a: Matrix, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    if (a[i].length !== cols) throw new Error(`row ${i} has ${a[i].length} entries, expected ${cols}`);
    for (let j = 0; j < cols; j++) out[j * rows + i] = a[i][j];
  }
  return out;
}

export interface LeastSquaresResult {
  /** n×k: the minimum-norm X minimising ‖A X − B‖. */
  solution: Matrix;
  rank: number;
}

/**
 * Minimum-norm least squares min ‖A X − B‖_F for A m×n, B m×k, by QR with column pivoting
 * and, when A is rank-deficient, a complete orthogonal decomposition.
 */
export function leastSquares(a: Matrix, b: Matrix, rcond = 1e-12): LeastSquaresResult {
  const rows = a.length;
  const cols = rows ? a[0].length : 0;
  if (b.length !== rows) throw new Error(`leastSquares: A has ${rows} rows but B has ${b.length}`);
  const rhs = rows ? b[0].length : 0;
  const qr = householderQR(toColumnMajor(a, rows, cols), rows, cols, true, rcond);
  const r = qr.rank;
  const solution = zeros(cols, rhs);
  if (r === 0) return { solution, rank: 0 };
  // S = [R11 R12] (r×cols), column-major with leading dimension `rows`.
  const sAt = (i: number, j: number): number => qr.a[j * rows + i];
  let basis: Householder | undefined;
  if (r < cols) {
    // Sᵀ = Z [T; 0]: then the minimum-norm solution is Z [T⁻ᵀ c; 0].
    const st = new Float64Array(cols * r);
    for (let i = 0; i < r; i++) for (let j = 0; j < cols; j++) st[i * cols + j] = sAt(i, j);
    basis = householderQR(st, cols, r, false, 0);
  }
  for (let c = 0; c < rhs; c++) {
    const y = new Float64Array(rows);
    for (let i = 0; i < rows; i++) y[i] = b[i][c];
    qr.reflectors.forEach((v, k) => applyReflector(v, y, k));
    const z = new Float64Array(cols);
    if (!basis) {
      for (let k = r - 1; k >= 0; k--) {
        let s = y[k];
        for (let j = k + 1; j < cols; j++) s -= sAt(k, j) * z[j];
        z[k] = s / sAt(k, k);
      }
    } else {
      const t = (i: number, j: number): number => basis.a[j * cols + i];
      // Forward substitution with Tᵀ (lower triangular).
      for (let k = 0; k < r; k++) {
        let s = y[k];
        for (let j = 0; j < k; j++) s -= t(j, k) * z[j];
        z[k] = s / t(k, k);
      }
      for (let k = r - 1; k >= 0; k--) applyReflector(basis.reflectors[k], z, k);
    }
    for (let j = 0; j < cols; j++) solution[qr.perm[j]][c] = z[j];
  }
  return { solution, rank: r };
}

/** Moore–Penrose pseudo-inverse (n×m) of an m×n matrix. */
export function pseudoInverse(a: Matrix, rcond = 1e-12): Matrix {
  return leastSquares(a, identity(a.length), rcond).solution;
}

/** Numerical rank by QR with column pivoting. */
export function rank(a: Matrix, rcond = 1e-12): number {
  const rows = a.length;
  const cols = rows ? a[0].length : 0;
  return householderQR(toColumnMajor(a, rows, cols), rows, cols, true, rcond).rank;
}

export interface AffineFit {
  /** outputs×D. */
  A: Matrix;
  b: Vector;
  /** Rank of [V 1]; below D+1 the points span a lower-dimensional set and (A, b) is the minimum-norm fit. */
  rank: number;
}

/** The affine map y ≈ A x + b through points (rows of V, P×D) and their values (rows of Y, P×K): least squares on [V 1]. */
export function affineFit(points: Matrix, values: Matrix, rcond = 1e-12): AffineFit {
  if (points.length !== values.length) throw new Error(`affineFit: ${points.length} points but ${values.length} values`);
  const design = points.map((p) => [...p, 1]);
  const { solution, rank: r } = leastSquares(design, values, rcond);
  const dim = design.length ? design[0].length - 1 : 0;
  const outputs = values.length ? values[0].length : 0;
  const A = zeros(outputs, dim);
  const b = new Array<number>(outputs).fill(0);
  for (let k = 0; k < outputs; k++) {
    for (let d = 0; d < dim; d++) A[k][d] = solution[d][k];
    b[k] = solution[dim][k];
  }
  return { A, b, rank: r };
}
