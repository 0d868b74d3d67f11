import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  absInjectivity,
  analyzeInjectivity,
  centralCells,
  layerInjectivity,
  reluInjectivity,
} from '../../extension/police/analysis/injectivity';
import { smallestSingular } from '../../extension/police/analysis/dense';
import { leastSquares, rank } from '../../extension/police/geometry/linalg';
import type { FoldedNetwork, NetworkLayer } from '../../extension/police/network/network';
import { createRng } from '../../extension/police/common/random';

const relu = (w: number[][], b: number[], x: number[]) =>
  w.map((row, i) =>
    Math.max(
      0,
      row.reduce((s, v, j) => s + v * x[j], b[i]),
    ),
  );

// W = [B; −DB] with B invertible and D positive diagonal: the slides' canonical injective 2n×n layer.
function stacked(b: number[][], d: number[]): number[][] {
  return [...b, ...b.map((row, i) => row.map((v) => -d[i] * v))];
}
const B2 = [
  [2, 1],
  [-0.5, 1.5],
];
const B3 = [
  [1, 0.2, -0.3],
  [0.4, 1.1, 0.1],
  [-0.2, 0.3, 0.9],
];

test('W = [B; −DB] with b = 0 is injective, decided exactly, with a positive inverse-Lipschitz bound (n = 2 and 3)', () => {
  const cases: [number[][], number[]][] = [
    [B2, [0.5, 3]],
    [B3, [1, 0.25, 2]],
  ];
  for (const [B, d] of cases) {
    const w = stacked(B, d);
    const result = reluInjectivity(w, new Array(w.length).fill(0));
    assert.equal(result.verdict, 'injective', result.reason);
    assert.equal(result.method, 'exact-wedges');
    assert.ok(result.inverseLipschitz && result.inverseLipschitz.bound > 0);
    assert.equal(result.inverseLipschitz?.appliesTo, 'layer');
  }
});

test('the inverse-Lipschitz bound really bounds ‖ReLU(Wx0) − ReLU(Wx1)‖ / ‖x0 − x1‖ from below', () => {
  const w = stacked(B3, [1, 0.25, 2]);
  const b = new Array(6).fill(0);
  const bound = reluInjectivity(w, b).inverseLipschitz!.bound;
  let seed = 7;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  for (let k = 0; k < 500; k++) {
    const x0 = [rand(), rand(), rand()];
    const x1 = [rand(), rand(), rand()];
    const dy = Math.hypot(...relu(w, b, x0).map((v, i) => v - relu(w, b, x1)[i]));
    const dx = Math.hypot(...x0.map((v, i) => v - x1[i]));
    assert.ok(dy >= bound * dx - 1e-12, `ratio ${dy / dx} below bound ${bound}`);
  }
});

test('a layer with m < 2n rows is not injective (row count)', () => {
  const result = reluInjectivity(
    [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [-1, -1, -1],
      [1, 1, 0],
    ],
    [0, 0, 0, 0, 0],
  );
  assert.equal(result.verdict, 'not-injective');
  assert.equal(result.method, 'row-count');
});

test('rows with negative bias do not count: the injective [B; −DB] loses injectivity when half its biases are negative', () => {
  const w = stacked(B2, [0.5, 3]);
  const allNegative = reluInjectivity(w, [-1, -1, -1, -1]);
  assert.equal(allNegative.countingRows, 0);
  assert.equal(allNegative.verdict, 'not-injective');
  const halfNegative = reluInjectivity(w, [0.3, 0.1, -0.2, -1]);
  assert.equal(halfNegative.countingRows, 2);
  assert.equal(halfNegative.verdict, 'not-injective');
  const positive = reluInjectivity(w, [0.3, 0.1, 0.2, 1]);
  assert.equal(positive.verdict, 'injective');
  assert.equal(positive.inverseLipschitz?.appliesTo, 'bias-free-layer');
});

test('enough rows but all in a half-plane: the exact check finds the empty wedge and a real collision', () => {
  const w = [0, 10, 20, 30, 40].map((deg) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)]);
  const b = new Array(5).fill(0);
  const result = reluInjectivity(w, b);
  assert.equal(result.verdict, 'not-injective');
  assert.equal(result.method, 'exact-wedges');
  const { direction, kernel } = result.counterExample!;
  const x0 = direction!;
  const x1 = x0.map((v, i) => v + 1e-3 * kernel![i]);
  relu(w, b, x0).forEach((v, i) => assert.ok(Math.abs(v - relu(w, b, x1)[i]) < 1e-12, `output ${i} differs`));
  assert.ok(Math.hypot(x0[0] - x1[0], x0[1] - x1[1]) > 1e-4, 'two distinct inputs');
});

test('the exact enumeration finds every cell of a generic central arrangement (2m in the plane, m² − m + 2 in space)', () => {
  const planar = [
    [1, 0.1],
    [0.3, 1],
    [-1, 0.7],
    [0.2, -0.9],
  ];
  assert.equal(centralCells(planar, 2).length, 8);
  const spatial = [
    [1, 0.1, 0.2],
    [0.3, 1, -0.4],
    [-1, 0.7, 0.5],
    [0.2, -0.9, 1],
    [0.6, 0.6, -0.8],
  ];
  assert.equal(centralCells(spatial, 3).length, 5 * 5 - 5 + 2);
});

test('above n = 3 the verdict is a probe result, never "injective"; a half-space layer is caught', () => {
  const n = 5;
  const B = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 2 : 0.3 * Math.sin(i + 2 * j))));
  const good = reluInjectivity(stacked(B, [1, 2, 0.5, 1, 3]), new Array(2 * n).fill(0), { probes: 300 });
  assert.equal(good.verdict, 'no-counter-example');
  assert.match(good.reason, /No counter-example found in \d+ probes/);
  const halfSpace = Array.from({ length: 2 * n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (j === 0 ? 1 + i * 0.1 : Math.sin(1.7 * i + 0.9 * j * j + i * j))),
  );
  const bad = reluInjectivity(halfSpace, new Array(2 * n).fill(0), { probes: 300 });
  assert.equal(bad.verdict, 'not-injective');
  assert.equal(bad.method, 'probing');
});

test('leaky-ReLU is injective iff W has full column rank', () => {
  const layer = (weights: number[][]): NetworkLayer => ({ weights, bias: weights.map(() => 0), activation: 'leaky_relu', alpha: 0.1 });
  const full = layerInjectivity(
    layer([
      [1, 0],
      [0, 2],
      [1, 1],
    ]),
    0,
  );
  assert.equal(full.verdict, 'injective');
  assert.ok(Math.abs(full.inverseLipschitz!.bound - 0.1 * full.inverseLipschitz!.minSingularValue) < 1e-15);
  const deficient = layerInjectivity(
    layer([
      [1, 2],
      [2, 4],
      [-1, -2],
    ]),
    0,
  );
  assert.equal(deficient.verdict, 'not-injective');
});

test('abs: |Wx| always collides at ±x, a bias can make it injective, and found collisions are real', () => {
  assert.equal(absInjectivity([[1], [1]], [0, 0]).verdict, 'not-injective');
  assert.equal(absInjectivity([[1], [1]], [0, 1]).verdict, 'injective');
  const w = [
    [1, 0],
    [0, 1],
    [1, 1],
  ];
  const b = [1, 2, 0.5];
  const result = absInjectivity(w, b);
  const abs = (x: number[]) => w.map((row, i) => Math.abs(row[0] * x[0] + row[1] * x[1] + b[i]));
  if (result.verdict === 'not-injective') {
    const [x0, x1] = result.counterExample!.points!;
    abs(x0).forEach((v, i) => assert.ok(Math.abs(v - abs(x1)[i]) < 1e-9));
  } else {
    assert.equal(result.verdict, 'injective');
  }
  const collide = absInjectivity(
    [
      [1, 0],
      [0, 1],
    ],
    [1, 2],
  );
  assert.equal(collide.verdict, 'not-injective');
  const [p, q] = collide.counterExample!.points!;
  assert.ok(Math.abs(Math.abs(p[0] + 1) - Math.abs(q[0] + 1)) < 1e-9 && Math.abs(Math.abs(p[1] + 2) - Math.abs(q[1] + 2)) < 1e-9);
});

test('a whole network: fewer outputs than inputs is never injective; all-injective layers compose', () => {
  const w = stacked(B2, [0.5, 3]);
  const net: FoldedNetwork = {
    format: 'police-network/1',
    input_dim: 2,
    output_dim: 4,
    layers: [
      { weights: w, bias: [0, 0, 0, 0], activation: 'relu' },
      {
        weights: [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
          [0, 0, 0, 1],
        ],
        bias: [0, 0, 0, 0],
        activation: 'linear',
      },
    ],
  };
  assert.equal(analyzeInjectivity(net).network.verdict, 'injective');
  const narrow: FoldedNetwork = {
    ...net,
    output_dim: 1,
    layers: [net.layers[0], { weights: [[1, 1, 1, 1]], bias: [0], activation: 'linear' }],
  };
  const report = analyzeInjectivity(narrow);
  assert.equal(report.network.verdict, 'not-injective');
  assert.equal(report.layers[0].verdict, 'injective');
});

test('exact verdicts agree with brute force on random small layers: witnesses are real, "injective" survives dense probing', () => {
  const rng = createRng(42);
  let injective = 0;
  let refuted = 0;
  for (let t = 0; t < 80; t++) {
    const n = 2 + (t % 2);
    const m = 2 * n + rng.int(4);
    // A shared offset tilts some rows towards one half-space, so both verdicts occur.
    const w = Array.from({ length: m }, () => Array.from({ length: n }, () => rng.normal() + (rng.next() < 0.5 ? 0.8 : 0)));
    const result = reluInjectivity(w, new Array(m).fill(0));
    const activeRank = (x: number[]) => {
      const active = w.filter((row) => row.reduce((s, v, j) => s + v * x[j], 0) > 0);
      return active.length < n ? 0 : smallestSingular(active, n).sigma;
    };
    if (result.verdict === 'injective') {
      injective++;
      for (let k = 0; k < 3000; k++)
        assert.ok(activeRank(Array.from({ length: n }, () => rng.normal())) > 1e-7, `case ${t}: a probe refutes the exact verdict`);
    } else if (result.method === 'exact-wedges') {
      refuted++;
      assert.ok(activeRank(result.counterExample!.direction!) < 1e-6, `case ${t}: the witness wedge spans`);
    }
  }
  assert.ok(injective >= 3 && refuted >= 20, `both verdicts exercised (${injective} injective, ${refuted} refuted)`);
});

test('abs: the hyperplane check agrees with brute force over every split of the rows (small integer layers)', () => {
  const rng = createRng(9);
  let injective = 0;
  for (let t = 0; t < 150; t++) {
    const n = 1 + (t % 3);
    const m = n + 1 + rng.int(3);
    const w = Array.from({ length: m }, () => Array.from({ length: n }, () => rng.int(5) - 2));
    const b = Array.from({ length: m }, () => rng.int(5) - 2);
    // |Wx+b| = |Wy+b| with x ≠ y iff the rows split into A (w·(x−y) = 0, rank < n) and B (w·(x+y)/2 = −b, solvable).
    let collides = false;
    for (let mask = 0; mask < 1 << m && !collides; mask++) {
      const inA = (i: number) => (mask & (1 << i)) !== 0;
      const a = w.filter((_, i) => inA(i));
      if (a.length > 0 && rank(a, 1e-10) >= n) continue;
      const rows = w.map((_, i) => i).filter((i) => !inA(i));
      if (rows.length === 0) {
        collides = true;
        break;
      }
      const { solution } = leastSquares(
        rows.map((i) => w[i]),
        rows.map((i) => [-b[i]]),
      );
      collides = rows.every((i) => Math.abs(w[i].reduce((sum, v, j) => sum + v * solution[j][0], b[i])) < 1e-9);
    }
    const verdict = absInjectivity(w, b).verdict;
    assert.equal(verdict, collides ? 'not-injective' : 'injective', `W = ${JSON.stringify(w)}, b = ${JSON.stringify(b)}`);
    if (!collides) injective++;
  }
  assert.ok(injective >= 20 && injective <= 130, `both verdicts exercised (${injective} injective of 150)`);
});
