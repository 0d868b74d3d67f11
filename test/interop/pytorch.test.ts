// The PyTorch round trip with Debian's torch: the generated module matches the engine, torchrun trains it on 2 CPU processes,
// police import certifies what it wrote, and an ONNX written by torch.onnx.export imports and is judged honestly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { exportCommand } from '../../extension/cli/export';
import { importCommand } from '../../extension/cli/import';
import { trainCommand } from '../../extension/cli/train';
import { verifyCommand } from '../../extension/cli/verify';
import { mulberry32 } from '../../extension/police/common/random';
import { writePytorchFolder } from '../../extension/police/io/pytorch-folder';
import { encodeSafetensors } from '../../extension/police/io/safetensors';
import { networkToSafetensors } from '../../extension/police/io/weights';
import type { Certificate } from '../../extension/police/proof/certificate-types';
import { validateSpecText } from '../../extension/police/spec/parse';
import type { ResolvedSpec, ShiftRule } from '../../extension/police/spec/types';
import { initBackend } from '../../extension/police/training/backend';
import { loadData } from '../../extension/police/training/data';
import { foldNetwork } from '../../extension/police/training/fold';
import {
  buildPoliceContext,
  createMlp,
  disposeMlp,
  disposePoliceTensors,
  forwardPolice,
  policeTensors,
} from '../../extension/police/training/model';
import * as tf from '@tensorflow/tfjs-core';
import { captureCli } from '../unit/cli-harness';

/** Debian's python with python3-torch (the image's default python3 may be another build without torch). */
const PYTHON = '/usr/bin/python3';
const root = join(__dirname, '..', '..');
const smallSpec = join(root, 'test/fixtures/interop/torch-small.police.json');
const scratch = mkdtempSync(join(tmpdir(), 'police-torch-'));
/** One thread per process: OpenMP and OpenBLAS threads fight otherwise (DESIGN §3). */
const env = { ...process.env, OMP_NUM_THREADS: '1' };

function python(args: string[], cwd = root): { status: number | null; stdout: string; output: string; seconds: number } {
  const started = Date.now();
  const run = spawnSync(PYTHON, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  return {
    status: run.status,
    stdout: run.stdout,
    output: `${run.stdout}${run.stderr}${run.error ?? ''}`,
    seconds: (Date.now() - started) / 1000,
  };
}

function loadSpec(file: string): ResolvedSpec {
  const { spec, problems } = validateSpecText(readFileSync(file, 'utf8'), file);
  assert.ok(spec, problems.map((p) => p.message).join('; '));
  return spec;
}

const figures: string[] = [];

test('(a) the generated module, given the engine initial weights and a batch, gives the engine POLICE-shifted forward (≤ 5e-5) and fold (≤ 1e-5)', async () => {
  await initBackend('auto');
  const cases: Array<[string, ResolvedSpec]> = readdirSync(join(root, 'examples'))
    .filter((f) => f.endsWith('.police.json'))
    .sort()
    .map((f) => [f.replace('.police.json', ''), loadSpec(join(root, 'examples', f))]);
  const small = loadSpec(smallSpec);
  for (const rule of ['fixed', 'majority', 'minimal'] as ShiftRule[])
    cases.push([`torch-small-${rule}`, { ...small, police: { ...small.police, rule } }]);
  const folders: string[] = [];
  for (const [name, spec] of cases) {
    const folder = join(scratch, 'parity', name);
    await writePytorchFolder(spec, folder);
    const data = await loadData(spec);
    const rows = Math.min(64, data.count);
    const mlp = createMlp({ inputDim: spec.inputDim, layers: spec.layers, outputUnits: spec.outputUnits }, spec.training.seed);
    const police = policeTensors(buildPoliceContext(spec), spec.inputDim);
    try {
      const [output, penalty] = tf.tidy(() => {
        const x = tf.tensor2d(data.x.subarray(0, rows * spec.inputDim), [rows, spec.inputDim]);
        const result = forwardPolice(mlp, x, police);
        return [result.output.dataSync() as Float32Array, result.penalty ? (result.penalty.dataSync() as Float32Array)[0] : 0];
      });
      writeFileSync(
        join(folder, 'expected.safetensors'),
        encodeSafetensors([
          ['output', { dtype: 'F32', shape: [rows, spec.outputUnits], data: output }],
          ['penalty', { dtype: 'F64', shape: [1], data: Float64Array.of(penalty) }],
        ]),
      );
      const folded = await foldNetwork(mlp, police);
      writeFileSync(join(folder, 'folded.safetensors'), networkToSafetensors(folded, { spec: spec.name, weightsSha256: '' }));
    } finally {
      disposePoliceTensors(police);
      disposeMlp(mlp);
    }
    folders.push(folder);
  }
  const run = python([join(root, 'test/interop/torch_parity.py'), ...folders]);
  assert.equal(run.status, 0, run.output);
  const results = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { case: string; forward: number; penalty: number; fold: number; missing: string[] });
  assert.equal(results.length, cases.length);
  for (const r of results) {
    const name = r.case.split('/').pop();
    figures.push(`${name}: forward ${r.forward.toExponential(2)}, fold ${r.fold.toExponential(2)}`);
    assert.deepEqual(r.missing, [], `${name}: the folded tensors have the same names`);
    // float32 sums in another order (OpenBLAS picks its kernel by CPU): the two-region example's forward differs by 1.9e-5 on one of our machines.
    assert.ok(r.forward <= 5e-5 && r.penalty <= 1e-5 && r.fold <= 1e-5, `${name}: ${JSON.stringify(r)}`);
  }
});

test('(b, c) torchrun --nproc_per_node=2 trains the exported folder with gloo; police import of its weights is proved by police verify', async () => {
  const run = join(scratch, 'run');
  const trained = await captureCli(trainCommand, [smallSpec, '--out', run, '--steps', '5']);
  assert.equal(trained.code, 0, trained.stderr);
  const folder = join(scratch, 'torch');
  const exported = await captureCli(exportCommand, [smallSpec, run, '--format', 'pytorch', '--out', folder]);
  assert.equal(exported.code, 0, exported.stderr);
  // torch 1.13 on Python 3.11 cannot parse torchrun's default --redirects/--tee of 0 (enum change); 1 keeps stdout on the console.
  const torchrun = python(
    ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '--redirects', '1', '--tee', '1', 'train.py'],
    folder,
  );
  assert.equal(torchrun.status, 0, torchrun.output);
  figures.push(
    `torchrun --nproc_per_node=2, 300 steps: ${torchrun.seconds.toFixed(1)} s wall (${/\(300 steps on 2 process\(es\), ([\d.]+) s\)/.exec(torchrun.output)?.[1] ?? '?'} s training)`,
  );
  assert.match(torchrun.output, /300 steps on 2 process\(es\)/);
  const losses = readFileSync(join(folder, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { loss: number }).loss);
  assert.ok(losses[losses.length - 1] < losses[0] / 2, `the loss fell: ${losses[0]} → ${losses[losses.length - 1]}`);

  const imported = join(scratch, 'imported');
  const result = await captureCli(importCommand, [smallSpec, join(folder, 'weights.safetensors'), '--out', imported]);
  assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
  const verified = await captureCli(verifyCommand, [smallSpec, imported]);
  assert.equal(verified.code, 0, verified.stdout);
  assert.match(verified.stdout, /all 2 region\(s\) proved/);
  assert.match(verified.stdout, /weights and verdicts match/);
});

test('(d) an ONNX written by torch.onnx.export imports; not affine on the region: "not proved" (exit 2); export onnx round-trips through ONNX Runtime', async () => {
  const folder = join(scratch, 'torch-onnx');
  rmSync(folder, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', folder]);
  const written = python([join(root, 'test/interop/torch_onnx_export.py'), folder]);
  assert.equal(written.status, 0, written.output);
  for (const name of ['sequential', 'matmul-abs']) {
    const file = join(folder, `${name}.onnx`);
    const runDir = join(folder, `run-${name}`);
    const result = await captureCli(importCommand, [smallSpec, file, '--out', runDir, '--json']);
    assert.equal(result.code, 2, `${name}: ${result.stdout}${result.stderr}`);
    const { certificate } = JSON.parse(result.stdout) as { certificate: Certificate };
    const notProved = certificate.regions.filter((r) => r.status === 'not-proved');
    assert.ok(
      notProved.length > 0 && notProved.every((r) => r.firstViolation),
      `${name}: a region is not proved, with the crossing unit named`,
    );
    const verified = await captureCli(verifyCommand, [smallSpec, runDir]);
    assert.equal(verified.code, 2, verified.stdout);

    const again = join(folder, `${name}-again.onnx`);
    const exported = await captureCli(exportCommand, [smallSpec, runDir, '--format', 'onnx', '--out', again]);
    assert.equal(exported.code, 0, exported.stderr);
    const random = mulberry32(3);
    const points = Float32Array.from({ length: 2000 }, () => -3 + 6 * random());
    const outputs = await Promise.all(
      [file, again].map(async (path) => {
        const session = await ort.InferenceSession.create(path);
        const y = (await session.run({ x: new ort.Tensor('float32', points, [1000, 2]) })).y.data as Float32Array;
        await session.release();
        return y;
      }),
    );
    let worst = 0;
    let identical = 0;
    outputs[0].forEach((a, i) => {
      const b = outputs[1][i];
      worst = Math.max(worst, Math.abs(a - b) / Math.max(Math.abs(a), 1));
      if (a === b) identical++;
    });
    figures.push(
      `${name}.onnx → police import → export onnx: ${identical}/1000 outputs bit-identical in ONNX Runtime, max rel diff ${worst.toExponential(2)}`,
    );
    assert.ok(worst <= 2 ** -23 * 16, `${name}: within float32 rounding (${worst})`);
  }
});

test.after(() => {
  console.log(`PyTorch interop:\n  ${figures.join('\n  ')}`);
  rmSync(scratch, { recursive: true, force: true });
});
