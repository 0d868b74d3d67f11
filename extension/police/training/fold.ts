// Test-time folding: b ← b + c once (float32, as in training), the exact skip in float64; no vertex pass left.
import * as tf from '@tensorflow/tfjs-core';
import { exportedBeta } from './companions';
import { forwardPolice, kernelOf, type Mlp, type PoliceTensors } from './model';
import { forward, type FoldedNetwork, type NetworkLayer } from '../network/network';
import type { Matrix } from '../spec/types';

/** The POLICE shift c and sides of one hidden layer, read to the host. */
export interface HostShift {
  shift: Float32Array;
  /** Side (+1 / −1) of every unit on each region, region-major (regions × units). */
  sides: Int8Array;
}

/** The POLICE shift c of every hidden layer for the current weights (vertex pass only, float32), read asynchronously. */
export async function currentShifts(mlp: Mlp, police: PoliceTensors): Promise<HostShift[]> {
  const tensors: tf.Tensor[][] = [];
  tf.tidy(() => {
    const empty = tf.zeros([0, mlp.inputDim]) as tf.Tensor2D;
    forwardPolice(mlp, empty, police, (layer, shift) => (tensors[layer] = [shift.shift, shift.sides]));
  });
  try {
    return await Promise.all(
      tensors.map(async ([shift, sides]) => ({
        shift: (await shift.data()) as Float32Array,
        sides: Int8Array.from(await sides.data()),
      })),
    );
  } finally {
    tf.dispose(tensors.flat());
  }
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
export async function foldNetwork(mlp: Mlp, police?: PoliceTensors): Promise<FoldedNetwork> {
  const shiftsRead = police ? currentShifts(mlp, police) : Promise.resolve([]);
  const widths = [mlp.inputDim, ...mlp.layers.map((l) => l.units), mlp.outputUnits];
  // Every read starts before the first is awaited: one round trip to the device, not one per tensor.
  const kernelTensors = widths.slice(1).map((_, i) => tf.tidy(() => kernelOf(mlp, i)));
  const reads = Promise.all([
    shiftsRead,
    Promise.all(kernelTensors.map((k) => k.data() as Promise<Float32Array>)),
    Promise.all(mlp.biases.map((b) => b.data() as Promise<Float32Array>)),
    Promise.all(mlp.layers.map((_, i) => exportedBeta(mlp, i))),
  ]);
  let shifts: HostShift[], kernels: Float32Array[], biases: Float32Array[], betas: (number | number[] | undefined)[];
  try {
    [shifts, kernels, biases, betas] = await reads;
  } finally {
    kernelTensors.forEach((k, i) => k !== mlp.kernels[i] && k.dispose());
  }
  const layers: NetworkLayer[] = [];
  for (let i = 0; i < widths.length - 1; i++) {
    const kernel = kernels[i];
    const bias = Array.from(biases[i]);
    const shift = shifts[i]?.shift;
    const folded = shift ? bias.map((b, k) => Math.fround(b + shift[k])) : bias;
    const weights = transposeToRows(kernel, widths[i], widths[i + 1]);
    if (i < mlp.layers.length) {
      const spec = mlp.layers[i];
      const layer: NetworkLayer = { weights, bias: folded, activation: spec.activation };
      if (spec.activation === 'leaky_relu') layer.alpha = spec.alpha;
      const beta = betas[i];
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
