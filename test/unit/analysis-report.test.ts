import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze, renderMarkdown } from '../../extension/police/analysis/report';
import type { FoldedNetwork } from '../../extension/police/network/network';
import type { ResolvedRegion } from '../../extension/police/spec/types';

const region: ResolvedRegion = {
  name: 'square',
  vertices: [
    [-1, -1],
    [1, -1],
    [1, 1],
    [-1, 1],
  ],
  constraint: { kind: 'affine' },
  form: 'box',
};
// [B; −DB] hidden layer, shifted so every unit keeps one sign on the square (as POLICE would leave it).
const hidden = [
  [2, 1],
  [-0.5, 1.5],
  [-1, -0.5],
  [1.5, -4.5],
];
function network(activation: 'relu' | 'swish'): FoldedNetwork {
  return {
    format: 'police-network/1',
    input_dim: 2,
    output_dim: 1,
    layers: [
      { weights: hidden, bias: [4, 3, 2, 7], activation, beta: activation === 'swish' ? 2 : undefined },
      { weights: [[1, -1, 0.5, 0.25]], bias: [0], activation: 'linear' },
    ],
  };
}

test('a ReLU run: exact residual ~0, the injective first layer is proved, the Markdown says so', () => {
  const initial = network('relu');
  const report = analyze(
    network('relu'),
    { name: 'demo', regions: [region] },
    {
      initialNetwork: {
        ...initial,
        layers: [
          {
            ...initial.layers[0],
            weights: [
              [1, 0],
              [1, 0.1],
              [0, 1],
              [0.2, 1],
            ],
          },
          initial.layers[1],
        ],
      },
      createdAt: 'T',
    },
  );
  assert.equal(report.smooth.approximate, false);
  assert.ok(report.smooth.regions[0].maxResidual < 1e-12);
  assert.equal(report.smooth.regions[0].betaSweep, undefined);
  assert.equal(report.injectivity.layers[0].verdict, 'injective');
  assert.equal(report.injectivity.network.verdict, 'not-injective');
  assert.ok(report.orthogonality[0].metricBefore! > 0 && report.orthogonality[0].metric > 0);
  const md = renderMarkdown(report);
  assert.match(md, /\| 1 \| relu \| 2 → 4 \| 4 \| injective \(proved\) \| exact-wedges \|/);
  assert.match(md, /cannot be injective/);
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(report)));
});

test('a swish run is reported approximate, with a β sweep that reaches the hard limit', () => {
  const report = analyze(network('swish'), { name: 'demo', regions: [region] }, { samples: 100 });
  const r = report.smooth.regions[0];
  assert.equal(r.kind, 'approximate');
  assert.ok(r.maxResidual > 1e-3);
  const sweep = r.betaSweep!;
  assert.equal(sweep[sweep.length - 1].beta, null);
  assert.ok(sweep[sweep.length - 1].maxResidual < 1e-12);
  assert.equal(report.injectivity.layers[0].verdict, 'undecided');
  const md = renderMarkdown(report);
  assert.match(md, /\*\*approximate\*\*/);
  assert.match(md, /\| β \| 1 \| 2 \| 5 .* \| ∞ \|/);
});
