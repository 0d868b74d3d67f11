// The schema VS Code's JSON language server gets for *.police.json: police.schema.json for completion and hover only.
// POLICE's own diagnostics check the full schema and report each violation once, as an error with a located message;
// the language server would report the same ones again, as warnings. So its copy keeps titles, descriptions, types as
// value snippets, choices as examples and snippets where they belong, and drops every keyword that only validates.

/** Keywords that only reject documents: completion and hover never read them. */
const VALIDATION_ONLY = new Set([
  'required',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'minProperties',
  'maxProperties',
  'pattern',
  'uniqueItems',
  'multipleOf',
  'not',
  'if',
  'then',
  'else',
  'dependencies',
  'dependentRequired',
  'propertyNames',
]);

/** What the language server inserts after a completed key of this type, so `"police": ` still gets its braces. */
const VALUE_SNIPPET = { object: { body: {} }, array: { body: [] }, string: { body: '' } };

/** The editor's copy of `schema` (a JSON schema object); `snippets` adds defaultSnippets at JSON pointers ('#/definitions/region'). */
export function editorSchema(schema, snippets = {}) {
  const copy = strip(schema);
  for (const [pointer, added] of Object.entries(snippets)) {
    const target = pointer
      .replace(/^#\/?/, '')
      .split('/')
      .filter(Boolean)
      .reduce((node, key) => node?.[key], copy);
    if (!target || typeof target !== 'object') throw new Error(`editor schema: no schema at ${pointer} for its snippets`);
    target.defaultSnippets = [...(target.defaultSnippets ?? []), ...added];
  }
  return copy;
}

/** Maps of names to schemas: their keys are property or definition names, never keywords. */
const SCHEMA_MAPS = new Set(['properties', 'definitions', '$defs', 'patternProperties']);

function strip(node) {
  if (Array.isArray(node)) return node.map(strip);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (SCHEMA_MAPS.has(key) && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, strip(schema)]));
      continue;
    }
    if (VALIDATION_ONLY.has(key)) continue;
    // A closed object still completes its own keys; only the rejection of others goes.
    if (key === 'additionalProperties' && typeof value === 'boolean') continue;
    // Every branch matches once nothing validates: anyOf completes the same keys without "matches multiple schemas".
    if (key === 'oneOf') {
      out.anyOf = strip(value);
      continue;
    }
    if (key === 'enum' || key === 'const') {
      const values = key === 'enum' ? value : [value];
      out.examples = [...values, ...(Array.isArray(node.examples) ? node.examples.filter((e) => !values.includes(e)) : [])];
      continue;
    }
    if (key === 'examples' && ('enum' in node || 'const' in node)) continue;
    if (key === 'type') {
      const snippet = typeof value === 'string' ? VALUE_SNIPPET[value] : undefined;
      if (snippet && !node.defaultSnippets && !('enum' in node) && !('const' in node)) out.defaultSnippets = [snippet];
      if (value === 'boolean' && !node.examples) out.examples = [true, false];
      continue;
    }
    if (key === '$schema' || key === '$id') {
      out[key] = value;
      continue;
    }
    out[key] = strip(value);
  }
  return out;
}
