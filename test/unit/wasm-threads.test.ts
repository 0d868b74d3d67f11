// The threaded wasm build (issue 10): it starts under Node, trains to the same losses and certificate as one thread, and lets the process exit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { pthreadWorkerSource, requestedWasmThreads } from '../../extension/police/training/wasm-threads';
import { wasmThreadsFor, WASM_THREADS_MIN_STEP_FLOPS } from '../../extension/police/training/backend';
import { tinySpecJson } from './train-fixtures';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'extension', 'cli', 'main.ts');
const work = mkdtempSync(path.join(tmpdir(), 'police-wasm-threads-'));
after(() => rmSync(work, { recursive: true, force: true }));

const spec = tinySpecJson({ name: 'threads-tiny', units: 64, samples: 512, steps: 30, batch: 256 });
const specFile = path.join(work, 'threads-tiny.police.json');
writeFileSync(specFile, JSON.stringify(spec));

/** `police train` with this many wasm threads: its summary, the run's losses and certificate. */
function trainWith(threads: number): { summary: { proved: boolean }; losses: number[]; certificate: unknown; stderr: string } {
  const out = path.join(work, `run-${threads}`);
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', cli, 'train', specFile, '--out', out, '--backend', 'wasm', '--threads', String(threads), '--json'],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, POLICE_WASM_THREADS: '' },
    },
  );
  assert.equal(result.status, 0, result.stderr);
  const losses = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { loss: number }).loss);
  const certificate = JSON.parse(readFileSync(path.join(out, 'certificate.json'), 'utf8')) as { regions: { status: string }[] };
  return {
    summary: JSON.parse(result.stdout) as { proved: boolean },
    losses,
    certificate: certificate.regions.map((r) => r.status),
    stderr: result.stderr,
  };
}

test('two wasm threads train to the losses and certificate of one thread, and the trainer says so in its backend line', () => {
  const one = trainWith(1);
  const two = trainWith(2);
  assert.match(one.stderr, /wasm \(SIMD, one thread\)/);
  assert.match(two.stderr, /wasm \(SIMD, 2 threads\)/, 'the backend line names the thread count');
  assert.equal(two.losses.length, one.losses.length);
  two.losses.forEach((loss, i) =>
    assert.ok(Math.abs(loss - one.losses[i]) <= 1e-5 * (1 + Math.abs(one.losses[i])), `loss ${i}: ${loss} vs ${one.losses[i]}`),
  );
  assert.deepEqual(two.certificate, one.certificate);
  assert.equal(two.summary.proved, true);
});

test('a process that trained on wasm threads exits by itself when its work is done (pthreads do not keep it alive)', () => {
  const fixture = path.join(__dirname, 'fixtures', 'train-in-process.ts');
  const result = spawnSync(process.execPath, ['--import', 'tsx', fixture, specFile, '2'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.signal, null, 'not killed by the timeout: the process ended on its own');
  assert.equal(result.status, 0, result.stderr);
  const printed = JSON.parse(result.stdout.trim().split('\n').pop()!) as { reason: string; losses: number[] };
  assert.match(printed.reason, /2 threads/);
  assert.ok(printed.losses.length > 0 && printed.losses.every(Number.isFinite));
});

test('POLICE_WASM_THREADS overrides the setting, 0 means every core, and auto threads only from the calibrated step size', () => {
  assert.deepEqual(requestedWasmThreads(3, {}), { threads: 3, source: 'setting' });
  assert.deepEqual(requestedWasmThreads(3, { POLICE_WASM_THREADS: '1' }), { threads: 1, source: 'POLICE_WASM_THREADS' });
  assert.ok(requestedWasmThreads(0, {})!.threads >= 1);
  assert.equal(requestedWasmThreads(undefined, {}), undefined);
  assert.equal(requestedWasmThreads(-2, {}), undefined);
  const saved = process.env.POLICE_WASM_THREADS;
  delete process.env.POLICE_WASM_THREADS;
  try {
    assert.equal(wasmThreadsFor({ stepFlops: WASM_THREADS_MIN_STEP_FLOPS / 20 }).threads, 1);
    assert.match(wasmThreadsFor({ stepFlops: WASM_THREADS_MIN_STEP_FLOPS / 20 }).why, /below 8 GFLOP|one core/);
    assert.equal(wasmThreadsFor({ stepFlops: 1e9 }, { wasmThreads: 2 }).threads, 2);
  } finally {
    if (saved !== undefined) process.env.POLICE_WASM_THREADS = saved;
  }
});

test("tfjs's worker string becomes a script whose string literals stay on one line", () => {
  assert.equal(pthreadWorkerSource('var a="x\ny";'), 'var a="x\\ny";');
});

test('a threaded start that times out falls back to one thread with the reason, and the process still exits by itself', () => {
  const fixture = path.join(__dirname, 'fixtures', 'wasm-threads-timeout.ts');
  const result = spawnSync(process.execPath, ['--import', 'tsx', fixture], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.signal, null, 'not killed by the timeout');
  assert.equal(result.status, 0, result.stderr);
  const printed = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
    started: { reason?: string };
    backend: string;
    threads: number;
    product: number;
  };
  assert.match(printed.started.reason ?? '', /did not start within/);
  assert.equal(printed.backend, 'wasm');
  assert.equal(printed.threads, 1);
  assert.equal(printed.product, 11);
});
