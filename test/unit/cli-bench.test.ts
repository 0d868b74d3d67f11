// `police bench --json`: one JSON object per configuration with the fields scripts rely on (numbers are not judged here).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

test('police bench --quick --json prints one well-formed row per Table 1 configuration it ran, then the fig1 and fig2 training steps', () => {
  const main = join(__dirname, '..', '..', 'extension', 'cli', 'main.ts');
  const run = spawnSync(process.execPath, ['--import', 'tsx', main, 'bench', '--quick', '--json', '--backend', 'wasm'], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const rows = lines.filter((line) => !('example' in line));
  const figures = lines.filter((line) => 'example' in line);
  assert.deepEqual(
    figures.map((f) => f.example),
    ['fig1-moons-classification', 'fig2-wave-triangle'],
    'the Figure 1 and Figure 2 examples follow the table',
  );
  for (const figure of figures) {
    assert.equal(figure.backend, 'wasm');
    assert.equal(figure.threads, 1, 'one wasm thread unless --threads says otherwise');
    assert.ok((figure.step_ms as number) > 0 && (figure.steps as number) > 0, JSON.stringify(figure));
  }
  assert.deepEqual(
    rows.map((r) => [r.D, r.L, r.W]),
    [
      [2, 2, 256],
      [2, 4, 64],
    ],
    'the quick run covers the D = 2, W ≤ 256 rows of Table 1',
  );
  for (const row of rows) {
    for (const key of ['D', 'L', 'W', 'N', 'P', 'backend', 'threads', 'unconstrained_ms', 'police_ms', 'ratio'])
      assert.ok(key in row, `row lacks ${key}: ${JSON.stringify(row)}`);
    assert.equal(row.N, 1024);
    assert.equal(row.P, (row.D as number) + 1, 'the simplex region has D + 1 vertices');
    assert.equal(row.backend, 'wasm');
    assert.ok((row.police_ms as number) > 0 && (row.unconstrained_ms as number) > 0);
    assert.ok(
      Math.abs((row.ratio as number) - (row.police_ms as number) / (row.unconstrained_ms as number)) < 1e-9,
      'ratio is police / unconstrained',
    );
  }
  assert.match(run.stderr, /exact partition/, 'the partition timings follow the table (on stderr with --json)');
});
