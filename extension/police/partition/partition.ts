// The exact linear-region partition of a folded network on a 2-D plane: polygons split unit by unit, layer by layer.
// This file runs the stages; the stage's other files hold the pieces and the cell queries it re-exports.
import type { FoldedNetwork } from '../network/network';
import { isPiecewiseAffine } from '../spec/activations';
import { patternAt, patternDistance } from '../proof/patterns';
import type { ActivationPattern } from '../proof/patterns';
import { dot } from '../geometry/linalg';
import { F64, newCellList } from './buffers';
import { denseLayers, linearTail } from './layers';
import { MapState } from './map-state';
import { Splitter } from './splitter';
import type { Partition, PartitionOptions, PartitionPlane, PartitionWindow } from './types';

export { patternAt, patternDistance };
export type { ActivationPattern };
export * from './types';
export * from './cells';
export * from './locate';

function checkInputs(network: FoldedNetwork, plane: PartitionPlane, window: PartitionWindow): void {
  const d = network.input_dim;
  for (const [name, v] of [
    ['origin', plane.origin],
    ['e1', plane.e1],
    ['e2', plane.e2],
  ] as const) {
    if (v.length !== d || v.some((x) => !Number.isFinite(x))) throw new Error(`partition: plane ${name} must hold ${d} finite numbers`);
  }
  const [[u0, u1], [v0, v1]] = window;
  if (![u0, u1, v0, v1].every(Number.isFinite) || !(u1 > u0) || !(v1 > v0)) {
    throw new Error(`partition: window ${JSON.stringify(window)} must be [[uMin, uMax], [vMin, vMax]] with min < max`);
  }
  const smooth = network.layers.find((l) => !isPiecewiseAffine(l.activation));
  if (smooth)
    throw new Error(`partition: activation '${smooth.activation}' is not piecewise affine, so the network has no exact linear regions`);
}

/** The exact linear regions of the network on the window of the plane. */
export function partitionPlane(
  network: FoldedNetwork,
  plane: PartitionPlane,
  window: PartitionWindow,
  options: PartitionOptions = {},
): Partition {
  checkInputs(network, plane, window);
  const maxCells = options.maxCells ?? 2_000_000;
  const deadline = performance.now() + (options.timeLimitMs ?? Infinity);
  const { layers, bitCount } = denseLayers(network);
  const words = Math.max(1, Math.ceil(bitCount / 32));
  const outputs = network.output_dim;
  const last = layers.length - 1;

  // Layer 0's map on the plane: W0 (origin + u e1 + v e2) + b0.
  const first = new Float64Array(layers[0].rows * 3);
  network.layers[0].weights.forEach((row, i) => {
    first[3 * i] = dot(row, plane.e1);
    first[3 * i + 1] = dot(row, plane.e2);
    first[3 * i + 2] = dot(row, plane.origin) + network.layers[0].bias[i];
  });
  const state = new MapState(layers, words, first);

  const [[u0, u1], [v0, v1]] = window;
  const uScale = Math.max(Math.abs(u0), Math.abs(u1));
  const vScale = Math.max(Math.abs(v0), Math.abs(v1));
  let cells = newCellList();
  cells.coords.push2(u0, v0);
  cells.coords.push2(u1, v0);
  cells.coords.push2(u1, v1);
  cells.coords.push2(u0, v1);
  cells.starts.push(4);
  cells.patterns.reserve(words);
  for (let w = 0; w < words; w++) cells.patterns.push(0);

  const splitter = new Splitter();
  // The skip term on the plane, added to every cell's output map.
  const skip = new Float64Array(outputs * 3);
  if (network.skip) {
    network.skip.weights.forEach((row, k) => {
      skip[3 * k] = dot(row, plane.e1);
      skip[3 * k + 1] = dot(row, plane.e2);
      skip[3 * k + 2] = dot(row, plane.origin) + network.skip!.bias[k];
    });
  }
  const lastBend = layers.reduce((found, layer, i) => (layer.bends ? i : found), -1);
  const maps = new F64(4096);
  if (lastBend < 0) {
    // No activation bends: one cell, one affine map.
    state.moveTo(cells.patterns.data, 0, last);
    const z = state.z[last];
    for (let k = 0; k < outputs; k++) for (let c = 0; c < 3; c++) maps.push1(z[3 * k + c] + skip[3 * k + c]);
  }
  const tail = lastBend >= 0 && lastBend < last ? linearTail(layers, lastBend) : undefined;

  // Every bending layer splits, the output layer too when it has an activation.
  for (let l = 0; l <= lastBend; l++) {
    const layer = layers[l];
    if (!layer.bends) continue;
    const count = cells.starts.length - 1;
    // Each layer multiplies the cells a few times over; reserving ahead avoids repeated copying.
    const next = newCellList(Math.min(maxCells, count * 3 + 64), words);
    for (let p = 0; p < count; p++) {
      state.moveTo(cells.patterns.data, p * words, l);
      splitter.split(cells, p, layer, state.z[l], uScale, vScale);
      const order = splitter.emit(next, cells.patterns.data, p * words, words, layer);
      if (l === lastBend) splitter.outputMaps(order, maps, state.z[l], layer, tail, outputs, skip);
      if (next.starts.length - 1 > maxCells) {
        throw new Error(`partition: more than ${maxCells} cells; narrow the window or raise maxCells`);
      }
      if ((p & 255) === 255 && performance.now() > deadline) {
        throw new Error(`partition: stopped after ${options.timeLimitMs} ms at layer ${l} with ${next.starts.length - 1} cells so far`);
      }
    }
    cells = next;
  }
  const cellCount = cells.starts.length - 1;
  const planeMaps = maps.data.slice(0, cellCount * outputs * 3);
  return {
    inputDim: network.input_dim,
    outputDim: outputs,
    plane,
    window,
    layerUnits: layers.map((l) => (l.bends ? l.rows : 0)),
    cellCount,
    polygonStart: cells.starts.data.slice(0, cells.starts.length),
    vertices: cells.coords.data.slice(0, cells.coords.length),
    patternWords: words,
    patterns: cells.patterns.data.slice(0, cellCount * words),
    planeMaps,
  };
}
