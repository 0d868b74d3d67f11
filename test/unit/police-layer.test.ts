// The POLICE shift: every vertex ends on one side of every hyperplane, minimal shifts are minimal, gradients match plain tf.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import {
  computeShift,
  layerFlips,
  POLICE_SHIFT_GRAD_KERNEL,
  POLICE_SHIFT_KERNEL,
  policeShift,
  referenceMajorityShift,
  shiftTensors,
  sideFlips,
  unitLayerMatrix,
  type ShiftRule,
} from '../../extension/police/training/police-layer';
import { createRng } from '../../extension/police/common/random';
import { initBackend } from '../../extension/police/training/backend';
import { before } from 'node:test';
import { expectNoLeakedTensors, forEachBackend } from './tf-harness';

function randomMatrix(rows: number, cols: number, seed: number, scale = 1): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: rows * cols }, () => rng.normal() * scale);
}

/** Signs of each unit over each region's vertex rows after the shift: one sign per unit per region, at least `margin` from 0. */
function assertOneSidePerRegion(shifted: Float32Array, batch: number, units: number, regionSizes: number[], margin: number): void {
  let row = batch;
  for (const [r, size] of regionSizes.entries()) {
    for (let k = 0; k < units; k++) {
      const values = Array.from({ length: size }, (_, p) => shifted[(row + p) * units + k]);
      const allAbove = values.every((v) => v >= margin * 0.99);
      const allBelow = values.every((v) => v <= -margin * 0.99);
      assert.ok(allAbove || allBelow, `region ${r}, unit ${k}: vertex pre-activations ${values.join(', ')} straddle 0`);
    }
    row += size;
  }
}

test('minimal rule with three regions keeps each region on one side and no smaller |c| would do', () => {
  const units = 60;
  const sizes = [3, 4, 5];
  const margin = 1e-3;
  const rows = sizes.reduce((a, b) => a + b, 0);
  const h = randomMatrix(rows, units, 7, 2);
  const { shift } = computeShift(h, units, sizes, 'minimal', margin);
  const shifted = Float32Array.from(h, (v, i) => v + shift[i % units]);
  assertOneSidePerRegion(shifted, 0, units, sizes, margin);
  // Brute force: every c strictly closer to 0 (on a fine grid) leaves some region straddling.
  for (let k = 0; k < units; k++) {
    const c = shift[k];
    for (let t = 0; t < 200; t++) {
      const candidate = ((c * t) / 200) * (t % 2 === 0 ? 1 : -1);
      if (Math.abs(candidate) >= Math.abs(c) - 1e-6) continue;
      let row = 0;
      let straddles = false;
      for (const size of sizes) {
        const vals = Array.from({ length: size }, (_, p) => h[(row + p) * units + k] + candidate);
        if (Math.min(...vals) < margin && Math.max(...vals) > -margin) straddles = true;
        row += size;
      }
      assert.ok(straddles, `unit ${k}: shift ${candidate} is smaller than ${c} and also valid`);
    }
  }
});

test('fixed rule: the first call votes each side and keeps it; a later vote the other way does not flip it, majority does', () => {
  const units = 3;
  const margin = 1e-3;
  // Three vertices (rows) × three units: unit 0 votes +, unit 1 votes −, unit 2 votes +.
  const first = Float32Array.from([1, -1, 2, 1, -1, -3, -1, 1, 2]);
  const kept = new Int8Array(units);
  const start = computeShift(first, units, [3], 'fixed', margin, kept);
  assert.deepEqual(Array.from(kept), [1, -1, 1]);
  assert.deepEqual(Array.from(start.sides), [1, -1, 1]);
  // The weights moved: every unit's vote is now the other way.
  const later = Float32Array.from([-1, 1, -2, -1, 1, 3, 1, -1, -2]);
  const fixed = computeShift(later, units, [3], 'fixed', margin, kept);
  assert.deepEqual(Array.from(fixed.sides), [1, -1, 1], 'fixed keeps the first sides');
  assertOneSidePerRegion(
    Float32Array.from(later, (v, i) => v + fixed.shift[i % units]),
    0,
    units,
    [3],
    margin,
  );
  assert.ok(fixed.shift[0] > 0 && fixed.shift[1] < 0, `shifts ${Array.from(fixed.shift)}`);
  assert.equal(sideFlips(start, fixed), 0);
  const majority = computeShift(later, units, [3], 'majority', margin);
  assert.deepEqual(Array.from(majority.sides), [-1, 1, -1]);
  assert.equal(sideFlips(start, majority), 3);
});

test('sides after a minimal shift are read per region, and a flip on any region counts the unit once', () => {
  const units = 2;
  const margin = 1e-3;
  // Two regions of two vertices: unit 0 is + on both, unit 1 is − on region 0 and + on region 1 (c = 0 is allowed for both).
  const h = Float32Array.from([1, -1, 2, -2, 1, 1, 2, 2]);
  const a = computeShift(h, units, [2, 2], 'minimal', margin);
  assert.deepEqual(Array.from(a.sides), [1, -1, 1, 1]);
  const moved = Float32Array.from([-1, -1, -2, -2, -1, -1, -2, -2]);
  const b = computeShift(moved, units, [2, 2], 'minimal', margin);
  assert.deepEqual(Array.from(b.sides), [-1, -1, -1, -1]);
  assert.equal(sideFlips(a, b), 2);
});

test('with margin 0 a vertex lands exactly on 0: the side is still the voted one, not a flip', () => {
  const kept = new Int8Array(1);
  const a = computeShift(Float32Array.from([-1, 2, 3]), 1, [3], 'fixed', 0, kept);
  const b = computeShift(Float32Array.from([2, -1, 3]), 1, [3], 'fixed', 0, kept);
  assert.deepEqual([a.sides[0], b.sides[0]], [1, 1]);
  assert.equal(sideFlips(a, b), 0);
  const minimal = computeShift(Float32Array.from([-1, 2, 3]), 1, [3], 'minimal', 0);
  assert.equal(minimal.sides[0], 1, `minimal shift ${minimal.shift[0]}`);
  assert.throws(() => computeShift(Float32Array.from([1, 2, 3]), 1, [3], 'fixed', 0), /kept sides/);
});

test('fixed rule with two regions keeps both sides while one shift can, and lets the minimal shift decide once none can', () => {
  const margin = 1e-3;
  const kept = new Int8Array(2);
  // One unit, two regions of two vertices each: + on the first, − on the second, and c = 0 keeps both.
  const start = computeShift(Float32Array.from([1, 3, -2, -1]), 1, [2, 2], 'fixed', margin, kept);
  assert.deepEqual([Array.from(kept), Array.from(start.sides), start.shift[0]], [[1, -1], [1, -1], 0]);
  // The first region now straddles 0. Minimal would push it down (a flip); fixed pushes it up, keeping both sides.
  const moved = Float32Array.from([-1, 1, -3, -2]);
  const minimal = computeShift(moved, 1, [2, 2], 'minimal', margin);
  assert.deepEqual(Array.from(minimal.sides), [-1, -1]);
  const fixed = computeShift(moved, 1, [2, 2], 'fixed', margin, kept);
  assert.deepEqual(Array.from(fixed.sides), [1, -1]);
  assert.ok(Math.abs(fixed.shift[0] - (1 + margin)) < 1e-6, `shift ${fixed.shift[0]}`);
  assert.equal(fixed.vertex[0], 0, 'c follows the first region lowest vertex');
  assertOneSidePerRegion(
    Float32Array.from(moved, (v) => v + fixed.shift[0]),
    0,
    1,
    [2, 2],
    margin,
  );
  // Now no c keeps the first region above 0 and the second below: the minimal shift decides, and its sides are kept.
  const apart = Float32Array.from([0, 1, 2, 3]);
  const fallback = computeShift(apart, 1, [2, 2], 'fixed', margin, kept);
  assert.deepEqual(Array.from(fallback.sides), [1, 1]);
  assert.deepEqual(Array.from(kept), [1, 1]);
  assert.equal(sideFlips(fixed, fallback), 1);
  assertOneSidePerRegion(
    Float32Array.from(apart, (v) => v + fallback.shift[0]),
    0,
    1,
    [2, 2],
    margin,
  );
});

// The tfjs op and its gradient, on every backend present; each test leaves no tensor behind.
forEachBackend(() => {
  test('majority rule puts every vertex of the region on the majority side of every unit, at least the margin away', () =>
    expectNoLeakedTensors(() => {
      const batch = 16;
      const units = 40;
      const P = 5;
      const margin = 1e-3;
      const z = tf.tensor2d(randomMatrix(batch + P, units, 1), [batch + P, units]);
      const out = policeShift(z, { batchRows: batch, regionSizes: [P] }, 'majority', margin);
      const values = out.dataSync() as Float32Array;
      assertOneSidePerRegion(values, batch, units, [P], margin);
      // The side is the majority vote of the unshifted vertices.
      const before = z.dataSync();
      for (let k = 0; k < units; k++) {
        const positive = Array.from({ length: P }, (_, p) => before[(batch + p) * units + k] > 0).filter(Boolean).length;
        const side = values[batch * units + k] > 0;
        assert.equal(side, positive >= P / 2, `unit ${k}`);
      }
      // The same c is added to the batch rows.
      for (let k = 0; k < units; k++) {
        const c = values[batch * units + k] - before[batch * units + k];
        assert.ok(Math.abs(values[k] - before[k] - c) < 1e-5, `unit ${k}: batch shifted by a different c`);
      }
      tf.dispose([z, out]);
    }));

  test('gradient of the custom op equals the gradient of a plain-tf Algorithm 1', () =>
    expectNoLeakedTensors(() => {
      const batch = 8;
      const units = 12;
      const P = 4;
      const margin = 1e-3;
      const z = tf.tensor2d(randomMatrix(batch + P, units, 3), [batch + P, units]);
      const weights = tf.tensor2d(randomMatrix(batch + P, units, 4), [batch + P, units]);
      // A non-linear loss downstream so the vertex rows and the batch rows both carry gradient.
      const loss = (shift: (z: tf.Tensor2D) => tf.Tensor2D) => (input: tf.Tensor) =>
        tf.sum(tf.mul(tf.square(tf.leakyRelu(shift(input as tf.Tensor2D), 0.1)), weights));
      const ours = tf.grad(loss((x) => policeShift(x, { batchRows: batch, regionSizes: [P] }, 'majority', margin)))(z);
      const reference = tf.grad(loss((x) => referenceMajorityShift(x, batch, margin)))(z);
      const a = ours.dataSync();
      const b = reference.dataSync();
      let shifted = 0;
      for (let i = 0; i < a.length; i++) {
        assert.ok(Math.abs(a[i] - b[i]) < 1e-4 * (1 + Math.abs(b[i])), `gradient entry ${i}: ${a[i]} vs ${b[i]}`);
        if (i >= batch * units && Math.abs(a[i] - b[i]) < 1e-6 && Math.abs(a[i]) > 0) shifted++;
      }
      assert.ok(shifted > 0);
      tf.dispose([z, weights, ours, reference]);
    }));
});
before(async () => {
  await initBackend('wasm');
});

test('the on-device shift equals the host reference for every rule, one region and several, call after call', async () => {
  const margin = 1e-3;
  const units = 50;
  const cases: { rule: ShiftRule; sizes: number[] }[] = [
    { rule: 'majority', sizes: [4] },
    { rule: 'fixed', sizes: [4] },
    { rule: 'minimal', sizes: [4] },
    { rule: 'minimal', sizes: [3, 4, 5] },
    { rule: 'fixed', sizes: [3, 4, 5] },
  ];
  for (const { rule, sizes } of cases) {
    const rows = sizes.reduce((a, b) => a + b, 0);
    const hostKept = new Int8Array(sizes.length * units);
    const deviceKept = tf.variable(tf.zeros<tf.Rank.R2>([sizes.length, units]), false);
    let previous: { host: Int8Array; device: tf.Tensor2D } | undefined;
    // Successive calls with drifting values: 'fixed' keeps its first vote, and several regions force its fallback.
    for (let call = 0; call < 4; call++) {
      const h = randomMatrix(rows, units, 11 + call, 2);
      const host = computeShift(h, units, sizes, rule, margin, rule === 'fixed' ? hostKept : undefined);
      const hTensor = tf.tensor2d(h, [rows, units]);
      const device = shiftTensors(hTensor, sizes, rule, margin, rule === 'fixed' ? deviceKept : undefined);
      const [shift, sides, chosen] = await Promise.all([device.shift.data(), device.sides.data(), device.chosenRow.data()]);
      const label = `${rule} ${sizes.join('+')} call ${call}`;
      for (let k = 0; k < units; k++) {
        assert.ok(
          Math.abs(shift[k] - host.shift[k]) <= 1e-6 * (1 + Math.abs(host.shift[k])),
          `${label} unit ${k}: c ${shift[k]} vs ${host.shift[k]}`,
        );
        assert.equal(chosen[k], host.vertex[k], `${label} unit ${k}: chosen vertex`);
      }
      assert.deepEqual(Array.from(sides), Array.from(host.sides), `${label}: sides`);
      if (rule === 'fixed') assert.deepEqual(Array.from(await deviceKept.data()), Array.from(hostKept), `${label}: kept sides`);
      if (previous) {
        const oneLayer = unitLayerMatrix([units]);
        const flips = layerFlips(previous.device, device.sides, oneLayer);
        assert.equal((await flips.data())[0], sideFlips({ sides: previous.host }, host), `${label}: flips`);
        tf.dispose([flips, oneLayer]);
        previous.device.dispose();
      }
      previous = { host: host.sides, device: device.sides };
      tf.dispose([hTensor, device.shift, device.chosenRow]);
    }
    previous?.device.dispose();
    deviceKept.dispose();
  }
});

test('with the bias passed in, the op adds b + c and its gradients in z and b equal plain tf on z + b', async () => {
  const batch = 8;
  const units = 12;
  const P = 4;
  const margin = 1e-3;
  const z = tf.tensor2d(randomMatrix(batch + P, units, 5), [batch + P, units]);
  const b = tf.tensor1d(randomMatrix(1, units, 6));
  const weights = tf.tensor2d(randomMatrix(batch + P, units, 7), [batch + P, units]);
  const loss = (shifted: tf.Tensor2D) => tf.sum(tf.mul(tf.square(tf.leakyRelu(shifted, 0.1)), weights));
  const layout = { batchRows: batch, regionSizes: [P] };
  const ours = tf.grads((zz: tf.Tensor, bb: tf.Tensor) =>
    loss(policeShift(zz as tf.Tensor2D, layout, 'majority', margin, { bias: bb as tf.Tensor1D })),
  );
  const reference = tf.grads((zz: tf.Tensor, bb: tf.Tensor) => loss(referenceMajorityShift(tf.add(zz, bb), batch, margin)));
  const [gz, gb] = ours([z, b]);
  const [rz, rb] = reference([z, b]);
  for (const [got, want, name] of [
    [gz, rz, 'z'],
    [gb, rb, 'b'],
  ] as const) {
    const [a, e] = [await got.data(), await want.data()];
    for (let i = 0; i < a.length; i++)
      assert.ok(Math.abs(a[i] - e[i]) < 1e-4 * (1 + Math.abs(e[i])), `∂/∂${name}[${i}]: ${a[i]} vs ${e[i]}`);
  }
  const forward = policeShift(z, layout, 'majority', margin, { bias: b });
  const expected = referenceMajorityShift(tf.add(z, b), batch, margin);
  const [f, r] = [await forward.data(), await expected.data()];
  for (let i = 0; i < f.length; i++) assert.ok(Math.abs(f[i] - r[i]) < 1e-5 * (1 + Math.abs(r[i])), `value ${i}: ${f[i]} vs ${r[i]}`);
  tf.dispose([z, b, weights, gz, gb, rz, rb, forward, expected]);
});

test("wasm's shift kernels give the tensor ops' values, sides, kept sides and gradients (cpu runs the ops), every rule, call after call", async () => {
  await initBackend('wasm');
  assert.ok(
    tf.getKernel(POLICE_SHIFT_KERNEL, 'wasm') && tf.getKernel(POLICE_SHIFT_GRAD_KERNEL, 'wasm'),
    'the kernels are registered on wasm',
  );
  assert.equal(tf.getKernel(POLICE_SHIFT_KERNEL, 'cpu'), undefined, 'cpu runs the tensor ops');
  const batch = 9;
  const units = 30;
  const margin = 1e-3;
  /** One call of policeShift on the current backend: its output, c, sides, kept sides after, ∂z and ∂b, read back. */
  const run = async (rule: ShiftRule, sizes: number[], call: number, kept: tf.Variable<tf.Rank.R2> | undefined, withBias: boolean) => {
    const rows = batch + sizes.reduce((a, b) => a + b, 0);
    const z = tf.tensor2d(randomMatrix(rows, units, 40 + call, 2), [rows, units]);
    const bias = tf.tensor1d(randomMatrix(1, units, 50 + call));
    const weights = tf.tensor2d(randomMatrix(rows, units, 60 + call), [rows, units]);
    const seen: tf.Tensor[] = [];
    const forward = (zz: tf.Tensor, bb: tf.Tensor) =>
      policeShift(zz as tf.Tensor2D, { batchRows: batch, regionSizes: sizes }, rule, margin, {
        ...(withBias ? { bias: bb as tf.Tensor1D } : {}),
        ...(kept ? { keptSides: kept } : {}),
        onShift: (shift) => seen.push(shift.shift, shift.sides),
      });
    const output = forward(z, bias);
    const keptAfter = kept ? await kept.data() : new Float32Array();
    // The gradient pass runs the forward again: with 'fixed' on the kept sides just written, so it votes nothing new.
    const loss = (zz: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.square(tf.leakyRelu(forward(zz, bb), 0.1)), weights));
    const [gz, gb] = withBias ? tf.grads(loss)([z, bias]) : [tf.grad((zz: tf.Tensor) => loss(zz, bias))(z), tf.zeros([0])];
    const values = await Promise.all([output, seen[0], seen[1], gz, gb].map((t) => t.data()));
    tf.dispose([z, bias, weights, output, gz, gb, ...seen]);
    return { output: values[0], shift: values[1], sides: values[2], kept: keptAfter, gz: values[3], gb: values[4] };
  };
  const cases: { rule: ShiftRule; sizes: number[]; withBias: boolean }[] = [
    { rule: 'majority', sizes: [4], withBias: true },
    { rule: 'majority', sizes: [3], withBias: false },
    { rule: 'fixed', sizes: [4], withBias: true },
    { rule: 'minimal', sizes: [3, 4, 5], withBias: true },
    { rule: 'fixed', sizes: [3, 4, 5], withBias: true },
  ];
  for (const { rule, sizes, withBias } of cases) {
    const results: Record<'wasm' | 'cpu', Awaited<ReturnType<typeof run>>[]> = { wasm: [], cpu: [] };
    for (const backend of ['wasm', 'cpu'] as const) {
      await initBackend(backend);
      const kept = rule === 'fixed' ? tf.variable(tf.zeros<tf.Rank.R2>([sizes.length, units]), false) : undefined;
      for (let call = 0; call < 3; call++) results[backend].push(await run(rule, sizes, call, kept, withBias));
      kept?.dispose();
    }
    for (let call = 0; call < 3; call++) {
      const [ours, ops] = [results.wasm[call], results.cpu[call]];
      const label = `${rule} ${sizes.join('+')} call ${call}${withBias ? ' with bias' : ''}`;
      assert.deepEqual(Array.from(ours.sides), Array.from(ops.sides), `${label}: sides`);
      assert.deepEqual(Array.from(ours.kept), Array.from(ops.kept), `${label}: kept sides`);
      for (const key of ['output', 'shift', 'gz', 'gb'] as const)
        ours[key].forEach((v, i) =>
          assert.ok(Math.abs(v - ops[key][i]) <= 1e-5 * (1 + Math.abs(ops[key][i])), `${label}: ${key}[${i}] ${v} vs ${ops[key][i]}`),
        );
    }
  }
  await initBackend('wasm');
});
