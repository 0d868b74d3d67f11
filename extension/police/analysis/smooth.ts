// Smooth activations (β-VQ view): how far from affine a network is on a region, and how that falls as β grows.
import { affineResidual, type ResidualOptions } from '../network/affine-residual';
import type { FoldedNetwork, NetworkLayer } from '../network/network';
import { isAnnealable, isSmoothActivation } from '../spec/activations';
import type { Matrix } from '../spec/types';

/** True when some layer has a smooth activation, so POLICE's guarantee is approximate. */
export function hasSmoothLayers(network: FoldedNetwork): boolean {
  return network.layers.some((layer) => isSmoothActivation(layer.activation));
}

/** True when some layer has a β (swish, softplus) that an anneal can drive to a hard ReLU. */
export function hasAnnealableLayers(network: FoldedNetwork): boolean {
  return network.layers.some((layer) => isAnnealable(layer.activation));
}

/** The network with every swish/softplus β replaced (β = Infinity gives the hard ReLU limit). */
export function withBeta(network: FoldedNetwork, beta: number): FoldedNetwork {
  return {
    ...network,
    layers: network.layers.map((layer): NetworkLayer => {
      if (!isAnnealable(layer.activation)) return layer;
      if (beta === Infinity) return { weights: layer.weights, bias: layer.bias, activation: 'relu' };
      return { ...layer, beta };
    }),
  };
}

/** swish and softplus become ReLU (their β → ∞ limit); sigmoid and tanh have no piecewise-affine limit and stay. */
export function hardened(network: FoldedNetwork): FoldedNetwork {
  return withBeta(network, Infinity);
}

export interface BetaPoint {
  /** null stands for β = ∞ (JSON has no Infinity). */
  beta: number | null;
  maxResidual: number;
}

export const DEFAULT_BETAS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** Residual on the region for the same weights with β swept (every unit set to the same β), then the hard limit. */
export function residualVersusBeta(
  network: FoldedNetwork,
  vertices: Matrix,
  betas = DEFAULT_BETAS,
  options: ResidualOptions = {},
): BetaPoint[] {
  const points: BetaPoint[] = betas.map((beta) => ({
    beta,
    maxResidual: affineResidual(withBeta(network, beta), vertices, options).maxResidual,
  }));
  points.push({ beta: null, maxResidual: affineResidual(hardened(network), vertices, options).maxResidual });
  return points;
}
