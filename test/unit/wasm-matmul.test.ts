// The wasm backend's matmuls on ONNX Runtime (onnxruntime-node, installed as an optional dependency): the same products as
// a float64 reference for every transpose pair and the shapes the engine uses, the small and batched ones left to XNNPACK
// (which transposes first).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../extension/police/training/backend';
import { nativeMatMulCalls } from '../../extension/police/training/wasm-matmul';
import { expectNoLeakedTensors } from './tf-harness';

/** A deterministic pseudo-random matrix (no two runs differ, no subnormals). */
function matrix(rows: number, cols: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: rows * cols }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

/** op(A)·op(B) in float64, A and B row-major as stored. */
function reference(
  a: Float32Array,
  b: Float32Array,
  M: number,
  K: number,
  N: number,
  transposeA: boolean,
  transposeB: boolean,
): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += a[transposeA ? k * M + i : i * K + k] * b[transposeB ? j * K + k : k * N + j];
      out[i * N + j] = sum;
    }
  return out;
}

let reason = '';
before(async () => {
  const choice = await initBackend('wasm');
  assert.equal(choice.backend, 'wasm', choice.notes.join('; '));
  reason = choice.reason;
});

test("the trainer's backend line says the matmuls run on ONNX Runtime", () => {
  assert.match(reason, /matmuls on ONNX Runtime's MLAS/, reason);
});

/** Where a product runs: on ONNX Runtime always, never, or only with a transposed operand (XNNPACK would transpose it first). */
type Route = boolean | 'when transposed';
const cases: Array<{ what: string; M: number; K: number; N: number; batch?: number; native: Route }> = [
  { what: "fig1's hidden layer (515×256·256×256)", M: 515, K: 256, N: 256, native: true },
  { what: "fig1's weight gradient (256×515·515×256)", M: 256, K: 515, N: 256, native: true },
  { what: 'a batch-1 3-D product', M: 300, K: 64, N: 256, batch: 1, native: true },
  { what: "a product below ONNX Runtime's break-even (515×64·64×64)", M: 515, K: 64, N: 64, native: 'when transposed' },
  { what: "fig1's narrow weight gradient (2×515·515×256)", M: 2, K: 515, N: 256, native: 'when transposed' },
  { what: 'an output that grows the wasm heap (2048×16·16×2048)', M: 2048, K: 16, N: 2048, native: true },
  { what: 'a batch of two', M: 300, K: 64, N: 40, batch: 2, native: false },
  { what: 'an inner size of 2 (the input layer)', M: 515, K: 2, N: 256, native: false },
  { what: 'a small product', M: 8, K: 32, N: 8, native: false },
];
for (const c of cases)
  for (const [transposeA, transposeB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const native = c.native === 'when transposed' ? transposeA || transposeB : c.native;
    const route = native ? 'on ONNX Runtime' : 'left to XNNPACK';
    test(`${c.what}, transposeA ${transposeA}, transposeB ${transposeB}, ${route}: the float64 product within float32 rounding`, async () => {
      const { M, K, N } = c;
      const batch = c.batch ?? 0;
      const aData = matrix(M, K, 1);
      const bData = matrix(K, N, 2);
      const aShape = transposeA ? [K, M] : [M, K];
      const bShape = transposeB ? [N, K] : [K, N];
      const lead = (shape: number[]) => (batch ? [batch, ...shape] : shape);
      const repeat = (data: Float32Array) =>
        batch > 1 ? Float32Array.from({ length: data.length * batch }, (_, i) => data[i % data.length]) : data;
      const callsBefore = nativeMatMulCalls();
      const got = await expectNoLeakedTensors(() =>
        tf.tidy(() => {
          const a = tf.tensor(repeat(aData), lead(aShape));
          const b = tf.tensor(repeat(bData), lead(bShape));
          const product = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, transposeA, transposeB);
          assert.deepEqual(product.shape, lead([M, N]));
          return Array.from(product.dataSync());
        }),
      );
      assert.equal(nativeMatMulCalls() - callsBefore, native ? 1 : 0, `the product was not ${route}`);
      const want = reference(aData, bData, M, K, N, transposeA, transposeB);
      // Each entry sums K products of values below 0.5 in float32: a few ulps of K/4 at most.
      const tolerance = 1e-6 * K;
      for (let copy = 0; copy < Math.max(1, batch); copy++)
        for (let i = 0; i < want.length; i++) {
          const difference = Math.abs(got[copy * want.length + i] - want[i]);
          if (difference > tolerance) assert.fail(`entry ${i} of copy ${copy}: ${got[copy * want.length + i]} against ${want[i]}`);
        }
    });
  }

test("mismatched inner sizes get tfjs's own error, and nothing is left allocated", () => {
  const before = tf.memory().numTensors;
  assert.throws(
    () => tf.tidy(() => tf.matMul(tf.zeros([600, 256]) as tf.Tensor2D, tf.zeros([255, 600]) as tf.Tensor2D)),
    /inner shapes \(256\) and \(255\)/,
  );
  assert.equal(tf.memory().numTensors, before);
});

test('POLICE_NATIVE_MATMUL=0 keeps the matmuls on XNNPACK and says so', () => {
  const script = `require('./extension/police/training/backend.ts').initBackend('wasm').then((c) => console.log(c.reason))`;
  const line = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
    env: { ...process.env, POLICE_NATIVE_MATMUL: '0' },
    encoding: 'utf8',
  });
  assert.match(line, /matmuls on XNNPACK: POLICE_NATIVE_MATMUL=0/, line);
});
