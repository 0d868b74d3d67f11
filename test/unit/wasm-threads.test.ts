// The threaded wasm build (issue 10): it starts under Node, trains to the same losses and certificate as one thread, and lets the
// process exit; so do ONNX Runtime's matmul threads, where onnxruntime-node is installed (POLICE_NATIVE_MATMUL=0 turns them off).
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

/** Where the matmuls run: the threads are XNNPACK's (the threaded wasm build) or ONNX Runtime's. */
type MatMuls = 'xnnpack' | 'onnxruntime';
const matMulEnv = (matmuls: MatMuls) => ({ POLICE_NATIVE_MATMUL: matmuls === 'xnnpack' ? '0' : '' });

interface Trained {
  summary: { proved: boolean };
  losses: number[];
  certificate: unknown;
  stderr: string;
}
const trained = new Map<string, Trained>();

/** `police train` with this many threads (once per setting): its summary, the run's losses and certificate. */
function trainWith(threads: number, matmuls: MatMuls): Trained {
  const out = path.join(work, `run-${threads}-${matmuls}`);
  const done = trained.get(out);
  if (done) return done;
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', cli, 'train', specFile, '--out', out, '--backend', 'wasm', '--threads', String(threads), '--json'],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, POLICE_WASM_THREADS: '', ...matMulEnv(matmuls) },
    },
  );
  assert.equal(result.status, 0, result.stderr);
  const losses = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { loss: number }).loss);
  const certificate = JSON.parse(readFileSync(path.join(out, 'certificate.json'), 'utf8')) as { regions: { status: string }[] };
  const run = {
    summary: JSON.parse(result.stdout) as { proved: boolean },
    losses,
    certificate: certificate.regions.map((r) => r.status),
    stderr: result.stderr,
  };
  trained.set(out, run);
  return run;
}

/** Losses of two runs agree to `tolerance`, relative. */
function sameLosses(a: number[], b: number[], tolerance: number): void {
  assert.equal(a.length, b.length);
  a.forEach((loss, i) => assert.ok(Math.abs(loss - b[i]) <= tolerance * (1 + Math.abs(b[i])), `loss ${i}: ${loss} vs ${b[i]}`));
}

test('two wasm threads train to the losses and certificate of one thread, and the trainer says so in its backend line', () => {
  const one = trainWith(1, 'xnnpack');
  const two = trainWith(2, 'xnnpack');
  assert.match(one.stderr, /wasm \(SIMD, one thread; matmuls on XNNPACK: POLICE_NATIVE_MATMUL=0\)/);
  assert.match(two.stderr, /wasm \(SIMD, 2 threads; matmuls on XNNPACK/, 'the backend line names the thread count');
  sameLosses(two.losses, one.losses, 1e-5);
  assert.deepEqual(two.certificate, one.certificate);
  assert.equal(two.summary.proved, true);
});

test("ONNX Runtime's matmuls on two threads train to the losses of one thread and of XNNPACK, and the backend line says so", () => {
  const xnnpack = trainWith(1, 'xnnpack');
  const one = trainWith(1, 'onnxruntime');
  const two = trainWith(2, 'onnxruntime');
  assert.match(one.stderr, /wasm \(SIMD; matmuls on ONNX Runtime's MLAS, one thread\)/);
  assert.match(two.stderr, /wasm \(SIMD; matmuls on ONNX Runtime's MLAS, 2 threads\)/);
  sameLosses(two.losses, one.losses, 1e-5);
  // Another GEMM sums in another order: float32 rounding only, over 30 steps.
  sameLosses(one.losses, xnnpack.losses, 1e-3);
  assert.deepEqual(two.certificate, xnnpack.certificate);
  assert.equal(two.summary.proved, true);
});

for (const matmuls of ['xnnpack', 'onnxruntime'] as const)
  test(`a process that trained on ${matmuls === 'xnnpack' ? 'wasm threads' : "ONNX Runtime's threads"} exits by itself when its work is done`, () => {
    const fixture = path.join(__dirname, 'fixtures', 'train-in-process.ts');
    const result = spawnSync(process.execPath, ['--import', 'tsx', fixture, specFile, '2'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ...matMulEnv(matmuls) },
    });
    assert.equal(result.signal, null, 'not killed by the timeout: the process ended on its own');
    assert.equal(result.status, 0, result.stderr);
    const printed = JSON.parse(result.stdout.trim().split('\n').pop()!) as { reason: string; losses: number[] };
    assert.match(printed.reason, matmuls === 'xnnpack' ? /SIMD, 2 threads; matmuls on XNNPACK/ : /ONNX Runtime's MLAS, 2 threads/);
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
