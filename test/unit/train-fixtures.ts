// Training data shared by the training tests, drawn here so they do not depend on the data module's sampling.
import { createRng } from '../../extension/police/common/random';
import type { ResolvedRegion, ResolvedSpec } from '../../extension/police/spec/types';
import type { TrainingData } from '../../extension/police/training/train';

/** sin(2 x0) + x1 on [-2, 2]². */
export function waveData(count: number, seed = 1): TrainingData {
  const rng = createRng(seed);
  const x = new Float32Array(count * 2);
  const y = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    x[2 * i] = rng.uniform(-2, 2);
    x[2 * i + 1] = rng.uniform(-2, 2);
    y[i] = Math.sin(2 * x[2 * i]) + x[2 * i + 1];
  }
  return { x, y, count, inputDim: 2, outputDim: 1 };
}

/** A 2-D regression spec with two small leaky-ReLU layers, POLICE on (majority), for the training tests. */
export function tinySpec(regions: ResolvedRegion[], overrides: Partial<ResolvedSpec> = {}): ResolvedSpec {
  return {
    name: 'tiny',
    inputDim: 2,
    domain: [
      [-2, 2],
      [-2, 2],
    ],
    layers: [
      { units: 16, activation: 'leaky_relu', alpha: 0.01 },
      { units: 16, activation: 'leaky_relu', alpha: 0.01 },
    ],
    outputUnits: 1,
    regions,
    data: { task: 'regression', source: { kind: 'expression', expressions: ['sin(2*x0) + x1'] }, samples: 256, noise: 0, classes: 0 },
    training: { steps: 60, batch: 128, optimizer: 'adam', lr: 0.01, weightDecay: 0, seed: 0, snapshotEvery: 0 },
    police: { enabled: true, rule: 'majority', margin: 1e-4 },
    baseDir: '.',
    ...overrides,
  };
}

/** The triangle region the training tests constrain. */
export const triangle: ResolvedRegion = {
  name: 'triangle',
  vertices: [
    [-1, -1],
    [0, 1],
    [1, -1],
  ],
  constraint: { kind: 'affine' },
  form: 'vertices',
};

/** The same kind of tiny problem as a spec file's JSON (for the CLI tests): two leaky-ReLU layers on [-2, 2]², the triangle. */
export function tinySpecJson(sizes: {
  name: string;
  units: number;
  samples: number;
  steps: number;
  batch: number;
}): Record<string, unknown> {
  const leaky = { units: sizes.units, activation: 'leaky_relu' };
  return {
    name: sizes.name,
    input: {
      dim: 2,
      domain: [
        [-2, 2],
        [-2, 2],
      ],
    },
    model: { layers: [leaky, leaky], output: { units: 1 } },
    regions: [
      {
        name: 'triangle',
        vertices: [
          [-1.5, -1.5],
          [0, 1.5],
          [1.5, -1.5],
        ],
      },
    ],
    data: { task: 'regression', target: 'sin(2*x0)*cos(x1)', samples: sizes.samples },
    training: { steps: sizes.steps, batch: sizes.batch, optimizer: 'adam', lr: 0.01, seed: 0 },
  };
}
