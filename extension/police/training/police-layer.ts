// The POLICE bias shift (paper Algorithm 1, DESIGN §4) as one custom-gradient op per layer.
import * as tf from '@tensorflow/tfjs-core';
import type { ShiftRule } from '../spec/types';

export type { ShiftRule };

/** Where the vertex rows sit in a layer's pre-activation matrix [batch; vertices of region 0; region 1; …]. */
export interface VertexLayout {
  /** Rows of the batch before the first vertex row. */
  batchRows: number;
  /** Vertex count of each region, in order. */
  regionSizes: number[];
}

/** The shift chosen for one layer: what the backward pass and the health report need. */
export interface LayerShift {
  /** c per unit (float32, as added in training). */
  shift: Float32Array;
  /** Row (within the vertex block) whose pre-activation c depends on, per unit; −1 when c = 0. */
  vertex: Int32Array;
  /** Side (+1 active, −1 inactive) of every unit on each region after the shift, region-major (regions × units). */
  sides: Int8Array;
}

/**
 * Computes c per unit from the vertex pre-activations H (P×K, row-major).
 * 'majority': s_k by majority vote, c_k = max_p ReLU(ε − H_pk s_k) s_k (Algorithm 1 with margin ε).
 * 'minimal': per region r the vertices span [lo_r, hi_r]; the allowed c avoid (−hi_r − ε, −lo_r + ε)
 * for every r; take the allowed candidate among {0, −hi_r − ε, −lo_r + ε} of smallest |c|.
 * 'fixed': each unit's side on each region is voted once (majority of the region's vertices) and kept in `keptSides`
 * (regions × units), so c is continuous in the weights; the c of smallest |c| that keeps every kept side is taken
 * (with one region: Algorithm 1 with the first vote). Several regions' kept sides can become incompatible: then the
 * minimal shift decides and its sides are kept.
 */
export function computeShift(
  h: ArrayLike<number>,
  units: number,
  regionSizes: number[],
  rule: ShiftRule,
  margin: number,
  keptSides?: Int8Array,
): LayerShift {
  const totalRows = regionSizes.reduce((a, b) => a + b, 0);
  const shift = new Float32Array(units);
  const vertex = new Int32Array(units).fill(-1);
  const sides = new Int8Array(regionSizes.length * units);
  if (totalRows === 0) return { shift, vertex, sides };
  if (rule === 'fixed' && keptSides?.length !== regionSizes.length * units)
    throw new Error("the 'fixed' shift rule needs the layer's kept sides");
  if (rule === 'majority' && regionSizes.length === 1) {
    for (let k = 0; k < units; k++) {
      let positive = 0;
      for (let p = 0; p < totalRows; p++) if (h[p * units + k] > 0) positive++;
      const side = positive >= totalRows / 2 ? 1 : -1;
      sides[k] = side;
      let worst = 0;
      let worstRow = -1;
      for (let p = 0; p < totalRows; p++) {
        const deficit = margin - h[p * units + k] * side;
        if (deficit > worst) {
          worst = deficit;
          worstRow = p;
        }
      }
      if (worstRow >= 0) {
        shift[k] = worst * side;
        vertex[k] = worstRow;
      }
    }
    return { shift, vertex, sides };
  }
  const regions = regionSizes.length;
  const lo = new Float64Array(regions);
  const hi = new Float64Array(regions);
  const loRow = new Int32Array(regions);
  const hiRow = new Int32Array(regions);
  const positives = new Int32Array(regions);
  const keep = rule === 'fixed' ? keptSides : undefined;
  for (let k = 0; k < units; k++) {
    let row = 0;
    for (let r = 0; r < regions; r++) {
      lo[r] = Infinity;
      hi[r] = -Infinity;
      positives[r] = 0;
      for (let p = 0; p < regionSizes[r]; p++, row++) {
        const value = h[row * units + k];
        if (value > 0) positives[r]++;
        if (value < lo[r]) {
          lo[r] = value;
          loRow[r] = row;
        }
        if (value > hi[r]) {
          hi[r] = value;
          hiRow[r] = row;
        }
      }
    }
    const allowed = (c: number): boolean => {
      for (let r = 0; r < regions; r++) if (c > -hi[r] - margin && c < -lo[r] + margin) return false;
      return true;
    };
    const readSides = (c: number): void => {
      // The interval's middle, not a vertex: a vertex may sit exactly on 0 (margin 0) or round onto it.
      for (let r = 0; r < regions; r++) sides[r * units + k] = (lo[r] + hi[r]) / 2 + c > 0 ? 1 : -1;
    };
    if (keep) {
      if (keep[k] === 0) for (let r = 0; r < regions; r++) keep[r * units + k] = positives[r] >= regionSizes[r] / 2 ? 1 : -1;
      // Kept side + on r needs c ≥ −lo_r + ε, side − needs c ≤ −hi_r − ε: an interval, empty when the regions disagree.
      let lower = -Infinity;
      let lowerRow = -1;
      let upper = Infinity;
      let upperRow = -1;
      for (let r = 0; r < regions; r++) {
        if (keep[r * units + k] > 0 && -lo[r] + margin > lower) {
          lower = -lo[r] + margin;
          lowerRow = loRow[r];
        } else if (keep[r * units + k] < 0 && -hi[r] - margin < upper) {
          upper = -hi[r] - margin;
          upperRow = hiRow[r];
        }
      }
      if (lower <= upper) {
        if (lower > 0) {
          shift[k] = lower;
          vertex[k] = lowerRow;
        } else if (upper < 0) {
          shift[k] = upper;
          vertex[k] = upperRow;
        }
        for (let r = 0; r < regions; r++) sides[r * units + k] = keep[r * units + k];
        continue;
      }
    }
    if (allowed(0)) {
      readSides(0);
      if (keep) for (let r = 0; r < regions; r++) keep[r * units + k] = sides[r * units + k];
      continue;
    }
    let best = Infinity;
    let bestRow = -1;
    for (let r = 0; r < regions; r++) {
      const below = -hi[r] - margin;
      const above = -lo[r] + margin;
      if (Math.abs(below) < Math.abs(best) && allowed(below)) {
        best = below;
        bestRow = hiRow[r];
      }
      if (Math.abs(above) < Math.abs(best) && allowed(above)) {
        best = above;
        bestRow = loRow[r];
      }
    }
    shift[k] = best;
    vertex[k] = bestRow;
    readSides(best);
    if (keep) for (let r = 0; r < regions; r++) keep[r * units + k] = sides[r * units + k];
  }
  return { shift, vertex, sides };
}

/** Units whose side on some region differs between two shifts of the same layer. */
export function sideFlips(before: LayerShift, after: LayerShift): number {
  const units = after.shift.length;
  let flips = 0;
  for (let k = 0; k < units; k++) {
    for (let i = k; i < after.sides.length; i += units) {
      if (before.sides[i] !== after.sides[i]) {
        flips++;
        break;
      }
    }
  }
  return flips;
}

/**
 * Adds the POLICE shift c to every row of z ((batch + P)×K pre-activations, biases included).
 * Backward keeps only the chosen vertex per unit: ∂c_k/∂H[p*_k, k] = −1 when the unit was shifted.
 * `onShift` receives the shift, for the health report and folding.
 */
export function policeShift(
  z: tf.Tensor2D,
  layout: VertexLayout,
  rule: ShiftRule,
  margin: number,
  onShift?: (shift: LayerShift) => void,
  keptSides?: Int8Array,
): tf.Tensor2D {
  const [rows, units] = z.shape;
  const vertexRows = rows - layout.batchRows;
  // Nothing is saved for backward but the vertex index per unit, held in `chosen` below.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const zz = args[0] as tf.Tensor2D;
    const vertexBlock = tf.slice(zz, [layout.batchRows, 0], [vertexRows, units]);
    const h = vertexBlock.dataSync();
    vertexBlock.dispose();
    const chosen = computeShift(h, units, layout.regionSizes, rule, margin, keptSides);
    onShift?.(chosen);
    const value = tf.add(zz, tf.tensor1d(chosen.shift));
    const gradFunc = (dy: tf.Tensor) => {
      const mask = new Float32Array(vertexRows * units);
      let any = false;
      for (let k = 0; k < units; k++) {
        const row = chosen.vertex[k];
        if (row >= 0) {
          mask[row * units + k] = 1;
          any = true;
        }
      }
      if (!any) return dy;
      const columnSums = tf.sum(dy, 0, true);
      const correction = tf.mul(tf.tensor2d(mask, [vertexRows, units]), columnSums);
      return tf.sub(
        dy,
        tf.pad(correction, [
          [layout.batchRows, 0],
          [0, 0],
        ]),
      );
    };
    return { value, gradFunc };
  });
  return op(z) as tf.Tensor2D;
}

/** The same shift as plain differentiable tf ops (majority rule, one region): the reference for tests. */
export function referenceMajorityShift(z: tf.Tensor2D, batchRows: number, margin: number): tf.Tensor2D {
  const [rows, units] = z.shape;
  const h = tf.slice(z, [batchRows, 0], [rows - batchRows, units]);
  // The side s has no gradient in the paper: take it as a constant computed from the values.
  const values = h.dataSync();
  const P = rows - batchRows;
  const sides = Float32Array.from({ length: units }, (_, k) => {
    let positive = 0;
    for (let p = 0; p < P; p++) if (values[p * units + k] > 0) positive++;
    return positive >= P / 2 ? 1 : -1;
  });
  const side = tf.tensor1d(sides);
  const c = tf.mul(tf.max(tf.relu(tf.sub(margin, tf.mul(h, side))), 0), side);
  return tf.add(z, c);
}
