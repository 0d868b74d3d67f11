import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gramMatrix, layerOrthogonality } from '../../extension/police/analysis/orthogonality';

test('the orthogonality metric is 0 for orthogonal rows (any lengths) and positive otherwise', () => {
  const c = Math.cos(0.7);
  const s = Math.sin(0.7);
  const rotation = [
    [c, -s],
    [s, c],
  ];
  assert.ok(layerOrthogonality(rotation).metric < 1e-15);
  assert.ok(layerOrthogonality(rotation).distanceToIdentity < 1e-15);
  const scaledOrthogonal = [
    [3, 0, 0],
    [0, 0, -0.5],
  ];
  assert.equal(layerOrthogonality(scaledOrthogonal).metric, 0);
  assert.ok(layerOrthogonality(scaledOrthogonal).distanceToIdentity > 1, 'scaled rows are orthogonal but not orthonormal');
  const skewed = [
    [1, 0],
    [1, 1],
  ];
  const report = layerOrthogonality(skewed);
  // WWᵀ = [[1,1],[1,2]]: off-diagonal² = 2, total = 1 + 2 + 4 = 7.
  assert.ok(Math.abs(report.metric - Math.sqrt(2 / 7)) < 1e-15);
  assert.equal(report.penalty, 2);
});

test('the Gram and cosine matrices for the heat-map are symmetric with the expected entries', () => {
  const w = [
    [1, 2],
    [3, -1],
    [0, 2],
  ];
  assert.deepEqual(gramMatrix(w), [
    [5, 1, 4],
    [1, 10, -2],
    [4, -2, 4],
  ]);
  const { cosine } = layerOrthogonality(w);
  assert.ok(cosine);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(cosine[i][i] - 1) < 1e-15);
  assert.ok(Math.abs(cosine[0][2] - 4 / (Math.sqrt(5) * 2)) < 1e-15);
  assert.equal(layerOrthogonality(Array.from({ length: 100 }, () => [1, 0]), 0).gram, undefined);
});
