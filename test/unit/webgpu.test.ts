// Training, folding and the certificate on WebGPU (Dawn in Node): same verdicts as wasm, losses within 1e-3 relative.
// Without a GPU, CI gives Dawn SwiftShader's Vulkan (Debian's chromium ships it; libvulkan1 is the loader): slow, so tiny networks.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { certify } from '../../extension/police/proof/certificate';
import type { ResolvedRegion, ResolvedSpec, ShiftRule } from '../../extension/police/spec/types';
import { initBackend } from '../../extension/police/training/backend';
import { foldNetwork } from '../../extension/police/training/fold';
import { buildPoliceContext, createMlp, disposeMlp, disposePoliceTensors, policeTensors } from '../../extension/police/training/model';
import { train } from '../../extension/police/training/train';
import { tinySpec, triangle, waveData } from './train-fixtures';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

before(() => {
  // On a machine without a GPU driver, SwiftShader's Vulkan stands in (set before Dawn loads the Vulkan loader).
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
});

const corner: ResolvedRegion = {
  name: 'corner',
  vertices: [
    [1.2, 1.2],
    [1.8, 1.2],
    [1.2, 1.8],
    [1.8, 1.8],
  ],
  constraint: { kind: 'affine_map', A: [[1, 0]], b: [0] },
  form: 'box',
};

/** Smaller than the training tests' spec: SwiftShader runs every kernel on the CPU. */
function smallSpec(regions: ResolvedRegion[], rule: ShiftRule): ResolvedSpec {
  return tinySpec(regions, {
    name: 'tiny-webgpu',
    layers: [
      { units: 8, activation: 'leaky_relu', alpha: 0.01 },
      { units: 8, activation: 'leaky_relu', alpha: 0.01 },
    ],
    training: { steps: 6, batch: 32, optimizer: 'adam', lr: 0.01, weightDecay: 0, seed: 0, snapshotEvery: 0 },
    police: { enabled: true, rule, margin: 1e-4 },
  });
}

test('webgpu starts here (Dawn finds an adapter) and says which one', async () => {
  const choice = await initBackend('webgpu');
  assert.equal(choice.backend, 'webgpu', `notes: ${choice.notes.join('; ')}`);
  assert.match(choice.reason, /^webgpu on \S+/);
  // 'auto' never takes a GPU for a step this small, and never a software adapter (SwiftShader) for any step.
  const small = await initBackend('auto', { stepFlops: 1e6 });
  assert.equal(small.backend, 'wasm');
  assert.match(small.reason, /auto: not tried, the step \(0\.00 GFLOP\) is below 2 GFLOP/);
  const big = await initBackend('auto', { stepFlops: 1e12 });
  if (/swiftshader/i.test(choice.reason)) {
    assert.equal(big.backend, 'wasm');
    assert.match(big.reason, /software rendering, slower than wasm/);
  } else assert.equal(big.backend, 'webgpu');
});

for (const [rule, regions] of [
  ['majority', [triangle]],
  ['fixed', [triangle]],
  ['minimal', [triangle, corner]],
] as const) {
  test(`training with rule '${rule}' on ${regions.length} region(s): webgpu proves what wasm proves, losses agree`, async () => {
    const spec = smallSpec([...regions], rule);
    const data = waveData(64);
    const onGpu = await train(spec, { data, backend: 'webgpu' });
    assert.equal(onGpu.backend, 'webgpu');
    const onWasm = await train(spec, { data, backend: 'wasm' });
    assert.equal(onWasm.backend, 'wasm');
    const [gpuCertificate, wasmCertificate] = [certify(onGpu.network, spec.regions), certify(onWasm.network, spec.regions)];
    assert.equal(gpuCertificate.proved, true);
    assert.deepEqual(
      gpuCertificate.regions.map((r) => r.status),
      wasmCertificate.regions.map((r) => r.status),
    );
    // Float32 on both, different summation orders: a relative 1e-3 over six steps.
    assert.ok(
      Math.abs(onGpu.finalLoss - onWasm.finalLoss) <= 1e-3 * Math.max(1, onWasm.finalLoss),
      `${onGpu.finalLoss} vs ${onWasm.finalLoss}`,
    );
    assert.deepEqual(
      onGpu.metrics.map((m) => m.health.map((h) => h.shifted)),
      onWasm.metrics.map((m) => m.health.map((h) => h.shifted)),
      'the same units shifted at every logged step',
    );
  });
}

test('folding on webgpu reads every weight asynchronously and matches the wasm fold', async () => {
  const spec = smallSpec([triangle, corner], 'minimal');
  const fold = async (backend: 'webgpu' | 'wasm') => {
    await initBackend(backend);
    const mlp = createMlp({ inputDim: 2, layers: spec.layers, outputUnits: 1 }, 3);
    const police = policeTensors(buildPoliceContext(spec), 2);
    const before = tf.memory().numTensors;
    try {
      const network = await foldNetwork(mlp, police);
      assert.equal(tf.memory().numTensors, before, 'the fold leaves no tensor behind');
      return network;
    } finally {
      disposePoliceTensors(police);
      disposeMlp(mlp);
    }
  };
  const [gpu, cpu] = [await fold('webgpu'), await fold('wasm')];
  gpu.layers.forEach((layer, i) =>
    layer.bias.forEach((b, k) =>
      assert.ok(Math.abs(b - cpu.layers[i].bias[k]) < 1e-5, `layer ${i} bias ${k}: ${b} vs ${cpu.layers[i].bias[k]}`),
    ),
  );
  assert.equal(certify(gpu, spec.regions).proved, true);
});
