// The `.police.json` format (version 1): the raw JSON shape and the resolved form the engine runs.

import type { Activation } from './activations';

/** How each unit's POLICE side is chosen (see computeShift in police-layer.ts). */
export const SHIFT_RULES = ['majority', 'fixed', 'minimal'] as const;
export type ShiftRule = (typeof SHIFT_RULES)[number];

export type Matrix = number[][];
export type Vector = number[];

// ---------- Raw spec, exactly as written in the file ----------

export interface RawLayerSpec {
  units: number;
  activation?: string;
  alpha?: number;
  /** swish x·sigmoid(βx) / softplus log(1+e^{βx})/β: the initial β (default 1). */
  beta?: number;
  /** Learn one β per unit (swish, softplus); ignored while training.anneal drives β. */
  learn_beta?: boolean;
}

export type RawConstraint = 'affine' | { jacobian: Matrix } | { affine_map: { A: Matrix; b: Vector } };

export interface RawRegionBase {
  name?: string;
  constraint?: RawConstraint;
}
export type RawRegionSpec = RawRegionBase &
  (
    | { vertices: Matrix }
    | { box: { min: Vector; max: Vector } }
    | { simplex: { origin?: Vector; scale?: number } }
    | { polygon: { center: Vector; radius: number; sides: number } }
    | { halfspaces: { A: Matrix; b: Vector } }
  );

export interface RawSpec {
  version?: 1;
  name: string;
  input: { dim: number; domain?: [number, number][] };
  model: { layers: RawLayerSpec[]; output: { units: number } };
  regions: RawRegionSpec[];
  data: {
    task?: 'regression' | 'classification';
    target?: string | string[];
    dataset?: string;
    csv?: { path: string; inputs: string[]; target: string | string[] };
    samples?: number;
    noise?: number;
    classes?: number;
  };
  training?: {
    steps?: number;
    batch?: number;
    optimizer?: 'adam' | 'adamw' | 'sgd';
    lr?: number;
    weight_decay?: number;
    seed?: number;
    snapshot_every?: number;
    /** Drive swish/softplus β geometrically from beta_start to beta_end; the final network is exported as hard ReLU. */
    anneal?: { beta_start?: number; beta_end?: number };
    /** Orthogonal hidden-layer filters: a penalty λ Σ_{k≠k'} ⟨w_k, w_k'⟩², or an exactly orthogonal parametrisation. */
    orthogonality?: { penalty: number } | { parametrization: 'exact' };
  };
  police?: { enabled?: boolean; rule?: ShiftRule; margin?: number };
}

// ---------- Resolved spec: defaults applied, regions turned into vertices ----------

export interface ResolvedLayer {
  units: number;
  activation: Activation;
  /** Negative slope of leaky_relu; 0 for relu, unused for abs. */
  alpha: number;
  /** swish/softplus initial β (1 when not given); unused by other activations. */
  beta?: number;
  /** swish/softplus: one trainable β per unit. */
  learnBeta?: boolean;
}

export type ResolvedConstraint = { kind: 'affine' } | { kind: 'jacobian'; A: Matrix } | { kind: 'affine_map'; A: Matrix; b: Vector };

export interface ResolvedRegion {
  name: string;
  /** P×D, the vertices whose convex hull is the region. */
  vertices: Matrix;
  constraint: ResolvedConstraint;
  /** Which form the user wrote, for messages and the view. */
  form: 'vertices' | 'box' | 'simplex' | 'polygon' | 'halfspaces';
}

export type DataSource =
  | { kind: 'expression'; expressions: string[] }
  | { kind: 'dataset'; name: string }
  | { kind: 'csv'; path: string; inputs: string[]; targets: string[] };

export interface ResolvedData {
  task: 'regression' | 'classification';
  source: DataSource;
  samples: number;
  noise: number;
  /** Number of classes for classification (equals the output units); 0 for regression. */
  classes: number;
}

export interface ResolvedTraining {
  steps: number;
  batch: number;
  optimizer: 'adam' | 'adamw' | 'sgd';
  lr: number;
  weightDecay: number;
  seed: number;
  /** Steps between snapshots sent to the view (0: none). */
  snapshotEvery: number;
  /** β schedule for swish/softplus layers (geometric), ending in a hard-ReLU export. */
  anneal?: { betaStart: number; betaEnd: number };
  orthogonality?: { kind: 'penalty'; lambda: number } | { kind: 'exact' };
}

export interface ResolvedPolice {
  enabled: boolean;
  /** 'fixed' votes once and keeps the sides; 'majority' is Algorithm 1 (several regions: 'minimal'); 'minimal' is the smallest allowed shift. */
  rule: ShiftRule;
  /** Non-negative margin every vertex keeps from each hyperplane, so float rounding cannot flip a sign. */
  margin: number;
}

export interface ResolvedSpec {
  name: string;
  inputDim: number;
  domain: [number, number][];
  layers: ResolvedLayer[];
  outputUnits: number;
  regions: ResolvedRegion[];
  data: ResolvedData;
  training: ResolvedTraining;
  police: ResolvedPolice;
  /** Folder of the spec file, against which relative paths (csv) were resolved. */
  baseDir: string;
}

export const DEFAULTS = {
  alpha: 0.01,
  activation: 'leaky_relu' as Activation,
  samples: 4096,
  steps: 2000,
  batch: 1024,
  optimizer: 'adamw' as const,
  lr: 0.0005,
  weightDecay: 0.0001,
  seed: 0,
  snapshotEvery: 100,
  rule: 'fixed' as const,
  margin: 1e-4,
  /** swish/softplus β when the layer gives none. */
  beta: 1,
  annealBetaStart: 1,
  annealBetaEnd: 1000,
  /** Warn above this many vertices in one region (a box in D dims has 2^D). */
  vertexWarnCount: 4096,
  /** Refuse above this many. */
  vertexMaxCount: 65536,
};
