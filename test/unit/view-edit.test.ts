import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'jsonc-parser';
import { computeVertexEdit, spanningEdit } from '../../extension/host/view/vertex-edit';

const spec = `{
  // a comment the edit must keep
  "name": "drag",
  "input": { "dim": 2 },
  "regions": [
    { "name": "tri", "vertices": [[-1, -1], [0, 2], [1, -1]] },
    { "name": "sq", "box": { "min": [2, 2], "max": [3, 3] } },
    { "name": "hex", "polygon": { "center": [0, 0], "radius": 1, "sides": 6 } },
    { "name": "hs", "halfspaces": { "A": [[1, 0]], "b": [1] } }
  ]
}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the edited spec is read at arbitrary paths
function edited(result: ReturnType<typeof computeVertexEdit>): { text: string; json: any } {
  if ('error' in result) throw new Error(result.error);
  return { text: result.newText, json: parse(result.newText) };
}

test('dragging a vertex of a vertices region moves only that vertex and keeps comments', () => {
  const { text, json } = edited(computeVertexEdit(spec, 0, 1, [0, 2], [0.123456, 2.5]));
  assert.deepEqual(json.regions[0].vertices, [
    [-1, -1],
    [0.1235, 2.5],
    [1, -1],
  ]);
  assert.ok(text.includes('// a comment the edit must keep'));
  assert.deepEqual(json.regions[1], parse(spec).regions[1]);
});

test('dragging a box corner moves the bounds that corner sits on, as one edit', () => {
  const result = computeVertexEdit(spec, 1, 3, [3, 3], [3.5, 4]);
  assert.ok(!('error' in result));
  assert.equal(result.edits.length, 1);
  assert.deepEqual(edited(result).json.regions[1].box, { min: [2, 2], max: [3.5, 4] });
  const lower = edited(computeVertexEdit(spec, 1, 0, [2, 2], [1, 2.5])).json.regions[1].box;
  assert.deepEqual(lower, { min: [1, 2.5], max: [3, 3] });
});

test('dragging a box corner past the opposite corner keeps min below max', () => {
  const box = edited(computeVertexEdit(spec, 1, 0, [2, 2], [4, 2])).json.regions[1].box;
  assert.deepEqual(box, { min: [3, 2], max: [4, 3] });
});

test('dragging a polygon vertex sets the radius to its distance from the center', () => {
  const polygon = edited(computeVertexEdit(spec, 2, 0, [1, 0], [3, 4])).json.regions[2].polygon;
  assert.equal(polygon.radius, 5);
  assert.equal(polygon.sides, 6);
});

test('regions that cannot be dragged and bad indices give errors naming the region', () => {
  const hs = computeVertexEdit(spec, 3, 0, [0, 0], [1, 1]);
  assert.ok('error' in hs && hs.error.includes('regions[3]'));
  const missing = computeVertexEdit(spec, 9, 0, [0, 0], [1, 1]);
  assert.ok('error' in missing && missing.error.includes('regions[9]'));
  const badVertex = computeVertexEdit(spec, 0, 7, [0, 0], [1, 1]);
  assert.ok('error' in badVertex && badVertex.error.includes('vertices[7]'));
  const notFinite = computeVertexEdit(spec, 0, 0, [0, 0], [Number.NaN, 1]);
  assert.ok('error' in notFinite);
});

test('spanningEdit is the minimal replacement between two texts', () => {
  assert.deepEqual(spanningEdit('abcXYZdef', 'abc12def'), { offset: 3, length: 3, content: '12' });
});

test('a moved point stays written on one line, like the user wrote it', () => {
  const { text } = edited(computeVertexEdit(spec, 0, 2, [1, -1], [1.5, -0.25]));
  assert.ok(text.includes('"vertices": [[-1, -1], [0, 2], [1.5, -0.25]] }'), text);
  const box = edited(computeVertexEdit(spec, 1, 3, [3, 3], [3.5, 4])).text;
  assert.ok(box.includes('"box": { "min": [2, 2], "max": [3.5, 4] }'), box);
});
