import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certify } from '../../extension/police/proof/certificate';
import type { FoldedNetwork, NetworkLayer } from '../../extension/police/network/network';
import { forward } from '../../extension/police/network/network';
import {
  cellArea,
  cellAt,
  cellContaining,
  cellInputMap,
  cellPattern,
  cellPatternDistance,
  packPattern,
  cellPlaneMap,
  cellPolygon,
  identityPlane,
  partitionPlane,
  patternAt,
  patternDistance,
} from '../../extension/police/partition/partition';
import type { Partition, PartitionPlane, PartitionWindow } from '../../extension/police/partition/partition';
import { randomLeakyNetwork } from '../../extension/police/partition/bench';
import { createRng } from '../../extension/police/common/random';
import type { Matrix } from '../../extension/police/spec/types';

type Activation = NetworkLayer['activation'];

function randomNetwork(seed: number, widths: number[], activation: Activation, inputDim = 2, outputDim = 1): FoldedNetwork {
  const rng = createRng(seed);
  const layers: NetworkLayer[] = [];
  let fanIn = inputDim;
  for (const [l, units] of [...widths, outputDim].entries()) {
    const last = l === widths.length;
    layers.push({
      weights: Array.from({ length: units }, () => Array.from({ length: fanIn }, () => Math.fround(rng.normal() * Math.sqrt(2 / fanIn)))),
      bias: Array.from({ length: units }, () => Math.fround(rng.uniform(-0.8, 0.8))),
      activation: last ? 'linear' : activation,
      ...(activation === 'leaky_relu' && !last ? { alpha: 0.1 } : {}),
    });
    fanIn = units;
  }
  return { format: 'police-network/1', input_dim: inputDim, output_dim: outputDim, layers };
}

const onPlane = (plane: PartitionPlane, u: number, v: number): number[] =>
  plane.origin.map((o, d) => o + u * plane.e1[d] + v * plane.e2[d]);

/** For random points: the cell found has the point's own pattern (away from hyperplanes) and its map gives f. */
function checkAgainstSampling(
  network: FoldedNetwork,
  partition: Partition,
  plane: PartitionPlane,
  window: PartitionWindow,
  points: number,
  seed: number,
): void {
  const rng = createRng(seed);
  const [[u0, u1], [v0, v1]] = window;
  for (let s = 0; s < points; s++) {
    const u = rng.uniform(u0, u1);
    const v = rng.uniform(v0, v1);
    const x = onPlane(plane, u, v);
    const index = cellAt(partition, [u, v]);
    assert.ok(index >= 0, `no cell at (${u}, ${v})`);
    const pre: number[][] = [];
    const fx = forward(network, x, pre);
    const direct = patternAt(network, x);
    const cell = cellPattern(partition, index);
    assert.equal(
      cellPatternDistance(partition, index, packPattern(partition, direct)),
      patternDistance(cell, direct),
      'packed and per-layer patterns agree',
    );
    network.layers.forEach((_, l) =>
      direct[l].forEach((bit, k) => {
        // A point within rounding of a hyperplane may be attributed to either side.
        if (Math.abs(pre[l][k]) > 1e-9) assert.equal(cell[l][k], bit, `point (${u}, ${v}) layer ${l} unit ${k}`);
      }),
    );
    const map = cellPlaneMap(partition, index);
    fx.forEach((value, k) => {
      const mapped = map.A[k][0] * u + map.A[k][1] * v + map.b[k];
      assert.ok(Math.abs(mapped - value) <= 1e-9 * (1 + Math.abs(value)), `output ${k} at (${u}, ${v}): ${mapped} vs ${value}`);
    });
  }
}

function totalArea(partition: Partition): number {
  let area = 0;
  for (let i = 0; i < partition.cellCount; i++) area += cellArea(partition, i);
  return area;
}

test('cells of a leaky-ReLU network match brute-force sampling and tile the window', () => {
  const network = randomNetwork(3, [12, 12, 12], 'leaky_relu');
  const window: PartitionWindow = [
    [-3, 3],
    [-2, 4],
  ];
  const partition = partitionPlane(network, identityPlane(), window);
  assert.ok(partition.cellCount > 50, `only ${partition.cellCount} cells`);
  assert.ok(Math.abs(totalArea(partition) - 36) <= 1e-9 * 36, `area ${totalArea(partition)}`);
  checkAgainstSampling(network, partition, identityPlane(), window, 3000, 11);
});

test('relu and abs networks with two outputs, and a skip term', () => {
  for (const activation of ['relu', 'abs'] as const) {
    const network = randomNetwork(5, [10, 8], activation, 2, 2);
    network.skip = {
      weights: [
        [0.5, -1],
        [2, 0.25],
      ],
      bias: [0.1, -0.3],
    };
    const window: PartitionWindow = [
      [-2, 2],
      [-2, 2],
    ];
    const partition = partitionPlane(network, identityPlane(), window);
    assert.ok(Math.abs(totalArea(partition) - 16) <= 1e-9 * 16);
    checkAgainstSampling(network, partition, identityPlane(), window, 1000, 12);
  }
});

test('linear hidden layers after the last bend, and a bending output layer', () => {
  const tail = randomNetwork(31, [10, 6, 5], 'leaky_relu', 2, 2);
  tail.layers[2] = { ...tail.layers[2], activation: 'linear' };
  delete tail.layers[2].alpha;
  const bent = randomNetwork(32, [8], 'abs', 2, 2);
  bent.layers[1] = { ...bent.layers[1], activation: 'relu' };
  const window: PartitionWindow = [
    [-2, 2],
    [-2, 2],
  ];
  for (const network of [tail, bent]) {
    const partition = partitionPlane(network, identityPlane(), window);
    assert.ok(Math.abs(totalArea(partition) - 16) <= 1e-9 * 16);
    checkAgainstSampling(network, partition, identityPlane(), window, 800, 18);
  }
});

test('a plane through a 4-D input space: plane maps and input maps both reproduce f', () => {
  const network = randomNetwork(7, [10, 10], 'leaky_relu', 4, 1);
  const plane: PartitionPlane = { origin: [0.2, -0.1, 0.3, 0], e1: [0.6, 0.8, 0, 0], e2: [0, 0, 0.6, -0.8] };
  const window: PartitionWindow = [
    [-2, 2],
    [-1, 1],
  ];
  const partition = partitionPlane(network, plane, window);
  assert.ok(Math.abs(totalArea(partition) - 8) <= 1e-9 * 8);
  checkAgainstSampling(network, partition, plane, window, 1000, 13);
  const rng = createRng(14);
  for (let s = 0; s < 50; s++) {
    const [u, v] = [rng.uniform(-2, 2), rng.uniform(-1, 1)];
    const x = onPlane(plane, u, v);
    const { A, b } = cellInputMap(network, partition, cellAt(partition, [u, v]));
    assert.equal(A[0].length, 4);
    const mapped = A[0].reduce((sum, a, d) => sum + a * x[d], b[0]);
    assert.ok(Math.abs(mapped - forward(network, x)[0]) < 1e-9);
  }
});

test('a skewed plane in 2-D: the input map follows from the plane map', () => {
  const network = randomNetwork(9, [8, 8], 'leaky_relu');
  const plane: PartitionPlane = { origin: [1, -0.5], e1: [1, 0.5], e2: [-0.25, 2] };
  const partition = partitionPlane(network, plane, [
    [-1, 1],
    [-1, 1],
  ]);
  const rng = createRng(15);
  for (let s = 0; s < 100; s++) {
    const [u, v] = [rng.uniform(-1, 1), rng.uniform(-1, 1)];
    const x = onPlane(plane, u, v);
    const { A, b } = cellInputMap(network, partition, cellAt(partition, [u, v]));
    assert.ok(Math.abs(A[0][0] * x[0] + A[0][1] * x[1] + b[0] - forward(network, x)[0]) < 1e-9);
  }
});

test('concurrent lines and lines through window corners give exact cells, no slivers', () => {
  // Hidden units u, v, u − v, u + v − 4 (through the corner (2, 2)), u − 2 (along the window edge).
  const network: FoldedNetwork = {
    format: 'police-network/1',
    input_dim: 2,
    output_dim: 1,
    layers: [
      {
        weights: [
          [1, 0],
          [0, 1],
          [1, -1],
          [1, 1],
          [1, 0],
        ],
        bias: [0, 0, 0, -4, -2],
        activation: 'relu',
      },
      { weights: [[1, 1, 1, 1, 1]], bias: [0], activation: 'linear' },
    ],
  };
  const partition = partitionPlane(network, identityPlane(), [
    [-2, 2],
    [-2, 2],
  ]);
  // Three lines through the origin cut the square into 6 cells; the other two only touch its boundary.
  assert.equal(partition.cellCount, 6);
  assert.ok(Math.abs(totalArea(partition) - 16) < 1e-12);
  for (let i = 0; i < partition.cellCount; i++) assert.ok(cellArea(partition, i) > 1, `cell ${i} is a sliver`);
  checkAgainstSampling(
    network,
    partition,
    identityPlane(),
    [
      [-2, 2],
      [-2, 2],
    ],
    500,
    16,
  );
  assert.equal(cellPolygon(partition, 0).length % 2, 0);
  // A triangle across the line u = 0 is in no single cell; one inside a quadrant sector is.
  assert.equal(
    cellContaining(partition, [
      [-0.5, -1],
      [0.5, -1],
      [0, -1.5],
    ]),
    -1,
  );
  assert.ok(
    cellContaining(partition, [
      [0.5, -1],
      [1, -1.5],
      [1, -1],
    ]) >= 0,
  );
  assert.equal(cellPatternDistance(partition, 0, packPattern(partition, cellPattern(partition, 0))), 0);
});

/** Algorithm 1 folded into the biases (majority vote, shift, margin), in float64 then float32. */
function policeFold(network: FoldedNetwork, vertices: Matrix, margin: number): FoldedNetwork {
  let images = vertices;
  const layers = network.layers.map((layer) => {
    if (layer.activation === 'linear') return layer;
    const h = images.map((v) => layer.weights.map((row, k) => row.reduce((s, w, j) => s + w * v[j], layer.bias[k])));
    const bias = layer.bias.map((b, k) => {
      const side = h.filter((row) => row[k] > 0).length >= h.length / 2 ? 1 : -1;
      return Math.fround(b + Math.max(0, ...h.map((row) => -row[k] * side)) * side + margin * side);
    });
    images = images.map((v) =>
      layer.weights.map((row, k) => {
        const z = row.reduce((s, w, j) => s + w * v[j], bias[k]);
        return z > 0 ? z : (layer.alpha ?? 0) * z;
      }),
    );
    return { ...layer, bias };
  });
  return { ...network, layers };
}

test('a POLICE-folded network has its region inside one single cell', () => {
  const triangle = [
    [-1.414, -1.414],
    [0, 2],
    [1.414, -1.414],
  ];
  const network = policeFold(randomNetwork(21, [16, 16, 16], 'leaky_relu'), triangle, 1e-4);
  assert.equal(certify(network, [{ name: 'R', vertices: triangle, constraint: { kind: 'affine' }, form: 'vertices' }]).proved, true);
  const partition = partitionPlane(network, identityPlane(), [
    [-4, 4],
    [-4, 4],
  ]);
  assert.ok(partition.cellCount > 20);
  const centroid: [number, number] = [0, -0.276];
  const home = cellAt(partition, centroid);
  // Every point of R (vertices pulled in by 1e-9, edge midpoints) lies in that cell, and has its pattern.
  const probes = [...triangle, [0.707, 0.293], [-0.707, 0.293], [0, -1.414]].map(
    ([u, v]) => [u + (centroid[0] - u) * 1e-9, v + (centroid[1] - v) * 1e-9] as [number, number],
  );
  for (const p of probes) {
    assert.equal(cellAt(partition, p), home, `probe ${p}`);
    assert.equal(patternDistance(patternAt(network, p), cellPattern(partition, home)), 0);
  }
  assert.equal(cellContaining(partition, triangle as [number, number][]), home);
  // Outside R the pattern distance to R's cell grows.
  const far = cellAt(partition, [3.5, 3.5]);
  assert.ok(patternDistance(cellPattern(partition, far), cellPattern(partition, home)) > 0);
});

test('the benchmark network partitions quickly enough to test and tiles its window', () => {
  const network = randomLeakyNetwork(16, 3, 0);
  const partition = partitionPlane(network, identityPlane(), [
    [-4, 4],
    [-4, 4],
  ]);
  assert.ok(Math.abs(totalArea(partition) - 64) <= 1e-9 * 64);
  checkAgainstSampling(
    network,
    partition,
    identityPlane(),
    [
      [-4, 4],
      [-4, 4],
    ],
    1000,
    17,
  );
});

test('bad inputs are refused with a message naming them', () => {
  const network = randomNetwork(1, [4], 'relu');
  assert.throws(
    () =>
      partitionPlane(network, { origin: [0, 0, 0], e1: [1, 0], e2: [0, 1] }, [
        [0, 1],
        [0, 1],
      ]),
    /plane origin must hold 2/,
  );
  assert.throws(
    () =>
      partitionPlane(network, identityPlane(), [
        [1, 0],
        [0, 1],
      ]),
    /window/,
  );
  const smooth: FoldedNetwork = { ...network, layers: [{ ...network.layers[0], activation: 'tanh' }, network.layers[1]] };
  assert.throws(
    () =>
      partitionPlane(smooth, identityPlane(), [
        [0, 1],
        [0, 1],
      ]),
    /'tanh' is not piecewise affine/,
  );
  assert.equal(
    cellAt(
      partitionPlane(network, identityPlane(), [
        [0, 1],
        [0, 1],
      ]),
      [2, 2],
    ),
    -1,
  );
  const wide = randomLeakyNetwork(64, 2, 0);
  assert.throws(
    () =>
      partitionPlane(
        wide,
        identityPlane(),
        [
          [-4, 4],
          [-4, 4],
        ],
        { maxCells: 100 },
      ),
    /more than 100 cells/,
  );
  assert.throws(
    () =>
      partitionPlane(
        wide,
        identityPlane(),
        [
          [-4, 4],
          [-4, 4],
        ],
        { timeLimitMs: 0 },
      ),
    /stopped after 0 ms/,
  );
});

test('pattern distance counts units that switched side', () => {
  assert.equal(patternDistance([[1, 0, 1], [], [0]], [[1, 1, 0], [], [0]]), 2);
  assert.throws(() => patternDistance([[1]], [[1], [0]]), /layers/);
});
