// A one-hidden-layer network whose exact partition is easy to build by hand (the window cut by its unit lines).
import type { FoldedNetwork } from '../../extension/police/network/network';
import { patternAt, type Partition } from '../../extension/police/partition/partition';
import { clipPolygon } from '../../extension/common/view-geometry';

export type Window2 = [[number, number], [number, number]];

export function oneLayerNetwork(outputRows: number[][] = [[0.8, -1.1, 0.6]], outputBias: number[] = [0.2]): FoldedNetwork {
  return {
    format: 'police-network/1',
    input_dim: 2,
    output_dim: outputRows.length,
    layers: [
      {
        weights: [
          [1, 0.3],
          [-0.4, 1],
          [0.7, -0.7],
        ],
        bias: [2, 1.5, -2.4],
        activation: 'leaky_relu',
        alpha: 0.1,
      },
      { weights: outputRows, bias: outputBias, activation: 'linear' },
    ],
  };
}

/**
 * The exact partition of a one-hidden-layer leaky-ReLU network on a window (identity plane), built by hand
 * by clipping the window with each unit's line: an oracle independent of the engine's partitionPlane.
 */
export function exactPartition(network: FoldedNetwork, window: Window2): Partition {
  const [[u0, u1], [v0, v1]] = window;
  const hidden = network.layers[0];
  const out = network.layers[1];
  let polygons = [[u0, v0, u1, v0, u1, v1, u0, v1]];
  hidden.weights.forEach((w, k) => {
    const b = hidden.bias[k];
    polygons = polygons.flatMap((p) => [clipPolygon(p, w[0], w[1], b), clipPolygon(p, -w[0], -w[1], -b)]).filter((p) => p.length >= 6);
  });
  const units = hidden.weights.length;
  const words = Math.ceil(units / 32);
  const polygonStart = new Uint32Array(polygons.length + 1);
  const patterns = new Uint32Array(polygons.length * words);
  const planeMaps: number[] = [];
  polygons.forEach((polygon, i) => {
    polygonStart[i + 1] = polygonStart[i] + polygon.length / 2;
    const n = polygon.length / 2;
    const center = [0, 1].map((d) => polygon.filter((_, q) => q % 2 === d).reduce((s, x) => s + x, 0) / n);
    const bits = patternAt(network, center)[0];
    bits.forEach((bit, k) => {
      if (bit) patterns[i * words + (k >>> 5)] |= 1 << (k & 31);
    });
    const slopes = bits.map((bit) => (bit === 1 ? 1 : (hidden.alpha ?? 0)));
    out.weights.forEach((row, o) => {
      const a = [0, 1].map((d) => hidden.weights.reduce((s, w, k) => s + row[k] * slopes[k] * w[d], 0));
      planeMaps.push(
        a[0],
        a[1],
        hidden.bias.reduce((s, bk, k) => s + row[k] * slopes[k] * bk, out.bias[o]),
      );
    });
  });
  return {
    inputDim: 2,
    outputDim: out.weights.length,
    plane: { origin: [0, 0], e1: [1, 0], e2: [0, 1] },
    window,
    layerUnits: [units, 0],
    cellCount: polygons.length,
    polygonStart,
    vertices: Float64Array.from(polygons.flat()),
    patternWords: words,
    patterns,
    planeMaps: Float64Array.from(planeMaps),
  };
}
