// The POLICE bias shift (paper Algorithm 1, DESIGN §4) as one custom-gradient op per layer.
import * as tf from '@tensorflow/tfjs-core';
import type { ShiftRule } from '../spec/types';
import { columnSums, rowsOf } from './fast-ops';

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
export function sideFlips(before: Pick<LayerShift, 'sides'>, after: Pick<LayerShift, 'sides' | 'shift'>): number {
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

/** The shift one layer chose, on the device: the receiver of `onShift` owns these tensors and disposes them. */
export interface ShiftTensors {
  /** c per unit (K). */
  shift: tf.Tensor1D;
  /** Side (+1 active, −1 inactive) of every unit on each region after the shift (regions × K). */
  sides: tf.Tensor2D;
}

/** 0, 1, …, n − 1 as an n×1 column, uploaded (a constant: no Range and Reshape kernels in the step). */
function column(n: number): tf.Tensor2D {
  return tf.tensor2d(
    Float32Array.from({ length: n }, (_, i) => i),
    [n, 1],
  );
}

/** A per-region reduction of the vertex block H (P×K) stacked into regions × K. */
function perRegion(h: tf.Tensor2D, regionSizes: number[], reduce: (block: tf.Tensor2D) => tf.Tensor): tf.Tensor2D {
  if (regionSizes.length === 1) return tf.reshape(reduce(h), [1, h.shape[1]]);
  let row = 0;
  const parts = regionSizes.map((size) => {
    const block = tf.slice(h, [row, 0], [size, h.shape[1]]);
    row += size;
    return tf.reshape(reduce(block), [1, h.shape[1]]);
  });
  return tf.concat(parts, 0) as tf.Tensor2D;
}

/** Index (along axis 0) of the first row of `x` equal to `target`'s row; `rows` when none is. First, as the host reference loops. */
function firstRowEqual(x: tf.Tensor, target: tf.Tensor, offsets: tf.Tensor2D): tf.Tensor2D {
  return tf.min<tf.Tensor2D>(tf.where(tf.equal(x, target), offsets, tf.fill(offsets.shape, x.shape[0])), 0, true);
}

/**
 * `computeShift` as tensor ops, nothing read back to the host (DESIGN §4, Algorithm 1): c per unit, the sides, and
 * the row (1×K, −1 when c = 0) of the vertex each shifted unit's c follows (the backward pass's −1). With the 'fixed' rule
 * `kept` (regions × K, 0 = not voted yet) is read and updated in place, as `keptSides` is by `computeShift`.
 */
export function shiftTensors(
  h: tf.Tensor2D,
  regionSizes: number[],
  rule: ShiftRule,
  margin: number,
  kept?: tf.Variable<tf.Rank.R2>,
): ShiftTensors & { chosenRow: tf.Tensor2D } {
  const [P, K] = h.shape;
  const R = regionSizes.length;
  if (rule === 'fixed' && (!kept || kept.shape[0] !== R || kept.shape[1] !== K))
    throw new Error("the 'fixed' shift rule needs the layer's kept sides");
  // Majority: positives ≥ n/2 ⇔ Σ (h > 0 ? 1 : −1) ≥ 0; step(x, −1) is that ±1 (and the cheapest compare on wasm).
  const vote = tf.step(
    tf.add<tf.Tensor2D>(
      perRegion(h, regionSizes, (b) => tf.sum(tf.step(b, -1), 0)),
      0.5,
    ),
    -1,
  );
  if (R === 1 && rule !== 'minimal') {
    // One region, 'majority' or 'fixed': one side s per unit; c = ReLU(ε − H s) s at the worst vertex (Algorithm 1).
    // The worst vertex is the first row of least H s: min and argMin, no compare-and-select chain.
    // 'fixed': the kept side where there is one (±1), else the vote (kept 0): kept + vote·(1 − |kept|), no select.
    const side: tf.Tensor2D = kept ? tf.add(kept, tf.mul(vote, tf.sub(1, tf.abs(kept)))) : vote;
    if (kept) kept.assign(side);
    const signed = tf.mul(h, side);
    const need = tf.sub<tf.Tensor2D>(margin, tf.min(signed, 0, true));
    // 1 where the unit is shifted (need > 0), else 0: the row is argMin there, −1 elsewhere.
    const shifted = tf.step(need, 0);
    const worstRow = tf.reshape(tf.cast(tf.argMin(signed, 0), 'float32'), [1, K]);
    const row = tf.sub<tf.Tensor2D>(tf.mul(tf.add(worstRow, 1), shifted), 1);
    return { shift: tf.reshape(tf.mul(tf.relu(need), side), [K]) as tf.Tensor1D, sides: side, chosenRow: row };
  }
  const rowIndex = tf.tile(column(P), [1, K]);
  const lo = perRegion(h, regionSizes, (b) => tf.min(b, 0));
  const hi = perRegion(h, regionSizes, (b) => tf.max(b, 0));
  // The region of each vertex row, to find a region's extreme vertex within its own rows only.
  const regionOfRow = tf.tensor2d(
    regionSizes.flatMap((n, r) => new Array<number>(n).fill(r)),
    [P, 1],
  );
  /** Row of the first vertex of region r (per unit) whose value equals `value` (1×K). */
  const rowOf = (region: tf.Tensor2D, value: tf.Tensor2D): tf.Tensor2D => {
    const inRegion = tf.equal(regionOfRow, region);
    const hits = tf.logicalAnd(inRegion, tf.equal(h, value));
    return tf.min(tf.where(hits, rowIndex, tf.fill([P, K], P)), 0, true);
  };
  const loRow = tf.concat(
    regionSizes.map((_, r) => rowOf(tf.fill([1, K], r), tf.slice(lo, [r, 0], [1, K]))),
    0,
  );
  const hiRow = tf.concat(
    regionSizes.map((_, r) => rowOf(tf.fill([1, K], r), tf.slice(hi, [r, 0], [1, K]))),
    0,
  );
  const below = tf.sub(tf.neg(hi), margin);
  const above = tf.add(tf.neg(lo), margin);
  /** Index along axis 0 of the first row equal to the column's extreme (R' × K → 1×K). */
  const firstIndex = (x: tf.Tensor, extreme: tf.Tensor): tf.Tensor2D => firstRowEqual(x, extreme, tf.tile(column(x.shape[0]), [1, K]));
  const pick = (x: tf.Tensor, index: tf.Tensor2D): tf.Tensor2D =>
    tf.sum<tf.Tensor2D>(tf.mul(x, tf.cast(tf.equal(column(x.shape[0]), index), 'float32')), 0, true);
  // The minimal shift: candidates 0, then −hi_r − ε and −lo_r + ε region by region; the first allowed one of smallest |c|.
  const candidates = tf.concat(
    [tf.zeros([1, K]), ...regionSizes.flatMap((_, r) => [tf.slice(below, [r, 0], [1, K]), tf.slice(above, [r, 0], [1, K])])],
    0,
  );
  const candidateRows = tf.concat(
    [tf.fill([1, K], -1), ...regionSizes.flatMap((_, r) => [tf.slice(hiRow, [r, 0], [1, K]), tf.slice(loRow, [r, 0], [1, K])])],
    0,
  );
  const C = 1 + 2 * R;
  // A candidate is forbidden when it falls strictly inside some region's interval; 2-D ops per region (tfjs-webgpu 4.22
  // emits invalid WGSL for the transpose a 3-D reduction of a cast bool needs).
  let forbidden = tf.zeros([C, K], 'bool');
  for (let r = 0; r < R; r++) {
    const inside = tf.logicalAnd(
      tf.greater(candidates, tf.slice(below, [r, 0], [1, K])),
      tf.less(candidates, tf.slice(above, [r, 0], [1, K])),
    );
    forbidden = tf.logicalOr(forbidden, inside);
  }
  const score = tf.where(forbidden, tf.fill([C, K], Infinity), tf.abs(candidates));
  const bestIndex = firstIndex(score, tf.min(score, 0, true));
  const minimalShift = pick(candidates, bestIndex);
  const minimalRow = pick(candidateRows, bestIndex);
  const middle = tf.div(tf.add(lo, hi), 2);
  const minimalSides = tf.where(tf.greater(tf.add(middle, minimalShift), 0), tf.onesLike(lo), tf.neg(tf.onesLike(lo)));
  if (!kept) return { shift: tf.reshape(minimalShift, [K]) as tf.Tensor1D, sides: minimalSides, chosenRow: minimalRow };
  // 'fixed', several regions: kept side + on r needs c ≥ −lo_r + ε, side − needs c ≤ −hi_r − ε: an interval, empty when the regions disagree.
  const keep = tf.where(tf.equal(tf.slice(kept, [0, 0], [1, K]), 0), vote, kept);
  const lowerCandidates = tf.where(tf.greater(keep, 0), above, tf.fill([R, K], -Infinity));
  const upperCandidates = tf.where(tf.less(keep, 0), below, tf.fill([R, K], Infinity));
  const lower = tf.max(lowerCandidates, 0, true);
  const upper = tf.min(upperCandidates, 0, true);
  const lowerRow = pick(loRow, firstIndex(lowerCandidates, lower));
  const upperRow = pick(hiRow, firstIndex(upperCandidates, upper));
  const compatible = tf.lessEqual(lower, upper);
  const up = tf.greater(lower, 0);
  const down = tf.less(upper, 0);
  const zero = tf.zerosLike(lower);
  const fixedShift = tf.where(up, lower, tf.where(down, upper, zero));
  const fixedRow = tf.where(up, lowerRow, tf.where(down, upperRow, tf.fill([1, K], -1)));
  const shift = tf.where(compatible, fixedShift, minimalShift);
  const row = tf.where<tf.Tensor2D>(compatible, fixedRow, minimalRow);
  const kept01 = tf.cast(compatible, 'float32');
  const sides = tf.add<tf.Tensor2D>(tf.mul(keep, kept01), tf.mul(minimalSides, tf.sub(1, kept01)));
  kept.assign(sides);
  return { shift: tf.reshape(shift, [K]) as tf.Tensor1D, sides, chosenRow: row };
}

/**
 * Side flips of every layer at once: `before` and `after` are all layers' sides side by side (regions × ΣK), `unitLayer`
 * (ΣK × layers) is 1 where a unit belongs to a layer. A unit flipped when s·s' = −1 on some region; one matmul sums per layer (1 × layers).
 */
export function layerFlips(before: tf.Tensor2D, after: tf.Tensor2D, unitLayer: tf.Tensor2D): tf.Tensor2D {
  const agree = tf.mul(before, after);
  const worst = agree.shape[0] === 1 ? agree : tf.min(agree, 0, true);
  return tf.matMul(tf.step(tf.neg(worst), 0), unitLayer);
}

/** ΣK × layers, 1 where unit k (of all layers' units side by side) belongs to the layer: sums per layer as one matmul. */
export function unitLayerMatrix(units: number[]): tf.Tensor2D {
  const total = units.reduce((a, b) => a + b, 0);
  const values = new Float32Array(total * units.length);
  let row = 0;
  units.forEach((n, layer) => {
    for (let k = 0; k < n; k++, row++) values[row * units.length + layer] = 1;
  });
  return tf.tensor2d(values, [total, units.length]);
}

/**
 * Kernels a backend may register to run the shift as one kernel each way (wasm-kernels.ts does, on `computeShift` in the
 * wasm heap: 3 kernels a layer where the tensor ops take about 30); a backend without them runs `shiftTensors`.
 * Forward: inputs z, bias?, kept?; attrs PoliceShiftAttrs; outputs c (K), sides (regions × K), chosen row (1×K), kept after (when given).
 * Backward: inputs dy ((batch + P)×K), chosen row; attrs batchRows; outputs ∂z, and ∂b = Σ_rows dy where c does not follow b (K).
 */
export const POLICE_SHIFT_KERNEL = 'PoliceShift';
export const POLICE_SHIFT_GRAD_KERNEL = 'PoliceShiftGrad';

/** The forward kernel's attributes. */
export interface PoliceShiftAttrs {
  batchRows: number;
  regionSizes: number[];
  rule: ShiftRule;
  margin: number;
}

/** The forward kernel's outputs, or undefined where the current backend has no such kernel. */
function shiftKernel(
  z: tf.Tensor2D,
  bias: tf.Tensor1D | undefined,
  kept: tf.Variable<tf.Rank.R2> | undefined,
  attrs: PoliceShiftAttrs,
): (ShiftTensors & { chosenRow: tf.Tensor2D }) | undefined {
  if (!tf.getKernel(POLICE_SHIFT_KERNEL, tf.getBackend())) return undefined;
  const inputs: tf.NamedTensorMap = { z, ...(bias ? { bias } : {}), ...(kept ? { kept } : {}) };
  const [shift, sides, chosenRow, keptAfter] = tf
    .engine()
    .runKernel(POLICE_SHIFT_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  if (kept && keptAfter) kept.assign(keptAfter as tf.Tensor2D);
  return { shift: shift as tf.Tensor1D, sides: sides as tf.Tensor2D, chosenRow: chosenRow as tf.Tensor2D };
}

/** What `policeShift` may take besides the pre-activations. */
export interface PoliceShiftOptions {
  /** The layer's bias b, added here with c in one op (z = xW + b + c): the gradient of b is then Σ dy where c does not follow it. */
  bias?: tf.Tensor1D;
  /** Receives the shift and the sides (its own tensors, for the health report and folding). */
  onShift?: (shift: ShiftTensors) => void;
  /** The 'fixed' rule's kept sides (regions × K). */
  keptSides?: tf.Variable<tf.Rank.R2>;
}

/**
 * Adds the POLICE shift c (and the bias, when given) to every row of z ((batch + P)×K pre-activations), all on the device.
 * Backward keeps only the chosen vertex per unit: ∂c_k/∂H[p*_k, k] = −1 (and ∂c_k/∂b_k = −1) when the unit was shifted.
 */
export function policeShift(
  z: tf.Tensor2D,
  layout: VertexLayout,
  rule: ShiftRule,
  margin: number,
  options: PoliceShiftOptions = {},
): tf.Tensor2D {
  const [rows, units] = z.shape;
  const { bias, onShift, keptSides } = options;
  const vertexRows = rows - layout.batchRows;
  // Only the chosen vertex row per unit is saved for backward.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const zz = args[0] as tf.Tensor2D;
    const b = bias ? (args[1] as tf.Tensor1D) : undefined;
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const attrs: PoliceShiftAttrs = { batchRows: layout.batchRows, regionSizes: layout.regionSizes, rule, margin };
    const tensorOps = () => {
      const block = rowsOf(zz, layout.batchRows, vertexRows);
      return shiftTensors(b ? tf.add(block, b) : block, layout.regionSizes, rule, margin, keptSides);
    };
    const chosen = shiftKernel(zz, b, keptSides, attrs) ?? tensorOps();
    save([chosen.chosenRow]);
    // Forward runs in the engine's own tidy: keep what the receiver is handed, it owns them.
    if (onShift) onShift({ shift: tf.keep(chosen.shift), sides: tf.keep(chosen.sides) });
    const value = tf.add(zz, b ? tf.add(b, chosen.shift) : chosen.shift);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const g = dy as tf.Tensor2D;
      const chosenRow = saved[0];
      if (tf.getKernel(POLICE_SHIFT_GRAD_KERNEL, tf.getBackend())) {
        const [gz, gb] = tf.engine().runKernel(
          POLICE_SHIFT_GRAD_KERNEL,
          { dy: g, chosenRow },
          {
            batchRows: layout.batchRows,
          },
        ) as tf.Tensor[];
        return b ? [gz, gb] : gz;
      }
      const sums = columnSums(g);
      // −Σ_rows dy at each shifted unit's chosen vertex row: the only rows c depends on.
      const mask = tf.cast(tf.equal(column(vertexRows), chosenRow), 'float32');
      const gz = tf.sub(
        g,
        tf.pad(tf.mul(mask, sums), [
          [layout.batchRows, 0],
          [0, 0],
        ]),
      );
      if (!b) return gz;
      const free = tf.cast(tf.less(chosenRow, 0), 'float32');
      return [gz, tf.reshape(tf.mul(sums, free), [units])];
    };
    return { value, gradFunc };
  });
  return (bias ? op(z, bias) : op(z)) as tf.Tensor2D;
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
