// The folded network as named tensors, named as the generated PyTorch module's state dict: one naming for safetensors, ONNX and police_model.py.
import type { Certificate } from '../proof/certificate-types';
import type { FoldedNetwork, NetworkLayer } from '../network/network';
import { isNetworkActivation, NETWORK_ACTIVATIONS, type NetworkActivation } from '../spec/activations';
import type { Matrix } from '../spec/types';
import { decodeSafetensors, encodeSafetensors, tensorOf, type NamedTensor } from './safetensors';

/** Tensor names of hidden layer i, the linear output layer and the global skip (police_model.py's state dict keys). */
export const TENSOR_NAMES = {
  hidden: (i: number) => ({ weight: `hidden.${i}.weight`, bias: `hidden.${i}.bias`, beta: `hidden.${i}.beta` }),
  output: { weight: 'output.weight', bias: 'output.bias' },
  skip: { weight: 'skip.weight', bias: 'skip.bias' },
} as const;

/** `__metadata__` keys of a POLICE safetensors file (values are strings, as the format requires). */
export const METADATA_KEYS = {
  spec: 'police.spec',
  weightsSha256: 'police.weights_sha256',
  /** JSON: [{activation, alpha?}] per hidden layer. */
  layers: 'police.layers',
} as const;

export interface HiddenLayerInfo {
  activation: NetworkActivation;
  alpha?: number;
}

const matrixTensor = (m: Matrix): NamedTensor => tensorOf(m.flat(), [m.length, m[0]?.length ?? 0]);

/** Hidden layers' activations as police_model.py reads them from the metadata. */
export function hiddenLayerInfo(network: FoldedNetwork): HiddenLayerInfo[] {
  return network.layers
    .slice(0, -1)
    .map((l) => (l.activation === 'leaky_relu' ? { activation: l.activation, alpha: l.alpha ?? 0 } : { activation: l.activation }));
}

/** The network's tensors in state-dict order; values that are not exactly float32 (the exact skip) stay float64. */
export function networkTensors(network: FoldedNetwork): Array<[string, NamedTensor]> {
  const last = network.layers[network.layers.length - 1];
  if (last.activation !== 'linear')
    throw new Error(`the last layer has activation ${last.activation}; the exported module ends in a linear output layer`);
  const entries: Array<[string, NamedTensor]> = [];
  network.layers.forEach((layer, i) => {
    const names = i === network.layers.length - 1 ? TENSOR_NAMES.output : TENSOR_NAMES.hidden(i);
    entries.push([names.weight, matrixTensor(layer.weights)], [names.bias, tensorOf(layer.bias, [layer.bias.length])]);
    if (layer.beta !== undefined && 'beta' in names) {
      const beta = typeof layer.beta === 'number' ? layer.bias.map(() => layer.beta as number) : layer.beta;
      entries.push([names.beta, tensorOf(beta, [beta.length])]);
    }
  });
  if (network.skip) {
    entries.push([TENSOR_NAMES.skip.weight, matrixTensor(network.skip.weights)]);
    entries.push([TENSOR_NAMES.skip.bias, tensorOf(network.skip.bias, [network.skip.bias.length])]);
  }
  return entries;
}

/** weights.safetensors of a certified network: `__metadata__` names the spec and the hash the certificate proves. */
export function networkToSafetensors(network: FoldedNetwork, certificate: Pick<Certificate, 'spec' | 'weightsSha256'>): Uint8Array {
  return encodeSafetensors(networkTensors(network), {
    format: 'pt',
    [METADATA_KEYS.spec]: certificate.spec,
    [METADATA_KEYS.weightsSha256]: certificate.weightsSha256,
    [METADATA_KEYS.layers]: JSON.stringify(hiddenLayerInfo(network)),
  });
}

function toMatrix(tensor: NamedTensor, name: string, file: string): Matrix {
  if (tensor.shape.length !== 2) throw new Error(`${file}: ${name} has shape [${tensor.shape.join(', ')}], expected a matrix`);
  const [rows, cols] = tensor.shape;
  return Array.from({ length: rows }, (_, r) => Array.from(tensor.data.subarray(r * cols, (r + 1) * cols)));
}

function toVector(tensor: NamedTensor, name: string, length: number, file: string): number[] {
  if (tensor.shape.length !== 1 || tensor.shape[0] !== length)
    throw new Error(`${file}: ${name} has shape [${tensor.shape.join(', ')}], expected [${length}]`);
  return Array.from(tensor.data);
}

function readLayerInfo(metadata: Record<string, string>, file: string): HiddenLayerInfo[] | undefined {
  const text = metadata[METADATA_KEYS.layers];
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${file}: __metadata__.${METADATA_KEYS.layers} is not JSON`);
  }
  if (!Array.isArray(value)) throw new Error(`${file}: __metadata__.${METADATA_KEYS.layers} is not a list of layers`);
  return value.map((entry: { activation?: unknown; alpha?: unknown }, i) => {
    if (typeof entry?.activation !== 'string' || !isNetworkActivation(entry.activation))
      throw new Error(
        `${file}: __metadata__ layer ${i} names activation ${JSON.stringify(entry?.activation)}, expected one of ${NETWORK_ACTIVATIONS.join(', ')}`,
      );
    return typeof entry.alpha === 'number' ? { activation: entry.activation, alpha: entry.alpha } : { activation: entry.activation };
  });
}

/**
 * A folded network from a POLICE safetensors file (ours, or weights.safetensors from the exported train.py).
 * Activations come from `__metadata__` when present, else from `fallback` (the spec's hidden layers).
 */
export function networkFromSafetensors(
  bytes: Uint8Array,
  file: string,
  fallback: HiddenLayerInfo[],
): { network: FoldedNetwork; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const take = (name: string): NamedTensor => {
    const tensor = tensors.get(name);
    if (!tensor)
      throw new Error(
        `${file} has no tensor '${name}' (it holds ${[...tensors.keys()].join(', ') || 'none'}); POLICE reads hidden.<i>.weight/bias, output.weight/bias and optionally skip.weight/bias, as police_model.py writes them`,
      );
    return tensor;
  };
  let hiddenCount = 0;
  while (tensors.has(TENSOR_NAMES.hidden(hiddenCount).weight)) hiddenCount++;
  const info = readLayerInfo(metadata, file) ?? fallback;
  if (info.length !== hiddenCount)
    throw new Error(
      `${file} holds ${hiddenCount} hidden layers but ${readLayerInfo(metadata, file) ? 'its metadata' : 'the spec'} describes ${info.length}`,
    );
  const layers: NetworkLayer[] = [];
  let width: number | undefined;
  const layerFrom = (
    names: { weight: string; bias: string; beta?: string },
    activation: NetworkActivation,
    alpha?: number,
  ): NetworkLayer => {
    const weights = toMatrix(take(names.weight), names.weight, file);
    const units = weights.length;
    const inputs = weights[0]?.length ?? 0;
    if (width !== undefined && inputs !== width)
      throw new Error(`${file}: ${names.weight} takes ${inputs} inputs, the layer before gives ${width}`);
    width = units;
    const layer: NetworkLayer = { weights, bias: toVector(take(names.bias), names.bias, units, file), activation };
    if (activation === 'leaky_relu') layer.alpha = alpha ?? 0.01;
    if (names.beta && tensors.has(names.beta)) layer.beta = toVector(take(names.beta), names.beta, units, file);
    return layer;
  };
  info.forEach((layer, i) => layers.push(layerFrom(TENSOR_NAMES.hidden(i), layer.activation, layer.alpha)));
  layers.push(layerFrom(TENSOR_NAMES.output, 'linear'));
  const inputDim = layers[0].weights[0].length;
  const network: FoldedNetwork = {
    format: 'police-network/1',
    input_dim: inputDim,
    output_dim: layers[layers.length - 1].bias.length,
    layers,
  };
  if (tensors.has(TENSOR_NAMES.skip.weight)) {
    const weights = toMatrix(take(TENSOR_NAMES.skip.weight), TENSOR_NAMES.skip.weight, file);
    if (weights.length !== network.output_dim || weights[0].length !== inputDim)
      throw new Error(`${file}: skip.weight is ${weights.length}×${weights[0].length}, expected ${network.output_dim}×${inputDim}`);
    network.skip = { weights, bias: toVector(take(TENSOR_NAMES.skip.bias), TENSOR_NAMES.skip.bias, network.output_dim, file) };
  }
  return { network, metadata };
}
