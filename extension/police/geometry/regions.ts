// Region forms → vertex sets, and the small geometry the validator, trainer and view share.
import { maxAbs } from './linalg';
import { solveLp } from './lp';
import { DEFAULTS } from '../spec/types';
import type { Matrix, RawRegionSpec, ResolvedRegion, Vector } from '../spec/types';

export type RegionForm = ResolvedRegion['form'];
export const REGION_FORMS: RegionForm[] = ['vertices', 'box', 'simplex', 'polygon', 'halfspaces'];

/** A problem found in one region; `path` is relative to the region object (e.g. ['box', 'min', 1]). */
export interface RegionIssue {
  message: string;
  severity: 'error' | 'warning';
  path: (string | number)[];
  code: string;
}

export interface RegionLimits {
  warnCount: number;
  maxCount: number;
  /** Refuse half-space sets with more D-subsets of constraints than this. */
  maxSubsets: number;
  /** Refuse regions whose vertex list would hold more numbers than this (vertices × D), before building it. */
  maxCoordinates: number;
}

export const DEFAULT_LIMITS: RegionLimits = {
  warnCount: DEFAULTS.vertexWarnCount,
  maxCount: DEFAULTS.vertexMaxCount,
  maxSubsets: 200_000,
  // 16 M float64 coordinates (128 MB as arrays): a simplex up to D ≈ 4000, the largest vertex pass the lab trained (D = 3072).
  maxCoordinates: 16_000_000,
};

export interface RegionConversion {
  form?: RegionForm;
  vertices?: Matrix;
  issues: RegionIssue[];
}

const isNumberArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
const isMatrix = (v: unknown): v is number[][] => Array.isArray(v) && v.every(isNumberArray);

/** Which forms a raw region uses (exactly one is valid). */
export function regionForms(region: object): RegionForm[] {
  return REGION_FORMS.filter((f) => Object.prototype.hasOwnProperty.call(region, f));
}

// ---------- Forms ----------

/** The 2^D corners of [min, max], in binary counting order (bit k of the index picks max on axis k). */
export function boxVertices(min: Vector, max: Vector): Matrix {
  const dim = min.length;
  const out: Matrix = [];
  for (let mask = 0; mask < 2 ** dim; mask++) {
    const corner = new Array<number>(dim);
    for (let k = 0; k < dim; k++) corner[k] = Math.floor(mask / 2 ** k) % 2 === 1 ? max[k] : min[k];
    out.push(corner);
  }
  return out;
}

/** The D+1 vertices origin, origin + scale·e_1, …, origin + scale·e_D. */
export function simplexVertices(dim: number, origin?: Vector, scale = 1): Matrix {
  const base = origin ?? new Array<number>(dim).fill(0);
  const out: Matrix = [base.slice()];
  for (let k = 0; k < dim; k++) {
    const v = base.slice();
    v[k] += scale;
    out.push(v);
  }
  return out;
}

/** A regular polygon with a vertex straight above the centre, counter-clockwise. */
export function polygonVertices(center: Vector, radius: number, sides: number): Matrix {
  const out: Matrix = [];
  for (let k = 0; k < sides; k++) {
    const angle = Math.PI / 2 + (2 * Math.PI * k) / sides;
    // cos/sin leave 1e-16 dust where the exact value is 0; snap it so vertices print cleanly.
    const snap = (v: number): number => (Math.abs(v) < 1e-12 ? 0 : v);
    out.push([center[0] + radius * snap(Math.cos(angle)), center[1] + radius * snap(Math.sin(angle))]);
  }
  return out;
}

function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= Math.min(k, n - k); i++) r = (r * (n - Math.min(k, n - k) + i)) / i;
  return Math.round(r);
}

/** Solves the square system M x = r by Gaussian elimination with partial pivoting; undefined when singular. */
export function solveSquare(matrix: Matrix, rhs: Vector, tol = 1e-12): Vector | undefined {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i]]);
  let scale = 0;
  for (const row of matrix) for (const v of row) scale = Math.max(scale, Math.abs(v));
  if (scale === 0) return undefined;
  for (let col = 0; col < n; col++) {
    let best = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[best][col])) best = r;
    if (Math.abs(a[best][col]) <= tol * scale) return undefined;
    [a[col], a[best]] = [a[best], a[col]];
    for (let r = col + 1; r < n; r++) {
      const f = a[r][col] / a[col][col];
      if (f !== 0) for (let c = col; c <= n; c++) a[r][c] -= f * a[col][c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r][n];
    for (let c = r + 1; c < n; c++) s -= a[r][c] * x[c];
    x[r] = s / a[r][r];
  }
  return x;
}

/** Whether {x : A x ≤ b} is empty, unbounded (with a direction d, A d ≤ 0), or bounded and non-empty. */
export function halfspaceStatus(a: Matrix, b: Vector): { kind: 'empty' } | { kind: 'unbounded'; direction: Vector } | { kind: 'bounded' } {
  const dim = a[0]?.length ?? 0;
  // Feasibility with free x = u − w, u, w ≥ 0.
  const feasibility = solveLp({
    c: new Array<number>(2 * dim).fill(0),
    aub: a.map((row) => [...row, ...row.map((v) => -v)]),
    bub: b,
  });
  if (feasibility.status === 'infeasible') return { kind: 'empty' };
  // Recession cone {d : A d ≤ 0} ∩ [−1, 1]^D, written with y = d + 1 ∈ [0, 2].
  const aub = [...a, ...Array.from({ length: dim }, (_, k) => Array.from({ length: dim }, (_, j) => (j === k ? 1 : 0)))];
  const bub = [...a.map((row) => row.reduce((s, v) => s + v, 0)), ...new Array<number>(dim).fill(2)];
  for (let k = 0; k < dim; k++) {
    for (const sign of [1, -1]) {
      const c = new Array<number>(dim).fill(0);
      c[k] = sign;
      const result = solveLp({ c, aub, bub });
      if (result.status === 'optimal' && sign * (result.x[k] - 1) > 1e-9) {
        return { kind: 'unbounded', direction: result.x.map((y) => Number((y - 1).toPrecision(6))) };
      }
    }
  }
  return { kind: 'bounded' };
}

/** Vertices of the bounded polytope {x : A x ≤ b}: every D-subset of constraints solved, kept when feasible, deduplicated. */
export function halfspaceVertices(a: Matrix, b: Vector): Matrix {
  const dim = a[0]?.length ?? 0;
  const m = a.length;
  const scale = Math.max(1, maxAbs(b), maxAbs(a));
  const out: Matrix = [];
  const subset = Array.from({ length: dim }, (_, i) => i);
  const advance = (): boolean => {
    let i = dim - 1;
    while (i >= 0 && subset[i] === m - dim + i) i--;
    if (i < 0) return false;
    subset[i]++;
    for (let j = i + 1; j < dim; j++) subset[j] = subset[j - 1] + 1;
    return true;
  };
  if (dim === 0 || m < dim) return out;
  do {
    const x = solveSquare(
      subset.map((i) => a[i]),
      subset.map((i) => b[i]),
    );
    if (!x || !x.every(Number.isFinite)) continue;
    const feasible = a.every((row, i) => row.reduce((s, v, j) => s + v * x[j], 0) <= b[i] + 1e-9 * scale);
    if (!feasible) continue;
    const duplicate = out.some((v) => v.every((c, j) => Math.abs(c - x[j]) <= 1e-9 * scale));
    if (!duplicate) out.push(x.map((v) => (Math.abs(v) < 1e-14 * scale ? 0 : v)));
  } while (advance());
  return dim === 2 ? sortCounterClockwise(out) : out;
}

/** Orders 2-D points counter-clockwise around their centroid (for drawing). */
export function sortCounterClockwise(points: Matrix): Matrix {
  const c = centroid(points);
  return points.slice().sort((p, q) => Math.atan2(p[1] - c[1], p[0] - c[0]) - Math.atan2(q[1] - c[1], q[0] - c[0]));
}

function blowUpIssues(count: number, form: RegionForm, dim: number, limits: RegionLimits): RegionIssue[] {
  const why = form === 'box' ? ` (a box in ${dim} dimensions has 2^${dim} corners)` : '';
  if (count <= limits.maxCount && count * dim > limits.maxCoordinates) {
    return [
      {
        message: `this ${form} has ${count} vertices of ${dim} coordinates (${count * dim} numbers), more than the ${limits.maxCoordinates} POLICE builds for one region; use fewer vertices`,
        severity: 'error',
        path: [form],
        code: 'vertex-blow-up',
      },
    ];
  }
  if (count > limits.maxCount) {
    return [
      {
        message: `this ${form} has ${count} vertices${why}, more than the ${limits.maxCount} POLICE can handle; use a simplex or fewer vertices`,
        severity: 'error',
        path: [form],
        code: 'vertex-blow-up',
      },
    ];
  }
  if (count > limits.warnCount) {
    return [
      {
        message: `this ${form} has ${count} vertices${why}: every training step evaluates all of them; a simplex needs only ${dim + 1}`,
        severity: 'warning',
        path: [form],
        code: 'vertex-blow-up',
      },
    ];
  }
  return [];
}

function lengthIssue(value: unknown, dim: number, path: (string | number)[], what: string): RegionIssue[] {
  if (Array.isArray(value) && value.length !== dim) {
    return [
      {
        message: `${what} has ${value.length} coordinate${value.length === 1 ? '' : 's'} but input.dim is ${dim}`,
        severity: 'error',
        path,
        code: 'dimension-mismatch',
      },
    ];
  }
  return [];
}

/**
 * Converts one raw region to its vertices and checks its shape; `issues` carry paths relative to the
 * region. `vertices` is set only when there is no error.
 */
export function regionToVertices(region: RawRegionSpec, dim: number, limits: RegionLimits = DEFAULT_LIMITS): RegionConversion {
  const forms = regionForms(region);
  if (forms.length !== 1) {
    return {
      issues: [
        forms.length === 0
          ? { message: `a region needs one of: ${REGION_FORMS.join(', ')}`, severity: 'error', path: [], code: 'region-form' }
          : {
              message: `a region takes exactly one of ${REGION_FORMS.join(', ')}; found ${forms.map((f) => `'${f}'`).join(' and ')}`,
              severity: 'error',
              path: [forms[1]],
              code: 'region-form',
            },
      ],
    };
  }
  const form = forms[0];
  const r = region as unknown as Record<string, unknown>;
  const issues: RegionIssue[] = [];
  const result = (vertices?: Matrix): RegionConversion => {
    const hasError = issues.some((i) => i.severity === 'error');
    return hasError || !vertices ? { form, issues } : { form, vertices, issues };
  };

  switch (form) {
    case 'vertices': {
      const vs = r.vertices;
      if (!isMatrix(vs)) return result();
      vs.forEach((v, i) => issues.push(...lengthIssue(v, dim, ['vertices', i], `vertex ${i}`)));
      issues.push(...blowUpIssues(vs.length, form, dim, limits));
      return result(vs.map((v) => v.slice()));
    }
    case 'box': {
      const box = r.box as { min?: unknown; max?: unknown };
      if (!isNumberArray(box?.min) || !isNumberArray(box?.max)) return result();
      issues.push(...lengthIssue(box.min, dim, ['box', 'min'], 'box.min'));
      issues.push(...lengthIssue(box.max, dim, ['box', 'max'], 'box.max'));
      if (issues.length === 0) {
        box.min.forEach((lo, k) => {
          const hi = (box.max as number[])[k];
          if (!(lo < hi)) {
            issues.push({
              message:
                lo === hi
                  ? `box is flat on axis ${k}: min = max = ${lo} (the region would be lower-dimensional)`
                  : `box.min[${k}] = ${lo} is above box.max[${k}] = ${hi}`,
              severity: 'error',
              path: ['box', 'max', k],
              code: lo === hi ? 'degenerate-region' : 'empty-region',
            });
          }
        });
      }
      issues.push(...blowUpIssues(2 ** dim, form, dim, limits));
      if (issues.some((i) => i.severity === 'error')) return result();
      return result(boxVertices(box.min, box.max));
    }
    case 'simplex': {
      const simplex = (r.simplex ?? {}) as { origin?: unknown; scale?: unknown };
      if (simplex.origin !== undefined && !isNumberArray(simplex.origin)) return result();
      if (simplex.scale !== undefined && typeof simplex.scale !== 'number') return result();
      if (simplex.origin !== undefined) issues.push(...lengthIssue(simplex.origin, dim, ['simplex', 'origin'], 'simplex.origin'));
      if (simplex.scale === 0)
        issues.push({
          message: 'simplex.scale must not be 0 (the simplex would be a single point)',
          severity: 'error',
          path: ['simplex', 'scale'],
          code: 'degenerate-region',
        });
      issues.push(...blowUpIssues(dim + 1, form, dim, limits));
      if (issues.some((i) => i.severity === 'error')) return result();
      return result(simplexVertices(dim, simplex.origin as number[] | undefined, (simplex.scale as number | undefined) ?? 1));
    }
    case 'polygon': {
      const polygon = r.polygon as { center?: unknown; radius?: unknown; sides?: unknown };
      if (dim !== 2) {
        issues.push({
          message: `a polygon region is 2-D but input.dim is ${dim}; use vertices, box, simplex or halfspaces`,
          severity: 'error',
          path: ['polygon'],
          code: 'dimension-mismatch',
        });
        return result();
      }
      if (!isNumberArray(polygon?.center) || typeof polygon.radius !== 'number' || typeof polygon.sides !== 'number') return result();
      issues.push(...lengthIssue(polygon.center, 2, ['polygon', 'center'], 'polygon.center'));
      if (!(polygon.radius > 0))
        issues.push({
          message: `polygon.radius must be positive, got ${polygon.radius}`,
          severity: 'error',
          path: ['polygon', 'radius'],
          code: 'degenerate-region',
        });
      if (!Number.isInteger(polygon.sides) || polygon.sides < 3)
        issues.push({
          message: `polygon.sides must be an integer ≥ 3, got ${polygon.sides}`,
          severity: 'error',
          path: ['polygon', 'sides'],
          code: 'degenerate-region',
        });
      else issues.push(...blowUpIssues(polygon.sides, form, dim, limits));
      if (issues.some((i) => i.severity === 'error')) return result();
      return result(polygonVertices(polygon.center, polygon.radius, polygon.sides));
    }
    case 'halfspaces': {
      const hs = r.halfspaces as { A?: unknown; b?: unknown };
      if (!isMatrix(hs?.A) || !isNumberArray(hs?.b)) return result();
      const a = hs.A;
      const b = hs.b;
      a.forEach((row, i) => issues.push(...lengthIssue(row, dim, ['halfspaces', 'A', i], `row ${i} of A`)));
      if (b.length !== a.length) {
        issues.push({
          message: `halfspaces.b has ${b.length} entries but A has ${a.length} rows (one bound per row of A x ≤ b)`,
          severity: 'error',
          path: ['halfspaces', 'b'],
          code: 'dimension-mismatch',
        });
      }
      if (issues.length > 0) return result();
      if (a.length < dim + 1) {
        issues.push({
          message: `${a.length} half-spaces cannot bound a region in ${dim} dimensions (at least ${dim + 1} are needed): the set is unbounded`,
          severity: 'error',
          path: ['halfspaces'],
          code: 'unbounded-region',
        });
        return result();
      }
      const subsets = binomial(a.length, dim);
      // Each subset is a D×D solve: bound the work (subsets · D³), not only the count.
      if (subsets > limits.maxSubsets || subsets * dim ** 3 > limits.maxSubsets * 1000) {
        issues.push({
          message: `converting ${a.length} half-spaces in ${dim} dimensions means solving ${subsets} systems of ${dim}×${dim}, more than validation can afford (${limits.maxSubsets} systems of 10×10); give the vertices instead`,
          severity: 'error',
          path: ['halfspaces'],
          code: 'vertex-blow-up',
        });
        return result();
      }
      const status = halfspaceStatus(a, b);
      if (status.kind === 'empty') {
        issues.push({
          message: 'these half-spaces have no point in common: the region A x ≤ b is empty',
          severity: 'error',
          path: ['halfspaces'],
          code: 'empty-region',
        });
        return result();
      }
      if (status.kind === 'unbounded') {
        issues.push({
          message: `the region A x ≤ b is unbounded: it extends forever along [${status.direction.join(', ')}]; add a half-space that closes it`,
          severity: 'error',
          path: ['halfspaces'],
          code: 'unbounded-region',
        });
        return result();
      }
      const vertices = halfspaceVertices(a, b);
      issues.push(...blowUpIssues(vertices.length, form, dim, limits));
      return result(vertices);
    }
  }
}

// ---------- Geometry ----------

/** Dimension of the affine hull of the points (0 for one point). */
export function affineRank(points: Matrix, relTol = 1e-9): number {
  if (points.length <= 1) return 0;
  const base = points[0];
  const rows = points.slice(1).map((p) => p.map((v, j) => v - base[j]));
  const scale = maxAbs(rows);
  if (scale === 0) return 0;
  const tol = relTol * scale;
  const cols = base.length;
  let rank = 0;
  for (let col = 0; col < cols && rank < rows.length; col++) {
    let best = rank;
    for (let r = rank + 1; r < rows.length; r++) if (Math.abs(rows[r][col]) > Math.abs(rows[best][col])) best = r;
    if (Math.abs(rows[best][col]) <= tol) continue;
    [rows[rank], rows[best]] = [rows[best], rows[rank]];
    for (let r = rank + 1; r < rows.length; r++) {
      const f = rows[r][col] / rows[rank][col];
      if (f !== 0) for (let c = col; c < cols; c++) rows[r][c] -= f * rows[rank][c];
    }
    rank++;
  }
  return rank;
}

export function centroid(points: Matrix): Vector {
  const dim = points[0]?.length ?? 0;
  const c = new Array<number>(dim).fill(0);
  for (const p of points) for (let j = 0; j < dim; j++) c[j] += p[j] / points.length;
  return c;
}

export function boundingBox(points: Matrix): { min: Vector; max: Vector } {
  const dim = points[0]?.length ?? 0;
  const min = new Array<number>(dim).fill(Infinity);
  const max = new Array<number>(dim).fill(-Infinity);
  for (const p of points) {
    for (let j = 0; j < dim; j++) {
      min[j] = Math.min(min[j], p[j]);
      max[j] = Math.max(max[j], p[j]);
    }
  }
  return { min, max };
}

/** Convex hull of 2-D points, counter-clockwise, without collinear points (Andrew's monotone chain). */
export function convexHull2D(points: Matrix): Matrix {
  const pts = points.slice().sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  if (pts.length <= 2) return pts;
  const cross = (o: Vector, a: Vector, b: Vector): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Matrix = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Matrix = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** Whether `point` lies in the convex hull of `vertices` (boundary included, up to a relative tolerance). */
export function pointInHull(point: Vector, vertices: Matrix, relTol = 1e-9): boolean {
  if (vertices.length === 0) return false;
  const scale = Math.max(1, maxAbs(point), maxAbs(vertices));
  const tol = relTol * scale;
  if (point.length === 2 && vertices.length >= 3 && affineRank(vertices) === 2) {
    const hull = convexHull2D(vertices);
    for (let i = 0; i < hull.length; i++) {
      const a = hull[i];
      const b = hull[(i + 1) % hull.length];
      const edge = Math.hypot(b[0] - a[0], b[1] - a[1]);
      const cross = (b[0] - a[0]) * (point[1] - a[1]) - (b[1] - a[1]) * (point[0] - a[0]);
      if (cross < -tol * edge) return false;
    }
    return true;
  }
  // λ ≥ 0, Σλ = 1, Vᵀλ = p, with the equalities loosened to |Vᵀλ − p| ≤ tol.
  const dim = point.length;
  const aub: Matrix = [];
  const bub: Vector = [];
  for (let j = 0; j < dim; j++) {
    aub.push(vertices.map((v) => v[j]));
    bub.push(point[j] + tol);
    aub.push(vertices.map((v) => -v[j]));
    bub.push(-point[j] + tol);
  }
  const result = solveLp({
    c: new Array<number>(vertices.length).fill(0),
    aub,
    bub,
    aeq: [new Array<number>(vertices.length).fill(1)],
    beq: [1],
  });
  return result.status === 'optimal';
}

/**
 * How two convex hulls meet: 'overlap' when their interiors (relative interiors) intersect, 'touch' when
 * they share only boundary points, 'disjoint' otherwise. One LP: maximise t with every weight ≥ t.
 */
export function regionsOverlap(first: Matrix, second: Matrix): 'overlap' | 'touch' | 'disjoint' {
  const p = first.length;
  const q = second.length;
  const dim = first[0]?.length ?? 0;
  if (p === 0 || q === 0) return 'disjoint';
  // Cheap exit: hulls whose bounding boxes are apart cannot meet.
  const boxA = boundingBox(first);
  const boxB = boundingBox(second);
  for (let j = 0; j < dim; j++) if (boxA.max[j] < boxB.min[j] || boxB.max[j] < boxA.min[j]) return 'disjoint';
  const scale = Math.max(1, maxAbs(first), maxAbs(second));
  // Variables: λ' (p), μ' (q), t; λ = λ' + t, μ = μ' + t.
  const n = p + q + 1;
  const aeq: Matrix = [];
  const beq: Vector = [];
  const sumLambda = new Array<number>(n).fill(0);
  for (let i = 0; i < p; i++) sumLambda[i] = 1;
  sumLambda[n - 1] = p;
  aeq.push(sumLambda);
  beq.push(1);
  const sumMu = new Array<number>(n).fill(0);
  for (let i = 0; i < q; i++) sumMu[p + i] = 1;
  sumMu[n - 1] = q;
  aeq.push(sumMu);
  beq.push(1);
  for (let j = 0; j < dim; j++) {
    const row = new Array<number>(n).fill(0);
    let tCoef = 0;
    for (let i = 0; i < p; i++) {
      row[i] = first[i][j] / scale;
      tCoef += first[i][j] / scale;
    }
    for (let i = 0; i < q; i++) {
      row[p + i] = -second[i][j] / scale;
      tCoef -= second[i][j] / scale;
    }
    row[n - 1] = tCoef;
    aeq.push(row);
    beq.push(0);
  }
  const c = new Array<number>(n).fill(0);
  c[n - 1] = 1;
  const result = solveLp({ c, aeq, beq });
  if (result.status !== 'optimal') return 'disjoint';
  return result.value > 1e-9 ? 'overlap' : 'touch';
}

/**
 * The two main directions of a vertex set (orthonormal, by power iteration on the covariance), for the
 * view's slice plane; falls back to coordinate axes where the spread is zero.
 */
export function principalDirections(points: Matrix, count = 2): Matrix {
  const dim = points[0]?.length ?? 0;
  const c = centroid(points);
  const centred = points.map((p) => p.map((v, j) => v - c[j]));
  const directions: Matrix = [];
  const orthogonalise = (v: Vector): void => {
    for (const d of directions) {
      const dot = d.reduce((s, x, j) => s + x * v[j], 0);
      for (let j = 0; j < dim; j++) v[j] -= dot * d[j];
    }
  };
  const normalise = (v: Vector): number => {
    const norm = Math.hypot(...v);
    if (norm > 0) for (let j = 0; j < dim; j++) v[j] /= norm;
    return norm;
  };
  for (let k = 0; k < Math.min(count, dim); k++) {
    // A deterministic, non-symmetric start so it is not orthogonal to the leading direction by accident.
    let v = Array.from({ length: dim }, (_, j) => 1 + ((j * 7 + k * 3) % 5) / 10);
    orthogonalise(v);
    normalise(v);
    let spread = 0;
    for (let iter = 0; iter < 200; iter++) {
      const projected = centred.map((p) => p.reduce((s, x, j) => s + x * v[j], 0));
      const next = new Array<number>(dim).fill(0);
      centred.forEach((p, i) => {
        for (let j = 0; j < dim; j++) next[j] += projected[i] * p[j];
      });
      orthogonalise(next);
      spread = normalise(next);
      if (spread === 0) break;
      const change = next.reduce((s, x, j) => s + Math.abs(x - v[j]), 0);
      v = next;
      if (change < 1e-12) break;
    }
    if (spread === 0) {
      // No spread left: take the first coordinate axis not yet covered.
      for (let axis = 0; axis < dim; axis++) {
        const e = new Array<number>(dim).fill(0);
        e[axis] = 1;
        orthogonalise(e);
        if (normalise(e) > 1e-6) {
          v = e;
          break;
        }
      }
    }
    directions.push(v);
  }
  return directions;
}

/** Region checks beyond the shape: too few vertices, lower-dimensional hull, duplicate and redundant vertices. */
export function checkVertexSet(form: RegionForm, vertices: Matrix, dim: number): RegionIssue[] {
  const issues: RegionIssue[] = [];
  const scale = Math.max(1, maxAbs(vertices));
  if (form === 'vertices') {
    for (let i = 1; i < vertices.length; i++) {
      const twin = vertices.findIndex((v, k) => k < i && v.every((c, j) => Math.abs(c - vertices[i][j]) <= 1e-12 * scale));
      if (twin >= 0)
        issues.push({
          message: `vertex ${i} duplicates vertex ${twin}`,
          severity: 'warning',
          path: ['vertices', i],
          code: 'duplicate-vertex',
        });
    }
  }
  // Boxes, simplices and polygons that passed their shape checks are full-dimensional by construction.
  const rank = form === 'vertices' || form === 'halfspaces' ? affineRank(vertices) : dim;
  if (rank < dim) {
    issues.push({
      message:
        vertices.length < dim + 1
          ? `${vertices.length} vertices cannot span a region in ${dim} dimensions (at least ${dim + 1} are needed): the region is degenerate`
          : `the vertices span only a ${rank}-dimensional affine subspace of the ${dim}-dimensional input: the region is degenerate (lower-dimensional)`,
      severity: 'error',
      path: [form],
      code: 'degenerate-region',
    });
    return issues;
  }
  // Redundancy needs one LP per vertex: only for hand-written vertex lists of moderate size.
  if (form === 'vertices' && vertices.length <= 256) {
    const duplicates = new Set(issues.filter((i) => i.code === 'duplicate-vertex').map((i) => i.path[1] as number));
    for (let i = 0; i < vertices.length; i++) {
      if (duplicates.has(i)) continue;
      const others = vertices.filter((_, k) => k !== i && !duplicates.has(k));
      if (pointInHull(vertices[i], others)) {
        issues.push({
          message: `vertex ${i} lies inside the hull of the other vertices: it is redundant (harmless, but it costs a vertex per layer)`,
          severity: 'warning',
          path: ['vertices', i],
          code: 'redundant-vertex',
        });
      }
    }
  }
  return issues;
}
