// The paper's built-in 2-D examples: regression targets of Fig. 2 and two-class sets like Fig. 1.
import type { Rng } from '../common/random';

export interface RegressionDataset {
  task: 'regression';
  /** f(x0, x1), sampled uniformly on the spec's domain. */
  target: (x0: number, x1: number) => number;
  formula: string;
}

export interface ClassificationDataset {
  task: 'classification';
  classes: number;
  /** Draws one point of class `label` (before noise). */
  sample: (label: number, rng: Rng) => [number, number];
  defaultNoise: number;
  /** Box that holds the points at the default noise, so a default domain shows them all. */
  extent: [[number, number], [number, number]];
}

export type Dataset = RegressionDataset | ClassificationDataset;

export const DATASETS: Record<string, Dataset> = {
  wave: { task: 'regression', target: (x0, x1) => Math.sin(2 * x0) * Math.cos(2 * x1), formula: 'sin(2*x0)*cos(2*x1)' },
  rays: { task: 'regression', target: (x0, x1) => Math.sin(6 * Math.atan2(x1, x0)), formula: 'sin(6*atan2(x1, x0))' },
  // An integer multiple of θ keeps the target continuous across θ = ±π.
  spiral: {
    task: 'regression',
    target: (x0, x1) => Math.sin(3 * Math.hypot(x0, x1) - 2 * Math.atan2(x1, x0)),
    formula: 'sin(3*sqrt(x0^2+x1^2) - 2*atan2(x1, x0))',
  },
  moons: {
    task: 'classification',
    classes: 2,
    defaultNoise: 0.1,
    extent: [
      [-1.8, 1.8],
      [-1.1, 1.1],
    ],
    // The two half circles of scikit-learn's make_moons, moved so the pair is centred on the origin.
    sample: (label, rng) => {
      const t = Math.PI * rng.next();
      return label === 0 ? [Math.cos(t) - 0.5, Math.sin(t) - 0.25] : [0.5 - Math.cos(t), 0.25 - Math.sin(t)];
    },
  },
  'two-spirals': {
    task: 'classification',
    classes: 2,
    defaultNoise: 0.05,
    extent: [
      [-1.2, 1.2],
      [-1.2, 1.2],
    ],
    // Arm k: radius t, angle 3π·t + kπ, t uniform in (0.05, 1]: both arms stay inside [-1, 1]².
    sample: (label, rng) => {
      const t = 0.05 + 0.95 * rng.next();
      const angle = 3 * Math.PI * t + label * Math.PI;
      return [t * Math.cos(angle), t * Math.sin(angle)];
    },
  },
};

export const DATASET_NAMES = Object.keys(DATASETS);
