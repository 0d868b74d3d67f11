// Shape checks for network.json (police-network/1): every message names the offending field.
import type { FoldedNetwork } from '../network/network';
import { isNetworkActivation, NETWORK_ACTIVATIONS } from '../spec/activations';

export interface NetworkCheck {
  network?: FoldedNetwork;
  errors: string[];
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

function checkMatrix(value: unknown, rows: number | undefined, cols: number, where: string, errors: string[]): number | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    errors.push(`${where} must be a non-empty array of rows`);
    return undefined;
  }
  if (rows !== undefined && value.length !== rows) errors.push(`${where} has ${value.length} rows, expected ${rows}`);
  value.forEach((row: unknown, i) => {
    if (!Array.isArray(row)) errors.push(`${where}[${i}] must be an array of numbers`);
    else if (row.length !== cols) errors.push(`${where}[${i}] has ${row.length} entries, expected ${cols}`);
    else if (!row.every((v) => typeof v === 'number' && Number.isFinite(v)))
      errors.push(`${where}[${i}] holds a value that is not a finite number`);
  });
  return value.length;
}

function checkVector(value: unknown, length: number, where: string, errors: string[]): void {
  if (!Array.isArray(value)) errors.push(`${where} must be an array of numbers`);
  else if (value.length !== length) errors.push(`${where} has ${value.length} entries, expected ${length}`);
  else if (!value.every((v) => typeof v === 'number' && Number.isFinite(v)))
    errors.push(`${where} holds a value that is not a finite number`);
}

/** network.json's text as a checked network; errors name `file` and the offending field. */
export function parseNetworkText(text: string, file: string): FoldedNetwork {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const { network, errors } = checkNetwork(value);
  if (!network) throw new Error(`${file}: ${errors.join('; ')}`);
  return network;
}

/** Validates parsed network.json; returns the network only when every layer's shape chains from input_dim to output_dim. */
export function checkNetwork(value: unknown): NetworkCheck {
  const errors: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { errors: ['network must be a JSON object'] };
  const n = value as Record<string, unknown>;
  if (n.format !== 'police-network/1') errors.push(`format is ${JSON.stringify(n.format)}, expected "police-network/1"`);
  if (!isCount(n.input_dim)) errors.push('input_dim must be a positive integer');
  if (!isCount(n.output_dim)) errors.push('output_dim must be a positive integer');
  if (!Array.isArray(n.layers) || n.layers.length === 0) errors.push('layers must be a non-empty array');
  if (errors.length) return { errors };
  const inputDim = n.input_dim as number;
  const outputDim = n.output_dim as number;
  let width = inputDim;
  (n.layers as unknown[]).forEach((layer, l) => {
    const where = `layers[${l}]`;
    if (typeof layer !== 'object' || layer === null) {
      errors.push(`${where} must be an object`);
      return;
    }
    const { weights, bias, activation, alpha, beta } = layer as Record<string, unknown>;
    const units = checkMatrix(weights, undefined, width, `${where}.weights`, errors);
    if (units !== undefined) checkVector(bias, units, `${where}.bias`, errors);
    if (typeof activation !== 'string' || !isNetworkActivation(activation)) {
      errors.push(`${where}.activation is ${JSON.stringify(activation)}, expected one of ${NETWORK_ACTIVATIONS.join(', ')}`);
    }
    if (alpha !== undefined && (typeof alpha !== 'number' || !Number.isFinite(alpha)))
      errors.push(`${where}.alpha must be a finite number`);
    if (beta !== undefined && typeof beta !== 'number' && units !== undefined) checkVector(beta, units, `${where}.beta`, errors);
    else if (typeof beta === 'number' && !(Number.isFinite(beta) && beta > 0)) errors.push(`${where}.beta must be a positive number`);
    width = units ?? width;
  });
  if (!errors.length && width !== outputDim) errors.push(`the last layer has ${width} units but output_dim is ${outputDim}`);
  if (n.skip !== undefined) {
    if (typeof n.skip !== 'object' || n.skip === null) errors.push('skip must be an object with weights and bias');
    else {
      const skip = n.skip as Record<string, unknown>;
      checkMatrix(skip.weights, outputDim, inputDim, 'skip.weights', errors);
      checkVector(skip.bias, outputDim, 'skip.bias', errors);
    }
  }
  if (n.step !== undefined && !(Number.isInteger(n.step) && (n.step as number) >= 0)) errors.push('step must be a non-negative integer');
  return errors.length ? { errors } : { network: value as FoldedNetwork, errors };
}
