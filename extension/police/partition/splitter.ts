// Splits one cell by every unit of one layer, orders the pieces along a Hilbert curve, and writes their output maps.
import { F64, U32, type CellList } from './buffers';
import { hilbertIndex, polygonArea, popcount } from './kernels';
import type { DenseLayer, LinearTail } from './layers';

/** A classification tolerance relative to the size of the affine function on the window. */
const RELATIVE_EPS = 1e-10;
/** A split that leaves a side with less than this fraction of the cell's area is not made (the sliver joins its neighbour). */
const SLIVER_FRACTION = 1e-12;

/** Splits one cell by all units of one layer; pieces live in reusable scratch arrays. */
export class Splitter {
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
