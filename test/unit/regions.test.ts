import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { solveLp } from '../../extension/police/geometry/lp';
import { createRng } from '../../extension/police/common/random';
import {
  affineRank,
  boxVertices,
  checkVertexSet,
  convexHull2D,
  halfspaceVertices,
  pointInHull,
  polygonVertices,
  principalDirections,
  regionsOverlap,
  regionToVertices,
  simplexVertices,
  solveSquare,
} from '../../extension/police/geometry/regions';
import type { Matrix, RawRegionSpec } from '../../extension/police/spec/types';

const sortRows = (m: Matrix): Matrix =>
  m.map((r) => r.map((v) => Number(v.toFixed(9)))).sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2] ?? 0) - (b[2] ?? 0));
const convert = (region: object, dim: number) => regionToVertices(region as RawRegionSpec, dim);

describe('region forms', () => {
  it('a box becomes its 2^D corners', () => {
    const corners = boxVertices([0, -1, 2], [1, 1, 5]);
    assert.equal(corners.length, 8);
    const keys = new Set(corners.map((c) => c.join(',')));
    for (const x of [0, 1])
      for (const y of [-1, 1]) for (const z of [2, 5]) assert.ok(keys.has(`${x},${y},${z}`), `missing corner ${x},${y},${z}`);
  });

  it('a simplex is the origin plus scaled unit vectors', () => {
    assert.deepEqual(simplexVertices(3, [1, 2, 3], 0.5), [
      [1, 2, 3],
      [1.5, 2, 3],
      [1, 2.5, 3],
      [1, 2, 3.5],
    ]);
    assert.deepEqual(simplexVertices(2), [
      [0, 0],
      [1, 0],
      [0, 1],
    ]);
  });

  it('a polygon has its vertices on the circle, the first straight above the centre', () => {
    const vs = polygonVertices([1, 2], 3, 6);
    assert.equal(vs.length, 6);
    for (const v of vs) assert.ok(Math.abs(Math.hypot(v[0] - 1, v[1] - 2) - 3) < 1e-12);
    assert.deepEqual(vs[0], [1, 5]);
  });

  it('half-spaces of a square give its four corners', () => {
    const vs = halfspaceVertices(
      [
        [1, 0],
        [-1, 0],
        [0, 1],
        [0, -1],
      ],
      [2, 1, 3, 0],
    );
    assert.deepEqual(sortRows(vs), [
      [-1, 0],
      [-1, 3],
      [2, 0],
      [2, 3],
    ]);
  });

  it('half-spaces with a redundant constraint still give the triangle', () => {
    const result = convert(
      {
        halfspaces: {
          A: [
            [-1, 0],
            [0, -1],
            [1, 1],
            [1, 0],
          ],
          b: [0, 0, 1, 5],
        },
      },
      2,
    );
    assert.deepEqual(result.issues, []);
    assert.deepEqual(sortRows(result.vertices ?? []), [
      [0, 0],
      [0, 1],
      [1, 0],
    ]);
  });

  it('an unbounded half-space set is refused with its escape direction', () => {
    const result = convert(
      {
        halfspaces: {
          A: [
            [1, 0],
            [-1, 0],
            [0, 1],
          ],
          b: [1, 1, 1],
        },
      },
      2,
    );
    assert.equal(result.vertices, undefined);
    assert.equal(result.issues[0].code, 'unbounded-region');
    assert.match(result.issues[0].message, /unbounded.*\[0, -1\]/);
    assert.deepEqual(result.issues[0].path, ['halfspaces']);
  });

  it('an unbounded set with enough rows (a wedge) is refused too', () => {
    const result = convert(
      {
        halfspaces: {
          A: [
            [-1, 0],
            [0, -1],
            [1, -1],
          ],
          b: [0, 0, 0],
        },
      },
      2,
    );
    assert.equal(result.issues[0]?.code, 'unbounded-region');
  });

  it('an empty half-space set is refused', () => {
    const result = convert(
      {
        halfspaces: {
          A: [
            [1, 0],
            [-1, 0],
            [0, 1],
            [0, -1],
          ],
          b: [0, -1, 1, 1],
        },
      },
      2,
    );
    assert.equal(result.vertices, undefined);
    assert.equal(result.issues[0].code, 'empty-region');
    assert.match(result.issues[0].message, /empty/);
  });

  it('half-spaces with mismatched A and b name the shape', () => {
    const result = convert(
      {
        halfspaces: {
          A: [
            [1, 0],
            [-1, 0],
            [0, 1],
          ],
          b: [1, 1],
        },
      },
      2,
    );
    assert.equal(result.issues[0].code, 'dimension-mismatch');
    assert.deepEqual(result.issues[0].path, ['halfspaces', 'b']);
  });

  it('half-spaces in 3-D give the cube', () => {
    const A = [
      [1, 0, 0],
      [-1, 0, 0],
      [0, 1, 0],
      [0, -1, 0],
      [0, 0, 1],
      [0, 0, -1],
    ];
    const vs = halfspaceVertices(A, [1, 1, 1, 1, 1, 1]);
    assert.deepEqual(sortRows(vs), sortRows(boxVertices([-1, -1, -1], [1, 1, 1])));
  });

  it('warns when a box explodes and refuses beyond the limit, saying why', () => {
    const warn = convert({ box: { min: new Array(13).fill(0), max: new Array(13).fill(1) } }, 13);
    assert.equal(warn.issues[0].severity, 'warning');
    assert.match(warn.issues[0].message, /8192 vertices.*2\^13 corners/);
    assert.equal(warn.vertices?.length, 8192);
    const refuse = convert({ box: { min: new Array(17).fill(0), max: new Array(17).fill(1) } }, 17);
    assert.equal(refuse.issues[0].severity, 'error');
    assert.match(refuse.issues[0].message, /a box in 17 dimensions has 2\^17 corners/);
    assert.equal(refuse.vertices, undefined);
  });

  it('a polygon outside 2-D, a flat box and a vertex of the wrong length are errors at the right path', () => {
    assert.deepEqual(convert({ polygon: { center: [0, 0, 0], radius: 1, sides: 5 } }, 3).issues[0].path, ['polygon']);
    assert.deepEqual(convert({ box: { min: [0, 0], max: [1, 0] } }, 2).issues[0].path, ['box', 'max', 1]);
    assert.deepEqual(
      convert(
        {
          vertices: [
            [0, 0],
            [1, 0, 0],
            [0, 1],
          ],
        },
        2,
      ).issues[0].path,
      ['vertices', 1],
    );
    assert.deepEqual(convert({ box: { min: [0, 0], max: [1, 1] }, vertices: [[0, 0]] }, 2).issues[0].code, 'region-form');
  });
});

describe('geometry', () => {
  it('affine rank sees collinear and coplanar points', () => {
    assert.equal(
      affineRank([
        [0, 0],
        [1, 1],
        [3, 3],
      ]),
      1,
    );
    assert.equal(
      affineRank([
        [0, 0],
        [1, 1],
        [3, 2],
      ]),
      2,
    );
    assert.equal(affineRank(simplexVertices(6)), 6);
    assert.equal(
      affineRank([
        [0, 0, 0],
        [1, 0, 0],
        [0, 1, 0],
        [1, 1, 0],
      ]),
      2,
    );
  });

  it('checks vertex sets: duplicate, redundant, degenerate', () => {
    const issues = checkVertexSet(
      'vertices',
      [
        [0, 0],
        [2, 0],
        [0, 2],
        [0.5, 0.5],
        [2, 0],
      ],
      2,
    );
    assert.deepEqual(
      issues.map((i) => [i.code, i.path[1]]),
      [
        ['duplicate-vertex', 4],
        ['redundant-vertex', 3],
      ],
    );
    const flat = checkVertexSet(
      'vertices',
      [
        [0, 0],
        [1, 1],
        [2, 2],
      ],
      2,
    );
    assert.equal(flat[0].code, 'degenerate-region');
    assert.equal(flat[0].severity, 'error');
    assert.equal(
      checkVertexSet(
        'vertices',
        [
          [0, 0],
          [1, 0],
          [0, 1],
        ],
        2,
      ).length,
      0,
    );
  });

  it('point in hull, in 2-D and through the LP in 4-D', () => {
    const triangle = [
      [0, 0],
      [1, 0],
      [0, 1],
    ];
    assert.equal(pointInHull([0.25, 0.25], triangle), true);
    assert.equal(pointInHull([0.5, 0.5], triangle), true, 'a boundary point is inside');
    assert.equal(pointInHull([0.6, 0.6], triangle), false);
    const simplex = simplexVertices(4);
    assert.equal(pointInHull([0.2, 0.2, 0.2, 0.2], simplex), true);
    assert.equal(pointInHull([0.3, 0.3, 0.3, 0.3], simplex), false);
    assert.equal(pointInHull([-0.01, 0.2, 0.2, 0.2], simplex), false);
  });

  it('the LP hull test agrees with barycentric coordinates on random 3-D simplices', () => {
    const rng = createRng(11);
    let inside = 0;
    for (let trial = 0; trial < 60; trial++) {
      const vs = Array.from({ length: 4 }, () => [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)]);
      const p = [rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6)];
      const m = [0, 1, 2].map((j) => [1, 2, 3].map((i) => vs[i][j] - vs[0][j]));
      const weights = solveSquare(
        m,
        [0, 1, 2].map((j) => p[j] - vs[0][j]),
      );
      if (!weights) continue;
      const bary = [1 - weights.reduce((a, b) => a + b, 0), ...weights];
      const margin = Math.min(...bary);
      if (Math.abs(margin) < 1e-6) continue; // too close to a face to call
      assert.equal(pointInHull(p, vs), margin > 0, `trial ${trial}`);
      if (margin > 0) inside++;
    }
    assert.ok(inside > 3, 'some points fell inside');
  });

  it('overlap: overlapping, touching and disjoint boxes', () => {
    const unit = boxVertices([0, 0], [1, 1]);
    assert.equal(regionsOverlap(unit, boxVertices([0.5, 0.5], [2, 2])), 'overlap');
    assert.equal(regionsOverlap(unit, boxVertices([1, 0], [2, 1])), 'touch');
    assert.equal(regionsOverlap(unit, boxVertices([1.01, 0], [2, 1])), 'disjoint');
    assert.equal(regionsOverlap(simplexVertices(3), simplexVertices(3, [0.2, 0.2, 0.2], 1)), 'overlap');
    assert.equal(regionsOverlap(simplexVertices(3), simplexVertices(3, [0.5, 0.5, 0.5], 1)), 'disjoint');
  });

  it('overlap agrees with the separating-axis theorem on random triangles', () => {
    const rng = createRng(7);
    const separated = (a: Matrix, b: Matrix): boolean => {
      for (const poly of [convexHull2D(a), convexHull2D(b)]) {
        for (let i = 0; i < poly.length; i++) {
          const p = poly[i];
          const q = poly[(i + 1) % poly.length];
          const normal = [q[1] - p[1], p[0] - q[0]];
          const project = (m: Matrix) => m.map((v) => v[0] * normal[0] + v[1] * normal[1]);
          const pa = project(a);
          const pb = project(b);
          if (Math.max(...pa) <= Math.min(...pb) + 1e-12 || Math.max(...pb) <= Math.min(...pa) + 1e-12) return true;
        }
      }
      return false;
    };
    let overlaps = 0;
    for (let trial = 0; trial < 150; trial++) {
      const tri = (): Matrix => Array.from({ length: 3 }, () => [rng.uniform(-1, 1), rng.uniform(-1, 1)]);
      const a = tri();
      const b = tri();
      const lp = regionsOverlap(a, b) === 'overlap';
      assert.equal(lp, !separated(a, b), `trial ${trial}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      if (lp) overlaps++;
    }
    assert.ok(overlaps > 10 && overlaps < 140, 'both outcomes were exercised');
  });

  it('principal directions follow the longest spread', () => {
    const [first, second] = principalDirections([
      [-3, -3],
      [3, 3],
      [-0.5, 0.5],
      [0.5, -0.5],
    ]);
    assert.ok(Math.abs(Math.abs(first[0]) - Math.SQRT1_2) < 1e-6 && Math.abs(first[0] - first[1]) < 1e-6);
    assert.ok(Math.abs(first[0] * second[0] + first[1] * second[1]) < 1e-9, 'orthogonal');
    assert.ok(Math.abs(Math.hypot(...second) - 1) < 1e-9, 'unit length');
  });

  it('the LP solver finds a known optimum and detects infeasibility', () => {
    // max 3x + 2y, x + y ≤ 4, x + 3y ≤ 6, x ≤ 3 → (3, 1), value 11.
    const result = solveLp({
      c: [3, 2],
      aub: [
        [1, 1],
        [1, 3],
        [1, 0],
      ],
      bub: [4, 6, 3],
    });
    assert.equal(result.status, 'optimal');
    if (result.status === 'optimal') {
      assert.ok(Math.abs(result.value - 11) < 1e-9);
      assert.ok(Math.abs(result.x[0] - 3) < 1e-9 && Math.abs(result.x[1] - 1) < 1e-9);
    }
    assert.equal(solveLp({ c: [1], aub: [[1]], bub: [-1] }).status, 'infeasible');
    assert.equal(solveLp({ c: [1, 0], aub: [[-1, 1]], bub: [1] }).status, 'unbounded');
  });
});
