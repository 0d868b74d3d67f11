// Backend selection, and matMul's gradient through the wasm kernel's transpose handling.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../extension/police/training/backend';
import { expectNoLeakedTensors, forEachBackend, testBackends } from './tf-harness';
import { leakyRelu as fastLeakyRelu } from '../../extension/police/training/fast-ops';

test('auto picks wasm here (tfjs-node is not installed) and a tensorflow preference says why it fell back', async () => {
  const auto = await initBackend('auto');
  assert.equal(auto.backend, 'wasm');
  const preferred = await initBackend('tensorflow');
  assert.equal(preferred.backend, 'wasm');
  assert.match(preferred.notes.join('\n'), /preferred backend 'tensorflow' unavailable; running 'wasm'/);
  assert.match(preferred.notes.join('\n'), /@tensorflow\/tfjs-node is not available/);
  const cpu = await initBackend('cpu');
  assert.equal(cpu.backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal((await initBackend('wasm')).backend, 'wasm');
});

test('every backend registered here is a suite backend: cpu and wasm', () => {
  assert.deepEqual([...testBackends()].sort(), ['cpu', 'wasm']);
});

test('the leak check fails on a tensor left behind, and not on one returned and counted', async () => {
  let kept: tf.Tensor | undefined;
  await assert.rejects(
    expectNoLeakedTensors(() => {
      kept = tf.scalar(1);
    }),
    /1 tensor\(s\) left behind/,
  );
  kept?.dispose();
  const returned = await expectNoLeakedTensors(() => tf.scalar(2), { expectedNew: 1 });
  returned.dispose();
});

forEachBackend(() => {
  test('the matMul gradient equals the analytic gradient for every transpose combination', () =>
    expectNoLeakedTensors(() => {
      const a = tf.tensor2d([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const b = tf.tensor2d([
        [0.5, -1],
        [2, 0],
        [1, 3],
      ]);
      for (const [transposeA, transposeB] of [
        [false, false],
        [false, true],
        [true, false],
        [true, true],
      ] as const) {
        const left = transposeA ? tf.transpose(a) : a;
        const right = transposeB ? tf.transpose(b) : b;
        const weights = tf.tensor2d([
          [1, -2],
          [3, 0.5],
        ]);
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, transposeA, transposeB), weights)),
        )([left, right]);
        // d/dA sum(G ⊙ A B) = G Bᵀ, d/dB = Aᵀ G, taken through the transposes the flags imply (the test's own tensors tidied).
        const [expectA, expectB] = tf.tidy(() => {
          const gradA = tf.matMul(weights, tf.transpose(b));
          const gradB = tf.matMul(tf.transpose(a), weights);
          return [
            Array.from((transposeA ? tf.transpose(gradA) : gradA).dataSync()),
            Array.from((transposeB ? tf.transpose(gradB) : gradB).dataSync()),
          ];
        });
        assert.deepEqual(Array.from(ga.dataSync()), expectA, `dA with transposeA=${transposeA} transposeB=${transposeB}`);
        assert.deepEqual(Array.from(gb.dataSync()), expectB, `dB with transposeA=${transposeA} transposeB=${transposeB}`);
        // What tf.grads returns is ours to free; anything else left behind is the gradient's.
        tf.dispose([ga, gb, weights, ...(transposeA ? [left] : []), ...(transposeB ? [right] : [])]);
      }
      tf.dispose([a, b]);
    }));
});
test('the fast leaky ReLU gives tf.leakyRelu values and gradients, zero and negative inputs included', async () => {
  await initBackend('wasm');
  const x = tf.tensor2d([
    [-2, -0.5, 0, 0.5],
    [3, -1e-8, 1e-8, -7],
  ]);
  for (const alpha of [0.01, 0.2]) {
    const weights = tf.tensor2d([
      [1, -2, 3, 0.5],
      [-1, 2, 0.25, 4],
    ]);
    const ours = tf.valueAndGrad((input: tf.Tensor) => tf.sum(tf.mul(fastLeakyRelu(input, alpha), weights)))(x);
    const stock = tf.valueAndGrad((input: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(input, alpha), weights)))(x);
    assert.deepEqual(Array.from(await fastLeakyRelu(x, alpha).data()), Array.from(await tf.leakyRelu(x, alpha).data()));
    assert.equal((await ours.value.data())[0], (await stock.value.data())[0]);
    assert.deepEqual(Array.from(await ours.grad.data()), Array.from(await stock.grad.data()));
    tf.dispose([weights, ours.value, ours.grad, stock.value, stock.grad]);
  }
  x.dispose();
});
