// How far a float64 network is from affine on a region: the measure both training (anneal metrics) and the smooth-activation analysis report.
import { affineFit } from '../geometry/linalg';
import { createRng, type Rng } from '../common/random';
import type { Matrix, Vector } from '../spec/types';
import { forward, type FoldedNetwork } from './network';

export interface AffineResidual {
  /** Largest |f(x) − (A x + b)| over the sampled points of R and the outputs, (A, b) the least-squares fit of the vertex outputs. */
  maxResidual: number;
  /** Largest |f(v) − (A v + b)| over the vertices alone (0 when the vertices are affinely independent). */
  vertexResidual: number;
  /** Largest |f(v)| over the vertices, to read the residual against. */
  outputScale: number;
  samples: number;
  fit: { A: Matrix; b: Vector };
}

export interface ResidualOptions {
  samples?: number;
  seed?: number;
}

const DEFAULT_SAMPLES = 512;
/** Flops spent on the random points by default: large inputs get fewer points (at least 64) so the analysis stays quick. */
const SAMPLE_FLOP_BUDGET = 1e8;

function defaultSamples(network: FoldedNetwork, vertices: Matrix): number {
  const forwardCost = network.layers.reduce((sum, layer) => sum + layer.weights.length * (layer.weights[0]?.length ?? 0), 0);
  const perSample = vertices.length * vertices[0].length + forwardCost;
  return Math.max(64, Math.min(DEFAULT_SAMPLES, Math.floor(SAMPLE_FLOP_BUDGET / perSample)));
}

/**
 * Measures non-affinity on conv(vertices): fit f(v) ≈ A v + b on the vertices by least squares, then compare f at
 * random convex combinations (Dirichlet over all vertices, and over small random subsets to reach faces and edges).
 */
export function affineResidual(network: FoldedNetwork, vertices: Matrix, options: ResidualOptions = {}): AffineResidual {
  if (vertices.length === 0) throw new Error('affineResidual: the region has no vertices');
  const outputs = vertices.map((v) => forward(network, v));
  const fit = affineFit(vertices, outputs);
  const predict = (x: Vector) => fit.A.map((row, k) => row.reduce((s, a, d) => s + a * x[d], fit.b[k]));
  const deviation = (x: Vector, y: Vector) => largest(predict(x).map((p, k) => Math.abs(y[k] - p)));
  // Loops, not Math.max(...): a region may have 65536 vertices, more than a call's arguments allow.
  const vertexResidual = largest(vertices.map((v, i) => deviation(v, outputs[i])));
  const outputScale = largest(outputs.map((row) => largest(row.map(Math.abs))));
  const rng = createRng(options.seed ?? 0);
  const samples = options.samples ?? defaultSamples(network, vertices);
  let maxResidual = vertexResidual;
  for (let s = 0; s < samples; s++) {
    const x = convexCombination(
      vertices,
      rng,
      s % 2 === 0 ? vertices.length : 2 + rng.int(Math.min(vertices.length, vertices[0].length + 1) - 1),
    );
    maxResidual = Math.max(maxResidual, deviation(x, forward(network, x)));
  }
  return { maxResidual, vertexResidual, outputScale, samples, fit: { A: fit.A, b: fit.b } };
}

function largest(values: number[]): number {
  let max = 0;
  for (const v of values) if (v > max || Number.isNaN(v)) max = v;
  return max;
}

/** A Dirichlet(1) combination of `count` distinct random vertices. */
function convexCombination(vertices: Matrix, rng: Rng, count: number): Vector {
  const chosen = count >= vertices.length ? vertices.map((_, i) => i) : pickDistinct(vertices.length, Math.max(1, count), rng);
  const weights = chosen.map(() => -Math.log(Math.max(rng.next(), 1e-300)));
  const total = weights.reduce((a, b) => a + b, 0);
  const x = new Array<number>(vertices[0].length).fill(0);
  chosen.forEach((vi, k) => vertices[vi].forEach((v, d) => (x[d] += (weights[k] / total) * v)));
  return x;
}

function pickDistinct(n: number, count: number, rng: Rng): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, n)) picked.add(rng.int(n));
  return [...picked];
}
