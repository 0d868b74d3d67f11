// The plane maps of every layer's pre-activations for the current cell, moved from cell to cell by rank-one updates.
import type { DenseLayer } from './layers';
import { matvec, popcount } from './kernels';

/** Incremental map updates between full recomputations, to keep rounding drift far below 1e-9. */
const REFRESH_EVERY = 1024;
/** Rank-one terms carried from one layer to the next before a full recomputation is cheaper. */
const MAX_TERMS = 8;

/**
 * The plane maps of every layer's pre-activations for one current pattern, moved from pattern to pattern by
 * rank-one updates (a flipped unit changes the next layer's map by one outer product), with full recomputation
 * when deeper layers changed too much or after REFRESH_EVERY updates.
 */
export class MapState {
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
