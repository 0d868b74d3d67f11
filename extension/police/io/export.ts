// The folded network as a TensorFlow.js Layers model (model.json + weights.bin), built with tfjs-layers.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { unitBeta, type FoldedNetwork } from '../network/network';
import { ACTIVATIONS, isAnnealable } from '../spec/activations';
import { WEIGHTS_FILE } from './run-files';
import type { Matrix } from '../spec/types';

export interface ExportedModel {
  /** Contents of model.json. */
  modelJson: tf.io.ModelJSON;
  /** Contents of weights.bin. */
  weights: Uint8Array;
}

/** weights[i][j] (output i, input j) → the fan_in × fan_out kernel tfjs-layers expects. */
function kernelOf(weights: Matrix, inputs: number): number[][] {
  return Array.from({ length: inputs }, (_, j) => weights.map((row) => row[j]));
}

/**
 * Builds the Layers model: dense + leakyReLU/relu per hidden layer; abs(h) = relu(h) + relu(−h) by
 * doubling the layer and summing both halves in the next one (exact); the skip as a second dense
 * branch from the input added to the output.
 */
export function buildLayersModel(network: FoldedNetwork): tfl.LayersModel {
  const input = tfl.input({ shape: [network.input_dim], name: 'x' });
  let h: tfl.SymbolicTensor = input;
  let pendingAbs = false;
  // swish_β(z) = swish(βz)/β and softplus_β likewise: β scales this layer, 1/β the rows of the next one.
  let incomingScale: number[] | undefined;
  const assignments: Array<{ layer: tfl.layers.Layer; kernel: number[][]; bias: number[] }> = [];
  network.layers.forEach((layer, index) => {
    const inputs = layer.weights[0]?.length ?? 0;
    let kernel = kernelOf(layer.weights, inputs);
    if (incomingScale) {
      const scale = incomingScale;
      kernel = kernel.map((row, j) => row.map((w) => w / scale[j]));
    }
    // The previous layer was doubled for abs: both halves feed this layer with the same weights.
    if (pendingAbs) kernel = [...kernel, ...kernel];
    let bias = layer.bias;
    let units = layer.weights.length;
    const isAbs = layer.activation === 'abs';
    if (isAbs) {
      kernel = kernel.map((row) => [...row, ...row.map((w) => -w)]);
      bias = [...bias, ...bias.map((b) => -b)];
      units *= 2;
    }
    incomingScale = undefined;
    if (isAnnealable(layer.activation)) {
      const beta = Array.from({ length: units }, (_, k) => unitBeta(layer, k));
      kernel = kernel.map((row) => row.map((w, k) => w * beta[k]));
      bias = bias.map((b, k) => b * beta[k]);
      incomingScale = beta;
    }
    const activation = ACTIVATIONS[layer.activation].layersActivation;
    const dense = tfl.layers.dense({ units, activation, name: `dense_${index}` });
    h = dense.apply(h) as tfl.SymbolicTensor;
    assignments.push({ layer: dense, kernel, bias });
    if (layer.activation === 'leaky_relu')
      h = tfl.layers.leakyReLU({ alpha: layer.alpha ?? 0.01, name: `leaky_relu_${index}` }).apply(h) as tfl.SymbolicTensor;
    pendingAbs = isAbs;
  });
  let output = h;
  if (network.skip) {
    const skip = tfl.layers.dense({ units: network.output_dim, name: 'skip' });
    const branch = skip.apply(input) as tfl.SymbolicTensor;
    assignments.push({ layer: skip, kernel: kernelOf(network.skip.weights, network.input_dim), bias: network.skip.bias });
    output = tfl.layers.add({ name: 'with_skip' }).apply([h, branch]) as tfl.SymbolicTensor;
  }
  const model = tfl.model({ inputs: input, outputs: output, name: 'police_folded' });
  for (const { layer, kernel, bias } of assignments) {
    tf.tidy(() => layer.setWeights([tf.tensor2d(kernel), tf.tensor1d(bias)]));
  }
  return model;
}

/** Serialises the model through a save handler (tfjs-node's file:// is not available here). */
export async function exportLayersModel(network: FoldedNetwork): Promise<ExportedModel> {
  const model = buildLayersModel(network);
  let exported: ExportedModel | undefined;
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const data = artifacts.weightData ? new tf.io.CompositeArrayBuffer(artifacts.weightData).slice() : new ArrayBuffer(0);
        exported = {
          modelJson: {
            format: 'layers-model',
            generatedBy: 'POLICE Studio',
            convertedBy: null,
            modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
            weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
          },
          weights: new Uint8Array(data),
        };
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } finally {
    model.dispose();
  }
  if (!exported) throw new Error('export: the save handler was not called');
  return exported;
}

/** Loads an exported model back from its two files' contents. */
export async function loadExportedModel(modelJson: tf.io.ModelJSON, weights: Uint8Array): Promise<tfl.LayersModel> {
  const buffer = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  const specs = modelJson.weightsManifest.flatMap((group) => group.weights);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData: buffer }));
}
