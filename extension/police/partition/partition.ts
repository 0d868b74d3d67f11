// The exact linear-region partition of a folded network on a 2-D plane: polygons split unit by unit, layer by layer.
import type { FoldedNetwork } from '../network/network';
import { isPiecewiseAffine } from '../spec/activations';
import { affineMapForPattern, bends, patternAt, patternDistance, slope } from '../proof/patterns';
import type { ActivationPattern } from '../proof/patterns';
import type { Matrix, Vector } from '../spec/types';

export { patternAt, patternDistance };
export type { ActivationPattern };

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

/** A classification tolerance relative to the size of the affine function on the window. */
const RELATIVE_EPS = 1e-10;
/** A split that leaves a side with less than this fraction of the cell's area is not made (the sliver joins its neighbour). */
const SLIVER_FRACTION = 1e-12;
/** Incremental map updates between full recomputations, to keep rounding drift far below 1e-9. */
const REFRESH_EVERY = 1024;
/** Rank-one terms carried from one layer to the next before a full recomputation is cheaper. */
const MAX_TERMS = 8;

/** A growable Float64Array. */
class F64 {
  data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    const next = new Float64Array(Math.max(this.data.length * 2, this.length + extra));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  push1(a: number): void {
    this.reserve(1);
    this.data[this.length++] = a;
  }
  push2(a: number, b: number): void {
    this.reserve(2);
    this.data[this.length++] = a;
    this.data[this.length++] = b;
  }
}

/** A growable Uint32Array. */
class U32 {
  data: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Uint32Array(capacity);
  }
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    const next = new Uint32Array(Math.max(this.data.length * 2, this.length + extra));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  push(v: number): void {
    this.reserve(1);
    this.data[this.length++] = v;
  }
}

/** Cells of one stage: polygons and patterns (bits of the layers split so far). */
interface CellList {
  coords: F64;
  /** Start of each cell in vertices (not coordinates), plus a final end. */
  starts: U32;
  patterns: U32;
}

function newCellList(expectedCells = 256, words = 1): CellList {
  const starts = new U32(expectedCells + 1);
  starts.push(0);
  return { coords: new F64(expectedCells * 10), starts, patterns: new U32(expectedCells * words) };
}

interface DenseLayer {
  rows: number;
  cols: number;
  /** rows×cols row-major; Float32 when every weight is a float32 value (a trained export): exact, half the memory traffic. */
  w: Float64Array | Float32Array;
  /** cols×rows: column j of w is row j here. */
  wt: Float64Array;
  bias: Float64Array;
  /** Slopes for bit 0 and bit 1. */
  slopeOff: number;
  slopeOn: number;
  bends: boolean;
  bitOffset: number;
}

/**
 * The plane maps of every layer's pre-activations for one current pattern, moved from pattern to pattern by
 * rank-one updates (a flipped unit changes the next layer's map by one outer product), with full recomputation
 * when deeper layers changed too much or after REFRESH_EVERY updates.
 */
class MapState {
  /** z[m]: rows_m × 3 map of layer m's pre-activation in (u, v, 1). */
  readonly z: Float64Array[];
  private readonly bits: Uint32Array;
  private validDepth = 0;
  private readonly updates: Int32Array;
  private readonly slopes: Float64Array;
  private readonly scaled: Float64Array;
  private readonly flips: Int32Array;
  /** Rank-one terms u ⊗ r describing the last change of a layer's map: u = arrays[t][offsets[t] …], r = rows[3t …]. */
  private readonly termBuffers: Float64Array[];
  private termArrays: Float64Array[] = [];
  private termOffsets = new Int32Array(MAX_TERMS);
  private termRows = new Float64Array(3 * MAX_TERMS);
  private nextArrays: Float64Array[] = [];
  private nextOffsets = new Int32Array(MAX_TERMS);
  private nextRows = new Float64Array(3 * MAX_TERMS);
  /** k when term t's u is column k of W_m (from a flip one layer down), else −1. */
  private termColumns = new Int32Array(MAX_TERMS);
  private nextColumns = new Int32Array(MAX_TERMS);
  /**
   * columns[m], row k: W_{m+1}(slope_m ⊙ W_m[:, k]) for the layer-m bits last seen with unit k of layer m−1
   * (cachedBits), updated by the few bits that changed since: crossing the same line again nearby is cheap.
   */
  private readonly columns: (Float64Array | undefined)[] = [];
  private readonly cachedBits: (Uint32Array | undefined)[] = [];
  private readonly columnUses: (Int32Array | undefined)[] = [];
  private readonly localBits: Uint32Array;

  constructor(
    private readonly layers: DenseLayer[],
    words: number,
    first: Float64Array,
  ) {
    this.z = layers.map((l) => new Float64Array(l.rows * 3));
    this.z[0].set(first);
    this.bits = new Uint32Array(words);
    this.updates = new Int32Array(layers.length);
    const widest = Math.max(...layers.map((l) => Math.max(l.rows, l.cols)));
    this.slopes = new Float64Array(widest);
    this.scaled = new Float64Array(widest * 3);
    this.flips = new Int32Array(widest);
    this.termBuffers = layers.map((l) => new Float64Array(MAX_TERMS * l.rows));
    this.localBits = new Uint32Array(Math.ceil(widest / 32) + 1);
  }

  /** Layer m's bits of `pattern`, re-packed from bit 0 into this.localBits; returns the word count. */
  private loadLocalBits(m: number, pattern: Uint32Array, offset: number): number {
    const layer = this.layers[m];
    const words = (layer.rows + 31) >>> 5;
    const shift = layer.bitOffset & 31;
    const first = offset + (layer.bitOffset >>> 5);
    for (let w = 0; w < words; w++) {
      let value = pattern[first + w] >>> shift;
      if (shift !== 0 && (w << 5) + 32 - shift < layer.rows) value |= pattern[first + w + 1] << (32 - shift);
      const valid = Math.min(32, layer.rows - (w << 5));
      this.localBits[w] = valid === 32 ? value >>> 0 : (value & ((1 << valid) - 1)) >>> 0;
    }
    return words;
  }

  /** buffer[vo …] = W_{m+1}(slope_m ⊙ W_m[:, k]), from the cached column plus the layer-m bits that changed. */
  private pushColumn(m: number, k: number, u: Float64Array, uo: number, buffer: Float64Array, vo: number, words: number): void {
    const inner = this.layers[m];
    const outer = this.layers[m + 1];
    const rows = outer.rows;
    let cache = this.columns[m];
    let bits = this.cachedBits[m];
    let uses = this.columnUses[m];
    if (!cache || !bits || !uses) {
      cache = this.columns[m] = new Float64Array(inner.cols * rows);
      bits = this.cachedBits[m] = new Uint32Array(inner.cols * Math.max(1, words));
      uses = this.columnUses[m] = new Int32Array(inner.cols).fill(REFRESH_EVERY);
    }
    const co = k * rows;
    const bo = k * Math.max(1, words);
    let changed = 0;
    for (let w = 0; w < words; w++) changed += popcount((this.localBits[w] ^ bits[bo + w]) >>> 0);
    if (uses[k] >= REFRESH_EVERY || 2 * changed > inner.rows) {
      const su = this.scaled;
      for (let j = 0; j < inner.rows; j++) su[j] = this.slopes[j] * u[uo + j];
      matvec(outer.w, rows, outer.cols, su, cache, co);
      uses[k] = 0;
    } else if (changed > 0) {
      const wt = outer.wt;
      for (let w = 0; w < words; w++) {
        let diff = (this.localBits[w] ^ bits[bo + w]) >>> 0;
        while (diff !== 0) {
          const bit = 31 - Math.clz32(diff & -diff);
          diff = (diff & (diff - 1)) >>> 0;
          const i = (w << 5) + bit;
          const on = (this.localBits[w] >>> bit) & 1;
          const c = (on ? inner.slopeOn - inner.slopeOff : inner.slopeOff - inner.slopeOn) * u[uo + i];
          if (c === 0) continue;
          const io = i * rows;
          for (let r = 0; r < rows; r++) cache[co + r] += c * wt[io + r];
        }
      }
      uses[k]++;
    }
    for (let w = 0; w < words; w++) bits[bo + w] = this.localBits[w];
    for (let r = 0; r < rows; r++) buffer[vo + r] = cache[co + r];
  }

  /** Slopes of layer m's units under `pattern`, into this.slopes. */
  private loadSlopes(m: number, pattern: Uint32Array, offset: number): void {
    const layer = this.layers[m];
    const s = this.slopes;
    if (!layer.bends) {
      s.fill(1, 0, layer.rows);
      return;
    }
    for (let j = 0; j < layer.rows; j++) {
      const b = layer.bitOffset + j;
      s[j] = (pattern[offset + (b >>> 5)] >>> (b & 31)) & 1 ? layer.slopeOn : layer.slopeOff;
    }
  }

  /** z[m+1] = W_{m+1} diag(slope(bits_m)) z[m] + b_{m+1}; expects this.slopes loaded for layer m. */
  private recompute(m: number): void {
    const inner = this.layers[m];
    const outer = this.layers[m + 1];
    const zin = this.z[m];
    const scaled = this.scaled;
    const s = this.slopes;
    for (let j = 0; j < inner.rows; j++) {
      scaled[3 * j] = s[j] * zin[3 * j];
      scaled[3 * j + 1] = s[j] * zin[3 * j + 1];
      scaled[3 * j + 2] = s[j] * zin[3 * j + 2];
    }
    const zout = this.z[m + 1];
    const w = outer.w;
    const cols = outer.cols;
    for (let i = 0; i < outer.rows; i++) {
      let a = 0;
      let b = 0;
      let c = outer.bias[i];
      const base = i * cols;
      for (let j = 0; j < cols; j++) {
        const wij = w[base + j];
        a += wij * scaled[3 * j];
        b += wij * scaled[3 * j + 1];
        c += wij * scaled[3 * j + 2];
      }
      zout[3 * i] = a;
      zout[3 * i + 1] = b;
      zout[3 * i + 2] = c;
    }
    this.updates[m + 1] = 0;
  }

  /** Units of layer m whose bit differs between `pattern` and the current one, into this.flips. */
  private collectFlips(m: number, pattern: Uint32Array, offset: number): number {
    const layer = this.layers[m];
    if (!layer.bends) return 0;
    let count = 0;
    const first = layer.bitOffset;
    const end = first + layer.rows;
    for (let b = first; b < end;) {
      const word = b >>> 5;
      const diff = (pattern[offset + word] ^ this.bits[word]) >>> 0;
      const wordEnd = Math.min(end, (word + 1) << 5);
      if (diff !== 0) {
        for (let q = b; q < wordEnd; q++) if ((diff >>> (q & 31)) & 1) this.flips[count++] = q - first;
      }
      b = wordEnd;
    }
    return count;
  }

  /** Makes z[0 … depth] the maps of `pattern` (bits of layers below depth are read). */
  moveTo(pattern: Uint32Array, offset: number, depth: number): void {
    // How z[m] changed: termCount rank-one terms, or termsKnown = false after a full recomputation.
    let termCount = 0;
    let termsKnown = true;
    for (let m = 0; m < depth; m++) {
      const inner = this.layers[m];
      const outer = this.layers[m + 1];
      let expensive = 0;
      for (let t = 0; t < termCount; t++) if (this.termColumns[t] < 0) expensive++;
      if (m + 1 > this.validDepth || !termsKnown || expensive >= 3 || this.updates[m + 1] >= REFRESH_EVERY) {
        this.loadSlopes(m, pattern, offset);
        this.recompute(m);
        termsKnown = false;
        continue;
      }
      const flipCount = this.collectFlips(m, pattern, offset);
      if (termCount === 0 && flipCount === 0) continue;
      this.loadSlopes(m, pattern, offset);
      // Each carried term costs a matrix-vector product, each flip an outer product: past 3 products, recompute.
      if (expensive * inner.rows + 3 * flipCount >= 3 * inner.rows) {
        this.recompute(m);
        termsKnown = false;
        continue;
      }
      const record = termCount + flipCount <= MAX_TERMS;
      const words = termCount > expensive ? this.loadLocalBits(m, pattern, offset) : 0;
      const zout = this.z[m + 1];
      const zin = this.z[m];
      const slopes = this.slopes;
      const buffer = this.termBuffers[m + 1];
      let next = 0;
      // Earlier changes of z[m], pushed through diag(slope) and W_{m+1}.
      for (let t = 0; t < termCount; t++) {
        const u = this.termArrays[t];
        const uo = this.termOffsets[t];
        const r0 = this.termRows[3 * t];
        const r1 = this.termRows[3 * t + 1];
        const r2 = this.termRows[3 * t + 2];
        const vo = t * outer.rows;
        if (this.termColumns[t] >= 0 && inner.bends) {
          this.pushColumn(m, this.termColumns[t], u, uo, buffer, vo, words);
        } else {
          const su = this.scaled;
          for (let j = 0; j < outer.cols; j++) su[j] = slopes[j] * u[uo + j];
          matvec(outer.w, outer.rows, outer.cols, su, buffer, vo);
        }
        for (let i = 0; i < outer.rows; i++) {
          const acc = buffer[vo + i];
          zout[3 * i] += acc * r0;
          zout[3 * i + 1] += acc * r1;
          zout[3 * i + 2] += acc * r2;
        }
        if (record) {
          this.nextArrays[next] = buffer;
          this.nextOffsets[next] = vo;
          this.nextColumns[next] = -1;
          this.nextRows[3 * next] = r0;
          this.nextRows[3 * next + 1] = r1;
          this.nextRows[3 * next + 2] = r2;
          next++;
        }
      }
      // Flipped units: (slope_new − slope_old) × the unit's old row, through column j of W_{m+1}.
      for (let f = 0; f < flipCount; f++) {
        const j = this.flips[f];
        let r0 = zin[3 * j];
        let r1 = zin[3 * j + 1];
        let r2 = zin[3 * j + 2];
        for (let t = 0; t < termCount; t++) {
          const uj = this.termArrays[t][this.termOffsets[t] + j];
          r0 -= uj * this.termRows[3 * t];
          r1 -= uj * this.termRows[3 * t + 1];
          r2 -= uj * this.termRows[3 * t + 2];
        }
        const delta = slopes[j] - (slopes[j] === inner.slopeOn ? inner.slopeOff : inner.slopeOn);
        r0 *= delta;
        r1 *= delta;
        r2 *= delta;
        const col = outer.wt;
        const co = j * outer.rows;
        for (let i = 0; i < outer.rows; i++) {
          const c = col[co + i];
          zout[3 * i] += c * r0;
          zout[3 * i + 1] += c * r1;
          zout[3 * i + 2] += c * r2;
        }
        if (record) {
          this.nextArrays[next] = col;
          this.nextOffsets[next] = co;
          this.nextColumns[next] = j;
          this.nextRows[3 * next] = r0;
          this.nextRows[3 * next + 1] = r1;
          this.nextRows[3 * next + 2] = r2;
          next++;
        }
      }
      this.updates[m + 1]++;
      if (record) {
        [this.termArrays, this.nextArrays] = [this.nextArrays, this.termArrays];
        [this.termOffsets, this.nextOffsets] = [this.nextOffsets, this.termOffsets];
        [this.termColumns, this.nextColumns] = [this.nextColumns, this.termColumns];
        [this.termRows, this.nextRows] = [this.nextRows, this.termRows];
        termCount = next;
      } else {
        termsKnown = false;
      }
    }
    for (let w = 0; w < this.bits.length; w++) this.bits[w] = pattern[offset + w];
    this.validDepth = depth;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** out[o + i] = Σ_j w[i·cols + j] x[j], with four partial sums (independent additions pipeline better). */
function matvec(w: Float64Array | Float32Array, rows: number, cols: number, x: Float64Array, out: Float64Array, o: number): void {
  for (let i = 0; i < rows; i++) {
    let acc0 = 0;
    let acc1 = 0;
    let acc2 = 0;
    let acc3 = 0;
    const base = i * cols;
    let j = 0;
    for (; j + 3 < cols; j += 4) {
      acc0 += w[base + j] * x[j];
      acc1 += w[base + j + 1] * x[j + 1];
      acc2 += w[base + j + 2] * x[j + 2];
      acc3 += w[base + j + 3] * x[j + 3];
    }
    for (; j < cols; j++) acc0 += w[base + j] * x[j];
    out[o + i] = acc0 + acc1 + (acc2 + acc3);
  }
}

function dot(a: Vector, b: Vector): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function checkInputs(network: FoldedNetwork, plane: PartitionPlane, window: PartitionWindow): void {
  const d = network.input_dim;
  for (const [name, v] of [
    ['origin', plane.origin],
    ['e1', plane.e1],
    ['e2', plane.e2],
  ] as const) {
    if (v.length !== d || v.some((x) => !Number.isFinite(x))) throw new Error(`partition: plane ${name} must hold ${d} finite numbers`);
  }
  const [[u0, u1], [v0, v1]] = window;
  if (![u0, u1, v0, v1].every(Number.isFinite) || !(u1 > u0) || !(v1 > v0)) {
    throw new Error(`partition: window ${JSON.stringify(window)} must be [[uMin, uMax], [vMin, vMax]] with min < max`);
  }
  const smooth = network.layers.find((l) => !isPiecewiseAffine(l.activation));
  if (smooth)
    throw new Error(`partition: activation '${smooth.activation}' is not piecewise affine, so the network has no exact linear regions`);
}

/** The exact linear regions of the network on the window of the plane. */
export function partitionPlane(
  network: FoldedNetwork,
  plane: PartitionPlane,
  window: PartitionWindow,
  options: PartitionOptions = {},
): Partition {
  checkInputs(network, plane, window);
  const maxCells = options.maxCells ?? 2_000_000;
  const deadline = performance.now() + (options.timeLimitMs ?? Infinity);
  let bitCount = 0;
  const layers: DenseLayer[] = network.layers.map((layer) => {
    const rows = layer.weights.length;
    const cols = rows ? layer.weights[0].length : 0;
    const single = layer.weights.every((row) => row.every((v) => Math.fround(v) === v));
    const w = single ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
    const wt = new Float64Array(rows * cols);
    layer.weights.forEach((row, i) =>
      row.forEach((v, j) => {
        w[i * cols + j] = v;
        wt[j * rows + i] = v;
      }),
    );
    const bend = bends(layer);
    const dense: DenseLayer = {
      rows,
      cols,
      w,
      wt,
      bias: Float64Array.from(layer.bias),
      slopeOff: slope(layer, 0),
      slopeOn: slope(layer, 1),
      bends: bend,
      bitOffset: bitCount,
    };
    if (bend) bitCount += rows;
    return dense;
  });
  const words = Math.max(1, Math.ceil(bitCount / 32));
  const outputs = network.output_dim;
  const last = layers.length - 1;

  // Layer 0's map on the plane: W0 (origin + u e1 + v e2) + b0.
  const first = new Float64Array(layers[0].rows * 3);
  network.layers[0].weights.forEach((row, i) => {
    first[3 * i] = dot(row, plane.e1);
    first[3 * i + 1] = dot(row, plane.e2);
    first[3 * i + 2] = dot(row, plane.origin) + network.layers[0].bias[i];
  });
  const state = new MapState(layers, words, first);

  const [[u0, u1], [v0, v1]] = window;
  const uScale = Math.max(Math.abs(u0), Math.abs(u1));
  const vScale = Math.max(Math.abs(v0), Math.abs(v1));
  let cells = newCellList();
  cells.coords.push2(u0, v0);
  cells.coords.push2(u1, v0);
  cells.coords.push2(u1, v1);
  cells.coords.push2(u0, v1);
  cells.starts.push(4);
  cells.patterns.reserve(words);
  for (let w = 0; w < words; w++) cells.patterns.push(0);

  const splitter = new Splitter();
  // The skip term on the plane, added to every cell's output map.
  const skip = new Float64Array(outputs * 3);
  if (network.skip) {
    network.skip.weights.forEach((row, k) => {
      skip[3 * k] = dot(row, plane.e1);
      skip[3 * k + 1] = dot(row, plane.e2);
      skip[3 * k + 2] = dot(row, plane.origin) + network.skip!.bias[k];
    });
  }
  const lastBend = layers.reduce((found, layer, i) => (layer.bends ? i : found), -1);
  const maps = new F64(4096);
  if (lastBend < 0) {
    // No activation bends: one cell, one affine map.
    state.moveTo(cells.patterns.data, 0, last);
    const z = state.z[last];
    for (let k = 0; k < outputs; k++) for (let c = 0; c < 3; c++) maps.push1(z[3 * k + c] + skip[3 * k + c]);
  }
  const tail = lastBend >= 0 && lastBend < last ? linearTail(layers, lastBend) : undefined;

  // Every bending layer splits, the output layer too when it has an activation.
  for (let l = 0; l <= lastBend; l++) {
    const layer = layers[l];
    if (!layer.bends) continue;
    const count = cells.starts.length - 1;
    // Each layer multiplies the cells a few times over; reserving ahead avoids repeated copying.
    const next = newCellList(Math.min(maxCells, count * 3 + 64), words);
    for (let p = 0; p < count; p++) {
      state.moveTo(cells.patterns.data, p * words, l);
      splitter.split(cells, p, layer, state.z[l], uScale, vScale);
      const order = splitter.emit(next, cells.patterns.data, p * words, words, layer);
      if (l === lastBend) splitter.outputMaps(order, maps, state.z[l], layer, tail, outputs, skip);
      if (next.starts.length - 1 > maxCells) {
        throw new Error(`partition: more than ${maxCells} cells; narrow the window or raise maxCells`);
      }
      if ((p & 255) === 255 && performance.now() > deadline) {
        throw new Error(`partition: stopped after ${options.timeLimitMs} ms at layer ${l} with ${next.starts.length - 1} cells so far`);
      }
    }
    cells = next;
  }
  const cellCount = cells.starts.length - 1;
  const planeMaps = maps.data.slice(0, cellCount * outputs * 3);
  return {
    inputDim: network.input_dim,
    outputDim: outputs,
    plane,
    window,
    layerUnits: layers.map((l) => (l.bends ? l.rows : 0)),
    cellCount,
    polygonStart: cells.starts.data.slice(0, cells.starts.length),
    vertices: cells.coords.data.slice(0, cells.coords.length),
    patternWords: words,
    patterns: cells.patterns.data.slice(0, cellCount * words),
    planeMaps,
  };
}

/** Splits one cell by all units of one layer; pieces live in reusable scratch arrays. */
class Splitter {
  private coords = new F64(4096);
  private start = new U32(256);
  private count = new U32(256);
  /** Pieces' bits for the layer being split, packed: `stride` words per piece. */
  private bits = new Uint32Array(256 * 8);
  private stride = 0;
  private pieces = 0;
  private values = new Float64Array(64);
  private keys = new Float64Array(256);
  private centres = new Float64Array(512);
  private orderBuffer = new Uint32Array(256);

  private ensurePieces(pieces: number): void {
    this.start.reserve(pieces - this.start.length);
    this.count.reserve(pieces - this.count.length);
    this.start.length = this.count.length = pieces;
    if (pieces * this.stride > this.bits.length) {
      const next = new Uint32Array(Math.max(this.bits.length * 2, pieces * this.stride));
      next.set(this.bits);
      this.bits = next;
    }
  }

  private bit(p: number, k: number): number {
    return (this.bits[p * this.stride + (k >>> 5)] >>> (k & 31)) & 1;
  }

  private setBit(p: number, k: number, on: boolean): void {
    const i = p * this.stride + (k >>> 5);
    if (on) this.bits[i] |= 1 << (k & 31);
    else this.bits[i] &= ~(1 << (k & 31));
  }

  split(cells: CellList, index: number, layer: DenseLayer, z: Float64Array, uScale: number, vScale: number): void {
    this.stride = (layer.rows + 31) >>> 5;
    this.pieces = 1;
    this.ensurePieces(1);
    this.bits.fill(0, 0, this.stride);
    const begin = cells.starts.data[index];
    const vertices = cells.starts.data[index + 1] - begin;
    this.coords.length = 0;
    this.coords.reserve(vertices * 2);
    this.coords.data.set(cells.coords.data.subarray(begin * 2, (begin + vertices) * 2));
    this.coords.length = vertices * 2;
    this.start.data[0] = 0;
    this.count.data[0] = vertices;
    // The parent's bounding circle decides most units at once.
    let cx = 0;
    let cy = 0;
    const pc = this.coords.data;
    for (let t = 0; t < vertices; t++) {
      cx += pc[2 * t];
      cy += pc[2 * t + 1];
    }
    cx /= vertices;
    cy /= vertices;
    let radius2 = 0;
    for (let t = 0; t < vertices; t++) radius2 = Math.max(radius2, (pc[2 * t] - cx) ** 2 + (pc[2 * t + 1] - cy) ** 2);
    const radius = Math.sqrt(radius2) * (1 + 1e-12);
    for (let k = 0; k < layer.rows; k++) {
      const a = z[3 * k];
      const b = z[3 * k + 1];
      const c = z[3 * k + 2];
      const eps = RELATIVE_EPS * (Math.abs(a) * uScale + Math.abs(b) * vScale + Math.abs(c)) + Number.MIN_VALUE;
      const centre = a * cx + b * cy + c;
      const reach = Math.sqrt(a * a + b * b) * radius + eps;
      if (centre > reach) {
        const word = k >>> 5;
        const mask = 1 << (k & 31);
        for (let p = 0; p < this.pieces; p++) this.bits[p * this.stride + word] |= mask;
        continue;
      }
      if (centre < -reach) continue;
      const existing = this.pieces;
      for (let p = 0; p < existing; p++) this.splitPiece(p, k, a, b, c, eps);
    }
  }

  private splitPiece(p: number, k: number, a: number, b: number, c: number, eps: number): void {
    const s = this.start.data[p];
    const n = this.count.data[p];
    if (this.values.length < n) this.values = new Float64Array(n * 2);
    const values = this.values;
    let xy = this.coords.data;
    let min = Infinity;
    let max = -Infinity;
    for (let t = 0; t < n; t++) {
      const v = a * xy[2 * (s + t)] + b * xy[2 * (s + t) + 1] + c;
      values[t] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (min >= -eps) {
      this.setBit(p, k, true);
      return;
    }
    if (max <= eps) return;
    // Clip into the positive and negative sides; vertices within eps of the line belong to both.
    this.coords.reserve((n + 2) * 4);
    xy = this.coords.data;
    const pos = this.coords.length / 2;
    let w = this.coords.length;
    for (let side = 0; side < 2; side++) {
      for (let t = 0; t < n; t++) {
        const t2 = t + 1 === n ? 0 : t + 1;
        const vi = values[t];
        const vj = values[t2];
        const i = 2 * (s + t);
        if (side === 0 ? vi >= -eps : vi <= eps) {
          xy[w++] = xy[i];
          xy[w++] = xy[i + 1];
        }
        if ((vi > eps && vj < -eps) || (vi < -eps && vj > eps)) {
          const j = 2 * (s + t2);
          const f = vi / (vi - vj);
          xy[w++] = xy[i] + f * (xy[j] - xy[i]);
          xy[w++] = xy[i + 1] + f * (xy[j + 1] - xy[i + 1]);
        }
      }
      if (side === 0) this.coords.length = w;
    }
    const neg = this.coords.length / 2;
    const posCount = neg - pos;
    const negCount = w / 2 - neg;
    this.coords.length = w;
    const whole = Math.abs(polygonArea(xy, s, n));
    const posArea = Math.abs(polygonArea(xy, pos, posCount));
    const negArea = Math.abs(polygonArea(xy, neg, negCount));
    if (posCount < 3 || negCount < 3 || posArea <= SLIVER_FRACTION * whole || negArea <= SLIVER_FRACTION * whole) {
      // A sliver: no split, the whole piece takes the side of the larger part.
      this.coords.length = pos * 2;
      if (posArea >= negArea) this.setBit(p, k, true);
      return;
    }
    this.start.data[p] = pos;
    this.count.data[p] = posCount;
    this.setBit(p, k, true);
    const q = this.pieces++;
    this.ensurePieces(this.pieces);
    this.start.data[q] = neg;
    this.count.data[q] = negCount;
    this.bits.copyWithin(q * this.stride, p * this.stride, (p + 1) * this.stride);
    this.setBit(q, k, false);
  }

  /** Output maps through a linear tail; each piece starts from the previous one and corrects the units that differ. */
  private tailMaps(
    order: Uint32Array,
    maps: F64,
    z: Float64Array,
    layer: DenseLayer,
    tail: LinearTail,
    outputs: number,
    skip: Float64Array,
  ): void {
    const rows = layer.rows;
    const stride = this.stride;
    let previous = -1;
    for (const p of order) {
      maps.reserve(outputs * 3);
      const at = maps.length;
      let differing = 0;
      if (previous >= 0) {
        for (let w = 0; w < stride; w++) differing += popcount((this.bits[p * stride + w] ^ this.bits[previous * stride + w]) >>> 0);
      }
      if (previous < 0 || 4 * differing > rows) {
        for (let k = 0; k < outputs; k++) {
          let a = skip[3 * k];
          let b = skip[3 * k + 1];
          let c = skip[3 * k + 2] + tail.t[k];
          const row = k * rows;
          for (let j = 0; j < rows; j++) {
            const w = tail.T[row + j] * (this.bit(p, j) ? layer.slopeOn : layer.slopeOff);
            a += w * z[3 * j];
            b += w * z[3 * j + 1];
            c += w * z[3 * j + 2];
          }
          maps.data[at + 3 * k] = a;
          maps.data[at + 3 * k + 1] = b;
          maps.data[at + 3 * k + 2] = c;
        }
      } else {
        const before = at - outputs * 3;
        for (let q = 0; q < outputs * 3; q++) maps.data[at + q] = maps.data[before + q];
        for (let w = 0; w < stride; w++) {
          let diff = (this.bits[p * stride + w] ^ this.bits[previous * stride + w]) >>> 0;
          while (diff !== 0) {
            const bit = 31 - Math.clz32(diff & -diff);
            diff = (diff & (diff - 1)) >>> 0;
            const j = (w << 5) + bit;
            const delta = this.bit(p, j) ? layer.slopeOn - layer.slopeOff : layer.slopeOff - layer.slopeOn;
            for (let k = 0; k < outputs; k++) {
              const f = tail.T[k * rows + j] * delta;
              maps.data[at + 3 * k] += f * z[3 * j];
              maps.data[at + 3 * k + 1] += f * z[3 * j + 1];
              maps.data[at + 3 * k + 2] += f * z[3 * j + 2];
            }
          }
        }
      }
      maps.length = at + outputs * 3;
      previous = p;
    }
  }

  /** Piece indices along a Hilbert curve through the pieces' bounding box: neighbours follow each other. */
  private order(): Uint32Array {
    const n = this.pieces;
    if (this.orderBuffer.length < n) {
      this.orderBuffer = new Uint32Array(n * 2);
      this.keys = new Float64Array(n * 2);
      this.centres = new Float64Array(n * 4);
    }
    const order = this.orderBuffer.subarray(0, n);
    for (let p = 0; p < n; p++) order[p] = p;
    if (n <= 2) return order;
    const xy = this.coords.data;
    const cxy = this.centres;
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let p = 0; p < n; p++) {
      const s = this.start.data[p];
      const m = this.count.data[p];
      let sx = 0;
      let sy = 0;
      for (let t = 0; t < m; t++) {
        sx += xy[2 * (s + t)];
        sy += xy[2 * (s + t) + 1];
      }
      const x = (cxy[2 * p] = sx / m);
      const y = (cxy[2 * p + 1] = sy / m);
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    const sx = x1 > x0 ? 65535 / (x1 - x0) : 0;
    const sy = y1 > y0 ? 65535 / (y1 - y0) : 0;
    const keys = this.keys;
    for (let p = 0; p < n; p++)
      keys[p] = hilbertIndex(Math.round((cxy[2 * p] - x0) * sx), Math.round((cxy[2 * p + 1] - y0) * sy)) * 65536 + p;
    order.sort((a, b) => keys[a] - keys[b]);
    return order;
  }

  /** Appends every piece to `next` with the parent's pattern plus this layer's bits; returns the order used. */
  emit(next: CellList, patterns: Uint32Array, offset: number, words: number, layer: DenseLayer): Uint32Array {
    const xy = this.coords.data;
    const order = this.order();
    const shift = layer.bitOffset & 31;
    const firstWord = layer.bitOffset >>> 5;
    for (const p of order) {
      const s = this.start.data[p];
      const n = this.count.data[p];
      next.coords.reserve(n * 2);
      const target = next.coords.data;
      let at = next.coords.length;
      for (let t = 2 * s; t < 2 * (s + n); t++) target[at++] = xy[t];
      next.coords.length = at;
      next.starts.push(next.coords.length / 2);
      next.patterns.reserve(words);
      const out = next.patterns.data;
      const base = next.patterns.length;
      for (let w = 0; w < words; w++) out[base + w] = patterns[offset + w];
      for (let w = 0; w < this.stride; w++) {
        const value = this.bits[p * this.stride + w];
        if (value === 0) continue;
        out[base + firstWord + w] |= value << shift;
        if (shift !== 0 && firstWord + w + 1 < words) out[base + firstWord + w + 1] |= value >>> (32 - shift);
      }
      next.patterns.length += words;
    }
    return order;
  }

  /**
   * Output maps of the pieces (in emitted order) after the last bending layer: the tail T·diag(slope)·z + t,
   * or slope·z when the output layer itself bends; plus the skip term.
   */
  outputMaps(
    order: Uint32Array,
    maps: F64,
    z: Float64Array,
    layer: DenseLayer,
    tail: LinearTail | undefined,
    outputs: number,
    skip: Float64Array,
  ): void {
    if (tail) {
      this.tailMaps(order, maps, z, layer, tail, outputs, skip);
      return;
    }
    for (const p of order) {
      maps.reserve(outputs * 3);
      for (let k = 0; k < outputs; k++) {
        let a = skip[3 * k];
        let b = skip[3 * k + 1];
        let c = skip[3 * k + 2];
        const s = this.bit(p, k) ? layer.slopeOn : layer.slopeOff;
        a += s * z[3 * k];
        b += s * z[3 * k + 1];
        c += s * z[3 * k + 2];
        maps.data[maps.length++] = a;
        maps.data[maps.length++] = b;
        maps.data[maps.length++] = c;
      }
    }
  }
}

/** The affine layers after the last bending one, composed: output = T h + t with T outputs×(units of that layer). */
interface LinearTail {
  T: Float64Array;
  t: Float64Array;
}

function linearTail(layers: DenseLayer[], lastBend: number): LinearTail {
  const last = layers.length - 1;
  let T = Float64Array.from(layers[last].w);
  let t = Float64Array.from(layers[last].bias);
  let cols = layers[last].cols;
  for (let m = last - 1; m > lastBend; m--) {
    const inner = layers[m];
    const rows = t.length;
    const nextT = new Float64Array(rows * inner.cols);
    const nextt = Float64Array.from(t);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const tij = T[i * cols + j];
        nextt[i] += tij * inner.bias[j];
        for (let q = 0; q < inner.cols; q++) nextT[i * inner.cols + q] += tij * inner.w[j * inner.cols + q];
      }
    }
    T = nextT;
    t = nextt;
    cols = inner.cols;
  }
  return { T, t };
}

/** Position of (x, y) ∈ [0, 65536)² along the Hilbert curve of order 16. */
function hilbertIndex(x: number, y: number): number {
  let d = 0;
  for (let s = 32768; s > 0; s >>>= 1) {
    const rx = (x & s) > 0 ? 1 : 0;
    const ry = (y & s) > 0 ? 1 : 0;
    d += s * s * ((3 * rx) ^ ry);
    if (ry === 0) {
      if (rx === 1) {
        x = 65535 - x;
        y = 65535 - y;
      }
      const t = x;
      x = y;
      y = t;
    }
  }
  return d;
}

/** Signed area (shoelace) of n vertices starting at vertex index s. */
function polygonArea(xy: Float64Array, s: number, n: number): number {
  let area = 0;
  for (let t = 0; t < n; t++) {
    const t2 = t + 1 === n ? 0 : t + 1;
    area += xy[2 * (s + t)] * xy[2 * (s + t2) + 1] - xy[2 * (s + t2)] * xy[2 * (s + t) + 1];
  }
  return area / 2;
}

// ---------- Reading cells ----------

export function cellVertexCount(partition: Partition, index: number): number {
  return partition.polygonStart[index + 1] - partition.polygonStart[index];
}

/** Flat [u0, v0, u1, v1, …], counter-clockwise. */
export function cellPolygon(partition: Partition, index: number): number[] {
  const s = partition.polygonStart[index];
  return Array.from(partition.vertices.subarray(2 * s, 2 * partition.polygonStart[index + 1]));
}

export function cellArea(partition: Partition, index: number): number {
  return Math.abs(polygonArea(partition.vertices, partition.polygonStart[index], cellVertexCount(partition, index)));
}

/** Per layer, per unit sign bits (empty arrays for linear layers), comparable with patternAt(). */
export function cellPattern(partition: Partition, index: number): ActivationPattern {
  const base = index * partition.patternWords;
  let bit = 0;
  return partition.layerUnits.map((units) =>
    Array.from({ length: units }, () => {
      const b = bit++;
      return (partition.patterns[base + (b >>> 5)] >>> (b & 31)) & 1;
    }),
  );
}

/** A pattern (per layer, as patternAt gives it) packed like the partition's cells, to compare with cellPatternDistance. */
export function packPattern(partition: Partition, pattern: ActivationPattern): Uint32Array {
  const packed = new Uint32Array(partition.patternWords);
  let bit = 0;
  partition.layerUnits.forEach((units, l) => {
    for (let k = 0; k < units; k++, bit++) if (pattern[l][k]) packed[bit >>> 5] |= 1 << (bit & 31);
  });
  return packed;
}

/** Hamming distance between cell `index`'s pattern and a packed one: units on different sides. */
export function cellPatternDistance(partition: Partition, index: number, packed: Uint32Array): number {
  const words = partition.patternWords;
  let distance = 0;
  for (let w = 0; w < words; w++) distance += popcount(partition.patterns[index * words + w] ^ packed[w]);
  return distance;
}

/** f(u, v) = A (u, v) + b on the cell, A outputs×2. */
export function cellPlaneMap(partition: Partition, index: number): { A: Matrix; b: Vector } {
  const A: Matrix = [];
  const b: Vector = [];
  for (let k = 0; k < partition.outputDim; k++) {
    const m = (index * partition.outputDim + k) * 3;
    A.push([partition.planeMaps[m], partition.planeMaps[m + 1]]);
    b.push(partition.planeMaps[m + 2]);
  }
  return { A, b };
}

/**
 * f(x) = A x + b on the cell in input coordinates (A outputs×D). For D = 2 with independent e1, e2 it follows
 * from the plane map; otherwise from the cell's pattern (costs one pass through the weights).
 */
export function cellInputMap(network: FoldedNetwork, partition: Partition, index: number): { A: Matrix; b: Vector } {
  const { e1, e2, origin } = partition.plane;
  const det = partition.inputDim === 2 ? e1[0] * e2[1] - e1[1] * e2[0] : 0;
  if (partition.inputDim !== 2 || Math.abs(det) < 1e-12 * Math.hypot(...e1) * Math.hypot(...e2)) {
    return affineMapForPattern(network, cellPattern(partition, index));
  }
  // (u, v) = E⁻¹ (x − origin) with E = [e1 e2].
  const inv = [
    [e2[1] / det, -e2[0] / det],
    [-e1[1] / det, e1[0] / det],
  ];
  const plane = cellPlaneMap(partition, index);
  const A = plane.A.map(([au, av]) => [au * inv[0][0] + av * inv[1][0], au * inv[0][1] + av * inv[1][1]]);
  const b = plane.b.map((c, k) => c - A[k][0] * origin[0] - A[k][1] * origin[1]);
  return { A, b };
}

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
  const tol = 1e-12 * Math.max(u1 - u0, v1 - v0, Math.abs(u0), Math.abs(u1), Math.abs(v0), Math.abs(v1));
  if (!(u >= u0 - tol && u <= u1 + tol && v >= v0 - tol && v <= v1 + tol)) return -1;
  const grid = gridOf(partition);
  const side = grid.side;
  const x = Math.max(0, Math.min(side - 1, Math.floor(((u - u0) / (u1 - u0)) * side)));
  const y = Math.max(0, Math.min(side - 1, Math.floor(((v - v0) / (v1 - v0)) * side)));
  const xy = partition.vertices;
  let best = -1;
  let bestDepth = -Infinity;
  for (let k = grid.bucketStart[y * side + x]; k < grid.bucketStart[y * side + x + 1]; k++) {
    const i = grid.cells[k];
    const s = partition.polygonStart[i];
    const n = partition.polygonStart[i + 1] - s;
    // Smallest signed distance to an edge: ≥ 0 inside a counter-clockwise polygon.
    let depth = Infinity;
    for (let t = 0; t < n && depth >= bestDepth; t++) {
      const t2 = t + 1 === n ? 0 : t + 1;
      const ax = xy[2 * (s + t)];
      const ay = xy[2 * (s + t) + 1];
      const ex = xy[2 * (s + t2)] - ax;
      const ey = xy[2 * (s + t2) + 1] - ay;
      const len = Math.hypot(ex, ey);
      if (len === 0) continue;
      depth = Math.min(depth, (ex * (v - ay) - ey * (u - ax)) / len);
    }
    if (depth >= 0) return i;
    if (depth > bestDepth) {
      bestDepth = depth;
      best = i;
    }
  }
  return bestDepth >= -tol ? best : -1;
}

/** Smallest signed distance from (u, v) to the edges of cell i: ≥ 0 inside (counter-clockwise polygon). */
function depthIn(partition: Partition, i: number, u: number, v: number): number {
  const xy = partition.vertices;
  const s = partition.polygonStart[i];
  const n = partition.polygonStart[i + 1] - s;
  let depth = Infinity;
  for (let t = 0; t < n; t++) {
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
  const [[u0, u1], [v0, v1]] = partition.window;
  const tol = 1e-12 * Math.max(u1 - u0, v1 - v0, Math.abs(u0), Math.abs(u1), Math.abs(v0), Math.abs(v1));
  return points.every(([u, v]) => depthIn(partition, home, u, v) >= -tol) ? home : -1;
}
