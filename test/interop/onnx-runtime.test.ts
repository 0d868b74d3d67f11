// ONNX Runtime (a second implementation) runs every example's exported network and agrees with the float64 forward; import → export round-trips.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { exportOnnx, importOnnx, ONNX_METADATA_KEYS, ONNX_OPSET, onnxMetadata } from '../../extension/police/io/onnx';
import { forward, type FoldedNetwork } from '../../extension/police/network/network';
import { certify, weightsSha256 } from '../../extension/police/proof/certificate';
import { mulberry32 } from '../../extension/police/common/random';
import { validateSpecText } from '../../extension/police/spec/parse';
import type { ResolvedSpec } from '../../extension/police/spec/types';
import { train } from '../../extension/police/training/train';

const root = join(__dirname, '..', '..');
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.police.json'))
  .sort();

function loadSpec(file: string): ResolvedSpec {
  const { spec, problems } = validateSpecText(readFileSync(file, 'utf8'), file);
  assert.ok(spec, problems.map((p) => p.message).join('; '));
  return spec;
}

/** Every region vertex and `count` float32 points drawn uniformly in the domain. */
function probePoints(spec: ResolvedSpec, count: number): number[][] {
  const random = mulberry32(12345);
  const points = spec.regions.flatMap((r) => r.vertices.map((v) => v.map((x) => Math.fround(x))));
  for (let i = 0; i < count; i++) points.push(spec.domain.map(([lo, hi]) => Math.fround(lo + (hi - lo) * random())));
  return points;
}

async function runOnnx(bytes: Uint8Array, points: number[][], inputDim: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const x = new ort.Tensor('float32', Float32Array.from(points.flat()), [points.length, inputDim]);
    const result = await session.run({ x });
    return result.y.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** max |a − b| / max(|b|, 1) over every output: relative where outputs are large, absolute below 1. */
function maxRelativeDifference(network: FoldedNetwork, points: number[][], got: Float32Array): number {
  let worst = 0;
  points.forEach((p, i) => {
    forward(network, p).forEach((want, k) => {
      worst = Math.max(worst, Math.abs(got[i * network.output_dim + k] - want) / Math.max(Math.abs(want), 1));
    });
  });
  return worst;
}

const figures: string[] = [];

for (const file of examples) {
  test(`${file}: ONNX Runtime agrees with the float64 forward at every vertex and 1000 domain points (≤ 1e-5)`, async () => {
    const spec = loadSpec(join(root, 'examples', file));
    const { network } = await train(spec, { steps: 2 });
    const certificate = certify(network, spec.regions, { spec: spec.name, samples: 16 });
    const bytes = exportOnnx(network, certificate);
    const points = probePoints(spec, 1000);
    const difference = maxRelativeDifference(network, points, await runOnnx(bytes, points, spec.inputDim));
    figures.push(`${file.replace('.police.json', '')}: max rel diff ${difference.toExponential(2)} over ${points.length} points`);
    assert.ok(difference <= 1e-5, `max relative difference ${difference}`);
    const metadata = onnxMetadata(bytes);
    assert.equal(metadata[ONNX_METADATA_KEYS.spec], spec.name);
    assert.equal(metadata[ONNX_METADATA_KEYS.weightsSha256], weightsSha256(network));
    const regions = JSON.parse(metadata[ONNX_METADATA_KEYS.regions]) as Array<{
      name: string;
      status: string;
      affineMap: { A: number[][] };
    }>;
    assert.deepEqual(
      regions.map((r) => [r.name, r.status, r.affineMap.A.length]),
      certificate.regions.map((r) => [r.name, r.status, network.output_dim]),
    );
  });
}

test('the model states opset 17 and stores weights as Gemm initializers named as the PyTorch module', () => {
  const spec = loadSpec(join(root, 'test/fixtures/interop/torch-small.police.json'));
  const network: FoldedNetwork = {
    format: 'police-network/1',
    input_dim: 2,
    output_dim: 1,
    layers: [
      {
        weights: [
          [1, -1],
          [0.5, 2],
        ],
        bias: [0.25, -0.5],
        activation: 'abs',
      },
      { weights: [[1, 2]], bias: [0], activation: 'linear' },
    ],
  };
  const model = onnx.ModelProto.decode(exportOnnx(network, certify(network, spec.regions, { spec: spec.name })));
  assert.equal(ONNX_OPSET, 17);
  assert.deepEqual(
    model.opsetImport.map((o) => [o.domain, Number(o.version)]),
    [['', 17]],
  );
  assert.deepEqual(
    model.graph?.node?.map((n) => n.opType),
    ['Gemm', 'Abs', 'Gemm'],
  );
  assert.deepEqual(
    model.graph?.initializer?.map((t) => t.name),
    ['hidden.0.weight', 'hidden.0.bias', 'output.weight', 'output.bias'],
  );
});

test('an exported network (skip included) imports back with the same float32 weights, and re-exports to the same outputs', async () => {
  const spec = loadSpec(join(root, 'examples/multi-region-affine-map.police.json'));
  const { network } = await train(spec, { steps: 2 });
  assert.ok(network.skip, 'the example has an exact skip');
  const bytes = exportOnnx(network, certify(network, spec.regions, { spec: spec.name, samples: 16 }));
  const back = importOnnx(bytes, 'exported.onnx');
  assert.deepEqual(
    back.layers.map((l) => [l.activation, l.alpha]),
    network.layers.map((l) => [l.activation, l.alpha === undefined ? undefined : Math.fround(l.alpha)]),
  );
  assert.deepEqual(back.layers[0].weights, network.layers[0].weights, 'float32 weights are kept bit for bit');
  assert.deepEqual(
    back.skip?.weights,
    network.skip.weights.map((row) => row.map(Math.fround)),
  );
  const again = exportOnnx(back, certify(back, spec.regions, { spec: spec.name, samples: 16 }));
  const points = probePoints(spec, 1000);
  assert.deepEqual(await runOnnx(again, points, 2), await runOnnx(bytes, points, 2), 'bit-for-bit the same outputs');
});

test('a graph with another node is refused naming the first unsupported node', () => {
  const spec = loadSpec(join(root, 'examples/swish-anneal.police.json'));
  const network: FoldedNetwork = {
    format: 'police-network/1',
    input_dim: spec.inputDim,
    output_dim: 1,
    layers: [
      { weights: [Array(spec.inputDim).fill(1)], bias: [0], activation: 'swish', beta: 2 },
      { weights: [[1]], bias: [0], activation: 'linear' },
    ],
  };
  const bytes = exportOnnx(network, certify(network, spec.regions, { spec: spec.name, samples: 4 }));
  assert.throws(
    () => importOnnx(bytes, 'swish.onnx'),
    /swish\.onnx: node 1 'Mul_\d+' \(Mul\) is not supported\. police import reads plain MLPs/,
  );
  assert.throws(() => importOnnx(Uint8Array.of(1, 2, 3), 'junk.onnx'), /junk\.onnx is not an ONNX model/);
});

test.after(() => {
  console.log(`ONNX Runtime ${ort.env.versions.node} vs float64:\n  ${figures.join('\n  ')}`);
});
