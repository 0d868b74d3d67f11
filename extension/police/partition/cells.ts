// Reading a partition's cells: polygon, area, activation pattern, distances between patterns, affine maps.
import type { FoldedNetwork } from '../network/network';
import { affineMapForPattern, type ActivationPattern } from '../proof/patterns';
import type { Matrix, Vector } from '../spec/types';
import { polygonArea, popcount } from './kernels';
import type { Partition } from './types';

export function cellVertexCount(partition: Partition, index: number): number {
  return partition.polygonStart[index + 1] - partition.polygonStart[index];
}

/** Flat [u0, v0, u1, v1, …], counter-clockwise. */
export function cellPolygon(partition: Partition, index: number): number[] {
  const s = partition.polygonStart[index];
  return Array.from(partition.vertices.subarray(2 * s, 2 * partition.polygonStart[index + 1]));
}

export function cellArea(partition: Partition, index: number): number {
  return Math.abs(polygonArea(partition.vertices, partition.polygonStart[index], cellVertexCount(partition, index)));
}

/** Per layer, per unit sign bits (empty arrays for linear layers), comparable with patternAt(). */
export function cellPattern(partition: Partition, index: number): ActivationPattern {
  const base = index * partition.patternWords;
  let bit = 0;
  return partition.layerUnits.map((units) =>
    Array.from({ length: units }, () => {
      const b = bit++;
      return (partition.patterns[base + (b >>> 5)] >>> (b & 31)) & 1;
    }),
  );
}

/** A pattern (per layer, as patternAt gives it) packed like the partition's cells, to compare with cellPatternDistance. */
export function packPattern(partition: Partition, pattern: ActivationPattern): Uint32Array {
  const packed = new Uint32Array(partition.patternWords);
  let bit = 0;
  partition.layerUnits.forEach((units, l) => {
    for (let k = 0; k < units; k++, bit++) if (pattern[l][k]) packed[bit >>> 5] |= 1 << (bit & 31);
  });
  return packed;
}

/** Hamming distance between cell `index`'s pattern and a packed one: units on different sides. */
export function cellPatternDistance(partition: Partition, index: number, packed: Uint32Array): number {
  const words = partition.patternWords;
  let distance = 0;
  for (let w = 0; w < words; w++) distance += popcount(partition.patterns[index * words + w] ^ packed[w]);
  return distance;
}

/** f(u, v) = A (u, v) + b on the cell, A outputs×2. */
export function cellPlaneMap(partition: Partition, index: number): { A: Matrix; b: Vector } {
  const A: Matrix = [];
  const b: Vector = [];
  for (let k = 0; k < partition.outputDim; k++) {
    const m = (index * partition.outputDim + k) * 3;
    A.push([partition.planeMaps[m], partition.planeMaps[m + 1]]);
    b.push(partition.planeMaps[m + 2]);
  }
  return { A, b };
}

/**
 * f(x) = A x + b on the cell in input coordinates (A outputs×D). For D = 2 with independent e1, e2 it follows
 * from the plane map; otherwise from the cell's pattern (costs one pass through the weights).
 */
export function cellInputMap(network: FoldedNetwork, partition: Partition, index: number): { A: Matrix; b: Vector } {
  const { e1, e2, origin } = partition.plane;
  const det = partition.inputDim === 2 ? e1[0] * e2[1] - e1[1] * e2[0] : 0;
  if (partition.inputDim !== 2 || Math.abs(det) < 1e-12 * Math.hypot(...e1) * Math.hypot(...e2)) {
    return affineMapForPattern(network, cellPattern(partition, index));
  }
  // (u, v) = E⁻¹ (x − origin) with E = [e1 e2].
  const inv = [
    [e2[1] / det, -e2[0] / det],
    [-e1[1] / det, e1[0] / det],
  ];
  const plane = cellPlaneMap(partition, index);
  const A = plane.A.map(([au, av]) => [au * inv[0][0] + av * inv[1][0], au * inv[0][1] + av * inv[1][1]]);
  const b = plane.b.map((c, k) => c - A[k][0] * origin[0] - A[k][1] * origin[1]);
  return { A, b };
}
