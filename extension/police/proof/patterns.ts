// Activation patterns of a folded network and the affine map a pattern fixes (shared by certificate and partition).
import type { FoldedNetwork, NetworkLayer } from '../network/network';
import { ACTIVATIONS } from '../spec/activations';
import type { Matrix, Vector } from '../spec/types';

/** Per layer, per unit: 1 when the pre-activation is on the positive (≥ 0) side, else 0; empty for linear layers. */
export type ActivationPattern = number[][];

/** Whether a layer bends (has sign bits in a pattern). */
export function bends(layer: NetworkLayer): boolean {
  return layer.activation !== 'linear';
}

/** The slope of the activation's piece on the positive (bit 1) or negative (bit 0) side. */
export function slope(layer: NetworkLayer, bit: number): number {
  return ACTIVATIONS[layer.activation].slope(bit, layer.alpha ?? 0);
}

/** The activation pattern at input x (float64). */
export function patternAt(network: FoldedNetwork, x: Vector): ActivationPattern {
  const pre: Vector[] = [];
  let h = x;
  for (const layer of network.layers) {
    const z = layer.weights.map((row, i) => row.reduce((s, w, j) => s + w * h[j], layer.bias[i]));
    pre.push(z);
    h = z.map((v, i) => slope(layer, v >= 0 ? 1 : 0) * z[i]);
  }
  return network.layers.map((layer, l) => (bends(layer) ? pre[l].map((v) => (v >= 0 ? 1 : 0)) : []));
}

/** Hamming distance between two patterns of the same network (units that switched side). */
export function patternDistance(a: ActivationPattern, b: ActivationPattern): number {
  if (a.length !== b.length) throw new Error(`patternDistance: patterns have ${a.length} and ${b.length} layers`);
  let d = 0;
  for (let l = 0; l < a.length; l++) {
    if (a[l].length !== b[l].length) throw new Error(`patternDistance: layer ${l} has ${a[l].length} and ${b[l].length} units`);
    for (let k = 0; k < a[l].length; k++) if (a[l][k] !== b[l][k]) d++;
  }
  return d;
}

/**
 * The affine map f(x) = A x + b that the network computes wherever its pattern is `pattern`
 * (skip included). The Jacobian is built from the output side, which costs K·ΣW_l·W_{l−1} for K outputs.
 */
export function affineMapForPattern(network: FoldedNetwork, pattern: ActivationPattern): { A: Matrix; b: Vector } {
  const layers = network.layers;
  const slopes = layers.map((layer, l) =>
    bends(layer) ? layer.bias.map((_, k) => slope(layer, pattern[l]?.[k] ?? 1)) : layer.bias.map(() => 1),
  );
  // b: the network with its pattern frozen, evaluated at x = 0.
  let m: Vector = new Array<number>(network.input_dim).fill(0);
  layers.forEach((layer, l) => {
    m = layer.weights.map((row, i) => slopes[l][i] * row.reduce((s, w, j) => s + w * m[j], layer.bias[i]));
  });
  // A: rows of the output layer pulled back through diag(slope) W, layer by layer.
  let rows: Matrix = layers.length
    ? layers[layers.length - 1].weights.map((row, i) => row.map((w) => w * slopes[layers.length - 1][i]))
    : [];
  for (let l = layers.length - 2; l >= 0; l--) {
    const w = layers[l].weights;
    const s = slopes[l];
    const inputs = w.length ? w[0].length : 0;
    rows = rows.map((r) => {
      const out = new Array<number>(inputs).fill(0);
      for (let k = 0; k < r.length; k++) {
        const c = r[k] * s[k];
        if (c === 0) continue;
        const wk = w[k];
        for (let j = 0; j < inputs; j++) out[j] += c * wk[j];
      }
      return out;
    });
  }
  const A = rows.map((r) => r.slice());
  const b = m.slice();
  if (network.skip) {
    network.skip.weights.forEach((r, i) => r.forEach((w, j) => (A[i][j] += w)));
    network.skip.bias.forEach((v, i) => (b[i] += v));
  }
  return { A, b };
}
