import assert from 'node:assert/strict';
import { test } from 'node:test';
import { affineResidual } from '../../extension/police/network/affine-residual';
import { hardened, residualVersusBeta } from '../../extension/police/analysis/smooth';
import { activate, forward, type FoldedNetwork } from '../../extension/police/network/network';

test('swish at β = 500 is within 1e-3 of ReLU on [−1, 1] (and softplus at β = 500 too)', () => {
  let worstSwish = 0;
  let worstSoftplus = 0;
  for (let i = 0; i <= 20000; i++) {
    const x = -1 + i / 10000;
    worstSwish = Math.max(worstSwish, Math.abs(activate(x, 'swish', 0, 500) - Math.max(x, 0)));
    worstSoftplus = Math.max(worstSoftplus, Math.abs(activate(x, 'softplus', 0, 500) - Math.max(x, 0)));
  }
  assert.ok(worstSwish < 1e-3, `swish off by ${worstSwish}`);
  assert.ok(worstSwish > 1e-4, 'swish is still smooth at β = 500');
  assert.ok(worstSoftplus < 2e-3, `softplus off by ${worstSoftplus}`);
  assert.ok(Math.abs(activate(-800, 'swish', 0, 1)) < 1e-300 && Number.isFinite(activate(800, 'softplus', 0, 1)));
});

// One hidden layer whose units change sign inside the square [−1, 1]²: ReLU is not affine there, swish is smooth.
const square = [
  [-1, -1],
  [1, -1],
  [1, 1],
  [-1, 1],
];
function swishNet(bias: number[], beta: number | number[]): FoldedNetwork {
  return {
    format: 'police-network/1',
    input_dim: 2,
    output_dim: 1,
    layers: [
      {
        weights: [
          [1, 0.5],
          [-0.3, 1],
          [0.8, -0.6],
        ],
        bias,
        activation: 'swish',
        beta,
      },
      { weights: [[1, -0.7, 0.4]], bias: [0.1], activation: 'linear' },
    ],
  };
}

test('with every unit on one side of 0 over R (a POLICE-like shift), the residual falls to 0 as β → ∞', () => {
  const shifted = swishNet([2, 1.5, 1.6], 1);
  const curve = residualVersusBeta(shifted, square, [1, 5, 50, 500], { samples: 200 });
  assert.equal(curve.length, 5);
  for (let i = 1; i < curve.length; i++) assert.ok(curve[i].maxResidual <= curve[i - 1].maxResidual + 1e-12, `not decreasing at ${i}`);
  assert.ok(curve[0].maxResidual > 1e-3, 'soft swish is visibly non-affine');
  assert.equal(curve[4].beta, null);
  assert.ok(curve[4].maxResidual < 1e-12, `hard limit residual ${curve[4].maxResidual}`);
});

test('without the shift the hard limit stays non-affine: the residual measures a real kink', () => {
  const unshifted = swishNet([0, 0, 0], [1, 2, 3]);
  const hard = affineResidual(hardened(unshifted), square, { samples: 400 });
  assert.ok(hard.maxResidual > 0.05, `residual ${hard.maxResidual}`);
  assert.equal(hardened(unshifted).layers[0].activation, 'relu');
});

test('per-unit β is honoured by the forward pass', () => {
  const net = swishNet([0, 0, 0], [1, 1000, 1]);
  const h = forward({ ...net, layers: [net.layers[0]], output_dim: 3 }, [-0.5, -0.5]);
  const z1 = -0.3 * -0.5 + -0.5;
  assert.ok(Math.abs(h[1] - Math.max(z1, 0)) < 1e-9, 'unit 2 at β = 1000 is nearly ReLU');
  const z0 = -0.5 + 0.5 * -0.5;
  assert.ok(Math.abs(h[0] - z0 / (1 + Math.exp(-z0))) < 1e-15);
});
