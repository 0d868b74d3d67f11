// What the editor publishes as POLICE diagnostics: no second squiggle where the JSON language server has one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { editorProblems } from '../../extension/host/editor-problems';
import { validateSpecText } from '../../extension/police/spec/parse';

const brokenPath = join('test', 'fixtures', 'spec', 'broken.police.json');
const broken = readFileSync(brokenPath, 'utf8');

test('a saved spec: schema errors are left to the JSON language server, semantic errors stay', () => {
  const { problems } = validateSpecText(broken, brokenPath);
  assert.ok(
    problems.some((p) => p.code === 'schema' && /unknown property 'dropout'/.test(p.message)),
    'the fixture has a schema error',
  );
  const shown = editorProblems(problems, { untitled: false, text: broken });
  assert.deepEqual(
    shown.filter((p) => p.code === 'schema' || p.code === 'unknown-activation' || p.code === 'syntax'),
    [],
  );
  assert.ok(
    shown.some((p) => p.code === 'dimension-mismatch' && /vertex 1 has 3 coordinates/.test(p.message)),
    JSON.stringify(shown.map((p) => p.code)),
  );
});

test('an untitled spec (no schema from the language server) keeps its schema errors', () => {
  const { problems } = validateSpecText(broken, 'Untitled-1');
  const shown = editorProblems(problems, { untitled: true, text: broken });
  assert.ok(shown.some((p) => p.code === 'schema' && /dropout/.test(p.message)));
  assert.ok(shown.some((p) => p.code === 'unknown-activation'));
});

test('an empty file still says what a spec needs; syntax errors are never ours to show', () => {
  const empty = editorProblems(validateSpecText('', 'empty.police.json').problems, { untitled: false, text: '' });
  assert.equal(empty.length, 1);
  assert.match(empty[0].message, /the spec is empty/);
  const torn = '{ "name": ';
  const syntax = validateSpecText(torn, 'torn.police.json').problems;
  assert.ok(syntax.some((p) => p.code === 'syntax'));
  assert.deepEqual(editorProblems(syntax, { untitled: true, text: torn }), []);
});
