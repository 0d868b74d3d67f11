// Plane choice, projections and exact polygon helpers for the view (pure).
import type { ViewCells, ViewPlane, ViewWindow } from '../protocol/messages';

export function unitVector(dim: number, axis: number): number[] {
  return Array.from({ length: dim }, (_, d) => (d === axis ? 1 : 0));
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function centroid(points: number[][]): number[] {
  const dim = points[0]?.length ?? 0;
  return Array.from({ length: dim }, (_, d) => points.reduce((s, p) => s + p[d], 0) / points.length);
}

/**
 * The two main directions of a point set (top eigenvectors of its covariance, by power iteration with
 * deflation); axes 0 and 1 fill in when the set is too flat to have two.
 */
export function principalDirections(points: number[][]): [number[], number[]] {
  const dim = points[0].length;
  const c = centroid(points);
  const centered = points.map((p) => p.map((x, d) => x - c[d]));
  const cov = Array.from({ length: dim }, (_, i) => Array.from({ length: dim }, (_, j) => centered.reduce((s, p) => s + p[i] * p[j], 0)));
  const found: number[][] = [];
  for (let k = 0; k < 2; k++) {
    // Start away from already-found directions, deterministically.
    let v = Array.from({ length: dim }, (_, d) => 1 + 0.1 * d + (d === k ? 1 : 0));
    for (let iter = 0; iter < 200; iter++) {
      for (const f of found) {
        const a = dot(v, f);
        v = v.map((x, d) => x - a * f[d]);
      }
      const next = cov.map((row) => dot(row, v));
      for (const f of found) {
        const a = dot(next, f);
        for (let d = 0; d < dim; d++) next[d] -= a * f[d];
      }
      const norm = Math.hypot(...next);
      if (norm < 1e-12) break;
      v = next.map((x) => x / norm);
    }
    const norm = Math.hypot(...v);
    const candidate = v.map((x) => x / (norm || 1));
    const variance = dot(
      candidate,
      cov.map((row) => dot(row, candidate)),
    );
    if (variance > 1e-12 && found.every((f) => Math.abs(dot(f, candidate)) < 1e-6)) found.push(candidate);
    else found.push(orthogonalAxis(dim, found));
  }
  // A sign convention so the view does not flip between refreshes.
  return found.map((v) => {
    const lead = v.reduce((best, x, d) => (Math.abs(x) > Math.abs(v[best]) ? d : best), 0);
    return v[lead] < 0 ? v.map((x) => -x) : v;
  }) as [number[], number[]];
}

function orthogonalAxis(dim: number, found: number[][]): number[] {
  for (let axis = 0; axis < dim; axis++) {
    let v = unitVector(dim, axis);
    for (const f of found) {
      const a = dot(v, f);
      v = v.map((x, d) => x - a * f[d]);
    }
    const norm = Math.hypot(...v);
    if (norm > 1e-6) return v.map((x) => x / norm);
  }
  return unitVector(dim, 0);
}

/** The same plane, coordinate for coordinate (a new plane or window means new surfaces and a new camera frame). */
export function samePlane(a: ViewPlane, b: ViewPlane): boolean {
  return sameNumbers(a.origin, b.origin) && sameNumbers(a.e1, b.e1) && sameNumbers(a.e2, b.e2);
}

export function sameWindow(a: ViewWindow, b: ViewWindow): boolean {
  return sameNumbers(a[0], b[0]) && sameNumbers(a[1], b[1]);
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** (u, v) of x on the plane (orthogonal projection; e1, e2 orthonormal). */
export function projectToPlane(plane: ViewPlane, x: number[]): [number, number] {
  const rel = x.map((xi, d) => xi - plane.origin[d]);
  return [dot(rel, plane.e1), dot(rel, plane.e2)];
}

export function planePoint(plane: ViewPlane, u: number, v: number): number[] {
  return plane.origin.map((o, d) => o + u * plane.e1[d] + v * plane.e2[d]);
}

export type PlaneMode = { kind: 'principal'; region: number } | { kind: 'axes'; axisU: number; axisV: number; offset: number };

export interface PlaneChoice {
  plane: ViewPlane;
  window: ViewWindow;
}

/**
 * The plane the view samples. D = 2: the input plane over the domain. D = 3: the slice normal to the
 * axis left out of (axisU, axisV) at `offset`. D > 3: through a region's centroid, spanned by its two main
 * directions (principal) or by two chosen axes.
 */
export function choosePlane(dim: number, domain: [number, number][], regions: number[][][], mode: PlaneMode): PlaneChoice {
  if (dim === 2) {
    return { plane: { origin: [0, 0], e1: [1, 0], e2: [0, 1] }, window: [domain[0], domain[1]] };
  }
  if (mode.kind === 'axes' || regions.length === 0) {
    const axisU = mode.kind === 'axes' ? mode.axisU : 0;
    const axisV = mode.kind === 'axes' ? mode.axisV : 1;
    const origin = regions.length && dim > 3 ? centroid(regions[0]) : new Array<number>(dim).fill(0);
    if (dim === 3 && mode.kind === 'axes') {
      const normal = [0, 1, 2].find((a) => a !== axisU && a !== axisV) ?? 2;
      origin.fill(0);
      origin[normal] = mode.offset;
    } else if (mode.kind === 'axes') {
      origin[axisU] = 0;
      origin[axisV] = 0;
    }
    return {
      plane: { origin, e1: unitVector(dim, axisU), e2: unitVector(dim, axisV) },
      window: [
        [domain[axisU][0] - origin[axisU], domain[axisU][1] - origin[axisU]],
        [domain[axisV][0] - origin[axisV], domain[axisV][1] - origin[axisV]],
      ],
    };
  }
  const vertices = regions[Math.min(mode.region, regions.length - 1)];
  const origin = centroid(vertices);
  const [e1, e2] = principalDirections(vertices);
  const plane = { origin, e1, e2 };
  // Show the region with as much room again around it, and at least a tenth of the domain.
  const projected = vertices.map((x) => projectToPlane(plane, x));
  const minSpan = 0.1 * Math.max(...domain.map(([lo, hi]) => hi - lo));
  const half = (k: 0 | 1) => Math.max(minSpan / 2, 1.5 * Math.max(...projected.map((p) => Math.abs(p[k]))));
  return {
    plane,
    window: [
      [-half(0), half(0)],
      [-half(1), half(1)],
    ],
  };
}

/** Indices of the convex hull of 2-D points (monotone chain), counter-clockwise. */
export function convexHullIndices(points: [number, number][]): number[] {
  const order = points.map((_, i) => i).sort((a, b) => points[a][0] - points[b][0] || points[a][1] - points[b][1]);
  if (order.length < 3) return order;
  const cross = (o: number, a: number, b: number) =>
    (points[a][0] - points[o][0]) * (points[b][1] - points[o][1]) - (points[a][1] - points[o][1]) * (points[b][0] - points[o][0]);
  const chain = (indices: number[]) => {
    const out: number[] = [];
    for (const p of indices) {
      while (out.length >= 2 && cross(out[out.length - 2], out[out.length - 1], p) <= 0) out.pop();
      out.push(p);
    }
    return out;
  };
  const lower = chain(order);
  const upper = chain([...order].reverse());
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** Whether (u, v) lies in the convex polygon (flat [u0, v0, …], either orientation), boundary included. */
export function pointInConvexPolygon(polygon: ArrayLike<number>, u: number, v: number, tolerance = 1e-9): boolean {
  const n = polygon.length / 2;
  let sign = 0;
  for (let k = 0; k < n; k++) {
    const ua = polygon[2 * k];
    const va = polygon[2 * k + 1];
    const ub = polygon[2 * ((k + 1) % n)];
    const vb = polygon[2 * ((k + 1) % n) + 1];
    const c = (ub - ua) * (v - va) - (vb - va) * (u - ua);
    if (Math.abs(c) <= tolerance * Math.max(1, Math.hypot(ub - ua, vb - va))) continue;
    const s = c > 0 ? 1 : -1;
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}

/** Keep the part of a convex polygon where a·u + b·v + c ≥ 0 (one Sutherland–Hodgman step). */
export function clipPolygon(polygon: ArrayLike<number>, a: number, b: number, c: number): number[] {
  const n = polygon.length / 2;
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const ua = polygon[2 * k];
    const va = polygon[2 * k + 1];
    const ub = polygon[2 * ((k + 1) % n)];
    const vb = polygon[2 * ((k + 1) % n) + 1];
    const fa = a * ua + b * va + c;
    const fb = a * ub + b * vb + c;
    if (fa >= 0) out.push(ua, va);
    if (fa >= 0 !== fb >= 0) {
      const t = fa / (fa - fb);
      out.push(ua + t * (ub - ua), va + t * (vb - va));
    }
  }
  return out;
}

/** The segment where a·u + b·v + c = 0 crosses a convex polygon, or undefined. */
export function lineThroughPolygon(
  polygon: ArrayLike<number>,
  a: number,
  b: number,
  c: number,
): [number, number, number, number] | undefined {
  const n = polygon.length / 2;
  const hits: number[] = [];
  for (let k = 0; k < n; k++) {
    const ua = polygon[2 * k];
    const va = polygon[2 * k + 1];
    const ub = polygon[2 * ((k + 1) % n)];
    const vb = polygon[2 * ((k + 1) % n) + 1];
    const fa = a * ua + b * va + c;
    const fb = a * ub + b * vb + c;
    if ((fa > 0 && fb <= 0) || (fa <= 0 && fb > 0)) {
      const t = fa / (fa - fb);
      hits.push(ua + t * (ub - ua), va + t * (vb - va));
    }
  }
  return hits.length >= 4 ? [hits[0], hits[1], hits[2], hits[3]] : undefined;
}

/**
 * The exact decision boundary inside one cell where the network is affine with per-class maps
 * f_k(u, v) = maps[3k]·u + maps[3k+1]·v + maps[3k+2]: segments where the top two classes tie.
 */
export function decisionBoundarySegments(polygon: ArrayLike<number>, maps: ArrayLike<number>, segments: number[] = []): number[] {
  const classes = maps.length / 3;
  for (let k = 0; k < classes; k++) {
    for (let j = k + 1; j < classes; j++) {
      let piece = polygon;
      // Where k and j beat every other class...
      for (let m = 0; m < classes && piece.length >= 6; m++) {
        if (m === k || m === j) continue;
        piece = clipPolygon(piece, maps[3 * k] - maps[3 * m], maps[3 * k + 1] - maps[3 * m + 1], maps[3 * k + 2] - maps[3 * m + 2]);
      }
      if (piece.length < 6) continue;
      // ...the boundary is where they tie.
      const segment = lineThroughPolygon(
        piece,
        maps[3 * k] - maps[3 * j],
        maps[3 * k + 1] - maps[3 * j + 1],
        maps[3 * k + 2] - maps[3 * j + 2],
      );
      if (segment) segments.push(...segment);
    }
  }
  return segments;
}

/** Cell i's polygon, a view on the flat vertices (no copy). */
export function cellPolygonOf(cells: Pick<ViewCells, 'polygonStart' | 'vertices'>, i: number): Float64Array {
  return cells.vertices.subarray(2 * cells.polygonStart[i], 2 * cells.polygonStart[i + 1]);
}

/** Cell i's maps in plane coordinates, [a_u, a_v, c] per output (a view, no copy). */
export function cellPlaneMapsOf(cells: Pick<ViewCells, 'planeMaps' | 'outputs'>, i: number): Float64Array {
  return cells.planeMaps.subarray(3 * i * cells.outputs, 3 * (i + 1) * cells.outputs);
}

/** f_k at (u, v) on cell i, exact from its plane map. */
export function cellValue(cells: Pick<ViewCells, 'planeMaps' | 'outputs'>, i: number, k: number, u: number, v: number): number {
  const m = 3 * (i * cells.outputs + k);
  return cells.planeMaps[m] * u + cells.planeMaps[m + 1] * v + cells.planeMaps[m + 2];
}

/** Cell i's activation-pattern distance to each region, in region order. */
export function cellRegionDistances(cells: ViewCells, i: number): number[] {
  return Array.from(cells.regionDistances.subarray(i * cells.regions, (i + 1) * cells.regions));
}

/** The cell containing (u, v), trying the grid's guess first; -1 when none. */
export function findCell(cells: ViewCells, guess: number, u: number, v: number, tolerance: number): number {
  if (cellHolds(cells, guess, u, v, tolerance)) return guess;
  for (let i = 0; i < cells.count; i++) if (cellHolds(cells, i, u, v, tolerance)) return i;
  return -1;
}

/** Whether cell `index` (any number: out of range holds nothing) holds the plane point (u, v). */
export function cellHolds(cells: ViewCells, index: number, u: number, v: number, tolerance: number): boolean {
  return index >= 0 && index < cells.count && pointInConvexPolygon(cellPolygonOf(cells, index), u, v, tolerance);
}

/** Twice the signed area of a flat [u0, v0, u1, v1, …] polygon: positive when counter-clockwise. */
export function signedArea(polygon: ArrayLike<number>): number {
  return signedAreaAt(polygon, 0, polygon.length / 2);
}

/** signedArea of the n-vertex polygon starting at vertex `start` of a flat vertex array (no copy). */
export function signedAreaAt(xy: ArrayLike<number>, start: number, n: number): number {
  let area = 0;
  for (let e = 0; e < n; e++) {
    const a = 2 * (start + e);
    const b = 2 * (start + (e + 1 === n ? 0 : e + 1));
    area += xy[a] * xy[b + 1] - xy[b] * xy[a + 1];
  }
  return area;
}

/**
 * Whether a cell draws its edge e (from vertex e to the next) so that every boundary of the partition is drawn once:
 * an interior edge belongs to two cells, which walk it in opposite directions, so the walk going up in u (then in v)
 * of the counter-clockwise polygon owns it; an edge on the window's border has one cell and is always drawn.
 * `orientation` is the sign of signedArea(polygon).
 */
export function ownsEdge(polygon: ArrayLike<number>, e: number, orientation: number, window: ViewWindow): boolean {
  return ownsEdgeAt(polygon, 0, polygon.length / 2, e, orientation, windowBounds(window));
}

/** A window's sides and the tolerance for "on a side", computed once for many ownsEdgeAt calls. */
export interface WindowBounds {
  u0: number;
  u1: number;
  v0: number;
  v1: number;
  eps: number;
}

export function windowBounds(window: ViewWindow): WindowBounds {
  const [[u0, u1], [v0, v1]] = window;
  return { u0, u1, v0, v1, eps: 1e-9 * Math.max(u1 - u0, v1 - v0) };
}

/** ownsEdge for the n-vertex polygon starting at vertex `start` of a flat vertex array: nothing allocated (the view calls it for every edge). */
export function ownsEdgeAt(xy: ArrayLike<number>, start: number, n: number, e: number, orientation: number, w: WindowBounds): boolean {
  const a = 2 * (start + e);
  const b = 2 * (start + (e + 1 === n ? 0 : e + 1));
  const ua = xy[a];
  const va = xy[a + 1];
  const ub = xy[b];
  const vb = xy[b + 1];
  const du = orientation * (ub - ua);
  const dv = orientation * (vb - va);
  // Relative to the edge's length, so a T-junction's short pieces decide like the long edge they lie on.
  const vertical = 1e-9 * Math.hypot(du, dv);
  if (du > vertical || (du >= -vertical && dv > 0)) return true;
  const eps = w.eps;
  const onU = (at: number) => Math.abs(ua - at) <= eps && Math.abs(ub - at) <= eps;
  const onV = (at: number) => Math.abs(va - at) <= eps && Math.abs(vb - at) <= eps;
  return onU(w.u0) || onU(w.u1) || onV(w.v0) || onV(w.v1);
}
