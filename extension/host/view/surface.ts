// The learned function and its linear regions on a plane, as the view draws them (pure: no 'vscode').
import { forward, type FoldedNetwork } from '../../police/network';
import { patternAt as activationPattern } from '../../police/patterns';
import type { ViewCell, ViewPlane, ViewSurface, ViewWindow } from '../../protocol/messages';

/** A cell as the exact partition gives it: polygon in plane coordinates, pattern, map in input coordinates. */
export interface PlaneCell {
  polygon: number[];
  pattern: string;
  A: number[][];
  b: number[];
  /** The map in plane coordinates per output, [a_u, a_v, c] (derived from A, b when absent). */
  planeMap?: number[][];
}

export interface SurfaceRequest {
  step: number;
  network: FoldedNetwork;
  plane: ViewPlane;
  window: ViewWindow;
  resolution: number;
  /** Region vertices in input coordinates, in spec order. */
  regions: number[][][];
}

/** Input point of plane coordinates (u, v). */
export function planePoint(plane: ViewPlane, u: number, v: number): number[] {
  return plane.origin.map((o, d) => o + u * plane.e1[d] + v * plane.e2[d]);
}

/** Activation pattern at x as the view sends it: one '1'/'0' per bending unit (engine convention: 1 when ≥ 0). */
export function patternAt(network: FoldedNetwork, x: number[]): string {
  return patternString(activationPattern(network, x));
}

export function patternString(pattern: number[][]): string {
  return pattern.map((layer) => layer.join('')).join('');
}

/** Hamming distance of two patterns; -1 when their lengths differ (different networks). */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== b.length) return -1;
  let distance = 0;
  for (let i = 0; i < a.length; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) distance++;
  return distance;
}

/** Grid coordinate i of `resolution` points spanning [lo, hi]. */
export function gridCoordinate(lo: number, hi: number, resolution: number, i: number): number {
  return resolution === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * i) / (resolution - 1);
}

/**
 * For each grid point, the index of the convex cell containing it (-1 when none), by scanning each cell's
 * rows: O(grid + cells × rows), so a 200×200 grid costs far less than 40 000 forward passes.
 */
export function rasterizeCells(cells: { polygon: number[] }[], window: ViewWindow, resolution: number): Int32Array {
  const [[u0, u1], [v0, v1]] = window;
  const index = new Int32Array(resolution * resolution).fill(-1);
  const du = resolution > 1 ? (u1 - u0) / (resolution - 1) : 1;
  const dv = resolution > 1 ? (v1 - v0) / (resolution - 1) : 1;
  const slack = 1e-9 * Math.max(Math.abs(u1 - u0), Math.abs(v1 - v0), 1);
  for (let c = 0; c < cells.length; c++) {
    const p = cells[c].polygon;
    const n = p.length / 2;
    if (n < 3) continue;
    let vMin = Infinity;
    let vMax = -Infinity;
    for (let k = 0; k < n; k++) {
      vMin = Math.min(vMin, p[2 * k + 1]);
      vMax = Math.max(vMax, p[2 * k + 1]);
    }
    const jStart = Math.max(0, Math.ceil((vMin - slack - v0) / dv));
    const jEnd = Math.min(resolution - 1, Math.floor((vMax + slack - v0) / dv));
    for (let j = jStart; j <= jEnd; j++) {
      const v = gridCoordinate(v0, v1, resolution, j);
      let uLo = Infinity;
      let uHi = -Infinity;
      for (let k = 0; k < n; k++) {
        const ua = p[2 * k];
        const va = p[2 * k + 1];
        const ub = p[2 * ((k + 1) % n)];
        const vb = p[2 * ((k + 1) % n) + 1];
        if (Math.min(va, vb) - slack > v || Math.max(va, vb) + slack < v) continue;
        if (Math.abs(vb - va) <= slack) {
          uLo = Math.min(uLo, ua, ub);
          uHi = Math.max(uHi, ua, ub);
        } else {
          const t = Math.min(1, Math.max(0, (v - va) / (vb - va)));
          const u = ua + t * (ub - ua);
          uLo = Math.min(uLo, u);
          uHi = Math.max(uHi, u);
        }
      }
      if (uLo > uHi) continue;
      const iStart = Math.max(0, Math.ceil((uLo - slack - u0) / du));
      const iEnd = Math.min(resolution - 1, Math.floor((uHi + slack - u0) / du));
      for (let i = iStart; i <= iEnd; i++) if (index[j * resolution + i] < 0) index[j * resolution + i] = c;
    }
  }
  return index;
}

/**
 * Sample the network on the plane's grid: from the cells' affine maps where a cell covers the point
 * (exact, since f is affine on each cell), by a float64 forward pass elsewhere.
 */
export function buildSurface(request: SurfaceRequest, cells: PlaneCell[], partitionMs: number, partitionError?: string): ViewSurface {
  const { network, plane, window, resolution } = request;
  const outputs = network.output_dim;
  const [[u0, u1], [v0, v1]] = window;
  const cellIndex = rasterizeCells(cells, window, resolution);
  // Each cell's map in plane coordinates: f(u, v) = (A e1) u + (A e2) v + (A origin + b).
  const planeMaps = cells.map((cell) =>
    cell.planeMap ?? cell.A.map((row, k) => {
      let au = 0;
      let av = 0;
      let c = cell.b[k];
      for (let d = 0; d < row.length; d++) {
        au += row[d] * plane.e1[d];
        av += row[d] * plane.e2[d];
        c += row[d] * plane.origin[d];
      }
      return [au, av, c];
    }),
  );
  const values = new Array<number>(resolution * resolution * outputs);
  for (let j = 0; j < resolution; j++) {
    const v = gridCoordinate(v0, v1, resolution, j);
    for (let i = 0; i < resolution; i++) {
      const u = gridCoordinate(u0, u1, resolution, i);
      const g = j * resolution + i;
      const c = cellIndex[g];
      if (c >= 0) {
        const maps = planeMaps[c];
        for (let k = 0; k < outputs; k++) values[g * outputs + k] = maps[k][0] * u + maps[k][1] * v + maps[k][2];
      } else {
        const y = forward(network, planePoint(plane, u, v));
        for (let k = 0; k < outputs; k++) values[g * outputs + k] = y[k];
      }
    }
  }
  const regionPatterns = request.regions.map((vertices) => {
    const centroid = vertices[0].map((_, d) => vertices.reduce((s, x) => s + x[d], 0) / vertices.length);
    return patternAt(network, centroid);
  });
  const viewCells: ViewCell[] = cells.map((cell) => ({
    polygon: cell.polygon,
    pattern: cell.pattern,
    A: cell.A,
    b: cell.b,
    regionDistances: regionPatterns.map((p) => hammingDistance(cell.pattern, p)),
  }));
  return {
    step: request.step,
    plane,
    window,
    resolution,
    outputs,
    values,
    cellIndex: Array.from(cellIndex),
    cells: viewCells,
    regionValues: request.regions.map((vertices) => vertices.map((x) => forward(network, x))),
    partitionMs,
    ...(partitionError ? { partitionError } : {}),
  };
}
