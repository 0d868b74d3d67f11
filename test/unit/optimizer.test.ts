// The optimizer's two paths (small models as one flat vector, large ones variable by variable) train identically.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { Optimizer, type OptimizerKind } from '../../extension/police/training/optimizer';
import { forEachBackend } from './tf-harness';

forEachBackend(() => {
  for (const kind of ['adam', 'adamw', 'sgd'] as OptimizerKind[]) {
    test(`${kind}: the flat update gives the per-variable update's values, bit for bit`, async () => {
      const shapes = [[3, 4], [4], [4, 2]];
      const run = async (flatUpTo: number): Promise<number[][]> => {
        const variables = shapes.map((shape, i) =>
          tf.variable(
            tf.tensor(
              Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, k) => Math.sin(k + i)),
              shape,
            ),
            true,
            `v${i}-${flatUpTo}`,
          ),
        );
        const optimizer = new Optimizer({ kind, lr: 0.05, weightDecay: 0.1 }, flatUpTo);
        for (let step = 0; step < 3; step++) {
          const grads: tf.NamedTensorMap = {};
          variables.forEach((v, i) => (grads[v.name] = tf.mul(tf.cos(tf.add(v, step + i)), 0.5)));
          // Weights decay, the bias (rank 1) does not: both kinds of entry in one flat vector.
          optimizer.apply(variables, grads, (v) => v.rank > 1);
          tf.dispose(Object.values(grads));
        }
        const values = await Promise.all(variables.map(async (v) => Array.from(await v.data())));
        optimizer.dispose();
        tf.dispose(variables);
        return values;
      };
      const flat = await run(Number.MAX_SAFE_INTEGER);
      const perVariable = await run(0);
      assert.deepEqual(flat, perVariable);
      assert.notDeepEqual(
        flat[0],
        Array.from({ length: 12 }, (_, k) => Math.fround(Math.sin(k))),
        'the variables moved',
      );
    });
  }
});
