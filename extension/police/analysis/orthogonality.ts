// How far each layer's filters (rows of W) are from orthogonal: the β-VQ paper's Table 2 penalty, measured.
import type { FoldedNetwork } from '../network/network';
import type { Matrix } from '../spec/types';

export interface LayerOrthogonality {
  /** 0-based index into network.layers. */
  layer: number;
  units: number;
  /** Inputs of the layer: with more units than inputs the rows cannot all be orthogonal. */
  inputs: number;
  /** ‖WWᵀ − diag(WWᵀ)‖_F / ‖WWᵀ‖_F: 0 for orthogonal rows, towards 1 when off-diagonal terms dominate. */
  metric: number;
  /** Σ_{k≠k'} ⟨w_k, w_k'⟩², the training penalty without λ. */
  penalty: number;
  /** ‖WWᵀ − I‖_F: 0 only for orthonormal rows (what the exact parametrisation gives). */
  distanceToIdentity: number;
  /** WWᵀ (units×units), present when units ≤ GRAM_MAX_UNITS. */
  gram?: Matrix;
  /** Cosines ⟨w_k, w_k'⟩ / (‖w_k‖‖w_k'‖), the scale-free heat-map; same condition as gram. */
  cosine?: Matrix;
}

/** Above this many units the Gram matrix is left out of the report (the heat-map would be unreadable anyway). */
export const GRAM_MAX_UNITS = 64;

/** W Wᵀ for W given as rows. */
export function gramMatrix(weights: Matrix): Matrix {
  const k = weights.length;
  const g: Matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let s = 0;
      const a = weights[i];
      const b = weights[j];
      for (let d = 0; d < a.length; d++) s += a[d] * b[d];
      g[i][j] = s;
      g[j][i] = s;
    }
  }
  return g;
}

export function layerOrthogonality(weights: Matrix, layer = 0, keepGram = weights.length <= GRAM_MAX_UNITS): LayerOrthogonality {
  const g = gramMatrix(weights);
  let off = 0;
  let total = 0;
  let identity = 0;
  for (let i = 0; i < g.length; i++) {
    for (let j = 0; j < g.length; j++) {
      const v = g[i][j];
      total += v * v;
      if (i !== j) off += v * v;
      identity += (v - (i === j ? 1 : 0)) ** 2;
    }
  }
  const result: LayerOrthogonality = {
    layer,
    units: weights.length,
    inputs: weights.length ? weights[0].length : 0,
    metric: total > 0 ? Math.sqrt(off / total) : 0,
    penalty: off,
    distanceToIdentity: Math.sqrt(identity),
  };
  if (keepGram) {
    result.gram = g;
    const scale = g.map((row, i) => Math.sqrt(row[i]));
    result.cosine = g.map((row, i) => row.map((v, j) => (scale[i] > 0 && scale[j] > 0 ? v / (scale[i] * scale[j]) : 0)));
  }
  return result;
}

/** Every layer of the network, output layer included (its rows are the output templates). */
export function analyzeOrthogonality(network: FoldedNetwork): LayerOrthogonality[] {
  return network.layers.map((layer, index) => layerOrthogonality(layer.weights, index));
}
