// `police train` as a user runs it: exit codes 0 / 1 / 2, the run folder's files, never a partial or overwritten run.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { fullDataLossText } from '../../extension/police/training/loss-names';
import { tinySpecJson } from './train-fixtures';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'extension', 'cli', 'main.ts');
const work = mkdtempSync(path.join(tmpdir(), 'police-cli-train-'));
after(() => rmSync(work, { recursive: true, force: true }));

function specText(overrides: Record<string, unknown> = {}): string {
  const spec = { ...tinySpecJson({ name: 'cli-tiny', units: 12, samples: 256, steps: 20, batch: 64 }), ...overrides };
  return JSON.stringify(spec, null, 2);
}

function writeSpec(name: string, text: string): string {
  const file = path.join(work, `${name}.police.json`);
  writeFileSync(file, text);
  return file;
}

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('a valid spec trains, writes the whole run folder and exits 0 with a proved certificate', () => {
  const spec = writeSpec('ok', specText());
  const out = path.join(work, 'runs', 'ok');
  const result = runCli(['train', spec, '--out', out, '--json']);
  assert.equal(result.status, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as { proved: boolean; steps: number; regions: { name: string; status: string }[] };
  assert.equal(summary.proved, true);
  assert.equal(summary.steps, 20);
  assert.deepEqual(readdirSync(out).sort(), [
    'certificate.json',
    'metrics.jsonl',
    'model.json',
    'network-init.json',
    'network.json',
    'spec.police.json',
    'summary.json',
    'weights.bin',
  ]);
  assert.equal(readFileSync(path.join(out, 'spec.police.json'), 'utf8'), readFileSync(spec, 'utf8'));
  const certificate = JSON.parse(readFileSync(path.join(out, 'certificate.json'), 'utf8')) as { proved: boolean; spec: string };
  assert.equal(certificate.proved, true);
  assert.equal(certificate.spec, 'cli-tiny');
  const rows = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { step: number; loss: number; backend: string });
  assert.equal(rows.at(-1)?.step, 20);
  assert.ok(rows.every((row) => Number.isFinite(row.loss) && typeof row.backend === 'string'));
  // No temp folder is left beside the run.
  assert.deepEqual(readdirSync(path.dirname(out)), ['ok']);
});

test('--steps overrides the spec and plain output names each region', () => {
  const spec = writeSpec('steps', specText());
  const out = path.join(work, 'runs', 'steps');
  const result = runCli(['train', spec, '--out', out, '--steps', '3']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /3 steps/);
  // The two losses are named: the progress lines show batch losses, the summary the kept network's full-data loss.
  assert.match(result.stderr, /step 3\/3 {2}batch loss \d/);
  assert.match(result.stdout, /3 steps on \w+ in [\d.]+ s, full-data loss \d/);
  const record = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { fullDataLoss: number; keptStep: number };
  assert.equal(record.keptStep, 3);
  assert.ok(result.stdout.includes(fullDataLossText(record.fullDataLoss)), result.stdout);
  assert.match(result.stdout, /triangle: proved \(min margin/);
});

test('a bad spec exits 1 with a located problem and writes nothing', () => {
  const text = specText({
    regions: [
      {
        name: 'bad',
        vertices: [
          [0, 0, 0],
          [1, 0, 0],
          [0, 1, 0],
        ],
      },
    ],
  });
  const spec = writeSpec('bad', text);
  const out = path.join(work, 'runs', 'bad');
  const result = runCli(['train', spec, '--out', out]);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /bad\.police\.json:\d+:\d+: error: /);
  assert.equal(existsSync(out), false);
  const json = runCli(['train', spec, '--out', out, '--json']);
  assert.equal(json.status, 1);
  const { problems } = JSON.parse(json.stdout) as { problems: { message: string; severity: string; range: { start: { line: number } } }[] };
  const error = problems.find((p) => p.severity === 'error');
  assert.ok(error, json.stdout);
  // The problem points into the regions array of the file, not at its first line.
  assert.ok(error.range.start.line > 0);
});

test('training without POLICE exits 2: trained, but not proved', () => {
  const spec = writeSpec('off', specText({ police: { enabled: false } }));
  const out = path.join(work, 'runs', 'off');
  const result = runCli(['train', spec, '--out', out]);
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stdout, /triangle: NOT proved/);
  assert.ok(existsSync(path.join(out, 'certificate.json')));
});

test('an existing run folder is refused and left untouched', () => {
  const spec = writeSpec('exists', specText());
  const out = path.join(work, 'runs', 'exists');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'network.json'), 'earlier run');
  const result = runCli(['train', spec, '--out', out]);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /already exists/);
  assert.deepEqual(readdirSync(out), ['network.json']);
  assert.equal(readFileSync(path.join(out, 'network.json'), 'utf8'), 'earlier run');
});

test('a trainer killed mid-run leaves no run folder, and the next run to the same place succeeds', async () => {
  const spec = writeSpec('killed', specText({ training: { steps: 1000000, batch: 64, lr: 0.01 } }));
  const out = path.join(work, 'runs', 'killed');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'train', spec, '--out', out], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      seen += text;
      if (/step \d+/.test(seen)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`trainer exited (${code}) before training: ${seen}`)));
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(existsSync(out), false, 'a killed training left a run folder');
  // A writer killed while writing leaves only its hidden temp folder, which the next run clears.
  const stale = path.join(path.dirname(out), `.killed.tmp-${child.pid}`);
  mkdirSync(stale, { recursive: true });
  writeFileSync(path.join(stale, 'network.json'), '{"partial":');
  const again = runCli(['train', writeSpec('again', specText()), '--out', out]);
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(
    readdirSync(path.dirname(out)).filter((name) => name.includes('killed')),
    ['killed'],
  );
});

test('the rule in use is named; side flips are counted, and under majority a hint names the fixed rule', () => {
  const flipsOf = (name: string, rule: string) => {
    const spec = writeSpec(name, specText({ training: { steps: 150, batch: 64, optimizer: 'adam', lr: 0.05, seed: 2 }, police: { rule } }));
    const result = runCli(['train', spec, '--out', path.join(work, 'runs', name), '--json']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`POLICE on \\(rule ${rule}\\)`));
    return { flips: (JSON.parse(result.stdout) as { sideFlips: number }).sideFlips, stderr: result.stderr };
  };
  const fixed = flipsOf('rule-fixed', 'fixed');
  assert.equal(fixed.flips, 0);
  assert.doesNotMatch(fixed.stderr, /side flips under/);
  const majority = flipsOf('rule-majority', 'majority');
  assert.ok(majority.flips > 0, 'this spec no longer flips a side under majority: the hint is untested');
  assert.match(majority.stderr, new RegExp(`${majority.flips} side flips under rule 'majority'.*"rule": "fixed"`));
});

/** A spec whose every step takes seconds (wide layers, a large batch), so a signal lands in the middle of one. */
const slowStepSpec = (): string =>
  specText({
    model: {
      layers: [
        { units: 1536, activation: 'relu' },
        { units: 1536, activation: 'relu' },
      ],
      output: { units: 1 },
    },
    data: { task: 'regression', target: 'x0 * x1', samples: 8192 },
    training: { steps: 1000, batch: 8192, optimizer: 'adam', lr: 0.001, seed: 0 },
  });

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`${signal} in the middle of a step ends the training within about a second: exit ${code}, no run folder, no temp folder`, async () => {
    const spec = writeSpec(`signal-${signal}`, slowStepSpec());
    const out = path.join(work, 'runs', `signal-${signal}`);
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'train', spec, '--out', out, '--backend', 'wasm'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (status) => resolve(status)));
    // The trainer names its backend once its first step starts; no progress line yet means the step is still running.
    while (!/steps on wasm/.test(stderr)) {
      if (child.exitCode !== null) assert.fail(`exited before training: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.doesNotMatch(stderr, /step 1\//, 'the first step already finished: the signal would not land mid-step');
    const sent = Date.now();
    child.kill(signal);
    const status = await exited;
    const elapsed = Date.now() - sent;
    console.log(`${signal} mid-step: exited ${status} after ${elapsed} ms`);
    assert.equal(status, code, stderr);
    assert.ok(elapsed < 2500, `took ${elapsed} ms to stop`);
    assert.match(stderr, new RegExp(`stopped by ${signal}.*nothing written`));
    assert.equal(existsSync(out), false);
    const siblings = existsSync(path.dirname(out)) ? readdirSync(path.dirname(out)) : [];
    assert.deepEqual(
      siblings.filter((name) => name.includes(`signal-${signal}`)),
      [],
    );
  });
}
