// Hand-made folded networks shared by the proof and CLI tests.
import type { FoldedNetwork } from '../../extension/police/network/network';

/**
 * f(x) = x0 + 2 x1 + 15.5 where both hidden units stay positive (x0 + 5 > 0, x1 + secondBias > 0): affine on the
 * triangle and on the corner box [2, 3]² with the default bias; a smaller `secondBias` puts a kink inside the triangle.
 */
export function affineOnTriangle(secondBias = 5): FoldedNetwork {
  return {
    format: 'police-network/1',
    input_dim: 2,
    output_dim: 1,
    layers: [
      {
        weights: [
          [1, 0],
          [0, 1],
        ],
        bias: [5, secondBias],
        activation: 'leaky_relu',
        alpha: 0.01,
      },
      { weights: [[1, 2]], bias: [0.5], activation: 'linear' },
    ],
  };
}
