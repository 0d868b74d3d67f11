// A one-hidden-layer network whose exact partition is easy to build by hand (the window cut by its unit lines).
import type { FoldedNetwork } from '../../extension/police/network';
import { patternAt, type PlaneCell } from '../../extension/host/view/surface';
import { clipPolygon } from '../../webview/geometry';

export type Window2 = [[number, number], [number, number]];

export function oneLayerNetwork(outputRows: number[][] = [[0.8, -1.1, 0.6]], outputBias: number[] = [0.2]): FoldedNetwork {
  return {
    format: 'police-network/1',
    input_dim: 2,
    output_dim: outputRows.length,
    layers: [
      { weights: [[1, 0.3], [-0.4, 1], [0.7, -0.7]], bias: [2, 1.5, -2.4], activation: 'leaky_relu', alpha: 0.1 },
      { weights: outputRows, bias: outputBias, activation: 'linear' },
    ],
  };
}

/** Cells of a one-hidden-layer leaky-ReLU network on a window, each with its pattern and affine map. */
export function exactCells(network: FoldedNetwork, window: Window2): PlaneCell[] {
  const [[u0, u1], [v0, v1]] = window;
  const hidden = network.layers[0];
  const out = network.layers[1];
  let polygons = [[u0, v0, u1, v0, u1, v1, u0, v1]];
  hidden.weights.forEach((w, k) => {
    const b = hidden.bias[k];
    polygons = polygons.flatMap((p) => [clipPolygon(p, w[0], w[1], b), clipPolygon(p, -w[0], -w[1], -b)]).filter((p) => p.length >= 6);
  });
  return polygons.map((polygon) => {
    const n = polygon.length / 2;
    const center = [0, 1].map((d) => polygon.filter((_, i) => i % 2 === d).reduce((s, x) => s + x, 0) / n);
    const pattern = patternAt(network, center);
    const slopes = pattern.split('').map((bit) => (bit === '1' ? 1 : (hidden.alpha ?? 0)));
    const A = out.weights.map((row) => [0, 1].map((d) => hidden.weights.reduce((s, w, k) => s + row[k] * slopes[k] * w[d], 0)));
    const b = out.weights.map((row, o) => hidden.bias.reduce((s, bk, k) => s + row[k] * slopes[k] * bk, out.bias[o]));
    return { polygon, pattern, A, b };
  });
}
