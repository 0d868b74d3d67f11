// Hostile and huge input (issue 13): complete output on any pipe, located problems for every malformed node, files
// confined and checked before reading, sizes checked before anything is built, words instead of JavaScript errors.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateCommand } from '../../extension/cli/validate';
import { summarizeRun } from '../../extension/host/run-folders';
import { validateSpecText } from '../../extension/police/spec/parse';
import type { Problem } from '../../extension/police/spec/problems';
import { DataError, loadData } from '../../extension/police/training/data';
import { createRng, type Rng } from '../../extension/police/common/random';
import { captureCli } from './cli-harness';
import { affineOnTriangle } from './network-fixtures';

const root = resolve(__dirname, '..', '..');
const cli = join(root, 'extension', 'cli', 'main.ts');
const work = mkdtempSync(join(tmpdir(), 'police-hostile-'));
after(() => rmSync(work, { recursive: true, force: true }));

const example = (): Record<string, unknown> => JSON.parse(readFileSync(join(root, 'examples', 'fig2-wave-triangle.police.json'), 'utf8'));

function writeSpec(dir: string, name: string, spec: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.police.json`);
  writeFileSync(file, typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2));
  return file;
}

const errors = (problems: Problem[]): Problem[] => problems.filter((p) => p.severity === 'error');
const runCli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('CLI output', () => {
  it('--json output is complete however slowly the pipe is read (the CLI exits only once flushed)', async () => {
    const spec = example();
    // About 400 kB of problems: more than the pipe (64 KiB) and this reader's stream buffer (64 KiB) hold together.
    spec.regions = Array.from({ length: 3000 }, (_, i) => ({ name: `r${i}`, vertices: [[0, 0, 0]] }));
    const file = writeSpec(work, 'many-problems', spec);
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'validate', file, '--json'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const closed = new Promise<number | null>((done) => child.on('close', (status) => done(status)));
    // stderr is read all along: an unread pipe never ends, so 'close' would never come.
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
    // Nobody reads stdout for a while: a CLI that exits without waiting loses what the pipe could not hold (64 KiB).
    child.stdout.pause();
    await new Promise((done) => setTimeout(done, 3000));
    // 400 kB cannot all be in flight: a CLI already gone has dropped the rest (and Node discards an unread pipe at exit).
    assert.equal(child.exitCode, null, 'the CLI exited before a slow reader had taken its output');
    let out = '';
    const ended = new Promise((done) => child.stdout.on('end', done));
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stdout.resume();
    const [code] = await Promise.all([closed, ended]);
    assert.equal(code, 1, err);
    assert.ok(out.length > 300_000, `only ${out.length} bytes`);
    assert.equal((JSON.parse(out) as { problems: unknown[] }).problems.length >= 3000, true);
  });
});

describe('every malformed node gets a located problem', () => {
  for (const [what, value] of [
    ['1', 1],
    ['null', null],
    ['"x"', 'x'],
    ['true', true],
    ['[]', []],
  ] as const) {
    it(`a region that is ${what} is an error at that region`, () => {
      const spec = example();
      spec.regions = [value];
      const text = JSON.stringify(spec, null, 2);
      const { problems } = validateSpecText(text, join(work, 'r.police.json'));
      const [error] = errors(problems);
      assert.ok(error, 'no error');
      assert.match(error.message, /region 0 is .*: a region is an object/);
      assert.equal(text.slice(error.offset, error.offset + error.length), JSON.stringify(value));
    });
  }

  it('duplicate keys are a warning on the second key', () => {
    const text = '{"name": "a", "name": "b"}';
    const dup = validateSpecText(text, join(work, 'd.police.json')).problems.find((p) => p.code === 'duplicate-key');
    assert.equal(dup?.severity, 'warning');
    assert.equal(dup?.offset, text.lastIndexOf('"name"'));
  });

  it('a very long or deeply nested expression says so in words, not "Maximum call stack size exceeded"', () => {
    for (const target of [
      '('.repeat(5000) + 'x0' + ')'.repeat(5000),
      'x0+'.repeat(3000) + 'x0',
      '-'.repeat(8000) + 'x0',
      'x0*'.repeat(4000) + 'x0',
    ]) {
      const spec = example();
      spec.data = { task: 'regression', target, samples: 100 };
      const { problems } = validateSpecText(JSON.stringify(spec), join(work, 'e.police.json'));
      const [error] = errors(problems);
      assert.match(error.message, /nested too deeply|nests brackets more than|characters long/);
      assert.doesNotMatch(error.message, /call stack/);
    }
  });
});

describe('files a spec names stay inside its folder', () => {
  const project = join(work, 'project');
  const outside = join(work, 'outside');
  mkdirSync(join(project, 'data'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'secret.csv'), 'SECRET_TOKEN_7f3a,b,y\n1,2,3\n');
  writeFileSync(join(project, 'data', 'ok.csv'), 'a,b,y\n0,0,0\n1,0,1\n0,1,1\n');
  writeFileSync(join(project, 'data', 'notes.txt'), 'PRIVATE_NOTE_99 line\n');
  symlinkSync(join(outside, 'secret.csv'), join(project, 'data', 'link.csv'));
  const csvSpec = (path: string): unknown => ({
    ...example(),
    data: { task: 'regression', csv: { path, inputs: ['a', 'b'], target: 'y' } },
  });

  for (const [label, path] of [
    ['an absolute path', '/etc/passwd'],
    ['a ../ path', '../outside/secret.csv'],
    ['a symbolic link inside the folder', 'data/link.csv'],
    ['/proc/self/environ', '/proc/self/environ'],
  ]) {
    it(`${label} is refused with a clear problem that quotes nothing from the file`, () => {
      const file = writeSpec(project, 'spec', csvSpec(path));
      const result = runCli(['validate', file, '--json']);
      assert.equal(result.status, 1, result.stderr);
      const { problems } = JSON.parse(result.stdout) as { problems: { message: string; range: unknown }[] };
      const problem = problems.find((p) => /outside the folder/.test(p.message));
      assert.ok(problem, result.stdout);
      assert.match(problem.message, /--allow-data-outside/);
      assert.doesNotMatch(result.stdout + result.stderr, /SECRET_TOKEN|root:|PATH=/);
    });
  }

  it('--allow-data-outside reads it; a file that is not a CSV is never quoted', () => {
    const file = writeSpec(project, 'spec', csvSpec('data/link.csv'));
    const allowed = runCli(['validate', file, '--allow-data-outside']);
    // The real CSV's header may be named (its columns), since the user allowed it.
    assert.match(allowed.stdout, /column 'a' is not in data\/link\.csv.*; its columns are SECRET_TOKEN_7f3a, b, y/);
    const notes = writeSpec(project, 'notes', csvSpec('data/notes.txt'));
    const result = runCli(['validate', notes]);
    assert.equal(result.status, 1);
    assert.match(result.stdout, /not a CSV header/);
    assert.doesNotMatch(result.stdout, /PRIVATE_NOTE/);
    assert.equal(runCli(['validate', writeSpec(project, 'ok', csvSpec('data/ok.csv'))]).status, 0);
  });

  it('the editor passes the workspace as the root: a file outside it is refused there too', () => {
    const spec = JSON.stringify(csvSpec(join(project, 'data', 'ok.csv')));
    const { problems } = validateSpecText(spec, join(outside, 's.police.json'), { dataRoots: { folders: [outside] }, optIn: 'OPT' });
    assert.match(errors(problems)[0].message, /outside the folder .*outside.*OPT/);
    const inWorkspace = validateSpecText(spec, join(outside, 's.police.json'), { dataRoots: { folders: [project, outside] } });
    assert.deepEqual(errors(inWorkspace.problems), []);
  });
});

describe('every file is checked (regular, size) before it is read', () => {
  it('police validate /dev/zero, a FIFO and a spec above 4 MiB are refused at once', () => {
    assert.match(runCli(['validate', '/dev/zero']).stderr, /not a regular file/);
    const big = join(work, 'big.police.json');
    writeFileSync(big, `{"name": "${'a'.repeat(5 * 1024 * 1024)}"}`);
    assert.match(runCli(['validate', big]).stderr, /above the 4 MiB limit for a spec/);
  });

  it('verify refuses a network.json that is a link to /dev/zero (exit 1) and a certificate.json that is one (exit 3)', () => {
    const spec = resolve('test/fixtures/verify-triangle.police.json');
    const dir = join(work, 'zero-run');
    mkdirSync(dir, { recursive: true });
    symlinkSync('/dev/zero', join(dir, 'network.json'));
    const network = runCli(['verify', spec, dir]);
    assert.equal(network.status, 1);
    assert.match(network.stderr, /network\.json: it is not a regular file/);
    const dir2 = join(work, 'zero-cert');
    mkdirSync(dir2, { recursive: true });
    writeFileSync(join(dir2, 'network.json'), JSON.stringify(affineOnTriangle()));
    symlinkSync('/dev/zero', join(dir2, 'certificate.json'));
    const cert = runCli(['verify', spec, dir2]);
    assert.equal(cert.status, 3, cert.stderr);
    assert.match(cert.stdout, /certificate\.json does not hold: .*not a regular file/);
  });

  it('the Runs view reads a metrics.jsonl or certificate.json that links to /dev/zero without reading it', async () => {
    const dir = join(work, 'runs', 'spec', '2026-01-01T00-00-00-000Z');
    mkdirSync(dir, { recursive: true });
    symlinkSync('/dev/zero', join(dir, 'metrics.jsonl'));
    symlinkSync('/dev/zero', join(dir, 'certificate.json'));
    const summary = await summarizeRun('spec', dir);
    assert.equal(summary.certificate, 'unreadable');
    assert.equal(summary.lastBatchLoss, undefined);
  });

  it('a CSV is parsed as a stream and refused at its row limit with a message naming the limit', async () => {
    const dir = join(work, 'csv-limit');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'rows.csv'), `a,b,y\n${'0.5,0.5,1\n'.repeat(2000)}`);
    const spec = writeSpec(dir, 'rows', {
      ...example(),
      data: { task: 'regression', csv: { path: 'rows.csv', inputs: ['a', 'b'], target: 'y' } },
    });
    const resolved = validateSpecText(readFileSync(spec, 'utf8'), spec).spec;
    assert.ok(resolved);
    assert.equal((await loadData(resolved)).count, 2000);
    await assert.rejects(
      loadData(resolved, { rows: 1000, values: 1e9 }),
      (err: unknown) => err instanceof DataError && /more than 1,000 data rows; training data are limited to 1,000 rows/.test(err.message),
    );
  });
});

describe('sizes are checked before anything is built', () => {
  it('a network that cannot fit is refused with the estimate and the limit', () => {
    const spec = example();
    spec.model = { layers: [{ units: 65536 }, { units: 65536 }], output: { units: 1 } };
    const [error] = errors(validateSpecText(JSON.stringify(spec), join(work, 'm.police.json')).problems);
    assert.equal(error.code, 'memory-limit');
    assert.match(error.message, /needs an estimated 8\d\.\d GiB \(.*parameters with gradients and Adam state\), more than the 3\.0 GiB/);
  });

  it('input.dim 1,000,000 and a box in 40 dimensions are answered without building per-dimension arrays (time printed)', () => {
    const big = example();
    big.input = { dim: 1_000_000 };
    big.regions = [];
    big.data = { task: 'regression', target: 'x0', samples: 4096 };
    const box = example();
    box.input = { dim: 40 };
    box.regions = [{ name: 'b', box: { min: Array(40).fill(-1), max: Array(40).fill(1) } }];
    box.data = { task: 'regression', target: 'x0 + x39', samples: 64 };
    box.model = { layers: [{ units: 8 }], output: { units: 1 } };
    for (const [name, spec, expected] of [
      ['dim 1e6', big, /training data|parameters/],
      ['40-D box', box, /2\^40 corners/],
    ] as const) {
      const started = performance.now();
      const { problems } = validateSpecText(JSON.stringify(spec), join(work, 's.police.json'));
      console.log(`${name}: ${(performance.now() - started).toFixed(0)} ms, ${problems.length} problems`);
      assert.ok(
        errors(problems).some((p) => expected.test(p.message)),
        JSON.stringify(problems),
      );
    }
  });
});

describe('seeded fuzz over the examples', () => {
  const HOSTILE: unknown[] = [
    null,
    true,
    0,
    -1,
    0.5,
    1e308,
    65536,
    1_000_000,
    1e9,
    2 ** 31,
    '',
    'x',
    'x999999',
    'sin(',
    '('.repeat(300) + 'x0',
    'x0+'.repeat(2500) + 'x0',
    '/etc/passwd',
    '/dev/zero',
    '/proc/self/environ',
    '../../../../etc/shadow',
    [],
    {},
    [[]],
    [1, 2, 3],
    [
      [0, 0],
      [0, 0],
    ],
    { min: Array(64).fill(-1), max: Array(64).fill(1) },
    { center: [0, 0], radius: 1, sides: 65536 },
    JSON.parse('['.repeat(200) + ']'.repeat(200)),
  ];
  const KEYS = [
    'box',
    'vertices',
    'simplex',
    'polygon',
    'halfspaces',
    'target',
    'dataset',
    'csv',
    'constraint',
    'dim',
    'units',
    'samples',
    'batch',
    'steps',
  ];

  function mutate(value: unknown, rng: Rng): unknown {
    if (rng.next() < 0.06) return HOSTILE[rng.int(HOSTILE.length)];
    if (Array.isArray(value)) {
      const out = value.map((v) => mutate(v, rng));
      return rng.next() < 0.04 ? out.slice(0, -1) : rng.next() < 0.03 ? [...out, ...out] : out;
    }
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (rng.next() > 0.03) out[k] = mutate(v, rng);
      if (rng.next() < 0.05) out[KEYS[rng.int(KEYS.length)]] = HOSTILE[rng.int(HOSTILE.length)];
      return out;
    }
    if (typeof value === 'number' && rng.next() < 0.05) return value * [1000, -1, 0, 1e6][rng.int(4)];
    return value;
  }

  /** Text-level damage a JSON round trip cannot make: duplicate keys, cuts, stray characters. */
  function damage(text: string, rng: Rng): string {
    const r = rng.next();
    if (r < 0.1) return text.replace('"name"', '"name": "dup", "name"');
    if (r < 0.17) return text.slice(0, rng.int(text.length));
    if (r < 0.22) {
      const at = rng.int(text.length);
      return `${text.slice(0, at)}${['{', ']', '"', ',', '\\', '\u0000', '/*'][rng.int(7)]}${text.slice(at)}`;
    }
    return text;
  }

  it('a few hundred mutations: exit 0 or 1, every problem located, no stack trace, each under 2 s, under 300 MB in all', async () => {
    const sources = readdirSync(join(root, 'examples'))
      .filter((f) => f.endsWith('.police.json'))
      .map((f) => JSON.parse(readFileSync(join(root, 'examples', f), 'utf8')) as unknown);
    const dir = join(work, 'fuzz');
    mkdirSync(dir, { recursive: true });
    const rng = createRng(1313);
    const startRss = process.resourceUsage().maxRSS;
    const budgetEnd = Date.now() + 30_000;
    let slowest = 0;
    let cases = 0;
    for (; cases < 300 && Date.now() < budgetEnd; cases++) {
      const text = damage(JSON.stringify(mutate(sources[cases % sources.length], rng), null, 1), rng);
      const file = join(dir, `case-${cases}.police.json`);
      writeFileSync(file, text);
      const started = performance.now();
      const result = await captureCli(validateCommand, [file, '--json']);
      const ms = performance.now() - started;
      slowest = Math.max(slowest, ms);
      const context = `case ${cases}:\n${text.slice(0, 2000)}`;
      assert.ok(result.code === 0 || result.code === 1, `exit ${result.code}; ${context}`);
      assert.doesNotMatch(result.stdout + result.stderr, /\n\s+at |Maximum call stack|internal error/, context);
      const { problems } = JSON.parse(result.stdout) as { problems: Problem[] };
      if (result.code === 1)
        assert.ok(
          problems.some((p) => p.severity === 'error'),
          `exit 1 without an error problem; ${context}`,
        );
      for (const p of problems) {
        assert.ok(p.range && Number.isInteger(p.range.start.line) && Number.isInteger(p.range.end.character), `no range: ${p.message}`);
        assert.ok(p.message.length < 2000, `a ${p.message.length}-character message: ${p.message.slice(0, 300)}`);
      }
      assert.ok(ms < 2000, `case ${cases} took ${ms.toFixed(0)} ms; ${context}`);
    }
    const grownMb = (process.resourceUsage().maxRSS - startRss) / 1024;
    console.log(`fuzz: ${cases} cases, slowest ${slowest.toFixed(0)} ms, peak RSS grew ${grownMb.toFixed(0)} MB`);
    assert.ok(cases >= 100, `only ${cases} cases in 30 s`);
    assert.ok(grownMb < 300, `peak RSS grew ${grownMb.toFixed(0)} MB`);
  });

  it('a sample through the real command line, with V8 held to 300 MB: exit 0 or 1, no stack trace', () => {
    const rng = createRng(77);
    const source = example();
    for (let i = 0; i < 6; i++) {
      const file = writeSpec(join(work, 'fuzz-cli'), `case-${i}`, mutate(source, rng));
      const run = spawnSync(process.execPath, ['--max-old-space-size=300', '--import', 'tsx', cli, 'validate', file, '--json'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.ok(run.status === 0 || run.status === 1, `exit ${run.status}: ${run.stderr}`);
      assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at /);
      JSON.parse(run.stdout);
    }
  });
});
