// The host validates specs in a worker thread: same problems as in-process, the host's event loop keeps running, a stuck validation is ended.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import * as esbuild from 'esbuild';
import { SpecValidator } from '../../extension/host/spec-validation';
import { validateSpecText } from '../../extension/police/spec/parse';

let bundleDir = '';
let workerPath = '';
before(async () => {
  bundleDir = mkdtempSync(join(tmpdir(), 'police-validation-worker-'));
  workerPath = join(bundleDir, 'spec-validation-worker.js');
  // As the production build makes it (build.mjs): one bundle, ESM entries first for jsonc-parser.
  await esbuild.build({
    entryPoints: ['extension/host/spec-validation-worker.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    mainFields: ['module', 'main'],
    external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
    outfile: workerPath,
    logLevel: 'warning',
  });
});
after(() => rmSync(bundleDir, { recursive: true, force: true }));

const example = resolve('examples/fig2-wave-triangle.police.json');

/** A valid spec whose validation takes 0.2-1 s in-process: a simplex in 2000 dimensions (its vertex checks). */
function heavySpec(dim = 2000): string {
  const spec = JSON.parse(readFileSync(example, 'utf8'));
  spec.input = { dim };
  spec.model.layers = [{ units: 16 }];
  spec.regions = [{ name: 's', simplex: {} }];
  spec.data = { task: 'regression', target: 'x0', samples: 256 };
  return JSON.stringify(spec);
}

test('the worker gives the same problems and spec as validating in-process, data-access options included', async () => {
  const validator = new SpecValidator(workerPath);
  try {
    const text = readFileSync(example, 'utf8');
    const viaWorker = await validator.validate(text, example);
    assert.deepEqual(viaWorker, JSON.parse(JSON.stringify(validateSpecText(text, example))));
    assert.ok(viaWorker.spec);
    const csvSpec = JSON.parse(text);
    csvSpec.data = { task: 'regression', csv: { path: '/etc/hostname', inputs: ['a', 'b'], target: 'y' } };
    const confined = await validator.validate(JSON.stringify(csvSpec), example, {
      dataRoots: { folders: [resolve('examples')] },
      optIn: 'OPT-IN',
    });
    assert.match(confined.problems.find((p) => p.code === 'csv-outside')?.message ?? '', /outside the folder .*examples.*OPT-IN/);
  } finally {
    validator.dispose();
  }
});

test('a slow validation does not block the host: its event loop keeps turning (measured, printed)', async () => {
  const text = heavySpec();
  const specPath = join(bundleDir, 'heavy.police.json');
  const started = performance.now();
  const inProcess = validateSpecText(text, specPath);
  const inProcessMs = performance.now() - started;
  assert.ok(inProcess.spec, JSON.stringify(inProcess.problems));

  const validator = new SpecValidator(workerPath);
  try {
    await validator.validate('{}', specPath); // start the worker outside the measurement
    let last = performance.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    const t0 = performance.now();
    const result = await validator.validate(text, specPath, {}, false);
    const workerMs = performance.now() - t0;
    clearInterval(ticker);
    console.log(
      `validation of a 2000-D simplex spec: ${inProcessMs.toFixed(0)} ms in-process (blocks the thread); via the worker ${workerMs.toFixed(0)} ms, longest host event-loop gap ${longestGap.toFixed(1)} ms`,
    );
    assert.deepEqual(result.problems, inProcess.problems);
    assert.ok(
      longestGap < inProcessMs / 2,
      `the host was blocked for ${longestGap.toFixed(0)} ms of a ${inProcessMs.toFixed(0)} ms validation`,
    );
  } finally {
    validator.dispose();
  }
});

test('a validation past the time limit is ended with a problem saying so, and the next one gets a fresh worker', async () => {
  // A 3800-D simplex (near the coordinate limit) takes 0.6-3 s to validate on our machines: six times this limit or more.
  const validator = new SpecValidator(workerPath, () => undefined, 100);
  try {
    const slow = await validator.validate(heavySpec(3800), join(bundleDir, 'heavy.police.json'));
    assert.ok(!slow.spec, 'the stopped validation returned no spec');
    assert.match(slow.problems[0].message, /took more than 0.1 s and was stopped/);
    assert.ok(slow.problems[0].range);
    // A spec that validates in a few milliseconds: the fresh worker answers with its own problems, not the stop.
    const next = await validator.validate('{"police": 1}', example);
    assert.ok(next.problems.length > 0 && next.problems.every((p) => p.code !== 'internal'), JSON.stringify(next.problems));
  } finally {
    validator.dispose();
  }
});
