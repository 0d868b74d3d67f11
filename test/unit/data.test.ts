import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DataError, loadData } from '../../extension/police/training/data';
import { validateSpecText } from '../../extension/police/spec/parse';
import { createRng, mulberry32 } from '../../extension/police/common/random';
import type { ResolvedSpec } from '../../extension/police/spec/types';

const fixtures = join(__dirname, '..', 'fixtures', 'spec');

function resolve(spec: Record<string, unknown>): ResolvedSpec {
  const result = validateSpecText(JSON.stringify(spec), join(fixtures, 'inline.police.json'));
  assert.ok(result.spec, JSON.stringify(result.problems));
  return result.spec;
}

const base = (data: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'd',
  input: {
    dim: 2,
    domain: [
      [-1, 3],
      [0, 2],
    ],
  },
  model: { layers: [{ units: 4 }], output: { units: 1 } },
  regions: [{ simplex: { scale: 0.5 } }],
  data,
  ...extra,
});

describe('seeded random numbers', () => {
  it('repeat for a seed and differ between seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const first = [a(), a(), a()];
    assert.deepEqual(first, [b(), b(), b()]);
    assert.notDeepEqual(first, [c(), c(), c()]);
    for (const v of first) assert.ok(v >= 0 && v < 1);
  });

  it('normal samples have mean 0 and variance 1', () => {
    const rng = createRng(1);
    let sum = 0;
    let squares = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const v = rng.normal();
      sum += v;
      squares += v * v;
    }
    assert.ok(Math.abs(sum / n) < 0.03);
    assert.ok(Math.abs(squares / n - 1) < 0.05);
  });
});

describe('loadData', () => {
  it('samples an expression on the domain, reproducibly per seed', async () => {
    const spec = resolve(base({ target: 'x0 * 2 + x1', samples: 200 }, { training: { seed: 5 } }));
    const data = await loadData(spec);
    assert.equal(data.count, 200);
    assert.equal(data.x.length, 400);
    assert.equal(data.y.length, 200);
    assert.equal(data.outputDim, 1);
    for (let i = 0; i < 200; i++) {
      const [x0, x1] = [data.x[2 * i], data.x[2 * i + 1]];
      assert.ok(x0 >= -1 && x0 <= 3 && x1 >= 0 && x1 <= 2, `sample ${i} inside the domain`);
      assert.ok(Math.abs(data.y[i] - (x0 * 2 + x1)) < 1e-5);
    }
    assert.deepEqual((await loadData(spec)).x, data.x);
    const other = await loadData(resolve(base({ target: 'x0 * 2 + x1', samples: 200 }, { training: { seed: 6 } })));
    assert.notDeepEqual(other.x, data.x);
  });

  it('several expressions give several outputs', async () => {
    const data = await loadData(
      resolve(base({ target: ['x0', 'x1', '1'], samples: 10 }, { model: { layers: [{ units: 4 }], output: { units: 3 } } })),
    );
    assert.equal(data.outputDim, 3);
    for (let i = 0; i < 10; i++) {
      assert.equal(data.y[3 * i], data.x[2 * i]);
      assert.equal(data.y[3 * i + 1], data.x[2 * i + 1]);
      assert.equal(data.y[3 * i + 2], 1);
    }
  });

  it('classification from one expression: label 1 where it is positive, one-hot targets', async () => {
    const spec = resolve(
      base({ task: 'classification', target: 'x0 - 1', samples: 100 }, { model: { layers: [{ units: 4 }], output: { units: 2 } } }),
    );
    const data = await loadData(spec);
    assert.ok(data.labels);
    for (let i = 0; i < 100; i++) {
      const label = data.x[2 * i] > 1 ? 1 : 0;
      assert.equal(data.labels[i], label);
      assert.deepEqual([data.y[2 * i], data.y[2 * i + 1]], label === 1 ? [0, 1] : [1, 0]);
    }
  });

  it('the wave dataset follows its documented formula', async () => {
    const data = await loadData(resolve(base({ dataset: 'wave', samples: 50 })));
    for (let i = 0; i < 50; i++) {
      const expected = Math.sin(2 * data.x[2 * i]) * Math.cos(2 * data.x[2 * i + 1]);
      assert.ok(Math.abs(data.y[i] - expected) < 1e-5);
    }
  });

  it('moons and two-spirals give two roughly balanced classes with exact one-hot rows', async () => {
    for (const dataset of ['moons', 'two-spirals']) {
      const data = await loadData(resolve(base({ dataset, samples: 400 }, { model: { layers: [{ units: 4 }], output: { units: 2 } } })));
      assert.equal(data.outputDim, 2);
      assert.ok(data.labels);
      const ones = data.labels.reduce((s, l) => s + l, 0);
      assert.ok(ones > 150 && ones < 250, `${dataset}: ${ones} of 400 in class 1`);
      for (let i = 0; i < 400; i++) {
        assert.equal(data.y[2 * i] + data.y[2 * i + 1], 1);
        assert.equal(data.y[2 * i + data.labels[i]], 1);
      }
    }
  });

  it('without a domain, the moons points lie inside the default domain', async () => {
    const spec = resolve({
      ...base({ dataset: 'moons', samples: 500 }, { model: { layers: [{ units: 4 }], output: { units: 2 } } }),
      input: { dim: 2 },
    });
    const data = await loadData(spec);
    let outside = 0;
    for (let i = 0; i < data.count; i++) {
      if (spec.domain.some(([lo, hi], k) => data.x[2 * i + k] < lo || data.x[2 * i + k] > hi)) outside++;
    }
    assert.equal(outside, 0, `domain ${JSON.stringify(spec.domain)}`);
  });

  it('reads a CSV file relative to the spec', async () => {
    const data = await loadData(resolve(base({ csv: { path: 'plane.csv', inputs: ['a', 'b'], target: 'z' } })));
    assert.equal(data.count, 4);
    assert.deepEqual(Array.from(data.x), [0, 0, 1, 0, 0, 1, 0.5, 0.5]);
    assert.deepEqual(Array.from(data.y), [1, 3, 0, 1.5]);
  });

  const csvSpec = (path: string, task: 'regression' | 'classification' = 'regression', target = 'z'): ResolvedSpec => {
    const spec = resolve(base({ csv: { path: 'plane.csv', inputs: ['a', 'b'], target: 'z' } }));
    // Point the validated spec at the broken file, as if it changed after validation.
    return {
      ...spec,
      data: {
        ...spec.data,
        task,
        classes: task === 'classification' ? 2 : 0,
        source: { kind: 'csv', path: join(fixtures, path), inputs: ['a', 'b'], targets: [target] },
      },
    };
  };

  it('a non-numeric value names the file, line and column', async () => {
    await assert.rejects(
      () => loadData(csvSpec('bad-value.csv')),
      (err: unknown) =>
        err instanceof DataError &&
        /bad-value\.csv:3:2: value "abc" is not a number in column 'b'/.test(err.message) &&
        err.line === 3 &&
        err.column === 2,
    );
  });

  it('an empty file and a missing column are explained', async () => {
    await assert.rejects(() => loadData(csvSpec('empty.csv')), /empty\.csv: the file is empty/);
    await assert.rejects(
      () => loadData(csvSpec('plane.csv', 'regression', 'w')),
      /plane\.csv:1: column 'w' not found in the header \(columns: a, b, z\)/,
    );
    await assert.rejects(() => loadData(csvSpec('missing.csv')), /cannot read csv file: .*missing\.csv: no such file/);
  });

  it('a class id out of range names its line', async () => {
    await assert.rejects(
      () => loadData(csvSpec('bad-label.csv', 'classification', 'label')),
      /bad-label\.csv:4:3: class "5" in column 'label' is not an integer in 0\.\.1/,
    );
  });
});
