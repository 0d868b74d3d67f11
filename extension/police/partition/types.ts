// The partition's public shapes: a plane through input space, a window on it, and cells in flat typed arrays.
import type { Vector } from '../spec/types';

/** x = origin + u·e1 + v·e2 in input space. */
export interface PartitionPlane {
  origin: Vector;
  e1: Vector;
  e2: Vector;
}

/** [[uMin, uMax], [vMin, vMax]] in plane coordinates. */
export type PartitionWindow = [[number, number], [number, number]];

/**
 * Cells in flat typed arrays (one allocation per field, cheap to post to a worker or webview).
 * Cell i: polygon vertices[2·polygonStart[i] … 2·polygonStart[i+1]) as counter-clockwise (u, v) pairs;
 * pattern bits patterns[i·patternWords …] (bit b of the concatenated hidden layers: word b >>> 5, bit b & 31);
 * map planeMaps[(i·outputs + k)·3 …] = [a_u, a_v, c] with f_k(u, v) = a_u·u + a_v·v + c on the cell.
 */
export interface Partition {
  inputDim: number;
  outputDim: number;
  plane: PartitionPlane;
  window: PartitionWindow;
  /** Pattern bits per network layer (0 for linear layers), in layer order. */
  layerUnits: number[];
  cellCount: number;
  polygonStart: Uint32Array;
  vertices: Float64Array;
  patternWords: number;
  patterns: Uint32Array;
  planeMaps: Float64Array;
}

export interface PartitionOptions {
  /** Refuse (throw) beyond this many cells, to bound memory (default 2,000,000). */
  maxCells?: number;
  /** Give up (throw) after this many milliseconds, so a view never waits on a huge network (default: no limit). */
  timeLimitMs?: number;
}

/** The plane of a 2-D input space: x = (u, v). */
export function identityPlane(): PartitionPlane {
  return { origin: [0, 0], e1: [1, 0], e2: [0, 1] };
}
