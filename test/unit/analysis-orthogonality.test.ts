import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { divergingColor, heatmapPng } from '../../extension/police/analysis/heatmap';
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
  assert.equal(
    layerOrthogonality(
      Array.from({ length: 100 }, () => [1, 0]),
      0,
    ).gram,
    undefined,
  );
});

test('the heat-map PNG has one sharp square per entry: red for +1, white for 0, blue for −1', () => {
  const png = Buffer.from(
    heatmapPng(
      [
        [1, 0],
        [-1, 1],
      ],
      3,
    ),
  );
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.readUInt32BE(16), 6, 'width = 2 cells × 3 px');
  assert.equal(png.readUInt32BE(20), 6, 'height');
  const idatAt = png.indexOf('IDAT');
  const raw = inflateSync(png.subarray(idatAt + 4, idatAt + 4 + png.readUInt32BE(idatAt - 4)));
  const pixel = (x: number, y: number) => [...raw.subarray(y * 19 + 1 + x * 3, y * 19 + 4 + x * 3)];
  assert.deepEqual(pixel(0, 0), divergingColor(1));
  assert.deepEqual(pixel(4, 1), [255, 255, 255]);
  assert.deepEqual(pixel(2, 5), divergingColor(-1));
  assert.ok(divergingColor(1)[0] > divergingColor(1)[2] && divergingColor(-1)[2] > divergingColor(-1)[0]);
});
