// What the editor publishes as POLICE diagnostics, and the schema the JSON language server gets: each problem once, schema ones as errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { editorProblems } from '../../extension/host/editor-problems';
import { validateSpecText } from '../../extension/police/spec/parse';
import { editorSchema } from '../../schemas/editor-schema.mjs';

const brokenPath = join('test', 'fixtures', 'spec', 'broken.police.json');
const broken = readFileSync(brokenPath, 'utf8');
const schema = JSON.parse(readFileSync(join('schemas', 'police.schema.json'), 'utf8'));
const snippets = JSON.parse(readFileSync(join('schemas', 'editor-snippets.json'), 'utf8'));

test('schema errors are POLICE errors, with the semantic ones; syntax errors are left to the JSON language server', () => {
  const { problems } = validateSpecText(broken, brokenPath);
  const shown = editorProblems(problems);
  assert.ok(shown.some((p) => p.code === 'schema' && p.severity === 'error' && /unknown property 'dropout'/.test(p.message)));
  assert.ok(shown.some((p) => p.code === 'unknown-activation' && p.severity === 'error'));
  assert.ok(shown.some((p) => p.code === 'dimension-mismatch' && /vertex 1 has 3 coordinates/.test(p.message)));
  const torn = '{ "name": ';
  const syntax = validateSpecText(torn, 'torn.police.json').problems;
  assert.ok(syntax.some((p) => p.code === 'syntax'));
  assert.deepEqual(editorProblems(syntax), []);
});

test('an empty file says what a spec needs', () => {
  const empty = editorProblems(validateSpecText('', 'empty.police.json').problems);
  assert.equal(empty.length, 1);
  assert.match(empty[0].message, /the spec is empty/);
});

test("the language server's schema rejects nothing, so it never repeats a POLICE error as a warning", () => {
  const forEditor = editorSchema(schema, snippets);
  const accepts = new Ajv({ strict: false, allErrors: true }).compile(forEditor);
  const full = new Ajv({ strict: false, allErrors: true }).compile(schema);
  const wrong = JSON.parse(broken.replace(/\/\/.*$/gm, ''));
  for (const spec of [wrong, { model: { layers: [{ units: -3, activation: 'leaky_reu' }] }, training: { steps: -200 } }, { police: 3 }]) {
    assert.equal(full(spec), false, 'the full schema rejects it');
    assert.equal(accepts(spec), true, JSON.stringify(accepts.errors));
  }
});

test("the language server's schema still completes and documents: keys, descriptions, choices, snippets where they belong", () => {
  const forEditor = editorSchema(schema, snippets);
  const police = forEditor.properties!.police;
  assert.deepEqual(Object.keys(police.properties!), Object.keys(schema.properties.police.properties));
  assert.equal(police.properties!.rule.description, schema.properties.police.properties.rule.description);
  assert.deepEqual(police.properties!.rule.examples, ['fixed', 'majority', 'minimal']);
  assert.deepEqual(police.defaultSnippets, [{ body: {} }], 'a completed "police" key gets its braces');
  // Region snippets are offered where a region goes, not inside "police": {}.
  assert.deepEqual(
    forEditor.definitions!.region.defaultSnippets!.map((s) => s.label),
    ['triangle (vertices)', 'box', 'simplex', 'polygon (2-D)', 'halfspaces'],
  );
  assert.equal(police.defaultSnippets!.length, 1);
  assert.equal(forEditor.defaultSnippets!.at(-1)!.label, 'police-spec');
  assert.equal(forEditor.definitions!.layer.defaultSnippets!.at(-1)!.label, 'layer');
});
