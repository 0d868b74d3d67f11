// The kernels the engine re-registers for speed (wasm's in-heap Slice/SplitV/Sum, shared Identity, its matMul's transposes) give tfjs's values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { columnSums, rowsOf } from '../../extension/police/training/fast-ops';
import { expectNoLeakedTensors, forEachBackend } from './tf-harness';

/** 0, 1, 2, … as a tensor of this shape: every slice's expected values follow from its indices. */
function iota(shape: number[]): tf.Tensor {
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i),
    shape,
  );
}

/** The values at [begin, begin + size) of a row-major iota of `shape`, by index arithmetic. */
function expectedSlice(shape: number[], begin: number[], size: number[]): number[] {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const out: number[] = [];
  const walk = (d: number, offset: number): void => {
    if (d === shape.length) {
      out.push(offset);
      return;
    }
    for (let i = begin[d]; i < begin[d] + size[d]; i++) walk(d + 1, offset + i * strides[d]);
  };
  walk(0, 0);
  return out;
}

forEachBackend(() => {
  const cases: Array<{ what: string; shape: number[]; begin: number[]; size: number[] }> = [
    { what: 'a 1-D run', shape: [1000], begin: [137], size: [500] },
    { what: 'rows of a matrix (contiguous)', shape: [515, 7], begin: [512, 0], size: [3, 7] },
    { what: 'columns of a matrix (strided)', shape: [9, 11], begin: [2, 3], size: [5, 4] },
    { what: 'a block of a 3-D tensor', shape: [4, 5, 6], begin: [1, 2, 3], size: [2, 3, 2] },
  ];
  for (const c of cases) {
    test(`slice of ${c.what} has the indexed values`, async () => {
      const x = iota(c.shape);
      const got = await expectNoLeakedTensors(() => tf.tidy(() => Array.from(tf.slice(x, c.begin, c.size).dataSync())));
      x.dispose();
      assert.deepEqual(got, expectedSlice(c.shape, c.begin, c.size));
    });
  }

  const sums: Array<{ what: string; shape: number[]; axis: number | number[]; keepDims: boolean }> = [
    { what: "a bias gradient's Σ over 515 rows (not a multiple of 8)", shape: [515, 9], axis: 0, keepDims: false },
    { what: 'rows kept as a 1×K row', shape: [16, 5], axis: 0, keepDims: true },
    { what: 'two leading axes of a 3-D tensor', shape: [3, 7, 4], axis: [1, 0], keepDims: false },
    { what: 'the inner axis (left to tfjs)', shape: [6, 5], axis: -1, keepDims: false },
    { what: 'every axis (left to tfjs)', shape: [6, 5], axis: [0, 1], keepDims: true },
  ];
  for (const c of sums) {
    test(`sum over ${c.what} has the indexed values`, async () => {
      const x = iota(c.shape);
      const got = await expectNoLeakedTensors(() => tf.tidy(() => tf.sum(x, c.axis, c.keepDims)), { expectedNew: 1 });
      const axes = (Array.isArray(c.axis) ? c.axis : [c.axis]).map((a) => (a + c.shape.length) % c.shape.length);
      const outShape = c.shape.map((n, d) => (axes.includes(d) ? 1 : n));
      const want = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(0);
      const outStrides = outShape.map((_, d) => outShape.slice(d + 1).reduce((a, b) => a * b, 1));
      expectedSlice(c.shape, new Array<number>(c.shape.length).fill(0), c.shape).forEach((value, flat) => {
        let rest = flat;
        let target = 0;
        for (let d = c.shape.length - 1; d >= 0; d--) {
          const index = rest % c.shape[d];
          rest = Math.floor(rest / c.shape[d]);
          if (!axes.includes(d)) target += index * outStrides[d];
        }
        want[target] += value;
      });
      assert.deepEqual(got.shape, c.keepDims ? outShape : c.shape.filter((_, d) => !axes.includes(d)));
      assert.deepEqual(Array.from(got.dataSync()), want);
      tf.dispose([x, got]);
    });
  }

  test('a clone keeps its values after the original is disposed, and holds no memory of its own', () => {
    const x = iota([300, 40]);
    const buffers = tf.memory().numDataBuffers;
    const copy = tf.clone(x);
    if (tf.getBackend() === 'wasm') assert.equal(tf.memory().numDataBuffers, buffers, 'wasm shares the buffer (as cpu does)');
    x.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), expectedSlice([300, 40], [0, 0], [300, 40]));
    copy.dispose();
  });

  test('split into unequal parts (the flat optimizer) gives each part its own values, and rowsOf/columnSums theirs', () => {
    const x = iota([100]);
    const parts = tf.split(x, [10, 60, 30]);
    assert.deepEqual(
      parts.map((p) => Array.from(p.dataSync())),
      [expectedSlice([100], [0], [10]), expectedSlice([100], [10], [60]), expectedSlice([100], [70], [30])],
    );
    const m = iota([6, 3]) as tf.Tensor2D;
    assert.deepEqual(Array.from(rowsOf(m, 4, 2).dataSync()), [12, 13, 14, 15, 16, 17]);
    assert.deepEqual(Array.from(columnSums(m).dataSync()), [45, 51, 57]);
    tf.dispose([x, ...parts, m]);
  });

  test("matMul's gradient for a narrow left operand (fig1's 2-input layer: wasm computes aᵀ·dy as (dyᵀ·a)ᵀ) equals the textbook aᵀ·dy and dy·bᵀ", () => {
    const a = tf.tensor2d([1, -2, 0.5, 3, 2, -1, 4, 0.25], [4, 2]);
    const b = tf.tensor2d(
      Array.from({ length: 2 * 9 }, (_, i) => Math.sin(i)),
      [2, 9],
    );
    const dy = tf.tensor2d(
      Array.from({ length: 4 * 9 }, (_, i) => Math.cos(i)),
      [4, 9],
    );
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D))([a, b], dy);
    const close = (got: tf.Tensor, want: number[]): void =>
      Array.from(got.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `${v} vs ${want[i]}`));
    const A = a.arraySync();
    const B = b.arraySync();
    const DY = dy.arraySync();
    close(
      gb,
      B.flatMap((row, k) => row.map((_, n) => A.reduce((s, aRow, m) => s + aRow[k] * DY[m][n], 0))),
    );
    close(
      ga,
      A.flatMap((row, m) => row.map((_, k) => DY[m].reduce((s, d, n) => s + d * B[k][n], 0))),
    );
    tf.dispose([a, b, dy, ga, gb]);
  });
});
