// The companions inside training: swish and its anneal, learned β, orthogonality penalty and exact parametrisation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerOrthogonality } from '../../extension/police/analysis/orthogonality';
import { certify } from '../../extension/police/proof/certificate';
import { annealBeta } from '../../extension/police/training/companions';
import { orthonormalize } from '../../extension/police/training/orthogonal';
import { createRng } from '../../extension/police/common/random';
import type { ResolvedLayer, ResolvedRegion, ResolvedSpec, ResolvedTraining } from '../../extension/police/spec/types';
import { train } from '../../extension/police/training/train';
import { waveData } from './train-fixtures';
import { expectNoLeakedTensors, forEachBackend } from './tf-harness';

const triangle: ResolvedRegion = {
  name: 'triangle',
  vertices: [
    [-1, -1],
    [0, 1],
    [1, -1],
  ],
  constraint: { kind: 'affine' },
  form: 'vertices',
};

function spec(layers: ResolvedLayer[], training: Partial<ResolvedTraining> = {}): ResolvedSpec {
  return {
    name: 'companion',
    inputDim: 2,
    domain: [
      [-2, 2],
      [-2, 2],
    ],
    layers,
    outputUnits: 1,
    regions: [triangle],
    data: { task: 'regression', source: { kind: 'expression', expressions: ['sin(2*x0) + x1'] }, samples: 256, noise: 0, classes: 0 },
    training: { steps: 40, batch: 128, optimizer: 'adam', lr: 0.01, weightDecay: 0, seed: 0, snapshotEvery: 0, ...training },
    police: { enabled: true, rule: 'majority', margin: 1e-4 },
    baseDir: '.',
  };
}

const swish = (units: number, extra: Partial<ResolvedLayer> = {}): ResolvedLayer => ({
  units,
  activation: 'swish',
  alpha: 0,
  beta: 1,
  ...extra,
});

forEachBackend((backend) => {
  test('a swish network without anneal trains, keeps swish and β in network.json, and is certified approximate, never proved', () =>
    expectNoLeakedTensors(async () => {
      const s = spec([swish(12), swish(12)]);
      const result = await train(s, { data: waveData(256), backend });
      assert.deepEqual(
        result.network.layers.map((l) => [l.activation, l.beta]),
        [
          ['swish', 1],
          ['swish', 1],
          ['linear', undefined],
        ],
      );
      assert.ok(result.finalLoss < result.metrics[0].loss, 'the loss falls');
      const certificate = certify(result.network, s.regions);
      assert.equal(certificate.proved, false);
      assert.equal(certificate.regions[0].status, 'approximate');
    }));

  test('learned β: each unit gets its own β, changed by training', () =>
    expectNoLeakedTensors(async () => {
      const result = await train(spec([swish(8, { learnBeta: true })]), { data: waveData(256), backend });
      const beta = result.network.layers[0].beta;
      assert.ok(Array.isArray(beta) && beta.length === 8, `per-unit β, got ${JSON.stringify(beta)}`);
      assert.ok(
        beta.some((b) => Math.abs(b - 1) > 1e-4),
        'β moved from its initial value',
      );
    }));

  test('anneal: β rises geometrically to beta_end, the residual on R falls, and the exported hard-ReLU network is proved', () =>
    expectNoLeakedTensors(async () => {
      assert.equal(annealBeta(1, 100, { betaStart: 1, betaEnd: 1000 }), 1);
      assert.ok(Math.abs(annealBeta(100, 100, { betaStart: 1, betaEnd: 1000 }) - 1000) < 1e-9);
      const s = spec([swish(12), swish(12)], { steps: 60, anneal: { betaStart: 1, betaEnd: 1000 } });
      const result = await train(s, { data: waveData(256), backend });
      assert.deepEqual(
        result.network.layers.map((l) => l.activation),
        ['relu', 'relu', 'linear'],
      );
      assert.ok(certify(result.network, s.regions).proved, 'the hard network is proved affine on the triangle');
      const betas = result.metrics.map((row) => row.beta ?? NaN);
      assert.ok(
        betas.every((b, i) => i === 0 || b > betas[i - 1]),
        'β increases step by step',
      );
      assert.ok(Math.abs(betas[betas.length - 1] - 1000) < 1e-6);
      const residuals = result.metrics.filter((row) => row.residual !== undefined).map((row) => row.residual!);
      assert.ok(residuals.length >= 5, `residual measured ${residuals.length} times`);
      assert.ok(residuals[residuals.length - 1] < 0.1 * residuals[0], `residual ${residuals[0]} → ${residuals[residuals.length - 1]}`);
      assert.equal(result.initialNetwork?.layers[0].activation, 'swish');
    }));

  test('exact orthogonal parametrisation: ‖WWᵀ − I‖ < 1e-5 for the square hidden layer, columns orthonormal for the wide one', () =>
    expectNoLeakedTensors(async () => {
      const s = spec(
        [
          { units: 8, activation: 'leaky_relu', alpha: 0.01 },
          { units: 8, activation: 'leaky_relu', alpha: 0.01 },
          { units: 4, activation: 'leaky_relu', alpha: 0.01 },
        ],
        { orthogonality: { kind: 'exact' } },
      );
      const result = await train(s, { data: waveData(256), backend });
      assert.ok(result.finalLoss < result.metrics[0].loss, 'the loss falls');
      const [first, square, narrow] = result.network.layers.map((l) => l.weights);
      assert.ok(layerOrthogonality(square).distanceToIdentity < 1e-5, `square: ${layerOrthogonality(square).distanceToIdentity}`);
      assert.ok(layerOrthogonality(narrow).distanceToIdentity < 1e-5, `4×8 rows: ${layerOrthogonality(narrow).distanceToIdentity}`);
      // 8 units on 2 inputs: WᵀW = I₂ instead.
      const columns = [0, 1].map((j) => first.map((row) => row[j]));
      assert.ok(layerOrthogonality(columns).distanceToIdentity < 1e-5);
      assert.ok(certify(result.network, s.regions).proved);
    }));

  test('orthogonality penalty: the trained filters end closer to orthogonal than without it', () =>
    expectNoLeakedTensors(async () => {
      const layers: ResolvedLayer[] = [
        { units: 8, activation: 'leaky_relu', alpha: 0.01 },
        { units: 8, activation: 'leaky_relu', alpha: 0.01 },
      ];
      const plain = await train(spec(layers), { data: waveData(256), backend });
      const penalised = await train(spec(layers, { orthogonality: { kind: 'penalty', lambda: 1 } }), { data: waveData(256), backend });
      const metric = (r: typeof plain) => layerOrthogonality(r.network.layers[1].weights).metric;
      const before = layerOrthogonality(penalised.initialNetwork!.layers[1].weights).metric;
      assert.ok(metric(penalised) < 0.5 * metric(plain), `with penalty ${metric(penalised)}, without ${metric(plain)}`);
      assert.ok(metric(penalised) < before, `at init ${before}, after ${metric(penalised)}`);
    }));
});

test('orthonormalize: Gram–Schmidt in float64 gives orthonormal columns (tall) or rows (wide)', () => {
  const rng = createRng(5);
  for (const [rows, cols] of [
    [6, 4],
    [3, 7],
  ]) {
    const values = Float32Array.from({ length: rows * cols }, () => rng.normal());
    const out = orthonormalize(values, rows, cols);
    const matrix = Array.from({ length: rows }, (_, i) => Array.from(out.subarray(i * cols, i * cols + cols)));
    const vectors = cols <= rows ? Array.from({ length: cols }, (_, j) => matrix.map((r) => r[j])) : matrix;
    assert.ok(layerOrthogonality(vectors).distanceToIdentity < 1e-6);
  }
});
