// The view's playground controls: each change is one edit of the spec text that keeps its comments and layout.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'jsonc-parser';
import { computeSettingEdit } from '../../extension/host/view/setting-edit';
import { validateSpecText } from '../../extension/police/spec/parse';

const root = join(__dirname, '..', '..');
const wave = readFileSync(join(root, 'examples', 'wave-triangle.police.json'), 'utf8');
const commented = wave.replace('"training": {', '// how long and how fast\n  "training": {');

function edited(text: string, change: Parameters<typeof computeSettingEdit>[1]): string {
  const result = computeSettingEdit(text, change);
  assert.ok(!('error' in result), 'error' in result ? result.error : '');
  assert.equal(result.edits.length, 1, 'one edit: one undo step');
  const spec = validateSpecText(result.newText, 'edited.police.json');
  assert.deepEqual(
    spec.problems.filter((p) => p.severity === 'error'),
    [],
  );
  return result.newText;
}

test('learning rate, steps, shift rule and noise land in their fields; comments and other lines stay', () => {
  const text = edited(commented, { setting: 'lr', value: 0.002 });
  assert.equal(parse(text).training.lr, 0.002);
  assert.ok(text.includes('// how long and how fast'));
  assert.equal(text.split('\n').length, commented.split('\n').length);
  assert.equal(parse(edited(wave, { setting: 'steps', value: 300 })).training.steps, 300);
  assert.equal(parse(edited(wave, { setting: 'rule', value: 'majority' })).police.rule, 'majority');
  assert.equal(parse(edited(wave, { setting: 'noise', value: 0.05 })).data.noise, 0.05);
  assert.equal(parse(edited(wave, { setting: 'dataset', value: 'spiral' })).data.dataset, 'spiral');
});

test('width sets every hidden layer; depth repeats or drops the last one; layers stay one per line', () => {
  const wide = edited(wave, { setting: 'width', value: 32 });
  assert.deepEqual(
    parse(wide).model.layers.map((l: { units: number }) => l.units),
    [32, 32, 32],
  );
  assert.ok(wide.includes('      { "units": 32, "activation": "leaky_relu", "alpha": 0.01 },\n'), wide);
  const deep = parse(edited(wave, { setting: 'depth', value: 5 })).model.layers;
  assert.equal(deep.length, 5);
  assert.deepEqual(deep[4], deep[2]);
  assert.equal(parse(edited(wave, { setting: 'depth', value: 1 })).model.layers.length, 1);
});

test('a value the spec cannot hold is refused with a reason, not written', () => {
  for (const change of [
    { setting: 'lr', value: -1 },
    { setting: 'steps', value: 2.5 },
    { setting: 'width', value: 0 },
    { setting: 'noise', value: Number.NaN },
  ] as const) {
    const result = computeSettingEdit(wave, change);
    assert.ok('error' in result, JSON.stringify(change));
  }
  const expression = wave.replace('"dataset": "wave"', '"target": "sin(x0)"');
  const result = computeSettingEdit(expression, { setting: 'dataset', value: 'rays' });
  assert.ok('error' in result && /expression or a CSV/.test(result.error));
});
