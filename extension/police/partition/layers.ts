// The network as the partition reads it: flat row-major weights per layer, each layer's two slopes and bit offset.
import type { FoldedNetwork } from '../network/network';
import { bends, slope } from '../proof/patterns';

/** One network layer in flat arrays, with the slopes of its two activation sides and where its bits start in a pattern. */
export interface DenseLayer {
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

/** Every layer of the network as a DenseLayer; bitCount is the number of pattern bits (units of bending layers). */
export function denseLayers(network: FoldedNetwork): { layers: DenseLayer[]; bitCount: number } {
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
  return { layers, bitCount };
}

/** The affine layers after the last bending one, composed: output = T h + t with T outputs×(units of that layer). */
export interface LinearTail {
  T: Float64Array;
  t: Float64Array;
}

export function linearTail(layers: DenseLayer[], lastBend: number): LinearTail {
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
