// Folding: the folded network equals the training-time POLICE forward, keeps the vertices on one side, and exports to tfjs exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { exportLayersModel, loadExportedModel } from '../../extension/police/io/export';
import { currentShifts, foldNetwork } from '../../extension/police/training/fold';
import {
  buildPoliceContext,
  createMlp,
  disposeMlp,
  disposePoliceTensors,
  forwardPolice,
  policeTensors,
} from '../../extension/police/training/model';
import { forward, type FoldedNetwork } from '../../extension/police/network/network';
import { createRng } from '../../extension/police/common/random';
import type { ResolvedLayer, ResolvedRegion, ResolvedSpec } from '../../extension/police/spec/types';
import { expectNoLeakedTensors, forEachBackend } from './tf-harness';

function makeSpec(layers: ResolvedLayer[], regions: ResolvedRegion[], outputUnits = 2, inputDim = 2): ResolvedSpec {
  return {
    name: 'fold-test',
    inputDim,
    domain: Array.from({ length: inputDim }, () => [-3, 3] as [number, number]),
    layers,
    outputUnits,
    regions,
    data: { task: 'regression', source: { kind: 'expression', expressions: ['x0'] }, samples: 64, noise: 0, classes: 0 },
    training: { steps: 10, batch: 32, optimizer: 'adam', lr: 1e-3, weightDecay: 0, seed: 0, snapshotEvery: 0 },
    police: { enabled: true, rule: 'majority', margin: 1e-4 },
    baseDir: '.',
  };
}

const triangle: ResolvedRegion = {
  name: 'triangle',
  vertices: [
    [-1, -1],
    [0, 1.5],
    [1, -1],
  ],
  constraint: { kind: 'affine' },
  form: 'vertices',
};
const corner: ResolvedRegion = {
  name: 'corner',
  vertices: [
    [2, 2],
    [3, 2],
    [2, 3],
    [3, 3],
  ],
  constraint: {
    kind: 'affine_map',
    A: [
      [0.5, -0.25],
      [1, 2],
    ],
    b: [0.1, -0.3],
  },
  form: 'box',
};

function randomPoints(count: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => [rng.uniform(-3, 3), rng.uniform(-3, 3)]);
}

function signPatternsAgree(network: FoldedNetwork, vertices: number[][]): boolean {
  const patterns = vertices.map((v) => {
    const pre: number[][] = [];
    forward(network, v, pre);
    return pre.slice(0, -1).map((z) => z.map((value) => value > 0));
  });
  return patterns.every((p) => JSON.stringify(p) === JSON.stringify(patterns[0]));
}

forEachBackend(() => {
  test('the folded network computes what the training-time POLICE forward computes, skip included', () =>
    expectNoLeakedTensors(async () => {
      const spec = makeSpec(
        [
          { units: 24, activation: 'leaky_relu', alpha: 0.1 },
          { units: 24, activation: 'abs', alpha: 0 },
          { units: 16, activation: 'relu', alpha: 0 },
        ],
        [triangle, corner],
      );
      const mlp = createMlp({ inputDim: 2, layers: spec.layers, outputUnits: 2 }, 5);
      const police = policeTensors(buildPoliceContext(spec), 2);
      const network = await foldNetwork(mlp, police);
      const points = randomPoints(50, 9);
      const trained = tf.tidy(() => forwardPolice(mlp, tf.tensor2d(points), police).output.arraySync());
      points.forEach((p, i) => {
        const folded = forward(network, p);
        folded.forEach((value, o) =>
          assert.ok(Math.abs(value - trained[i][o]) < 1e-4 * (1 + Math.abs(value)), `point ${p}: ${value} vs ${trained[i][o]}`),
        );
      });
      assert.ok(network.skip, 'an affine_map region gives the folded network a skip term');
      disposePoliceTensors(police);
      disposeMlp(mlp);
    }));

  test('after folding every vertex of every region shares one sign pattern, and the affine_map region maps exactly to A*, b*', () =>
    expectNoLeakedTensors(async () => {
      const spec = makeSpec(
        [
          { units: 32, activation: 'leaky_relu', alpha: 0.01 },
          { units: 32, activation: 'leaky_relu', alpha: 0.01 },
        ],
        [triangle, corner],
      );
      const mlp = createMlp({ inputDim: 2, layers: spec.layers, outputUnits: 2 }, 11);
      const police = policeTensors(buildPoliceContext(spec), 2);
      const network = await foldNetwork(mlp, police);
      assert.ok(signPatternsAgree(network, triangle.vertices), 'triangle vertices straddle a hyperplane');
      assert.ok(signPatternsAgree(network, corner.vertices), 'corner vertices straddle a hyperplane');
      // Inside the corner box f(x) = A* x + b*.
      const rng = createRng(3);
      for (let i = 0; i < 20; i++) {
        const x = [rng.uniform(2, 3), rng.uniform(2, 3)];
        const f = forward(network, x);
        const expected = [0.5 * x[0] - 0.25 * x[1] + 0.1, x[0] + 2 * x[1] - 0.3];
        f.forEach((v, o) => assert.ok(Math.abs(v - expected[o]) < 1e-6, `f(${x})[${o}] = ${v}, expected ${expected[o]}`));
      }
      // Without POLICE the same weights are not affine on the triangle.
      assert.equal(signPatternsAgree(await foldNetwork(mlp), triangle.vertices), false);
      disposePoliceTensors(police);
      disposeMlp(mlp);
    }));

  test('the exported tfjs Layers model reproduces network.json to 1e-5', () =>
    expectNoLeakedTensors(async () => {
      const spec = makeSpec(
        [
          { units: 12, activation: 'abs', alpha: 0 },
          { units: 10, activation: 'leaky_relu', alpha: 0.2 },
          { units: 8, activation: 'relu', alpha: 0 },
        ],
        [triangle, corner],
        3,
      );
      spec.regions = [
        {
          ...corner,
          constraint: {
            kind: 'affine_map',
            A: [
              [1, 0],
              [0, 1],
              [1, 1],
            ],
            b: [0, 1, 2],
          },
        },
      ];
      const mlp = createMlp({ inputDim: 2, layers: spec.layers, outputUnits: 3 }, 2);
      const police = policeTensors(buildPoliceContext(spec), 2);
      const network = JSON.parse(JSON.stringify(await foldNetwork(mlp, police))) as FoldedNetwork;
      disposePoliceTensors(police);
      disposeMlp(mlp);
      const exported = await exportLayersModel(network);
      const roundTrip = JSON.parse(JSON.stringify(exported.modelJson));
      const model = await loadExportedModel(roundTrip, new Uint8Array(exported.weights));
      const points = randomPoints(40, 4);
      const predicted = tf.tidy(() => (model.predict(tf.tensor2d(points)) as tf.Tensor2D).arraySync());
      points.forEach((p, i) => {
        const expected = forward(network, p);
        expected.forEach((v, o) =>
          assert.ok(Math.abs(v - predicted[i][o]) < 1e-5 * Math.max(1, Math.abs(v)), `point ${p}[${o}]: tfjs ${predicted[i][o]} vs ${v}`),
        );
      });
      model.dispose();
    }));

  test('smooth activations export too: swish and softplus with per-unit β, sigmoid, tanh', () =>
    expectNoLeakedTensors(async () => {
      const rng = createRng(21);
      const matrix = (rows: number, cols: number) => Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
      const vector = (n: number) => Array.from({ length: n }, () => rng.normal() * 0.3);
      const network: FoldedNetwork = {
        format: 'police-network/1',
        input_dim: 2,
        output_dim: 1,
        layers: [
          { weights: matrix(6, 2), bias: vector(6), activation: 'swish', beta: [0.5, 1, 2, 3, 5, 8] },
          { weights: matrix(5, 6), bias: vector(5), activation: 'softplus', beta: 4 },
          { weights: matrix(4, 5), bias: vector(4), activation: 'tanh' },
          { weights: matrix(3, 4), bias: vector(3), activation: 'sigmoid' },
          { weights: matrix(1, 3), bias: vector(1), activation: 'linear' },
        ],
      };
      const exported = await exportLayersModel(network);
      const model = await loadExportedModel(exported.modelJson, exported.weights);
      const points = randomPoints(30, 8);
      const predicted = tf.tidy(() => (model.predict(tf.tensor2d(points)) as tf.Tensor2D).arraySync());
      points.forEach((p, i) => {
        const expected = forward(network, p)[0];
        assert.ok(
          Math.abs(expected - predicted[i][0]) < 1e-5 * Math.max(1, Math.abs(expected)),
          `point ${p}: tfjs ${predicted[i][0]} vs ${expected}`,
        );
      });
      model.dispose();
    }));

  test('fixed rule: sides voted on the initial weights are kept when the weights turn, and the fold still matches training', () =>
    expectNoLeakedTensors(async () => {
      const layers: ResolvedLayer[] = [
        { units: 12, activation: 'leaky_relu', alpha: 0.1 },
        { units: 12, activation: 'relu', alpha: 0 },
      ];
      const spec = { ...makeSpec(layers, [triangle]), police: { enabled: true, rule: 'fixed' as const, margin: 1e-4 } };
      const mlp = createMlp({ inputDim: 2, layers, outputUnits: 2 }, 3);
      const police = policeTensors(buildPoliceContext(spec), 2);
      await currentShifts(mlp, police);
      const voted = Array.from(await police.keptSides[0].data());
      assert.ok(
        voted.every((s) => s === 1 || s === -1),
        `voted sides ${voted}`,
      );
      // Negating layer 0 flips every pre-activation there: a fresh vote would pick the other side for each unit.
      tf.tidy(() => {
        mlp.kernels[0].assign(tf.neg(mlp.kernels[0]));
        mlp.biases[0].assign(tf.neg(mlp.biases[0]));
      });
      const [layer0] = await currentShifts(mlp, police);
      assert.deepEqual(Array.from(layer0.sides), voted, 'fixed keeps the first vote');
      const majority = policeTensors(buildPoliceContext({ ...spec, police: { ...spec.police, rule: 'majority' } }), 2);
      assert.deepEqual(
        Array.from((await currentShifts(mlp, majority))[0].sides),
        voted.map((s) => -s),
        'a fresh majority vote flips every unit',
      );
      const network = await foldNetwork(mlp, police);
      assert.ok(signPatternsAgree(network, triangle.vertices));
      const points = randomPoints(40, 4);
      const trained = tf.tidy(() => forwardPolice(mlp, tf.tensor2d(points), police).output.arraySync());
      points.forEach((p, i) => {
        const folded = forward(network, p);
        folded.forEach((value, o) =>
          assert.ok(Math.abs(value - trained[i][o]) < 1e-4 * (1 + Math.abs(value)), `point ${p}: ${value} vs ${trained[i][o]}`),
        );
      });
      disposePoliceTensors(police);
      disposePoliceTensors(majority);
      disposeMlp(mlp);
    }));
});
