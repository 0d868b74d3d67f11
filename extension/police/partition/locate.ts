// Point location in a partition: which cell holds a point, and whether one cell holds a whole polygon.
import type { Partition } from './types';

/** A uniform grid over the window listing the cells whose bounding box meets each bucket (CSR layout). */
interface CellGrid {
  side: number;
  bucketStart: Uint32Array;
  cells: Uint32Array;
}

const grids = new WeakMap<Partition, CellGrid>();

function gridOf(partition: Partition): CellGrid {
  const cached = grids.get(partition);
  if (cached) return cached;
  const side = Math.max(1, Math.min(1024, Math.ceil(Math.sqrt(partition.cellCount))));
  const [[u0, u1], [v0, v1]] = partition.window;
  const su = side / (u1 - u0);
  const sv = side / (v1 - v0);
  const clamp = (x: number): number => Math.max(0, Math.min(side - 1, Math.floor(x)));
  const ranges = new Int32Array(partition.cellCount * 4);
  const counts = new Uint32Array(side * side + 1);
  const xy = partition.vertices;
  for (let i = 0; i < partition.cellCount; i++) {
    let a0 = Infinity;
    let a1 = -Infinity;
    let b0 = Infinity;
    let b1 = -Infinity;
    for (let t = partition.polygonStart[i]; t < partition.polygonStart[i + 1]; t++) {
      a0 = Math.min(a0, xy[2 * t]);
      a1 = Math.max(a1, xy[2 * t]);
      b0 = Math.min(b0, xy[2 * t + 1]);
      b1 = Math.max(b1, xy[2 * t + 1]);
    }
    const r = [clamp((a0 - u0) * su), clamp((a1 - u0) * su), clamp((b0 - v0) * sv), clamp((b1 - v0) * sv)];
    ranges.set(r, 4 * i);
    for (let y = r[2]; y <= r[3]; y++) for (let x = r[0]; x <= r[1]; x++) counts[y * side + x + 1]++;
  }
  for (let k = 1; k < counts.length; k++) counts[k] += counts[k - 1];
  const cells = new Uint32Array(counts[counts.length - 1]);
  const fill = counts.slice(0, side * side);
  for (let i = 0; i < partition.cellCount; i++) {
    for (let y = ranges[4 * i + 2]; y <= ranges[4 * i + 3]; y++) {
      for (let x = ranges[4 * i]; x <= ranges[4 * i + 1]; x++) cells[fill[y * side + x]++] = i;
    }
  }
  const grid = { side, bucketStart: counts, cells };
  grids.set(partition, grid);
  return grid;
}

/** Index of the cell containing (u, v), or −1 outside the window. Points on a shared edge get either cell. */
export function cellAt(partition: Partition, point: [number, number]): number {
  const [u, v] = point;
  const [[u0, u1], [v0, v1]] = partition.window;
  const tol = windowTolerance(partition);
  if (!(u >= u0 - tol && u <= u1 + tol && v >= v0 - tol && v <= v1 + tol)) return -1;
  const grid = gridOf(partition);
  const side = grid.side;
  const x = Math.max(0, Math.min(side - 1, Math.floor(((u - u0) / (u1 - u0)) * side)));
  const y = Math.max(0, Math.min(side - 1, Math.floor(((v - v0) / (v1 - v0)) * side)));
  let best = -1;
  let bestDepth = -Infinity;
  for (let k = grid.bucketStart[y * side + x]; k < grid.bucketStart[y * side + x + 1]; k++) {
    const i = grid.cells[k];
    const depth = depthIn(partition, i, u, v, bestDepth);
    if (depth >= 0) return i;
    if (depth > bestDepth) {
      bestDepth = depth;
      best = i;
    }
  }
  return bestDepth >= -tol ? best : -1;
}

/** How far outside a cell or the window a point may sit and still count as on it: rounding, relative to the window. */
function windowTolerance(partition: Partition): number {
  const [[u0, u1], [v0, v1]] = partition.window;
  return 1e-12 * Math.max(u1 - u0, v1 - v0, Math.abs(u0), Math.abs(u1), Math.abs(v0), Math.abs(v1));
}

/**
 * Smallest signed distance from (u, v) to the edges of cell i: ≥ 0 inside (counter-clockwise polygon).
 * Stops early once below `floor` (the caller only wants to know it is no deeper than that).
 */
function depthIn(partition: Partition, i: number, u: number, v: number, floor = -Infinity): number {
  const xy = partition.vertices;
  const s = partition.polygonStart[i];
  const n = partition.polygonStart[i + 1] - s;
  let depth = Infinity;
  for (let t = 0; t < n && depth >= floor; t++) {
    const t2 = t + 1 === n ? 0 : t + 1;
    const ax = xy[2 * (s + t)];
    const ay = xy[2 * (s + t) + 1];
    const ex = xy[2 * (s + t2)] - ax;
    const ey = xy[2 * (s + t2) + 1] - ay;
    const len = Math.hypot(ex, ey);
    if (len > 0) depth = Math.min(depth, (ex * (v - ay) - ey * (u - ax)) / len);
  }
  return depth;
}

/**
 * The one cell holding a whole convex polygon (e.g. a region R drawn on the plane), or −1 when its points
 * fall in different cells: the view's check that R lies inside a single linear region.
 */
export function cellContaining(partition: Partition, points: [number, number][]): number {
  if (!points.length) return -1;
  const cu = points.reduce((sum, p) => sum + p[0], 0) / points.length;
  const cv = points.reduce((sum, p) => sum + p[1], 0) / points.length;
  const home = cellAt(partition, [cu, cv]);
  if (home < 0) return -1;
  const tol = windowTolerance(partition);
  return points.every(([u, v]) => depthIn(partition, home, u, v) >= -tol) ? home : -1;
}
