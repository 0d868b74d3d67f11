// A small dense two-phase simplex (Bland's rule): exact enough for the region sizes people write by hand.
import type { Matrix, Vector } from '../spec/types';

export interface LinearProgram {
  /** Maximise c·x over x ≥ 0. */
  c: Vector;
  /** A_ub x ≤ b_ub. */
  aub?: Matrix;
  bub?: Vector;
  /** A_eq x = b_eq. */
  aeq?: Matrix;
  beq?: Vector;
}

export type LpResult =
  { status: 'optimal'; x: number[]; value: number } | { status: 'infeasible' } | { status: 'unbounded' } | { status: 'iteration-limit' };

const PIVOT_EPS = 1e-11;

/** Solves the linear program; never throws on well-shaped input. */
export function solveLp(problem: LinearProgram): LpResult {
  const n = problem.c.length;
  const aub = problem.aub ?? [];
  const bub = problem.bub ?? [];
  const aeq = problem.aeq ?? [];
  const beq = problem.beq ?? [];
  const mub = aub.length;
  const m = mub + aeq.length;
  const slack0 = n;
  const art0 = n + mub;
  const cols = n + mub + m;
  const rhs = cols;
  let scale = 1;
  for (const v of bub) scale = Math.max(scale, Math.abs(v));
  for (const v of beq) scale = Math.max(scale, Math.abs(v));
  const feasTol = 1e-9 * scale;

  const rows: Float64Array[] = [];
  const basis: number[] = [];
  for (let i = 0; i < m; i++) {
    const row = new Float64Array(cols + 1);
    const isUb = i < mub;
    const a = isUb ? aub[i] : aeq[i - mub];
    const b = isUb ? bub[i] : beq[i - mub];
    for (let j = 0; j < n; j++) row[j] = a[j] ?? 0;
    if (isUb) row[slack0 + i] = 1;
    row[rhs] = b;
    if (b < 0) for (let j = 0; j <= rhs; j++) row[j] = -row[j];
    row[art0 + i] = 1;
    rows.push(row);
    basis.push(art0 + i);
  }

  const objective = new Float64Array(cols + 1);
  // Phase 1: maximise −Σ artificials; pricing out the basic artificials gives −Σ rows.
  for (let i = 0; i < m; i++) for (let j = 0; j < art0; j++) objective[j] -= rows[i][j];
  for (let i = 0; i < m; i++) objective[rhs] -= rows[i][rhs];

  const pivot = (r: number, col: number): void => {
    const prow = rows[r];
    const inv = 1 / prow[col];
    for (let j = 0; j <= rhs; j++) prow[j] *= inv;
    prow[col] = 1;
    for (let i = 0; i < m; i++) {
      if (i === r) continue;
      const f = rows[i][col];
      if (f !== 0) {
        const row = rows[i];
        for (let j = 0; j <= rhs; j++) row[j] -= f * prow[j];
        row[col] = 0;
      }
    }
    const f = objective[col];
    if (f !== 0) {
      for (let j = 0; j <= rhs; j++) objective[j] -= f * prow[j];
      objective[col] = 0;
    }
    basis[r] = col;
  };

  const maxIterations = 50 * (m + cols) + 1000;
  const iterate = (allowedCols: number): 'optimal' | 'unbounded' | 'iteration-limit' => {
    for (let iter = 0; iter < maxIterations; iter++) {
      let enter = -1;
      for (let j = 0; j < allowedCols; j++) {
        if (objective[j] < -PIVOT_EPS) {
          enter = j;
          break;
        }
      }
      if (enter < 0) return 'optimal';
      let leave = -1;
      let best = Infinity;
      for (let i = 0; i < m; i++) {
        const a = rows[i][enter];
        if (a > PIVOT_EPS) {
          const ratio = rows[i][rhs] / a;
          if (ratio < best - 1e-13 || (Math.abs(ratio - best) <= 1e-13 && leave >= 0 && basis[i] < basis[leave])) {
            best = ratio;
            leave = i;
          }
        }
      }
      if (leave < 0) return 'unbounded';
      pivot(leave, enter);
    }
    return 'iteration-limit';
  };

  const phase1 = iterate(art0);
  if (phase1 === 'iteration-limit') return { status: 'iteration-limit' };
  if (objective[rhs] < -feasTol) return { status: 'infeasible' };

  // Drive zero-level artificials out of the basis where a real column can replace them.
  for (let i = 0; i < m; i++) {
    if (basis[i] < art0) continue;
    for (let j = 0; j < art0; j++) {
      if (Math.abs(rows[i][j]) > 1e-9) {
        pivot(i, j);
        break;
      }
    }
  }

  objective.fill(0);
  for (let j = 0; j < n; j++) objective[j] = -problem.c[j];
  for (let i = 0; i < m; i++) {
    const f = objective[basis[i]];
    if (f !== 0) {
      const row = rows[i];
      for (let j = 0; j <= rhs; j++) objective[j] -= f * row[j];
    }
  }
  const phase2 = iterate(art0);
  if (phase2 !== 'optimal') return { status: phase2 };

  const x = new Array<number>(n).fill(0);
  for (let i = 0; i < m; i++) if (basis[i] < n) x[basis[i]] = rows[i][rhs];
  let value = 0;
  for (let j = 0; j < n; j++) value += problem.c[j] * x[j];
  return { status: 'optimal', x, value };
}
