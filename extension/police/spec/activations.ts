// Every activation, defined once: its float64 forward, its tfjs forward, whether POLICE is exact for it, and its export forms.
// Adding an activation means one entry here (plus its name in schemas/police.schema.json).
import type * as TfCore from '@tensorflow/tfjs-core';

/** The tfjs ops the tensor forwards use, passed in by name (not the whole namespace, which would defeat tree-shaking) so that this module costs nothing in bundles that never train. */
export type Tf = Pick<typeof TfCore, 'relu' | 'leakyRelu' | 'abs' | 'mul' | 'sigmoid' | 'tanh' | 'div' | 'maximum' | 'softplus'>;

/** Where an activation writes its ONNX form: nodes appended to the graph being built (see io/onnx.ts). */
export interface OnnxGraphSink {
  /** Appends one node reading `inputs` and returns the name of its single output. */
  node(opType: string, inputs: string[], attributes?: Record<string, number>): string;
  /** A float constant (one value per unit, broadcast over the batch) and its name. */
  constant(values: number[]): string;
}

/** The ONNX operators that ARE a piecewise-affine activation, one node each (what `police import` recognises). */
export type OnnxActivationOp = 'Relu' | 'LeakyRelu' | 'Abs';

export interface ActivationDefinition {
  /** Piecewise affine: a sign pattern fixes the map, so POLICE is exact and the certificate can prove. */
  readonly piecewiseAffine: boolean;
  /** Has an inverse temperature β (the β-VQ view) that an anneal can drive to a hard ReLU. */
  readonly annealable: boolean;
  /** Written in a spec's `model.layers[].activation` (linear is the output layer's only). */
  readonly inSpec: boolean;
  /** Slope of the piece on the positive (bit 1) or negative (bit 0) side; piecewise-affine activations only. */
  slope(bit: number, alpha: number): number;
  /** Float64 forward of one pre-activation. */
  float64(z: number, alpha: number, beta: number): number;
  /** Tensor forward; β is one value per unit (or a scalar). */
  tensor(tf: Tf, z: TfCore.Tensor2D, alpha: number, beta: TfCore.Tensor | number): TfCore.Tensor2D;
  /** The tfjs-layers `dense` activation the exported Layers model uses (abs is exported as relu on a doubled layer, leaky_relu as a LeakyReLU layer). */
  readonly layersActivation: 'relu' | 'linear' | 'swish' | 'softplus' | 'sigmoid' | 'tanh';
  /** The ONNX form (opset 17) of the activation applied to the pre-activation named `z`; returns the output's name. β: one value per unit. */
  onnx(graph: OnnxGraphSink, z: string, alpha: number, beta: number[]): string;
  /** The single ONNX node this activation is, when there is one: `police import` maps that node back to the activation. */
  readonly onnxOp?: OnnxActivationOp;
  /** The PyTorch form in the generated police_model.py: a Python expression of `z` (tensor), `alpha` (float), `beta` (tensor, one per unit), with `torch` and `F` (torch.nn.functional). */
  readonly pytorch: string;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

const notPiecewise = (): number => {
  throw new Error('a smooth activation has no pattern slope');
};

const definitions = {
  relu: {
    piecewiseAffine: true,
    annealable: false,
    inSpec: true,
    slope: (bit) => (bit ? 1 : 0),
    float64: (z) => (z > 0 ? z : 0),
    tensor: (tf, z) => tf.relu(z),
    layersActivation: 'relu',
    pytorch: 'torch.relu(z)',
    onnx: (g, z) => g.node('Relu', [z]),
    onnxOp: 'Relu',
  },
  leaky_relu: {
    piecewiseAffine: true,
    annealable: false,
    inSpec: true,
    slope: (bit, alpha) => (bit ? 1 : alpha),
    float64: (z, alpha) => (z > 0 ? z : alpha * z),
    tensor: (tf, z, alpha) => tf.leakyRelu(z, alpha),
    layersActivation: 'linear',
    pytorch: 'F.leaky_relu(z, alpha)',
    onnx: (g, z, alpha) => g.node('LeakyRelu', [z], { alpha }),
    onnxOp: 'LeakyRelu',
  },
  abs: {
    piecewiseAffine: true,
    annealable: false,
    inSpec: true,
    slope: (bit) => (bit ? 1 : -1),
    float64: (z) => Math.abs(z),
    tensor: (tf, z) => tf.abs(z),
    layersActivation: 'relu',
    pytorch: 'torch.abs(z)',
    onnx: (g, z) => g.node('Abs', [z]),
    onnxOp: 'Abs',
  },
  linear: {
    piecewiseAffine: true,
    annealable: false,
    inSpec: false,
    slope: () => 1,
    float64: (z) => z,
    tensor: (_tf, z) => z,
    layersActivation: 'linear',
    pytorch: 'z',
    onnx: (_g, z) => z,
  },
  swish: {
    piecewiseAffine: false,
    annealable: true,
    inSpec: true,
    slope: notPiecewise,
    float64: (z, _alpha, beta) => z * sigmoid(beta * z),
    tensor: (tf, z, _alpha, beta) => tf.mul(z, tf.sigmoid(tf.mul(z, beta))),
    layersActivation: 'swish',
    pytorch: 'z * torch.sigmoid(z * beta)',
    onnx: (g, z, _alpha, beta) => g.node('Mul', [z, g.node('Sigmoid', [g.node('Mul', [z, g.constant(beta)])])]),
  },
  sigmoid: {
    piecewiseAffine: false,
    annealable: false,
    inSpec: true,
    slope: notPiecewise,
    float64: (z) => sigmoid(z),
    tensor: (tf, z) => tf.sigmoid(z),
    layersActivation: 'sigmoid',
    pytorch: 'torch.sigmoid(z)',
    onnx: (g, z) => g.node('Sigmoid', [z]),
  },
  tanh: {
    piecewiseAffine: false,
    annealable: false,
    inSpec: true,
    slope: notPiecewise,
    float64: (z) => Math.tanh(z),
    tensor: (tf, z) => tf.tanh(z),
    layersActivation: 'tanh',
    pytorch: 'torch.tanh(z)',
    onnx: (g, z) => g.node('Tanh', [z]),
  },
  softplus: {
    piecewiseAffine: false,
    annealable: true,
    inSpec: true,
    slope: notPiecewise,
    // log(1+e^{βz})/β written so that large |z| neither overflows nor loses the linear part.
    float64: (z, _alpha, beta) => {
      const x = beta * z;
      return (Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))) / beta;
    },
    // A learned β could reach 0; softplus(βz)/β must not divide by it.
    tensor: (tf, z, _alpha, beta) => {
      const safe = tf.maximum(beta, 1e-3);
      return tf.div(tf.softplus(tf.mul(z, safe)), safe);
    },
    layersActivation: 'softplus',
    pytorch: 'F.softplus(z * beta.clamp(min=1e-3)) / beta.clamp(min=1e-3)',
    onnx: (g, z, _alpha, beta) => {
      const b = g.constant(beta);
      return g.node('Div', [g.node('Softplus', [g.node('Mul', [z, b])]), b]);
    },
  },
} as const satisfies Record<string, ActivationDefinition>;

/** Every activation a layer of a folded network can have. */
export type NetworkActivation = keyof typeof definitions;
export const ACTIVATIONS: Readonly<Record<NetworkActivation, ActivationDefinition>> = definitions;
export const NETWORK_ACTIVATIONS = Object.keys(definitions) as NetworkActivation[];

type Where<P extends keyof ActivationDefinition, V> = {
  [K in NetworkActivation]: (typeof definitions)[K] extends Record<P, V> ? K : never;
}[NetworkActivation];
/** Activations for which POLICE is exact (piecewise affine) and a spec may name. */
export type ExactActivation = Exclude<Where<'piecewiseAffine', true>, 'linear'>;
/** Smooth activations (β-VQ view): accepted, but POLICE is only approximate through them. */
export type SmoothActivation = Where<'piecewiseAffine', false>;
/** Every activation a spec's hidden layer may name; smooth ones make the certificate approximate. */
export type Activation = ExactActivation | SmoothActivation;

export const EXACT_ACTIVATIONS = NETWORK_ACTIVATIONS.filter(
  (a) => ACTIVATIONS[a].piecewiseAffine && ACTIVATIONS[a].inSpec,
) as ExactActivation[];
export const SMOOTH_ACTIVATIONS = NETWORK_ACTIVATIONS.filter((a) => !ACTIVATIONS[a].piecewiseAffine) as SmoothActivation[];
export const SPEC_ACTIVATIONS: Activation[] = [...EXACT_ACTIVATIONS, ...SMOOTH_ACTIVATIONS];

export function isNetworkActivation(name: string): name is NetworkActivation {
  return Object.hasOwn(definitions, name);
}

export function isPiecewiseAffine(name: string): boolean {
  return isNetworkActivation(name) && ACTIVATIONS[name].piecewiseAffine;
}

export function isSmoothActivation(name: string): name is SmoothActivation {
  return isNetworkActivation(name) && !ACTIVATIONS[name].piecewiseAffine;
}

/** Has a β an anneal drives to a hard ReLU (swish, softplus). */
export function isAnnealable(name: string): boolean {
  return isNetworkActivation(name) && ACTIVATIONS[name].annealable;
}
