// Benchmark of the exact partition: random He-initialised leaky-ReLU networks on the window [-4, 4]².
import type { FoldedNetwork, NetworkLayer } from '../network/network';
import { identityPlane, partitionPlane } from './partition';
import type { PartitionWindow } from './partition';
import { createRng } from '../common/random';

/**
 * A seeded 2 → width^depth → 1 leaky-ReLU network: He-normal weights, biases uniform in ±1/√fan_in
 * (the usual default), stored as float32 like a trained export.
 */
export function randomLeakyNetwork(width: number, depth: number, seed: number, inputDim = 2): FoldedNetwork {
  const rng = createRng(seed);
  const layers: NetworkLayer[] = [];
  let fanIn = inputDim;
  for (let l = 0; l <= depth; l++) {
    const units = l === depth ? 1 : width;
    const bound = 1 / Math.sqrt(fanIn);
    layers.push({
      weights: Array.from({ length: units }, () => Array.from({ length: fanIn }, () => Math.fround(rng.normal() * Math.sqrt(2 / fanIn)))),
      bias: Array.from({ length: units }, () => Math.fround(rng.uniform(-bound, bound))),
      activation: l === depth ? 'linear' : 'leaky_relu',
      ...(l === depth ? {} : { alpha: 0.01 }),
    });
    fanIn = units;
  }
  return { format: 'police-network/1', input_dim: inputDim, output_dim: 1, layers };
}

export interface PartitionBenchResult {
  width: number;
  depth: number;
  cells: number;
  medianMs: number;
  /** CPU time of the median run (user + system), less sensitive to other processes on the machine. */
  medianCpuMs: number;
  runs: number;
}

export function benchPartition(
  width: number,
  depth: number,
  runs: number,
  window: PartitionWindow = [
    [-4, 4],
    [-4, 4],
  ],
): PartitionBenchResult {
  const network = randomLeakyNetwork(width, depth, 0);
  const wall: number[] = [];
  const cpu: number[] = [];
  let cells = 0;
  for (let r = 0; r < runs; r++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    cells = partitionPlane(network, identityPlane(), window).cellCount;
    wall.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { width, depth, cells, medianMs: median(wall), medianCpuMs: median(cpu), runs };
}

/** Lines for `police bench`: the partition's time and cell count at width 64 and 256 (targets 0.2 s and 2 s). */
export async function runPartitionBench(options: { quick?: boolean } = {}): Promise<string[]> {
  const configs = options.quick
    ? [{ width: 64, depth: 3, runs: 3 }]
    : [
        { width: 64, depth: 3, runs: 5 },
        { width: 256, depth: 3, runs: 3 },
      ];
  const lines = ['exact partition, window [-4, 4]², random leaky-ReLU networks (He init, seed 0):'];
  for (const { width, depth, runs } of configs) {
    // One warm-up run so the JIT has compiled the hot loops.
    if (runs > 1) benchPartition(width, depth, 1);
    const r = benchPartition(width, depth, runs);
    const target = width <= 64 ? 200 : 2000;
    lines.push(
      `  width ${width} depth ${depth}: ${r.cells} cells, median ${r.medianMs.toFixed(0)} ms wall, ${r.medianCpuMs.toFixed(0)} ms CPU over ${r.runs} runs (target < ${target} ms)`,
    );
  }
  return lines;
}
