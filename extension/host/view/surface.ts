// The learned function and its linear regions on a plane, as the view draws them (pure: no 'vscode').
import { activate, forward, unitBeta, type FoldedNetwork } from '../../police/network/network';
import { ACTIVATIONS } from '../../police/spec/activations';
import { cellPatternDistance, packPattern, patternAt, type Partition } from '../../police/partition/partition';
import type { RegionCells, SurfaceRequest, ViewCells, ViewPlane, ViewSurface, ViewWindow } from '../../protocol/messages';
import {
  cellPlaneMapsOf,
  cellPolygonOf,
  clipPolygon,
  convexHullIndices,
  decisionBoundarySegments,
  planePoint,
  projectToPlane,
  signedArea,
} from '../../common/view-geometry';

export type { SurfaceRequest };

/**
 * Beyond this many cells the view gets the exact surface but not the cells. At the limit the cells take about 40 MB
 * in the message (polygons, maps, distances) and about 60 MB of buffers in the view (fills, edges).
 */
export const MAX_VIEW_CELLS = 300_000;

/** Convex polygons in flat form: polygon i is vertices[2·polygonStart[i] … 2·polygonStart[i+1]). */
export interface FlatPolygons {
  polygonStart: Uint32Array;
  vertices: Float64Array;
}

/** Grid coordinate i of `resolution` points spanning [lo, hi]. */
export function gridCoordinate(lo: number, hi: number, resolution: number, i: number): number {
  return resolution === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * i) / (resolution - 1);
}

/**
 * For each grid point, the index of the convex cell containing it (-1 when none), by scanning each cell's
 * rows: O(grid + cells × rows), so a 200×200 grid costs far less than 40 000 forward passes.
 */
export function rasterizeCells(cells: FlatPolygons, window: ViewWindow, resolution: number): Int32Array {
  const [[u0, u1], [v0, v1]] = window;
  const index = new Int32Array(resolution * resolution).fill(-1);
  const du = resolution > 1 ? (u1 - u0) / (resolution - 1) : 1;
  const dv = resolution > 1 ? (v1 - v0) / (resolution - 1) : 1;
  const slack = 1e-9 * Math.max(Math.abs(u1 - u0), Math.abs(v1 - v0), 1);
  for (let c = 0; c + 1 < cells.polygonStart.length; c++) {
    const p = cellPolygonOf(cells, c);
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
export function sampleGrid(
  network: FoldedNetwork,
  plane: ViewPlane,
  window: ViewWindow,
  resolution: number,
  points: Int32Array,
  out: Float64Array,
): void {
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
      // Piecewise-linear activations inline as their positive slope 1 and negative-side slope; smooth ones go through activate().
      const definition = ACTIVATIONS[layer.activation];
      const negativeSlope = definition.piecewiseAffine ? definition.slope(0, layer.alpha ?? 0) : Number.NaN;
      for (let p = 0; p < n; p++) {
        for (let k = 0; k < units; k++) {
          const sum = z[p * units + k];
          z[p * units + k] = Number.isNaN(negativeSlope)
            ? activate(sum, layer.activation, layer.alpha ?? 0, unitBeta(layer, k))
            : sum >= 0
              ? sum
              : negativeSlope * sum;
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

/** Multiply-adds a sampled surface may cost by default: about a second. */
export const SAMPLE_MACS = 1e9;

/** Grid side for the sampled fallback: the full resolution unless that costs more than `budget` multiply-adds. */
export function sampledResolution(network: FoldedNetwork, resolution: number, budget = SAMPLE_MACS): number {
  let macs = 0;
  for (const layer of network.layers) macs += layer.weights.length * (layer.weights[0]?.length ?? 0);
  return Math.min(resolution, Math.max(16, Math.floor(Math.sqrt(budget / Math.max(1, macs)))));
}

/** The cells as the view gets them: the partition's own arrays plus each cell's pattern distance to each region. */
export function viewCells(network: FoldedNetwork, partition: Partition, regions: number[][][]): ViewCells {
  const count = partition.cellCount;
  // Each region's pattern is taken at its vertices' centroid (inside R, where POLICE makes it one pattern).
  const regionPatterns = regions.map((vertices) =>
    packPattern(
      partition,
      patternAt(
        network,
        vertices[0].map((_, d) => vertices.reduce((s, x) => s + x[d], 0) / vertices.length),
      ),
    ),
  );
  const regionDistances = new Int32Array(count * regions.length);
  for (let i = 0; i < count; i++)
    regionPatterns.forEach((pattern, r) => (regionDistances[i * regions.length + r] = cellPatternDistance(partition, i, pattern)));
  return {
    count,
    outputs: partition.outputDim,
    regions: regions.length,
    polygonStart: partition.polygonStart,
    vertices: partition.vertices,
    planeMaps: partition.planeMaps,
    regionDistances,
  };
}

/**
 * The linear regions a region meets (cells sharing positive area with it), when it lies in the plane and inside
 * the window the partition covers; null otherwise. A convex region inside one cell meets exactly one: the picture
 * of Theorem 1.
 */
export function regionCells(partition: Partition, plane: ViewPlane, vertices: number[][]): RegionCells | null {
  const points = vertices.map((x) => projectToPlane(plane, x));
  const offPlane = vertices.some((x, i) =>
    planePoint(plane, ...points[i]).some((y, d) => Math.abs(y - x[d]) > 1e-9 * (1 + Math.abs(x[d]))),
  );
  const hull = convexHullIndices(points);
  if (offPlane || hull.length < 3) return null;
  const region = hull.flatMap((i) => points[i]);
  const area = signedArea(region);
  // Beyond the window there are no cells to check against: a region reaching past it gets no verdict.
  const [[wu0, wu1], [wv0, wv1]] = partition.window;
  const slack = 1e-9 * Math.max(wu1 - wu0, wv1 - wv0);
  if (points.some(([u, v]) => u < wu0 - slack || u > wu1 + slack || v < wv0 - slack || v > wv1 + slack)) return null;
  const [uLo, uHi, vLo, vHi] = [
    Math.min(...points.map((p) => p[0])),
    Math.max(...points.map((p) => p[0])),
    Math.min(...points.map((p) => p[1])),
    Math.max(...points.map((p) => p[1])),
  ];
  let count = 0;
  let last = -1;
  for (let c = 0; c < partition.cellCount; c++) {
    const polygon = cellPolygonOf(partition, c);
    let [a0, a1, b0, b1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let k = 0; k < polygon.length; k += 2) {
      a0 = Math.min(a0, polygon[k]);
      a1 = Math.max(a1, polygon[k]);
      b0 = Math.min(b0, polygon[k + 1]);
      b1 = Math.max(b1, polygon[k + 1]);
    }
    if (a1 <= uLo || a0 >= uHi || b1 <= vLo || b0 >= vHi) continue;
    // The cell clipped to each of the region's inner half-planes (the hull is counter-clockwise).
    let piece: ArrayLike<number> = polygon;
    for (let e = 0; e < hull.length && piece.length >= 6; e++) {
      const [ua, va] = points[hull[e]];
      const [ub, vb] = points[hull[(e + 1) % hull.length]];
      piece = clipPolygon(piece, va - vb, ub - ua, -((va - vb) * ua + (ub - ua) * va));
    }
    if (piece.length >= 6 && signedArea(piece) > 1e-9 * area) {
      count++;
      last = c;
    }
  }
  if (count !== 1) return { meets: count, cell: -1, polygon: [], planeMaps: [] };
  return {
    meets: 1,
    cell: last,
    polygon: Array.from(cellPolygonOf(partition, last)),
    planeMaps: Array.from(cellPlaneMapsOf({ planeMaps: partition.planeMaps, outputs: partition.outputDim }, last)),
  };
}

function noCells(outputs: number, regions: number): ViewCells {
  return {
    count: 0,
    outputs,
    regions,
    polygonStart: new Uint32Array([0]),
    vertices: new Float64Array(0),
    planeMaps: new Float64Array(0),
    regionDistances: new Int32Array(0),
  };
}

export interface SurfaceOptions {
  /** The worker job's id, so the view can ask for a cell's map in this partition later. */
  surfaceId?: number;
  /** Why there is no partition (the surface is then sampled). */
  partitionError?: string;
  /** Send the cells only up to this many (default MAX_VIEW_CELLS). */
  maxViewCells?: number;
}

/**
 * Sample the network on the plane's grid: from the cells' affine maps where a cell covers the point
 * (exact, since f is affine on each cell), by a float64 forward pass elsewhere. Without a partition
 * (smooth network, too many cells) the whole grid is sampled and `partitionError` says why.
 */
export function buildSurface(
  request: SurfaceRequest,
  partition: Partition | undefined,
  partitionMs: number,
  options: SurfaceOptions = {},
): ViewSurface {
  const { network, plane, window } = request;
  const { surfaceId = 0, partitionError, maxViewCells = MAX_VIEW_CELLS } = options;
  const cellCount = partition?.cellCount ?? 0;
  const resolution = cellCount > 0 ? request.resolution : sampledResolution(network, request.resolution, request.sampleMacs);
  const outputs = network.output_dim;
  const [[u0, u1], [v0, v1]] = window;
  const cellIndex = partition ? rasterizeCells(partition, window, resolution) : new Int32Array(resolution * resolution).fill(-1);
  const values = new Float64Array(resolution * resolution * outputs);
  const uncovered: number[] = [];
  for (let g = 0; g < cellIndex.length; g++) if (cellIndex[g] < 0) uncovered.push(g);
  const sampled = new Float64Array(uncovered.length * outputs);
  sampleGrid(network, plane, window, resolution, Int32Array.from(uncovered), sampled);
  const maps = partition?.planeMaps;
  let next = 0;
  for (let j = 0; j < resolution; j++) {
    const v = gridCoordinate(v0, v1, resolution, j);
    for (let i = 0; i < resolution; i++) {
      const u = gridCoordinate(u0, u1, resolution, i);
      const g = j * resolution + i;
      const c = cellIndex[g];
      if (c >= 0 && maps) {
        for (let k = 0; k < outputs; k++) {
          const m = 3 * (c * outputs + k);
          values[g * outputs + k] = maps[m] * u + maps[m + 1] * v + maps[m + 2];
        }
      } else {
        for (let k = 0; k < outputs; k++) values[g * outputs + k] = sampled[next * outputs + k];
        next++;
      }
    }
  }
  const drawable = partition !== undefined && cellCount <= maxViewCells;
  let boundary: Float64Array | undefined;
  if (partition && request.classification && outputs > 1) {
    const segments: number[] = [];
    for (let c = 0; c < cellCount; c++)
      decisionBoundarySegments(cellPolygonOf(partition, c), cellPlaneMapsOf({ planeMaps: partition.planeMaps, outputs }, c), segments);
    boundary = Float64Array.from(segments);
  }
  return {
    surfaceId,
    step: request.step,
    plane,
    window,
    resolution,
    outputs,
    values,
    cellIndex: drawable ? cellIndex : cellIndex.fill(-1),
    cells: drawable ? viewCells(network, partition, request.regions) : noCells(outputs, request.regions.length),
    cellCount,
    ...(boundary ? { boundary } : {}),
    regionValues: request.regions.map((vertices) => vertices.map((x) => forward(network, x))),
    regionCells: request.regions.map((vertices) => (partition ? regionCells(partition, plane, vertices) : null)),
    partitionMs,
    ...(partitionError ? { partitionError } : {}),
  };
}
