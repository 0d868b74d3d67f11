// The view's Gram heat-map data: per-layer filter cosines from a folded network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gramMessage } from '../../extension/host/view/gram';
import type { FoldedNetwork } from '../../extension/police/network/network';

function network(layers: number[][][]): FoldedNetwork {
  return {
    format: 'police-network/1',
    input_dim: layers[0][0].length,
    output_dim: layers[layers.length - 1].length,
    layers: layers.map((weights, i) => ({
      weights,
      bias: weights.map(() => 0),
      activation: i === layers.length - 1 ? 'linear' : 'relu',
      alpha: 0,
    })),
  } as unknown as FoldedNetwork;
}

test('orthogonal filters give an identity cosine map and metric 0; opposite filters give −1', () => {
  const message = gramMessage(
    network([
      [
        [2, 0],
        [0, 3],
        [-1, 0],
      ],
      [[1, 1, 1]],
    ]),
    7,
  );
  assert.equal(message.type, 'gram');
  assert.equal(message.step, 7);
  // The 1-unit output layer has no pair of filters to compare: it is left out.
  assert.deepEqual(
    message.layers.map((l) => l.layer),
    [0],
  );
  const [layer] = message.layers;
  assert.equal(layer.units, 3);
  assert.equal(layer.shown, 3);
  assert.equal(layer.activation, 'relu');
  assert.deepEqual(layer.cosine, [
    [1, 0, -1],
    [0, 1, 0],
    [-1, 0, 1],
  ]);
  // WWᵀ = [[4, 0, −2], [0, 9, 0], [−2, 0, 1]]: off-diagonal mass 8 of 106.
  assert.ok(Math.abs((layer.metric ?? NaN) - Math.sqrt(8 / 106)) < 1e-12, `metric ${layer.metric}`);
  const orthogonal = gramMessage(
    network([
      [
        [1, 0],
        [0, 5],
      ],
      [
        [1, 1],
        [1, -1],
      ],
    ]),
    0,
  );
  assert.deepEqual(
    orthogonal.layers.map((l) => l.metric),
    [0, 0],
  );
});

test('a layer wider than 64 units shows its first 64 filters and still measures the whole layer', () => {
  const wide = Array.from({ length: 100 }, (_, k) => [Math.cos(k), Math.sin(k), k % 3]);
  const [layer] = gramMessage(network([wide, [Array.from({ length: 100 }, () => 1)]]), 1).layers;
  assert.equal(layer.units, 100);
  assert.equal(layer.shown, 64);
  assert.equal(layer.cosine.length, 64);
  assert.equal(layer.cosine[63].length, 64);
  assert.ok(layer.metric !== undefined && layer.metric > 0 && layer.metric < 1);
});
