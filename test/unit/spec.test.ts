import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateSpecText } from '../../extension/police/spec/parse';
import type { Problem } from '../../extension/police/spec/problems';
import { createRng } from '../../extension/police/common/random';

const fixtures = join(__dirname, '..', 'fixtures', 'spec');
const fixture = (name: string): string => readFileSync(join(fixtures, name), 'utf8');
const specPath = join(fixtures, 'inline.police.json');

/** A minimal valid spec as an object, to be tweaked per test. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests tweak arbitrary paths of a spec object
function base(): Record<string, any> {
  return {
    name: 't',
    input: {
      dim: 2,
      domain: [
        [-2, 2],
        [-2, 2],
      ],
    },
    model: { layers: [{ units: 8 }], output: { units: 1 } },
    regions: [
      {
        name: 'tri',
        vertices: [
          [0, 0],
          [1, 0],
          [0, 1],
        ],
      },
    ],
    data: { target: 'sin(x0) * x1', samples: 64 },
  };
}

const validate = (spec: unknown, path = specPath) => {
  const text = typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2);
  return { text, ...validateSpecText(text, path) };
};
const only = (problems: Problem[], code: string): Problem => {
  const found = problems.filter((p) => p.code === code);
  assert.equal(found.length, 1, `expected one '${code}' problem, got ${JSON.stringify(problems.map((p) => [p.code, p.message]))}`);
  return found[0];
};
const slice = (text: string, p: Problem): string => text.slice(p.offset, p.offset + p.length);

describe('spec validation', () => {
  it("the issue's example validates clean and resolves both regions", () => {
    const result = validateSpecText(fixture('issue-example.police.json'), join(fixtures, 'issue-example.police.json'));
    assert.deepEqual(result.problems, []);
    const spec = result.spec;
    assert.ok(spec);
    assert.equal(spec.inputDim, 2);
    assert.deepEqual(spec.domain, [
      [-4, 4],
      [-4, 4],
    ]);
    assert.deepEqual(
      spec.regions.map((r) => [r.name, r.form, r.vertices.length]),
      [
        ['triangle', 'vertices', 3],
        ['corner', 'box', 4],
      ],
    );
    assert.deepEqual(spec.regions[1].constraint, { kind: 'affine_map', A: [[0.5, -0.25]], b: [0.1] });
    assert.deepEqual(
      spec.layers.map((l) => [l.units, l.activation, l.alpha]),
      [
        [256, 'leaky_relu', 0.01],
        [256, 'leaky_relu', 0.01],
      ],
    );
    assert.deepEqual(spec.data.source, { kind: 'expression', expressions: ['cos(3*x0)*cos(x1)'] });
    assert.equal(spec.training.optimizer, 'adamw');
  });

  it('comments, $schema and a classification dataset are accepted', () => {
    const result = validateSpecText(fixture('moons.police.json'), join(fixtures, 'moons.police.json'));
    assert.deepEqual(result.problems, []);
    assert.equal(result.spec?.data.task, 'classification');
    assert.equal(result.spec?.data.classes, 2);
    assert.equal(result.spec?.data.noise, 0.1);
  });

  it('problems in the broken fixture point at the offending nodes (line/character)', () => {
    const text = fixture('broken.police.json');
    const { problems } = validateSpecText(text, join(fixtures, 'broken.police.json'));
    const at = (code: string, fragment: RegExp) => {
      const p = problems.find((q) => q.code === code && fragment.test(q.message));
      assert.ok(p, `no ${code} matching ${fragment}: ${JSON.stringify(problems.map((q) => q.message))}`);
      return p;
    };
    const activation = at('unknown-activation', /gelu/);
    assert.deepEqual(activation.range, { start: { line: 4, character: 45 }, end: { line: 4, character: 51 } });
    assert.match(activation.message, /valid ones are leaky_relu, relu, abs/);
    const dropout = at('schema', /unknown property 'dropout'/);
    assert.deepEqual(dropout.range.start, { line: 5, character: 67 });
    assert.equal(slice(text, dropout), '"dropout"');
    const vertex = at('dimension-mismatch', /vertex 1 has 3 coordinates/);
    assert.deepEqual(vertex.range, { start: { line: 9, character: 42 }, end: { line: 9, character: 51 } });
    assert.deepEqual(at('degenerate-region', /'line'/).range.start, { line: 10, character: 22 });
    assert.deepEqual(at('unbounded-region', /'open'/).range.start, { line: 11, character: 22 });
    assert.deepEqual(at('region-form', /exactly one of/).range.start, { line: 12, character: 6 });
    assert.deepEqual(at('dimension-mismatch', /jacobian has 3 columns/).range.start, { line: 13, character: 63 });
    const x7 = at('unknown-variable', /x7/);
    assert.deepEqual(x7.range, { start: { line: 15, character: 33 }, end: { line: 15, character: 35 } });
    assert.deepEqual(at('forbidden-expression', /process\.exit/).range.start, { line: 15, character: 38 });
    assert.equal(problems.find((p) => p.code === 'unused-setting')?.severity, 'warning');
  });

  it('a file saved with a byte-order mark still validates', () => {
    const result = validateSpecText(`\uFEFF${fixture('issue-example.police.json')}`, join(fixtures, 'issue-example.police.json'));
    assert.deepEqual(result.problems, []);
    assert.ok(result.spec);
  });

  it('syntax errors become problems with a range', () => {
    const text = '{\n  "name": "x",\n  "input": { "dim": 2, }\n}';
    const { problems, spec } = validateSpecText(text, specPath);
    assert.equal(spec, undefined);
    assert.equal(problems[0].code, 'syntax');
    assert.equal(problems[0].range.start.line, 2);
    assert.match(problems[0].message, /trailing comma/);
  });

  it('schema errors: wrong type, missing property, unknown property with a suggestion', () => {
    const spec = base();
    spec.input.dim = 'two';
    delete spec.model.output;
    spec.data.sampels = 10;
    const { text, problems } = validate(spec);
    const type = problems.find((p) => p.message === 'expected an integer');
    assert.ok(type);
    assert.equal(slice(text, type), '"two"');
    const missing = problems.find((p) => /missing property 'output'/.test(p.message));
    assert.ok(missing);
    assert.equal(slice(text, missing), '"model"');
    const unknown = problems.find((p) => /unknown property 'sampels'/.test(p.message));
    assert.ok(unknown);
    assert.match(unknown.message, /did you mean 'samples'/);
    assert.equal(slice(text, unknown), '"sampels"');
  });

  it('a constraint with a typo gets one message, not one per alternative', () => {
    const spec = base();
    spec.regions[0].constraint = { jacobian: [['a', 1]] };
    const { text, problems } = validate(spec);
    assert.deepEqual(
      problems.map((p) => p.message),
      ['expected a number'],
    );
    assert.equal(slice(text, problems[0]), '"a"');
  });

  it('alternatives (oneOf) give one clear message: a number for a target, both constraint kinds at once', () => {
    const spec = base();
    spec.data.target = 5;
    assert.deepEqual(
      validate(spec).problems.map((p) => p.message),
      ['expected an expression (a string) or an array of expressions, one per output'],
    );
    const both = base();
    both.regions[0].constraint = { jacobian: [[1, 0]], affine_map: { A: [[1, 0]], b: [0] } };
    assert.deepEqual(
      validate(both).problems.map((p) => p.message),
      ['a constraint takes either jacobian or affine_map, not both'],
    );
  });

  it('jacobian and affine_map shapes are checked against output units and input.dim', () => {
    const spec = base();
    spec.regions[0].constraint = {
      affine_map: {
        A: [
          [1, 2],
          [3, 4],
        ],
        b: [1, 2],
      },
    };
    const { text, problems } = validate(spec);
    const rows = problems.find((p) => /affine_map\.A has 2 rows but model\.output\.units is 1/.test(p.message));
    assert.ok(rows);
    assert.ok(slice(text, rows).startsWith('"A"') || slice(text, rows).startsWith('['));
    assert.ok(problems.some((p) => /affine_map\.b has 2 entries/.test(p.message)));
  });

  it('a second exact constraint is enforced by a penalty, and the spec says so', () => {
    const spec = base();
    spec.regions = [
      { name: 'a', box: { min: [-1, -1], max: [-0.5, -0.5] }, constraint: { jacobian: [[1, 0]] } },
      { name: 'b', box: { min: [0.5, 0.5], max: [1, 1] }, constraint: { affine_map: { A: [[0, 1]], b: [0] } } },
    ];
    const { problems, spec: resolved } = validate(spec);
    const warning = only(problems, 'penalty-constraint');
    assert.equal(warning.severity, 'warning');
    assert.match(warning.message, /'a'.*penalty/);
    assert.ok(resolved, 'warnings keep the spec');
  });

  it('overlapping regions are a warning, touching ones are not', () => {
    const spec = base();
    spec.regions = [
      { name: 'a', box: { min: [0, 0], max: [1, 1] } },
      { name: 'b', box: { min: [0.5, 0.5], max: [1.5, 1.5] } },
      { name: 'c', box: { min: [1.5, 0], max: [2, 0.5] } },
    ];
    const { text, problems, spec: resolved } = validate(spec);
    const overlap = only(problems, 'region-overlap');
    assert.equal(overlap.severity, 'warning');
    assert.match(overlap.message, /'a' and 'b' overlap/);
    assert.equal(slice(text, overlap), '"box"');
    assert.ok(resolved);
  });

  it('duplicate and redundant vertices are warnings on the vertex', () => {
    const spec = base();
    spec.regions[0].vertices = [
      [0, 0],
      [1, 0],
      [0, 1],
      [0.2, 0.2],
      [1, 0],
    ];
    const { text, problems } = validate(spec);
    assert.equal(slice(text, only(problems, 'duplicate-vertex')).replace(/\s/g, ''), '[1,0]');
    assert.equal(slice(text, only(problems, 'redundant-vertex')).replace(/\s/g, ''), '[0.2,0.2]');
  });

  it('a degenerate region and a region with too few vertices are errors', () => {
    const spec = base();
    spec.input = { dim: 3 };
    spec.regions = [
      {
        name: 'flat',
        vertices: [
          [0, 0, 0],
          [1, 0, 0],
          [0, 1, 0],
          [1, 1, 0],
        ],
      },
      {
        name: 'few',
        vertices: [
          [0, 0, 0],
          [1, 0, 0],
        ],
      },
    ];
    spec.data.target = 'x0 + x2';
    const { problems, spec: resolved } = validate(spec);
    assert.equal(resolved, undefined);
    const degenerate = problems.filter((p) => p.code === 'degenerate-region');
    assert.equal(degenerate.length, 2);
    assert.match(degenerate[0].message, /2-dimensional affine subspace of the 3-dimensional input/);
    assert.match(degenerate[1].message, /at least 4 are needed/);
  });

  it('a box in 17 dimensions is refused with the 2^D explanation', () => {
    const spec = base();
    spec.input = { dim: 17 };
    spec.regions = [{ box: { min: new Array(17).fill(0), max: new Array(17).fill(1) } }];
    spec.data.target = 'x16';
    const { text, problems } = validate(spec);
    const blowUp = only(problems, 'vertex-blow-up');
    assert.equal(blowUp.severity, 'error');
    assert.match(blowUp.message, /a box in 17 dimensions has 2\^17 corners/);
    assert.equal(slice(text, blowUp), '"box"');
  });

  it('expression errors point inside the JSON string, escapes included', () => {
    const text =
      '{"name":"t","input":{"dim":2},"model":{"layers":[{"units":4}],"output":{"units":1}},"regions":[{"simplex":{}}],"data":{"target":"\\u0073in(x0) + x7"}}';
    const { problems } = validateSpecText(text, specPath);
    const p = only(problems, 'unknown-variable');
    assert.equal(text.slice(p.offset, p.offset + p.length), 'x7');
    assert.equal(p.range.start.character, p.offset);
  });

  it('hostile expressions are refused, never run', () => {
    for (const target of ['constructor', 'process.exit()', 'x0.constructor', 'import("child_process")']) {
      const spec = base();
      spec.data.target = target;
      const { problems, spec: resolved } = validate(spec);
      assert.equal(resolved, undefined, target);
      assert.ok(
        problems.some((p) => p.severity === 'error'),
        target,
      );
    }
  });

  it('a target that overflows (10^1000) or leaves the reals on the domain is an error', () => {
    const spec = base();
    spec.data.target = 'x0 + 10^1000';
    const { problems } = validate(spec);
    assert.match(only(problems, 'non-finite-target').message, /target produced Infinity at x=\[/);
    spec.data.target = 'sqrt(x0)';
    assert.match(only(validate(spec).problems, 'non-finite-target').message, /target produced NaN at x=\[-2, /);
  });

  it('targets must match output units; classification needs one output per class', () => {
    const spec = base();
    spec.model.output.units = 2;
    assert.match(only(validate(spec).problems, 'dimension-mismatch').message, /1 expression but model\.output\.units is 2/);
    const cls = base();
    cls.data = { dataset: 'moons' };
    cls.model.output.units = 3;
    const { text, problems } = validate(cls);
    const mismatch = only(problems, 'classes-mismatch');
    assert.match(mismatch.message, /model\.output\.units is 3 but the data have 2 classes/);
    assert.equal(slice(text, mismatch), '3');
  });

  it('data needs exactly one source', () => {
    const none = base();
    none.data = { samples: 10 };
    assert.match(only(validate(none).problems, 'data-source').message, /needs one of/);
    const two = base();
    two.data = { target: 'x0', dataset: 'wave' };
    const { text, problems } = validate(two);
    assert.equal(slice(text, only(problems, 'data-source')), '"dataset"');
  });

  it('a missing csv file and a missing column are reported on their nodes', () => {
    const spec = base();
    spec.data = { csv: { path: 'nowhere.csv', inputs: ['a', 'b'], target: 'z' } };
    const missing = validate(spec, join(fixtures, 'x.police.json'));
    const p = only(missing.problems, 'csv-missing');
    assert.match(p.message, /csv file not found: .*fixtures\/spec\/nowhere\.csv/);
    assert.equal(slice(missing.text, p), '"nowhere.csv"');
    spec.data = { csv: { path: 'plane.csv', inputs: ['a', 'bb'], target: 'z' } };
    const column = validate(spec, join(fixtures, 'x.police.json'));
    const c = only(column.problems, 'csv-column');
    assert.match(c.message, /column 'bb' is not in plane\.csv \(did you mean 'b'\?\)/);
    assert.equal(slice(column.text, c), '"bb"');
    spec.data = { csv: { path: 'plane.csv', inputs: ['a', 'b'], target: 'z' } };
    assert.deepEqual(validate(spec, join(fixtures, 'x.police.json')).problems, []);
  });

  it('without a domain, the default covers [-1, 1]^D and the regions, padded by 10%', () => {
    const spec = base();
    delete spec.input.domain;
    spec.regions = [{ box: { min: [2, -0.5], max: [3, 0.5] } }];
    const { spec: resolved, problems } = validate(spec);
    assert.deepEqual(problems, []);
    assert.deepEqual(resolved?.domain, [
      [-1.4, 3.4],
      [-1.2, 1.2],
    ]);
  });

  it('a region outside the given domain is a warning', () => {
    const spec = base();
    spec.regions = [{ name: 'far', box: { min: [1, 1], max: [3, 3] } }];
    assert.match(only(validate(spec).problems, 'outside-domain').message, /'far'.*outside input\.domain/);
  });

  it('never throws: every prefix of a valid spec gives a result', () => {
    const text = fixture('issue-example.police.json');
    for (let cut = 0; cut < text.length; cut += 7) {
      const result = validateSpecText(text.slice(0, cut), specPath);
      assert.equal(result.spec, undefined);
      assert.ok(result.problems.length > 0, `prefix of ${cut} characters`);
    }
    for (const junk of [
      '',
      '[]',
      '42',
      'null',
      '{"regions": {"__proto__": 1}}',
      '{"input": {"dim": 1e308}, "regions": [{"box": {"min": [], "max": []}}]}',
    ]) {
      assert.ok(
        validateSpecText(junk, specPath).problems.some((p) => p.severity === 'error'),
        junk,
      );
    }
  });
});

describe('schema', () => {
  it('documents every property with a title and a description', () => {
    const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', 'police.schema.json'), 'utf8')) as unknown;
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) return node.forEach((child, i) => walk(child, `${path}/${i}`));
      if (!node || typeof node !== 'object') return;
      const properties = (node as { properties?: Record<string, { title?: string; description?: string }> }).properties;
      for (const [name, property] of Object.entries(properties ?? {})) {
        if (!property.title || !property.description) undocumented.push(`${path}/properties/${name}`);
      }
      for (const [key, child] of Object.entries(node)) walk(child, `${path}/${key}`);
    };
    walk(schema, '#');
    assert.deepEqual(undocumented, []);
  });
});

describe('spec validation under random mutation', () => {
  it('mutated specs give problems, never an internal error', () => {
    const rng = createRng(2024);
    const junk: unknown[] = [
      null,
      0,
      -1,
      1e308,
      0.5,
      'x',
      '',
      [],
      {},
      [[]],
      [[1]],
      true,
      [1, 2, 3],
      { a: 1 },
      'x9',
      'sin(',
      100000,
      [
        [0, 0],
        [0, 0],
      ],
    ];
    const mutate = (value: unknown): unknown => {
      if (rng.next() < 0.08) return junk[rng.int(junk.length)];
      if (Array.isArray(value)) return value.map(mutate).slice(0, rng.next() < 0.05 ? -1 : undefined);
      if (value && typeof value === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) if (rng.next() > 0.03) out[k] = mutate(v);
        if (rng.next() < 0.05)
          out[['box', 'vertices', 'simplex', 'polygon', 'halfspaces', 'target', 'dataset', 'constraint'][rng.int(8)]] =
            junk[rng.int(junk.length)];
        return out;
      }
      return value;
    };
    const sources = ['issue-example.police.json', 'moons.police.json', 'csv-regression.police.json'].map(
      (n) => JSON.parse(fixture(n).replace(/^\s*\/\/.*$/gm, '')) as unknown,
    );
    for (let i = 0; i < 400; i++) {
      const text = JSON.stringify(mutate(sources[i % sources.length]), null, 1);
      const { problems } = validateSpecText(text, join(fixtures, 'mutated.police.json'));
      const internal = problems.find((p) => p.code === 'internal');
      assert.equal(internal, undefined, `${internal?.message}\n${text}`);
      for (const p of problems) assert.ok(p.offset >= 0 && p.offset + p.length <= text.length, 'ranges stay inside the text');
    }
  });
});

describe('police validate (CLI)', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'extension', 'cli', 'main.ts'), 'validate', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('exits 0 on a valid spec and 1 with file:line:col problems on a broken one', () => {
    const ok = cli(join(fixtures, 'issue-example.police.json'));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /valid/);
    const bad = cli(join(fixtures, 'broken.police.json'));
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /broken\.police\.json:16:34: error: unknown variable 'x7'/);
  });

  it('warnings alone are printed but keep exit 0', () => {
    const warned = cli(join(fixtures, 'warnings.police.json'), '--json');
    assert.equal(warned.status, 0, warned.stderr);
    const { problems } = JSON.parse(warned.stdout) as { problems: { message: string; severity: string }[] };
    assert.deepEqual(
      problems.map((p) => p.severity),
      ['warning', 'warning'],
    );
    assert.match(problems[0].message, /'a' and 'b' overlap/, 'problems come in file order');
    assert.match(problems[1].message, /vertex 3 lies inside the hull/);
  });

  it('--json prints exactly the problems with 0-based ranges', () => {
    const bad = cli(join(fixtures, 'broken.police.json'), '--json');
    assert.equal(bad.status, 1);
    const parsed = JSON.parse(bad.stdout) as { problems: { message: string; severity: string; range: unknown }[] };
    assert.deepEqual(Object.keys(parsed), ['problems']);
    for (const p of parsed.problems) assert.deepEqual(Object.keys(p), ['message', 'severity', 'range']);
    const x7 = parsed.problems.find((p) => p.message.includes('x7'));
    assert.deepEqual(x7?.range, { start: { line: 15, character: 33 }, end: { line: 15, character: 35 } });
  });

  it('a missing file exits 1 with a clear message, no stack trace', () => {
    const missing = cli(join(fixtures, 'does-not-exist.police.json'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read .*does-not-exist\.police\.json: no such file/);
    assert.doesNotMatch(missing.stderr + missing.stdout, /\n\s+at /);
  });
});
