// The folded network in plain JSON (`network.json`, format police-network/1) and its float64 forward pass.
import { ACTIVATIONS, type NetworkActivation } from '../spec/activations';
import type { Matrix, Vector } from '../spec/types';

export interface NetworkLayer {
  /** K×D: weights[i][j] multiplies input j for output i. */
  weights: Matrix;
  bias: Vector;
  activation: NetworkActivation;
  /** Negative slope, for leaky_relu only. */
  alpha?: number;
  /** Inverse temperature of swish x·sigmoid(βx) (and softplus log(1+e^{βx})/β): one value or one per unit; 1 when absent. */
  beta?: number | Vector;
}

export interface FoldedNetwork {
  format: 'police-network/1';
  input_dim: number;
  output_dim: number;
  layers: NetworkLayer[];
  /** Global linear skip added to the output (exact Eq. 1 / Eq. 2): f(x) = layers(x) + W x + b. */
  skip?: { weights: Matrix; bias: Vector };
  /** The training step these weights were taken at (a run's network.json: the kept step); not part of the weights hash. */
  step?: number;
}

export function activate(value: number, activation: NetworkActivation, alpha = 0, beta = 1): number {
  return ACTIVATIONS[activation].float64(value, alpha, beta);
}

/** β of one unit of a layer (per-unit array, one shared value, or 1). */
export function unitBeta(layer: NetworkLayer, unit: number): number {
  const beta = layer.beta;
  if (beta === undefined) return 1;
  return typeof beta === 'number' ? beta : beta[unit];
}

/** One dense layer's pre-activation W x + b, in float64. */
export function affine(weights: Matrix, bias: Vector, x: Vector): Vector {
  const out = new Array<number>(weights.length);
  for (let i = 0; i < weights.length; i++) {
    const row = weights[i];
    let sum = bias[i];
    for (let j = 0; j < row.length; j++) sum += row[j] * x[j];
    out[i] = sum;
  }
  return out;
}

/** f(x) in float64, skip included; also returns every hidden layer's pre-activations when asked. */
export function forward(network: FoldedNetwork, x: Vector, preActivations?: Vector[]): Vector {
  let h = x;
  for (const layer of network.layers) {
    const z = affine(layer.weights, layer.bias, h);
    preActivations?.push(z);
    h = z.map((v, unit) => activate(v, layer.activation, layer.alpha ?? 0, unitBeta(layer, unit)));
  }
  if (network.skip) {
    const s = affine(network.skip.weights, network.skip.bias, x);
    h = h.map((v, i) => v + s[i]);
  }
  return h;
}
