// Small numeric kernels of the partition's inner loops: bit counts, a matrix-vector product, polygon area, Hilbert order.

/** Set bits in a 32-bit word. */
export function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** out[o + i] = Σ_j w[i·cols + j] x[j], with four partial sums (independent additions pipeline better). */
export function matvec(w: Float64Array | Float32Array, rows: number, cols: number, x: Float64Array, out: Float64Array, o: number): void {
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

/** Position of (x, y) ∈ [0, 65536)² along the Hilbert curve of order 16. */
export function hilbertIndex(x: number, y: number): number {
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
export function polygonArea(xy: Float64Array, s: number, n: number): number {
  let area = 0;
  for (let t = 0; t < n; t++) {
    const t2 = t + 1 === n ? 0 : t + 1;
    area += xy[2 * (s + t)] * xy[2 * (s + t2) + 1] - xy[2 * (s + t2)] * xy[2 * (s + t) + 1];
  }
  return area / 2;
}
