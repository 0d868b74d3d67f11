// Test-time folding: b ← b + c once (float32, as in training), the exact skip in float64; no vertex pass left.
import * as tf from '@tensorflow/tfjs-core';
import { exportedBeta } from './companions';
import type { LayerShift } from './police-layer';
import { forwardPolice, kernelOf, type Mlp, type PoliceTensors } from './model';
import { forward, type FoldedNetwork, type NetworkLayer } from '../network/network';
import type { Matrix } from '../spec/types';

/** The POLICE shift c of every hidden layer for the current weights (vertex pass only, float32). */
export function currentShifts(mlp: Mlp, police: PoliceTensors): LayerShift[] {
  const shifts: LayerShift[] = [];
  tf.tidy(() => {
    const empty = tf.zeros([0, mlp.inputDim]) as tf.Tensor2D;
    forwardPolice(mlp, empty, police, (layer, shift) => (shifts[layer] = shift));
  });
  return shifts;
}

function transposeToRows(kernel: Float32Array, fanIn: number, fanOut: number): Matrix {
  const rows: Matrix = [];
  for (let i = 0; i < fanOut; i++) {
    const row = new Array<number>(fanIn);
    for (let j = 0; j < fanIn; j++) row[j] = kernel[j * fanOut + i];
    rows.push(row);
  }
  return rows;
}

/**
 * The folded network in network.json form. With `police` (the run's vertex tensors) each hidden bias
 * absorbs its shift; the skip of the first jacobian/affine_map region comes from the folded network's
 * own vertex outputs by least squares in float64, so Eq. (1)/(2) hold to float64 precision.
 */
export function foldNetwork(mlp: Mlp, police?: PoliceTensors): FoldedNetwork {
  const shifts = police ? currentShifts(mlp, police) : [];
  const layers: NetworkLayer[] = [];
  const widths = [mlp.inputDim, ...mlp.layers.map((l) => l.units), mlp.outputUnits];
  for (let i = 0; i < widths.length - 1; i++) {
    // Read outside the tidy: a tidy returning a typed array walks every entry looking for tensors (slow).
    const kernelTensor = tf.tidy(() => kernelOf(mlp, i));
    const kernel = kernelTensor.dataSync() as Float32Array;
    if (kernelTensor !== mlp.kernels[i]) kernelTensor.dispose();
    const bias = Array.from(mlp.biases[i].dataSync() as Float32Array);
    const shift = shifts[i]?.shift;
    const folded = shift ? bias.map((b, k) => Math.fround(b + shift[k])) : bias;
    const weights = transposeToRows(kernel, widths[i], widths[i + 1]);
    if (i < mlp.layers.length) {
      const spec = mlp.layers[i];
      const layer: NetworkLayer = { weights, bias: folded, activation: spec.activation };
      if (spec.activation === 'leaky_relu') layer.alpha = spec.alpha;
      const beta = exportedBeta(mlp, i);
      if (beta !== undefined) layer.beta = beta;
      layers.push(layer);
    } else {
      layers.push({ weights, bias: folded, activation: 'linear' });
    }
  }
  const network: FoldedNetwork = { format: 'police-network/1', input_dim: mlp.inputDim, output_dim: mlp.outputUnits, layers };
  const exact = police?.context.exact;
  if (exact) {
    const vertices = police.context.vertices.slice(exact.offset, exact.offset + exact.count);
    const outputs = vertices.map((v) => forward(network, v));
    const D = mlp.inputDim;
    // θ = [V 1]⁺ F: rows 0..D−1 hold Mᵀ, row D holds mᵀ.
    const theta = exact.pinv.map((row) => {
      const out = new Array<number>(mlp.outputUnits).fill(0);
      row.forEach((w, p) => outputs[p].forEach((f, o) => (out[o] += w * f)));
      return out;
    });
    const weights = exact.A.map((row, o) => row.map((a, j) => a - theta[j][o]));
    const bias = exact.b.map((b, o) => (exact.kind === 'affine_map' ? b - theta[D][o] : 0));
    network.skip = { weights, bias };
  }
  return network;
}
