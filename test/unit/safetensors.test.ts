// safetensors: the layout other tools read (8-byte header length, JSON header, aligned little-endian buffers), and networks through it bit for bit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSafetensors, encodeSafetensors, tensorOf } from '../../extension/police/io/safetensors';
import { networkFromSafetensors, networkToSafetensors, TENSOR_NAMES } from '../../extension/police/io/weights';
import { weightsSha256 } from '../../extension/police/proof/certificate';
import type { FoldedNetwork } from '../../extension/police/network/network';

test('the header length, the JSON header and 8-byte aligned buffers follow the format', () => {
  const bytes = encodeSafetensors(
    [
      ['a', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ['b', { dtype: 'F64', shape: [1], data: Float64Array.of(Math.PI) }],
    ],
    { note: 'hi' },
  );
  const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + length) % 8, 0, 'the data starts 8-byte aligned');
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + length)).toString('utf8'));
  assert.deepEqual(header.__metadata__, { note: 'hi' });
  assert.deepEqual(header.a, { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  assert.deepEqual(header.b, { dtype: 'F64', shape: [1], data_offsets: [24, 32] });
  assert.equal(new DataView(bytes.buffer).getFloat32(8 + length + 4, true), 2);
  assert.equal(bytes.length, 8 + length + 32);
  const back = decodeSafetensors(bytes, 'x.safetensors');
  assert.deepEqual(Array.from(back.tensors.get('a')!.data), [1, 2, 3, 4, 5, 6]);
  assert.equal(back.tensors.get('b')!.data[0], Math.PI);
  assert.deepEqual(back.metadata, { note: 'hi' });
});

test('values that are not float32 keep float64, so an exact skip survives bit for bit', () => {
  assert.equal(tensorOf([0.5, 1.25], [2]).dtype, 'F32');
  assert.equal(tensorOf([0.1], [1]).dtype, 'F64');
});

test('broken files are refused with the file named and the reason', () => {
  assert.throws(() => decodeSafetensors(new Uint8Array(4), 'short.safetensors'), /short\.safetensors: 4 bytes is too short/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 1000n, true);
  assert.throws(() => decodeSafetensors(huge, 'h.safetensors'), /h\.safetensors: the header length 1000 exceeds the file/);
  const half = encodeSafetensors([['w', { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }]]);
  const text = Buffer.from(half).toString('latin1').replace('"F32"', '"F16"');
  assert.throws(() => decodeSafetensors(Buffer.from(text, 'latin1'), 'f16.safetensors'), /tensor w has dtype "F16"/);
});

const network: FoldedNetwork = {
  format: 'police-network/1',
  input_dim: 2,
  output_dim: 1,
  layers: [
    {
      weights: [
        [0.5, -1],
        [2, 0.25],
        [1, 1],
      ],
      bias: [0.125, -0.5, 0],
      activation: 'leaky_relu',
      alpha: 0.1,
    },
    { weights: [[1, -2, 0.5]], bias: [0.25], activation: 'linear' },
  ],
  skip: { weights: [[0.1, -0.3]], bias: [1 / 3] },
};

test('a network written as safetensors reads back with the same weights hash, names as police_model.py expects', () => {
  const bytes = networkToSafetensors(network, { spec: 'demo', weightsSha256: weightsSha256(network) });
  const { network: back, metadata } = networkFromSafetensors(bytes, 'w.safetensors', []);
  assert.equal(weightsSha256(back), weightsSha256(network));
  assert.equal(metadata['police.spec'], 'demo');
  assert.equal(metadata['police.weights_sha256'], weightsSha256(network));
  const names = [...decodeSafetensors(bytes, 'w').tensors.keys()];
  assert.deepEqual(names, [
    TENSOR_NAMES.hidden(0).weight,
    TENSOR_NAMES.hidden(0).bias,
    'output.weight',
    'output.bias',
    'skip.weight',
    'skip.bias',
  ]);
});

test('without metadata the spec supplies the activations; a missing tensor is named', () => {
  const bytes = networkToSafetensors(network, { spec: 'demo', weightsSha256: 'x' });
  const stripped = decodeSafetensors(bytes, 'w');
  const bare = encodeSafetensors([...stripped.tensors.entries()]);
  const { network: back } = networkFromSafetensors(bare, 'bare.safetensors', [{ activation: 'abs' }]);
  assert.equal(back.layers[0].activation, 'abs');
  const noOutput = encodeSafetensors([...stripped.tensors.entries()].filter(([name]) => !name.startsWith('output.')));
  assert.throws(
    () => networkFromSafetensors(noOutput, 'cut.safetensors', [{ activation: 'relu' }]),
    /cut\.safetensors has no tensor 'output\.weight'/,
  );
});
