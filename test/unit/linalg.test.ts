import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  affineFit,
  identity,
  leastSquares,
  matmul,
  matvec,
  maxAbsDiff,
  normFrobenius,
  normInf,
  pseudoInverse,
  rank,
  solve,
  transpose,
} from '../../extension/police/geometry/linalg';

const close = (actual: number[][] | number[], expected: number[][] | number[], tol = 1e-12): void =>
  assert.ok(maxAbsDiff(actual, expected) <= tol, `${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`);

test('matmul, transpose and matvec follow the textbook definitions', () => {
  const a = [
    [1, 2, 3],
    [4, 5, 6],
  ];
  close(matmul(a, transpose(a)), [
    [14, 32],
    [32, 77],
  ]);
  close(matvec(a, [1, 0, -1]), [-2, -2]);
  assert.throws(() => matmul(a, a), /does not conform/);
  assert.equal(normInf(a), 15);
  close([normFrobenius([[3, 4]])], [5]);
});

test('solve needs pivoting where the leading entry is zero, and refuses singular systems', () => {
  const a = [
    [0, 1, 2],
    [1, 0, 3],
    [4, -3, 8],
  ];
  const x = solve(a, [1, 2, 3]);
  close(matvec(a, x), [1, 2, 3], 1e-12);
  assert.throws(
    () =>
      solve(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 2],
      ),
    /singular/,
  );
});

test('least squares recovers an exact affine map from overdetermined points', () => {
  const points = [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
    [0.3, 0.7],
  ];
  const A = [
    [2, -1],
    [0.5, 3],
  ];
  const b = [0.25, -1];
  const values = points.map((p) => matvec(A, p).map((v, k) => v + b[k]));
  const fit = affineFit(points, values);
  assert.equal(fit.rank, 3);
  close(fit.A, A, 1e-12);
  close(fit.b, b, 1e-12);
});

test('least squares on noisy data matches the normal equations', () => {
  const a = [
    [1, 1],
    [1, 2],
    [1, 3],
    [1, 4],
  ];
  const y = [[6], [5], [7], [10]];
  const { solution } = leastSquares(a, y);
  // Normal equations: [4 10; 10 30] x = [28; 77] gives x = (3.5, 1.4).
  close(solution, [[3.5], [1.4]], 1e-12);
});

test('rank-deficient least squares returns the minimum-norm solution', () => {
  // Points on the segment x1 = x0: the affine map is not unique, the minimum-norm one splits the slope evenly.
  const a = [
    [1, 1],
    [2, 2],
    [3, 3],
  ];
  const y = [[2], [4], [6]];
  const { solution, rank: r } = leastSquares(a, y);
  assert.equal(r, 1);
  close(solution, [[1], [1]], 1e-12);
  assert.equal(rank(a), 1);
  assert.equal(rank(identity(4)), 4);
});

test('the pseudo-inverse satisfies the Penrose conditions', () => {
  const a = [
    [1, 2, 3],
    [2, 4, 6],
    [1, 0, 1],
    [0, 1, 1],
  ];
  const p = pseudoInverse(a);
  assert.equal(p.length, 3);
  assert.equal(p[0].length, 4);
  close(matmul(matmul(a, p), a), a, 1e-10);
  close(matmul(matmul(p, a), p), p, 1e-10);
  const ap = matmul(a, p);
  close(ap, transpose(ap), 1e-10);
  const pa = matmul(p, a);
  close(pa, transpose(pa), 1e-10);
});
