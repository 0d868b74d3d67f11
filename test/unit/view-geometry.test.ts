import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  choosePlane,
  samePlane,
  sameWindow,
  clipPolygon,
  convexHullIndices,
  cellPolygonOf,
  decisionBoundarySegments,
  ownsEdge,
  pointInConvexPolygon,
  signedArea,
  principalDirections,
  projectToPlane,
} from '../../extension/common/view-geometry';
import { argmax, cellColor, parseCssColor, viridisInto } from '../../webview/colors';
import { linearTicks, logTicks, lossRange } from '../../webview/loss-chart';
import { smoothLosses } from '../../extension/police/training/loss-names';
import { describeCell, formatHealth } from '../../webview/text';
import { partitionPlane, identityPlane } from '../../extension/police/partition/partition';
import { exactPartition, oneLayerNetwork, type Window2 } from './view-fixtures';

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol;

test('a 2-D spec is viewed on its own plane over its domain', () => {
  const { plane, window } = choosePlane(
    2,
    [
      [-4, 4],
      [-2, 3],
    ],
    [],
    { kind: 'principal', region: 0 },
  );
  assert.deepEqual(plane, { origin: [0, 0], e1: [1, 0], e2: [0, 1] });
  assert.deepEqual(window, [
    [-4, 4],
    [-2, 3],
  ]);
});

test('a 3-D spec is sliced normal to the axis left out, at the chosen offset', () => {
  const { plane, window } = choosePlane(
    3,
    [
      [-1, 1],
      [-2, 2],
      [0, 5],
    ],
    [],
    { kind: 'axes', axisU: 0, axisV: 2, offset: 0.5 },
  );
  assert.deepEqual(plane, { origin: [0, 0.5, 0], e1: [1, 0, 0], e2: [0, 0, 1] });
  assert.deepEqual(window, [
    [-1, 1],
    [0, 5],
  ]);
});

test('for D > 3 the default plane passes through the region centroid along its two main directions', () => {
  // A flat, elongated region in 5-D: long along (1,1,0,0,0)/√2, shorter along x2, nothing else.
  const region = [
    [3, 3, 0, 0, 1],
    [-3, -3, 0, 0, 1],
    [0, 0, 1, 0, 1],
    [0, 0, -1, 0, 1],
  ];
  const [e1, e2] = principalDirections(region);
  assert.ok(close(Math.abs(e1[0]), Math.SQRT1_2, 1e-6) && close(Math.abs(e1[1]), Math.SQRT1_2, 1e-6));
  assert.ok(close(Math.abs(e2[2]), 1, 1e-6));
  const domain = Array.from({ length: 5 }, () => [-5, 5] as [number, number]);
  const { plane, window } = choosePlane(5, domain, [region], { kind: 'principal', region: 0 });
  assert.deepEqual(plane.origin, [0, 0, 0, 0, 1]);
  for (const x of region) {
    const [u, v] = projectToPlane(plane, x);
    assert.ok(u >= window[0][0] && u <= window[0][1] && v >= window[1][0] && v <= window[1][1], 'the region lies inside the window');
  }
});

test('for D > 3 two chosen axes give a plane through the centroid along those axes', () => {
  const region = [
    [1, 1, 1, 1],
    [2, 1, 1, 1],
    [1, 2, 1, 1],
    [1, 1, 2, 1],
    [1, 1, 1, 2],
  ];
  const domain = Array.from({ length: 4 }, () => [-4, 4] as [number, number]);
  const { plane, window } = choosePlane(4, domain, [region], { kind: 'axes', axisU: 1, axisV: 3, offset: 0 });
  assert.deepEqual(plane.e1, [0, 1, 0, 0]);
  assert.deepEqual(plane.e2, [0, 0, 0, 1]);
  assert.deepEqual(plane.origin, [1.2, 0, 1.2, 0]);
  assert.deepEqual(window, [
    [-4, 4],
    [-4, 4],
  ]);
});

test('the convex hull drops interior points and keeps the corners in order', () => {
  const hull = convexHullIndices([
    [0, 0],
    [2, 0],
    [1, 1],
    [2, 2],
    [0, 2],
    [1, 0.5],
  ]);
  assert.deepEqual([...hull].sort(), [0, 1, 3, 4]);
});

test('clipping and point-in-polygon agree on a split square', () => {
  const square = [0, 0, 2, 0, 2, 2, 0, 2];
  const left = clipPolygon(square, -1, 0, 1); // u ≤ 1
  assert.ok(pointInConvexPolygon(left, 0.5, 1));
  assert.ok(!pointInConvexPolygon(left, 1.5, 1));
  assert.ok(pointInConvexPolygon(left, 1, 1), 'the boundary belongs to the cell');
});

test('the wireframe draws every boundary of the partition once: interior edges by one of their two cells, the border by its cell', () => {
  const window: Window2 = [
    [-4, 4],
    [-3, 5],
  ];
  const deep = {
    ...oneLayerNetwork(),
    layers: [
      oneLayerNetwork().layers[0],
      {
        weights: [
          [0.9, -0.5, 0.3],
          [-0.2, 0.8, 0.6],
        ],
        bias: [0.1, -0.4],
        activation: 'relu' as const,
      },
      { weights: [[1, -1]], bias: [0], activation: 'linear' as const },
    ],
  };
  for (const partition of [exactPartition(oneLayerNetwork(), window), partitionPlane(deep, identityPlane(), window)]) {
    assert.ok(partition.cellCount > 4);
    const all: number[][] = [];
    const drawn: number[][] = [];
    for (let c = 0; c < partition.cellCount; c++) {
      const polygon = cellPolygonOf(partition, c);
      const n = polygon.length / 2;
      const orientation = Math.sign(signedArea(polygon));
      for (let e = 0; e < n; e++) {
        const b = (e + 1) % n;
        const segment = [polygon[2 * e], polygon[2 * e + 1], polygon[2 * b], polygon[2 * b + 1]];
        all.push(segment);
        if (ownsEdge(polygon, e, orientation, window)) drawn.push(segment);
      }
    }
    // Points along every cell edge (T-junctions included) lie on exactly one drawn segment: no gap, no double line.
    const onSegment = ([ua, va, ub, vb]: number[], u: number, v: number) => {
      const length = Math.hypot(ub - ua, vb - va);
      const t = ((u - ua) * (ub - ua) + (v - va) * (vb - va)) / (length * length);
      return t > -1e-9 && t < 1 + 1e-9 && Math.abs((ub - ua) * (v - va) - (vb - va) * (u - ua)) / length < 1e-9;
    };
    for (const [ua, va, ub, vb] of all) {
      for (const t of [0.17, 0.5, 0.83]) {
        const u = ua + t * (ub - ua);
        const v = va + t * (vb - va);
        assert.equal(drawn.filter((segment) => onSegment(segment, u, v)).length, 1, `point (${u}, ${v})`);
      }
    }
  }
});

test('the decision boundary in a cell is the segment where the two best classes tie', () => {
  const square = [-1, -1, 1, -1, 1, 1, -1, 1];
  // Class 0 wins where u < 0.25, class 1 where u > 0.25; class 2 never wins.
  const segments = decisionBoundarySegments(square, [-1, 0, 0.25, 1, 0, -0.25, 0, 0, -10]);
  assert.equal(segments.length, 4);
  assert.ok(close(segments[0], 0.5 / 2) && close(segments[2], 0.25));
  assert.deepEqual([segments[1], segments[3]].sort(), [-1, 1]);
  assert.deepEqual(decisionBoundarySegments(square, [0, 0, 5, 0, 0, 0]), []);
});

test('colours: CSS variables parse, viridis spans dark to bright, neighbouring cells differ', () => {
  assert.deepEqual(parseCssColor('#ff0000'), [1, 0, 0]);
  assert.deepEqual(parseCssColor(' #0f0 '), [0, 1, 0]);
  assert.deepEqual(parseCssColor('rgba(0, 0, 255, 0.5)'), [0, 0, 1]);
  assert.equal(parseCssColor('transparent'), undefined);
  const low = [0, 0, 0];
  const high = [0, 0, 0];
  viridisInto(0, low, 0);
  viridisInto(1, high, 0);
  assert.ok(low[0] + low[1] + low[2] < 0.8 && high[0] + high[1] + high[2] > 1.8);
  const a = cellColor(3);
  const b = cellColor(4);
  assert.ok(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) > 0.1);
  assert.equal(argmax([0.1, 0.9, 0.3], 0, 3), 1);
});

test('loss axis: log ticks are powers of ten, the range ignores non-finite and, in log scale, non-positive losses', () => {
  assert.deepEqual(logTicks(0.01, 10), [0.01, 0.1, 1, 10]);
  assert.deepEqual(lossRange([2, 0.5, Number.NaN, 0, 1], true), [0.1, 10]);
  const [lo, hi] = lossRange([2, 0.5, 1], false)!;
  assert.ok(lo < 0.5 && hi > 2);
  assert.equal(lossRange([Number.NaN], false), undefined);
  assert.deepEqual(linearTicks(0, 1000), [0, 200, 400, 600, 800, 1000]);
  assert.deepEqual(linearTicks(0, 1000, 4), [0, 500, 1000]);
});

test('health rows and the hover text say what a user needs', () => {
  const [row] = formatHealth([{ layer: 1, units: 64, shifted: 16, meanAbsShift: 0.02, maxAbsShift: 0.5, sideFlips: 3 }]);
  assert.equal(row.fraction, 0.25);
  assert.match(row.detail, /16\/64 shifted/);
  assert.match(row.detail, /3 side flips$/);
  const lines = describeCell({
    x: [0.5, -1],
    y: [2],
    cellIndex: 4,
    regionDistances: [0, 3],
    map: { A: [[1, -2]], b: [0.5] },
    regionNames: ['triangle', 'corner'],
  });
  assert.deepEqual(lines, [
    'x = [0.5, -1]',
    'f(x) = [2]',
    'linear region #4',
    'same activation pattern as triangle (distance 0)',
    'activation-pattern distance to corner: 3',
    'y0 = [1, -2]·x + 0.5',
  ]);
  // While the worker computes the map the tooltip says so; outside every cell it says that instead.
  assert.equal(describeCell({ x: [0, 0], cellIndex: 4, regionDistances: [1], regionNames: ['R'] }).at(-1), 'affine map: computing…');
  assert.equal(describeCell({ x: [0, 0], cellIndex: -1, regionNames: ['R'] }).at(-1), 'outside the computed partition');
});

test('the smoothed loss follows the trend: exact on a constant, debiased at the start, lagging a jump, skipping NaN', () => {
  assert.deepEqual(
    smoothLosses([2, 2, 2]).map((v) => Number(v.toFixed(12))),
    [2, 2, 2],
  );
  const jump = smoothLosses([1, 1, 1, 5], 0.5);
  assert.ok(close(jump[0], 1) && close(jump[2], 1), 'no pull towards 0 at the start');
  assert.ok(jump[3] > 1 && jump[3] < 5, `after a jump the average lags: ${jump[3]}`);
  const withNaN = smoothLosses([1, Number.NaN, 1], 0.5);
  assert.ok(Number.isNaN(withNaN[1]) && close(withNaN[2], 1));
});

test('surface normals of a tilted plane grid all point along (−a, −b, 1)', async () => {
  const { gridNormals } = await import('../../webview/scene/surface-layer');
  const R = 5;
  const positions = new Float32Array(R * R * 3);
  for (let j = 0; j < R; j++) for (let i = 0; i < R; i++) positions.set([i, j, 0.5 * i - 2 * j], 3 * (j * R + i));
  const normals = new Float32Array(R * R * 3);
  gridNormals(positions, normals, R);
  const expected = [-0.5, 2, 1].map((x) => x / Math.hypot(0.5, 2, 1));
  for (let g = 0; g < R * R; g++) for (let d = 0; d < 3; d++) assert.ok(close(normals[3 * g + d], expected[d], 1e-6));
});

test('samePlane and sameWindow compare coordinate by coordinate', () => {
  const plane = { origin: [0, 0, 1], e1: [1, 0, 0], e2: [0, 1, 0] };
  assert.ok(samePlane(plane, { origin: [0, 0, 1], e1: [1, 0, 0], e2: [0, 1, 0] }));
  assert.ok(!samePlane(plane, { ...plane, origin: [0, 0, 1.5] }));
  assert.ok(!samePlane(plane, { ...plane, e2: [0, 1] }));
  assert.ok(
    sameWindow(
      [
        [-1, 1],
        [-2, 2],
      ],
      [
        [-1, 1],
        [-2, 2],
      ],
    ),
  );
  assert.ok(
    !sameWindow(
      [
        [-1, 1],
        [-2, 2],
      ],
      [
        [-1, 1],
        [-2, 3],
      ],
    ),
  );
});
