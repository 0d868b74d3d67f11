// The learned function and its linear regions on a plane, as the view draws them (pure: no 'vscode').
import { activate, forward, unitBeta, type FoldedNetwork } from '../../police/network';
import { patternAt as activationPattern } from '../../police/patterns';
import type { SurfaceRequest, ViewCell, ViewPlane, ViewSurface, ViewWindow } from '../../protocol/messages';
import { decisionBoundarySegments } from '../../../webview/geometry';

/** A cell as the exact partition gives it: polygon in plane coordinates, pattern, map in input coordinates. */
export interface PlaneCell {
  polygon: number[];
  pattern: string;
  A: number[][];
  b: number[];
  /** The map in plane coordinates per output, [a_u, a_v, c] (derived from A, b when absent). */
  planeMap?: number[][];
}

export type { SurfaceRequest };

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

/** Points of one batch in the sampled fallback: bounds the buffers to batch × width doubles. */
const BATCH = 1024;

/**
 * f on the grid points listed in `points` (grid indices), by batched float64 forward passes over flat
 * typed arrays (rows of W streamed once per batch instead of once per point).
 */
export function sampleGrid(network: FoldedNetwork, plane: ViewPlane, window: ViewWindow, resolution: number, points: Int32Array, out: Float64Array): void {
  const [[u0, u1], [v0, v1]] = window;
  const dim = network.input_dim;
  const widest = Math.max(dim, ...network.layers.map((l) => l.weights.length));
  let h = new Float64Array(BATCH * widest);
  let z = new Float64Array(BATCH * widest);
  const flat = network.layers.map((l) => Float64Array.from(l.weights.flat()));
  const skip = network.skip;
  for (let start = 0; start < points.length; start += BATCH) {
    const n = Math.min(BATCH, points.length - start);
    const x = new Float64Array(n * dim);
    for (let p = 0; p < n; p++) {
      const g = points[start + p];
      const u = gridCoordinate(u0, u1, resolution, g % resolution);
      const v = gridCoordinate(v0, v1, resolution, Math.floor(g / resolution));
      for (let d = 0; d < dim; d++) x[p * dim + d] = plane.origin[d] + u * plane.e1[d] + v * plane.e2[d];
    }
    h.set(x);
    let width = dim;
    for (let l = 0; l < network.layers.length; l++) {
      const layer = network.layers[l];
      const units = layer.weights.length;
      denseLayer(flat[l], Float64Array.from(layer.bias), h, z, n, width, units);
      // Piecewise-linear activations inline as a negative-side slope; smooth ones go through activate().
      const negativeSlope = layer.activation === 'linear' ? 1 : layer.activation === 'relu' ? 0 : layer.activation === 'leaky_relu' ? (layer.alpha ?? 0) : layer.activation === 'abs' ? -1 : Number.NaN;
      for (let p = 0; p < n; p++) {
        for (let k = 0; k < units; k++) {
          const sum = z[p * units + k];
          z[p * units + k] = Number.isNaN(negativeSlope) ? activate(sum, layer.activation, layer.alpha ?? 0, unitBeta(layer, k)) : sum >= 0 ? sum : negativeSlope * sum;
        }
      }
      const swap = h;
      h = z;
      z = swap;
      width = units;
    }
    for (let p = 0; p < n; p++) {
      for (let k = 0; k < width; k++) {
        let value = h[p * width + k];
        if (skip) {
          value += skip.bias[k];
          for (let d = 0; d < dim; d++) value += skip.weights[k][d] * x[p * dim + d];
        }
        out[(start + p) * width + k] = value;
      }
    }
  }
}

/** z[p, k] = b[k] + Σ_j w[k, j] h[p, j] for n points: a plain loop over typed arrays that V8 compiles tightly. */
function denseLayer(w: Float64Array, b: Float64Array, h: Float64Array, z: Float64Array, n: number, width: number, units: number): void {
  for (let p = 0; p < n; p++) {
    const base = p * width;
    for (let k = 0; k < units; k++) {
      const row = k * width;
      let sum = b[k];
      for (let j = 0; j < width; j++) sum += w[row + j] * h[base + j];
      z[p * units + k] = sum;
    }
  }
}

/** Grid side for the sampled fallback: the full resolution unless that costs more than ~10⁹ multiply-adds (about a second). */
export function sampledResolution(network: FoldedNetwork, resolution: number): number {
  let macs = 0;
  for (const layer of network.layers) macs += layer.weights.length * (layer.weights[0]?.length ?? 0);
  const budget = 1e9;
  return Math.min(resolution, Math.max(16, Math.floor(Math.sqrt(budget / Math.max(1, macs)))));
}

/**
 * Sample the network on the plane's grid: from the cells' affine maps where a cell covers the point
 * (exact, since f is affine on each cell), by a float64 forward pass elsewhere.
 */
export function buildSurface(request: SurfaceRequest, cells: PlaneCell[], partitionMs: number, partitionError?: string, sendCells = true): ViewSurface {
  const { network, plane, window } = request;
  const resolution = cells.length > 0 ? request.resolution : sampledResolution(network, request.resolution);
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
  const uncovered: number[] = [];
  for (let g = 0; g < cellIndex.length; g++) if (cellIndex[g] < 0) uncovered.push(g);
  const sampled = new Float64Array(uncovered.length * outputs);
  sampleGrid(network, plane, window, resolution, Int32Array.from(uncovered), sampled);
  let next = 0;
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
        for (let k = 0; k < outputs; k++) values[g * outputs + k] = sampled[next * outputs + k];
        next++;
      }
    }
  }
  const regionPatterns = request.regions.map((vertices) => {
    const centroid = vertices[0].map((_, d) => vertices.reduce((s, x) => s + x[d], 0) / vertices.length);
    return patternAt(network, centroid);
  });
  const viewCells: ViewCell[] = (sendCells ? cells : []).map((cell) => ({
    polygon: cell.polygon,
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
    cellIndex: sendCells ? Array.from(cellIndex) : new Array<number>(cellIndex.length).fill(-1),
    cells: viewCells,
    cellCount: cells.length,
    ...(request.classification && outputs > 1 && cells.length > 0
      ? { boundary: cells.flatMap((cell, c) => decisionBoundarySegments(cell.polygon, planeMaps[c] as [number, number, number][])) }
      : {}),
    regionValues: request.regions.map((vertices) => vertices.map((x) => forward(network, x))),
    partitionMs,
    ...(partitionError ? { partitionError } : {}),
  };
}
