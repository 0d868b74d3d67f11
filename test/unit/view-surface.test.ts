import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forward } from '../../extension/police/network/network';
import { patternAt, patternDistance } from '../../extension/police/proof/patterns';
import { cellPattern, partitionPlane } from '../../extension/police/partition/partition';
import { buildSurface, gridCoordinate, rasterizeCells, sampledResolution } from '../../extension/host/view/surface';
import { pickSubsample } from '../../extension/host/view/data-sample';
import { contentSecurityPolicy, makeNonce, renderHtml } from '../../extension/host/view/html';
import { MessageChannel } from '../../extension/protocol/channel';
import type { HostToWebview, WebviewToHost } from '../../extension/protocol/messages';
import { cellPolygonOf, cellRegionDistances, findCell, pointInConvexPolygon } from '../../extension/common/view-geometry';
import { exactPartition, oneLayerNetwork, type Window2 } from './view-fixtures';
import { readMetrics } from '../../extension/host/view/run-files';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const network = oneLayerNetwork();
const window: Window2 = [
  [-4, 4],
  [-3, 5],
];
const identity = { origin: [0, 0], e1: [1, 0], e2: [0, 1] };

test('every grid point falls in the cell the rasterizer assigns it', () => {
  const cells = exactPartition(network, window);
  assert.ok(cells.cellCount >= 4, `expected several cells, got ${cells.cellCount}`);
  const R = 61;
  const index = rasterizeCells(cells, window, R);
  for (let j = 0; j < R; j++) {
    for (let i = 0; i < R; i++) {
      const c = index[j * R + i];
      assert.ok(c >= 0, `grid point (${i}, ${j}) is in no cell`);
      const u = gridCoordinate(-4, 4, R, i);
      const v = gridCoordinate(-3, 5, R, j);
      assert.ok(pointInConvexPolygon(cellPolygonOf(cells, c), u, v, 1e-7), `(${u}, ${v}) is not in cell ${c}`);
    }
  }
});

test('the surface sampled from cell maps equals the network, and R sits at pattern distance 0 from its cell', () => {
  const partition = exactPartition(network, window);
  const region = [
    [-0.5, -0.5],
    [0, 0.5],
    [0.5, -0.5],
  ];
  const R = 41;
  const surface = buildSurface({ step: 7, network, plane: identity, window, resolution: R, regions: [region] }, partition, 0.5);
  assert.equal(surface.values.length, R * R);
  for (let g = 0; g < R * R; g += 13) {
    const u = gridCoordinate(-4, 4, R, g % R);
    const v = gridCoordinate(-3, 5, R, Math.floor(g / R));
    assert.ok(Math.abs(surface.values[g] - forward(network, [u, v])[0]) < 1e-9);
  }
  const home = findCell(surface.cells, -1, 0, -0.1, 1e-9);
  assert.equal(cellRegionDistances(surface.cells, home)[0], 0);
  // Each cell's distance is the number of units on the other side than at R's centroid.
  const regionPattern = patternAt(network, [0, -1 / 6]);
  let farther = 0;
  for (let c = 0; c < surface.cells.count; c++) {
    const polygon = cellPolygonOf(surface.cells, c);
    const center = [0, 1].map((d) => polygon.filter((_, q) => q % 2 === d).reduce((s, x) => s + x, 0) / (polygon.length / 2));
    assert.equal(surface.cells.regionDistances[c], patternDistance(patternAt(network, center), regionPattern), `cell ${c}`);
    if (surface.cells.regionDistances[c] > 0) farther++;
  }
  assert.ok(farther > 0);
  for (const [r, vertices] of [region].entries()) {
    vertices.forEach((x, p) => assert.ok(Math.abs(surface.regionValues[r][p][0] - forward(network, x)[0]) < 1e-12));
  }
});

test('region distances count switched units over patterns longer than one 32-bit word, linear hidden layers included', () => {
  let seed = 3;
  const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const dense = (rows: number, cols: number, activation: 'relu' | 'leaky_relu' | 'linear') => ({
    weights: Array.from({ length: rows }, () => Array.from({ length: cols }, random)),
    bias: Array.from({ length: rows }, () => 0.3 * random()),
    activation,
    alpha: 0.05,
  });
  const wide = {
    format: 'police-network/1' as const,
    input_dim: 2,
    output_dim: 1,
    layers: [dense(40, 2, 'relu'), dense(6, 40, 'linear'), dense(37, 6, 'leaky_relu'), dense(1, 37, 'linear')],
  };
  const region = [
    [0.1, 0.1],
    [0.3, 0.1],
    [0.2, 0.3],
  ];
  const partition = partitionPlane(wide, identity, [
    [-1, 1],
    [-1, 1],
  ]);
  assert.equal(partition.patternWords, 3);
  assert.ok(partition.cellCount > 10, `${partition.cellCount} cells`);
  const surface = buildSurface(
    {
      step: 0,
      network: wide,
      plane: identity,
      window: [
        [-1, 1],
        [-1, 1],
      ],
      resolution: 9,
      regions: [region],
    },
    partition,
    0,
  );
  const regionPattern = patternAt(wide, [0.2, 0.5 / 3]);
  for (let c = 0; c < surface.cells.count; c++)
    assert.equal(surface.cells.regionDistances[c], patternDistance(cellPattern(partition, c), regionPattern), `cell ${c}`);
});

test('each region in the plane reports how many linear regions it meets: one when inside a cell, every cell when it covers the window', () => {
  const partition = exactPartition(network, window);
  const inside = [
    [-0.5, -0.5],
    [0, 0.5],
    [0.5, -0.5],
  ];
  const everything = [
    [-4, -3],
    [4, -3],
    [4, 5],
    [-4, 5],
  ];
  // A thin box straddling the line of unit 0 (u + 0.3 v + 2 = 0) near (−2, 0): two cells.
  const straddling = [
    [-2.2, -0.05],
    [-1.8, -0.05],
    [-1.8, 0.05],
    [-2.2, 0.05],
  ];
  const surface = buildSurface(
    { step: 1, network, plane: identity, window, resolution: 9, regions: [inside, everything, straddling] },
    partition,
    0,
  );
  assert.deepEqual(
    surface.regionCells.map((cells) => cells?.meets),
    [1, partition.cellCount, 2],
  );
  assert.ok(
    pointInConvexPolygon(cellPolygonOf(partition, surface.regionCells[0]!.cell), 0, -0.1),
    'the one cell holding R is the cell around it',
  );
  assert.equal(surface.regionCells[1]!.cell, -1);
  // The holding cell travels with its polygon and map, so the view can outline it even when the cells are not sent.
  const holding = surface.regionCells[0]!;
  assert.ok(pointInConvexPolygon(holding.polygon, 0, -0.1));
  assert.ok(
    Math.abs(holding.planeMaps[0] * 0 + holding.planeMaps[1] * -0.1 + holding.planeMaps[2] - forward(network, [0, -0.1])[0]) < 1e-12,
  );
  // Off the plane (a 3-D region seen on a slice) there is no such count; without a partition neither.
  const net3 = {
    ...network,
    input_dim: 3,
    layers: [{ ...network.layers[0], weights: network.layers[0].weights.map((w) => [...w, 0.5]) }, network.layers[1]],
  };
  const slice = { origin: [0, 0, 0], e1: [1, 0, 0], e2: [0, 1, 0] };
  const tetrahedron = [
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  const onSlice = buildSurface(
    {
      step: 1,
      network: net3,
      plane: slice,
      window,
      resolution: 9,
      regions: [
        tetrahedron,
        [
          [0, 0, 0],
          [1, 0, 0],
          [0, 1, 0],
        ],
      ],
    },
    partitionPlane(net3, slice, window),
    0,
  );
  assert.deepEqual(
    onSlice.regionCells.map((cells) => cells?.meets ?? null),
    [null, 1],
  );
  assert.deepEqual(
    buildSurface({ step: 1, network, plane: identity, window, resolution: 9, regions: [inside] }, undefined, 0).regionCells,
    [null],
  );
  // A region reaching past the window has no verdict: its cells beyond the window were never computed.
  const pastWindow = [
    [3, 0],
    [4.5, 0],
    [4.5, 1],
    [3, 1],
  ];
  assert.deepEqual(
    buildSurface({ step: 1, network, plane: identity, window, resolution: 9, regions: [pastWindow] }, partition, 0).regionCells,
    [null],
  );
});

test('without cells the surface falls back to forward passes and says why', () => {
  const surface = buildSurface({ step: 0, network, plane: identity, window, resolution: 9, regions: [] }, undefined, 0, {
    partitionError: 'no partition',
  });
  assert.equal(surface.partitionError, 'no partition');
  assert.ok(surface.cellIndex.every((c) => c === -1));
  assert.ok(Math.abs(surface.values[0] - forward(network, [-4, -3])[0]) < 1e-12);
});

test('a plane through a higher-dimensional input maps grid points through origin + u e1 + v e2', () => {
  const net3 = {
    ...network,
    input_dim: 3,
    layers: [{ ...network.layers[0], weights: network.layers[0].weights.map((w) => [...w, 0.5]) }, network.layers[1]],
  };
  const plane = { origin: [0, 0, 1], e1: [1, 0, 0], e2: [0, 1, 0] };
  const surface = buildSurface(
    {
      step: 0,
      network: net3,
      plane,
      window: [
        [-1, 1],
        [-1, 1],
      ],
      resolution: 3,
      regions: [],
    },
    undefined,
    0,
  );
  assert.ok(Math.abs(surface.values[4] - forward(net3, [0, 0, 1])[0]) < 1e-12);
});

test('the data subsample keeps the spread and the labels', () => {
  const x = Float32Array.from({ length: 20 }, (_, i) => i);
  const labels = Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  const sample = pickSubsample({ x, y: new Float32Array(20), count: 10, inputDim: 2, outputDim: 2, labels }, 4);
  assert.equal(sample.count, 4);
  assert.deepEqual(sample.inputs, [0, 1, 6, 7, 12, 13, 18, 19]);
  assert.deepEqual(sample.targets, [0, 1, 0, 1]);
  assert.equal(sample.labels, true);
});

test('the webview HTML allows only its nonce-tagged script and no inline script', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{16,}$/);
  assert.notEqual(nonce, makeNonce());
  const csp = contentSecurityPolicy('vscode-resource:', nonce);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'(;|$)`));
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const html = renderHtml({ cspSource: 'vscode-resource:', scriptUri: 'x/webview.js', styleUri: 'x/webview.css', nonce });
  assert.equal((html.match(/<script /g) ?? []).length, 1);
  assert.ok(html.includes(`<script nonce="${nonce}" src="x/webview.js">`));
});

test('the message channel routes each type to its handler and reports unknown ones', () => {
  const seen: string[] = [];
  const invalid: string[] = [];
  const sent: WebviewToHost[] = [];
  const channel = new MessageChannel<WebviewToHost, HostToWebview>(
    (m) => sent.push(m),
    {
      spec: (m) => seen.push(`spec ${m.spec.name}`),
      data: () => seen.push('data'),
      trainingStarted: () => seen.push('started'),
      progress: (m) => seen.push(`progress ${m.step}`),
      lossHistory: () => seen.push('history'),
      surface: () => seen.push('surface'),
      certificate: () => seen.push('certificate'),
      status: (m) => seen.push(`status ${m.state}`),
      gram: (m) => seen.push(`gram ${m.layers.length}`),
      comparison: (m) => seen.push(`comparison ${m.runs.length}`),
    },
    (_raw, reason) => invalid.push(reason),
  );
  channel.receive({ type: 'progress', step: 3, totalSteps: 9, loss: 1, health: [] });
  channel.receive({ type: 'status', state: 'done', message: '' });
  channel.receive({ type: 'toString' });
  channel.receive('nonsense');
  channel.send({ type: 'ready' });
  assert.deepEqual(seen, ['progress 3', 'status done']);
  assert.deepEqual(invalid, ["unknown message type 'toString'", 'not a tagged message']);
  assert.deepEqual(sent, [{ type: 'ready' }]);
});

test("a run's loss curve and last constraint health are read from metrics.jsonl, skipping a torn last line", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'police-metrics-'));
  try {
    const health = [{ layer: 0, units: 3, shifted: 1, meanAbsShift: 0.1, maxAbsShift: 0.2, sideFlips: 0 }];
    writeFileSync(
      join(dir, 'metrics.jsonl'),
      `{"step":0,"loss":2,"elapsed_ms":5}\n{"step":10,"loss":1.5,"elapsed_ms":9,"health":${JSON.stringify(health)}}\n{"step":20,"lo`,
    );
    assert.deepEqual(await readMetrics(join(dir, 'metrics.jsonl')), {
      points: { steps: [0, 10], losses: [2, 1.5], elapsedMs: [5, 9] },
      health,
    });
    assert.deepEqual(await readMetrics(join(dir, 'missing.jsonl')), { points: { steps: [], losses: [], elapsedMs: [] } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the sampled fallback keeps the grid unless the network is too big to sample it in about a second', () => {
  assert.equal(sampledResolution(network, 200), 200);
  const wide = {
    ...network,
    layers: [
      { ...network.layers[0], weights: Array.from({ length: 2048 }, () => [1, 1]), bias: new Array(2048).fill(0) },
      {
        weights: Array.from({ length: 2048 }, () => new Array(2048).fill(0.001)),
        bias: new Array(2048).fill(0),
        activation: 'relu' as const,
      },
      { weights: [new Array(2048).fill(1)], bias: [0], activation: 'linear' as const },
    ],
  };
  const side = sampledResolution(wide, 200);
  assert.ok(side < 200 && side >= 16, `side ${side}`);
});

test('classification surfaces carry the exact decision boundary, also when the cells are too many to send', () => {
  const classifier = oneLayerNetwork(
    [
      [0.8, -1.1, 0.6],
      [-0.5, 0.9, 0.4],
    ],
    [0.2, -0.1],
  );
  const partition = exactPartition(classifier, window);
  const request = { step: 1, network: classifier, plane: identity, window, resolution: 21, regions: [], classification: true };
  const surface = buildSurface(request, partition, 0, { maxViewCells: 0 });
  assert.equal(surface.cells.count, 0);
  assert.equal(surface.cellCount, partition.cellCount);
  assert.ok(surface.cellIndex.every((c) => c === -1));
  const boundary = surface.boundary ?? [];
  assert.ok(boundary.length >= 4 && boundary.length % 4 === 0);
  for (let s = 0; s < boundary.length; s += 2) {
    const [y0, y1] = forward(classifier, [boundary[s], boundary[s + 1]]);
    assert.ok(Math.abs(y0 - y1) < 1e-9, 'on the boundary both classes tie');
  }
  assert.ok(Math.abs(surface.values[0] - forward(classifier, [-4, -3])[0]) < 1e-12, 'the surface is still exact');
});
