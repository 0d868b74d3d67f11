import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certify, weightsSha256 } from '../../extension/police/proof/certificate';
import type { FoldedNetwork, NetworkLayer } from '../../extension/police/network/network';
import { forward } from '../../extension/police/network/network';
import { createRng } from '../../extension/police/common/random';
import type { Matrix, ResolvedConstraint, ResolvedRegion } from '../../extension/police/spec/types';
import { affineOnTriangle } from './network-fixtures';

const TRIANGLE: Matrix = [
  [-1.414, -1.414],
  [0, 2],
  [1.414, -1.414],
];

function region(name: string, vertices: Matrix, constraint: ResolvedConstraint = { kind: 'affine' }): ResolvedRegion {
  return { name, vertices, constraint, form: 'vertices' };
}

/** Random He-initialised leaky-ReLU layers with zero bias: every hyperplane passes through the origin. */
function randomNetwork(seed: number, widths: number[], inputDim = 2, outputDim = 1): FoldedNetwork {
  const rng = createRng(seed);
  const layers: NetworkLayer[] = [];
  let fanIn = inputDim;
  for (const [l, units] of [...widths, outputDim].entries()) {
    const last = l === widths.length;
    layers.push({
      weights: Array.from({ length: units }, () => Array.from({ length: fanIn }, () => Math.fround(rng.normal() * Math.sqrt(2 / fanIn)))),
      bias: new Array<number>(units).fill(0),
      activation: last ? 'linear' : 'leaky_relu',
      ...(last ? {} : { alpha: 0.01 }),
    });
    fanIn = units;
  }
  return { format: 'police-network/1', input_dim: inputDim, output_dim: outputDim, layers };
}

/** Algorithm 1 folded into the biases, in float64, then stored as float32: majority vote s, shift c = max ReLU(−H s)·s (+ margin). */
function policeFold(network: FoldedNetwork, vertices: Matrix, margin: number): FoldedNetwork {
  let images = vertices;
  const layers = network.layers.map((layer) => {
    if (layer.activation === 'linear') return layer;
    const h = images.map((v) => layer.weights.map((row, k) => row.reduce((s, w, j) => s + w * v[j], layer.bias[k])));
    const bias = layer.bias.map((b, k) => {
      const positives = h.filter((row) => row[k] > 0).length;
      const side = positives >= h.length / 2 ? 1 : -1;
      const shift = Math.max(0, ...h.map((row) => -row[k] * side)) * side;
      return margin === 0 ? b + shift : Math.fround(b + shift + margin * side);
    });
    const folded = { ...layer, bias };
    images = images.map((v) =>
      folded.weights.map((row, k) => {
        const z = row.reduce((s, w, j) => s + w * v[j], bias[k]);
        return z > 0 ? z : (layer.alpha ?? 0) * z;
      }),
    );
    return folded;
  });
  return { ...network, layers };
}

test('a network affine on a triangle is proved, with its affine map and margin', () => {
  const cert = certify(affineOnTriangle(), [region('triangle', TRIANGLE)], { spec: 'hand', createdAt: 'fixed' });
  assert.equal(cert.format, 'police-certificate/1');
  assert.equal(cert.proved, true);
  const r = cert.regions[0];
  assert.equal(r.status, 'proved');
  assert.equal(r.vertexCount, 3);
  assert.ok(Math.abs(r.affineMap.A[0][0] - 1) < 1e-12 && Math.abs(r.affineMap.A[0][1] - 2) < 1e-12, JSON.stringify(r.affineMap));
  assert.ok(Math.abs(r.affineMap.b[0] - 15.5) < 1e-12);
  // Smallest pre-activation over the vertices: −1.414 + 5.
  assert.ok(Math.abs(r.minMargin - 3.586) < 1e-12, String(r.minMargin));
  assert.ok(r.maxResidual < 1e-12);
  assert.equal(r.samplesChecked, 256);
  assert.equal(r.firstViolation, undefined);
  assert.ok(
    r.checks.every((c) => c.passed),
    JSON.stringify(r.checks),
  );
});

test('a hyperplane through the region is not proved, naming its layer and unit', () => {
  const network = affineOnTriangle();
  network.layers[0].bias = [5, 0.5]; // unit 1's hyperplane x1 = −0.5 cuts the triangle
  const r = certify(network, [region('triangle', TRIANGLE)]).regions[0];
  assert.equal(r.status, 'not-proved');
  assert.deepEqual(r.firstViolation, { layer: 0, unit: 1 });
  const signs = r.checks.find((c) => c.name === 'vertex-sign-patterns');
  assert.equal(signs?.passed, false);
  assert.match(signs?.detail ?? '', /layer 0 unit 1.*1 vertices on the positive side, 2 on the negative/);
  assert.ok(r.maxResidual > 1e-4, `the bend shows at convex combinations: ${r.maxResidual}`);
});

test('a random network trained without POLICE is not proved', () => {
  const network = randomNetwork(1, [16, 16]);
  const cert = certify(network, [region('triangle', TRIANGLE)]);
  assert.equal(cert.proved, false);
  assert.equal(cert.regions[0].status, 'not-proved');
  assert.equal(cert.regions[0].firstViolation?.layer, 0);
  assert.equal(cert.regions[0].checks.find((c) => c.name === 'convex-combinations')?.passed, false);
});

test('the same random network after a POLICE fold is proved, and f is affine on the triangle', () => {
  const network = policeFold(randomNetwork(1, [16, 16]), TRIANGLE, 1e-4);
  const r = certify(network, [region('triangle', TRIANGLE)]).regions[0];
  assert.equal(r.status, 'proved', JSON.stringify(r.checks));
  assert.ok(r.minMargin >= 0.5e-4 && r.minMargin < 1e-3, `margin ${r.minMargin}`);
  assert.ok((r.maxErrorBound ?? 1) < 1e-12, `error bound ${r.maxErrorBound}`);
  // The certificate's map reproduces f at an interior point.
  const x = [0.1, 0.2];
  const fx = forward(network, x)[0];
  const mapped = r.affineMap.A[0][0] * x[0] + r.affineMap.A[0][1] * x[1] + r.affineMap.b[0];
  assert.ok(Math.abs(fx - mapped) < 1e-10);
});

test('a fold without margin leaves a vertex on the hyperplane within rounding: refused, not proved optimistically', () => {
  const network = policeFold(randomNetwork(2, [8]), TRIANGLE, 0);
  const r = certify(network, [region('triangle', TRIANGLE)]).regions[0];
  assert.equal(r.status, 'not-proved');
  assert.match(r.checks[0].detail, /within its float64 error bound/);
});

test('a vertex exactly on the hyperplane with exact arithmetic is on the closed side', () => {
  const network = affineOnTriangle();
  network.layers[0].bias = [1.414, 5]; // x0 + 1.414 is exactly 0 at the first vertex, positive elsewhere
  const r = certify(network, [
    region('triangle', [
      [-1.5, -1],
      [0, 2],
      [1, -1],
    ]),
  ]).regions[0];
  assert.equal(r.status, 'not-proved'); // −1.5 + 1.414 < 0: a genuine crossing
  const onEdge = certify(network, [
    region('triangle', [
      [-1.414, -1],
      [0, 2],
      [1, -1],
    ]),
  ]).regions[0];
  assert.equal(onEdge.status, 'proved', JSON.stringify(onEdge.checks));
  assert.equal(onEdge.minMargin, 0);
});

test('several regions get separate verdicts and maps; overlapping regions are named', () => {
  const network = affineOnTriangle();
  network.layers[0].bias = [0, 0]; // hyperplanes are the axes
  const cert = certify(network, [
    region('first-quadrant', [
      [1, 1],
      [3, 1],
      [3, 3],
      [1, 3],
    ]),
    region('third-quadrant', [
      [-3, -3],
      [-1, -3],
      [-1, -1],
      [-3, -1],
    ]),
    region('straddles', [
      [-1, 1],
      [1, 1],
      [0, 2],
    ]),
    region('inside-first', [
      [2, 2],
      [2.5, 2],
      [2, 2.5],
    ]),
  ]);
  assert.deepEqual(
    cert.regions.map((r) => r.status),
    ['proved', 'proved', 'not-proved', 'proved'],
  );
  assert.equal(cert.proved, false);
  const [first, third] = cert.regions;
  assert.ok(Math.abs(first.affineMap.A[0][0] - 1) < 1e-12 && Math.abs(first.affineMap.A[0][1] - 2) < 1e-12);
  assert.ok(Math.abs(third.affineMap.A[0][0] - 0.01) < 1e-12 && Math.abs(third.affineMap.A[0][1] - 0.02) < 1e-12);
  assert.deepEqual(cert.overlaps, [['first-quadrant', 'inside-first']]);
});

test('jacobian and affine_map constraints report their residual and fail when the map differs', () => {
  const network = affineOnTriangle();
  const good = certify(network, [
    region('map', TRIANGLE, { kind: 'affine_map', A: [[1, 2]], b: [15.5] }),
    region('jac', TRIANGLE, { kind: 'jacobian', A: [[1, 2]] }),
  ]);
  assert.equal(good.proved, true);
  assert.ok((good.regions[0].constraintResidual ?? 1) < 1e-12);
  const bad = certify(network, [region('map', TRIANGLE, { kind: 'affine_map', A: [[1, 2]], b: [15] })]).regions[0];
  assert.equal(bad.status, 'not-proved');
  assert.ok(Math.abs((bad.constraintResidual ?? 0) - 0.5) < 1e-12);
  assert.equal(bad.checks.find((c) => c.name === 'constraint-map')?.passed, false);
});

test('the skip term is part of f and of the certified map', () => {
  const network: FoldedNetwork = { ...affineOnTriangle(), skip: { weights: [[-1, 0]], bias: [-0.5] } };
  const r = certify(network, [region('triangle', TRIANGLE, { kind: 'affine_map', A: [[0, 2]], b: [15] })]).regions[0];
  assert.equal(r.status, 'proved', JSON.stringify(r.checks));
});

test('the weights hash is stable, ignores key order, and sees a one-ulp change', () => {
  const a = affineOnTriangle();
  const reordered: FoldedNetwork = JSON.parse(JSON.stringify(a));
  reordered.layers[0] = {
    activation: 'leaky_relu',
    bias: [5, 5],
    alpha: 0.01,
    weights: [
      [1, 0],
      [0, 1],
    ],
  };
  assert.equal(weightsSha256(a), weightsSha256(reordered));
  assert.match(weightsSha256(a), /^[0-9a-f]{64}$/);
  const nudged = affineOnTriangle();
  nudged.layers[1].weights[0][0] = 1 + Number.EPSILON;
  assert.notEqual(weightsSha256(a), weightsSha256(nudged));
  assert.equal(certify(a, [region('t', TRIANGLE)]).weightsSha256, weightsSha256(a));
  const otherBeta: FoldedNetwork = { ...a, layers: a.layers.map((l, i) => (i === 0 ? { ...l, activation: 'swish', beta: 2 } : l)) };
  const otherBeta3: FoldedNetwork = { ...a, layers: a.layers.map((l, i) => (i === 0 ? { ...l, activation: 'swish', beta: 3 } : l)) };
  assert.notEqual(weightsSha256(otherBeta), weightsSha256(otherBeta3), 'β is part of the weights a certificate names');
});

test('a region of the wrong dimension is reported, not thrown', () => {
  const r = certify(affineOnTriangle(), [
    region('3d', [
      [0, 0, 0],
      [1, 0, 0],
      [0, 1, 0],
    ]),
  ]).regions[0];
  assert.equal(r.status, 'not-proved');
  assert.match(r.checks[0].detail, /vertex 0 has 3 finite coordinates expected 2/);
});

test('a smooth activation is never proved: approximate, with the residual measured on the region', () => {
  const network = affineOnTriangle();
  network.layers[0] = { ...network.layers[0], activation: 'swish', beta: 1 };
  const r = certify(network, [region('triangle', TRIANGLE)]).regions[0];
  assert.equal(r.status, 'approximate');
  assert.ok(r.maxResidual > 1e-3, `swish bends on the triangle: ${r.maxResidual}`);
  assert.match(r.checks[0].detail, /swish is not piecewise affine/);
});
