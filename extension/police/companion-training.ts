// Training-side companions (issue 5): smooth activations with β, the β anneal, orthogonality penalty and exact orthogonal filters.
import * as tf from '@tensorflow/tfjs-core';
import { affineResidual } from './analysis/smooth';
import type { Mlp } from './model';
import type { FoldedNetwork } from './network';
import type { ResolvedLayer, ResolvedSpec } from './spec';

/** Newton–Schulz steps inside the forward: at an orthonormal point one step already projects the gradient onto the tangent space. */
const FORWARD_POLAR_STEPS = 1;
/** Newton–Schulz steps of the retraction after each update (quadratic convergence from a point 1e-3 off). */
const RETRACT_POLAR_STEPS = 3;
/** At most this many residual measurements during an anneal (each needs a fold and a float64 pass). */
const ANNEAL_RESIDUAL_POINTS = 20;

/** swish x·σ(βx), sigmoid, tanh, softplus(βx)/β; β is one value per unit or the layer's fixed β. */
export function smoothActivate(z: tf.Tensor2D, layer: ResolvedLayer, beta?: tf.Tensor1D): tf.Tensor2D {
  const b: tf.Tensor = beta ?? tf.scalar(layer.beta ?? 1);
  switch (layer.activation) {
    case 'swish':
      return tf.mul(z, tf.sigmoid(tf.mul(z, b)));
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'tanh':
      return tf.tanh(z);
    case 'softplus': {
      // A learned β could reach 0; softplus(βz)/β must not divide by it.
      const safe = tf.maximum(b, 1e-3);
      return tf.div(tf.softplus(tf.mul(z, safe)), safe);
    }
    default:
      throw new Error(`activation '${layer.activation}' is not a smooth activation`);
  }
}

/** The kernel (Wᵀ, fan_in × fan_out) the forward uses: the free parameter, or its orthonormalisation under the exact parametrisation. */
export function kernelOf(mlp: Mlp, i: number): tf.Tensor2D {
  const kernel = mlp.kernels[i];
  return mlp.orthogonal && i < mlp.layers.length ? polar(kernel, FORWARD_POLAR_STEPS) : kernel;
}

/**
 * Polar factor by Newton–Schulz, X ← 1.5X − 0.5X(XᵀX): orthonormal columns (rows of W) when fan_out ≤ fan_in, orthonormal
 * rows otherwise. Scaled first by a Gershgorin bound so every singular value starts in (0, 1].
 */
export function polar(kernel: tf.Tensor2D, steps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [rows, cols] = kernel.shape;
    const gram = (x: tf.Tensor2D): tf.Tensor2D => (cols <= rows ? tf.matMul(tf.transpose(x), x) : tf.matMul(x, tf.transpose(x)));
    const apply = (x: tf.Tensor2D, g: tf.Tensor2D): tf.Tensor2D => (cols <= rows ? tf.matMul(x, g) : tf.matMul(g, x));
    const g0 = gram(kernel);
    let x: tf.Tensor2D = tf.div(kernel, tf.sqrt(tf.max(tf.sum(tf.abs(g0), 1))));
    for (let s = 0; s < steps; s++) x = tf.sub(tf.mul(x, 1.5), tf.mul(apply(x, gram(x)), 0.5));
    return x;
  });
}

/** Σ_{k≠k'} ⟨w_k, w_k'⟩² of one layer, from its kernel Wᵀ: ‖WWᵀ‖²_F − Σ_k ‖w_k‖⁴. */
export function offDiagonalPenalty(kernel: tf.Tensor2D): tf.Scalar {
  const gram = tf.matMul(tf.transpose(kernel), kernel);
  return tf.sub<tf.Scalar>(tf.sum(tf.square(gram)), tf.sum(tf.square(tf.sum(tf.square(kernel), 0))));
}

/** Orthonormal columns (or rows, when there are more columns than rows) by modified Gram–Schmidt twice, in float64. */
export function orthonormalize(values: Float32Array, rows: number, cols: number): Float32Array {
  const byColumns = cols <= rows;
  const count = byColumns ? cols : rows;
  const length = byColumns ? rows : cols;
  const at = (v: number, k: number) => (byColumns ? k * cols + v : v * cols + k);
  const vectors = Array.from({ length: count }, (_, v) => Float64Array.from({ length }, (_, k) => values[at(v, k)]));
  for (let v = 0; v < count; v++) {
    const x = vectors[v];
    for (let pass = 0; pass < 2; pass++) {
      for (let u = 0; u < v; u++) {
        let d = 0;
        for (let k = 0; k < length; k++) d += x[k] * vectors[u][k];
        for (let k = 0; k < length; k++) x[k] -= d * vectors[u][k];
      }
    }
    let n = 0;
    for (let k = 0; k < length; k++) n += x[k] * x[k];
    n = Math.sqrt(n);
    // A (measure-zero) dependent vector becomes a unit basis vector orthogonalised on the next pass.
    for (let k = 0; k < length; k++) x[k] = n > 1e-12 ? x[k] / n : k === v ? 1 : 0;
  }
  const out = new Float32Array(values.length);
  vectors.forEach((x, v) => x.forEach((value, k) => (out[at(v, k)] = value)));
  return out;
}

export function annealBeta(step: number, steps: number, anneal: { betaStart: number; betaEnd: number }): number {
  const t = steps <= 1 ? 1 : (step - 1) / (steps - 1);
  return anneal.betaStart * Math.pow(anneal.betaEnd / anneal.betaStart, t);
}

export interface Companions {
  /** Extra variables for the optimizer (learnable β). */
  trainable: tf.Variable[];
  /** Sets the anneal's β for this step. */
  beforeStep(step: number, steps: number): void;
  /** λ Σ_{k≠k'} ⟨w_k, w_k'⟩² over the hidden layers, or undefined; call inside the loss. */
  penalty(): tf.Scalar | undefined;
  /** Retraction of the exact parametrisation onto the orthonormal set; call after each update. */
  afterStep(): void;
  /** Fields for the metrics row of a logged step: β, and the residual on the first region during an anneal. */
  metrics(step: number, steps: number, fold: () => FoldedNetwork): { beta?: number; residual?: number };
  /** At the end of a completed anneal: swish/softplus layers become hard ReLU before the final fold. */
  hardenForExport(completed: boolean): void;
  dispose(): void;
}

/** Adds β variables and orthogonality handling to a freshly created MLP, as the spec asks. */
export function attachCompanions(mlp: Mlp, spec: ResolvedSpec): Companions {
  const anneal = spec.training.anneal;
  const ortho = spec.training.orthogonality;
  const hidden = mlp.layers.length;
  const owned: tf.Variable[] = [];
  const trainable: tf.Variable[] = [];
  let annealed = false;
  if (mlp.layers.some((l) => l.activation === 'swish' || l.activation === 'softplus')) {
    mlp.betas = mlp.layers.map((layer, i) => {
      if (layer.activation !== 'swish' && layer.activation !== 'softplus') return undefined;
      const start = anneal ? anneal.betaStart : (layer.beta ?? 1);
      const learn = Boolean(layer.learnBeta) && !anneal;
      // tidy disposes the initial fill; the variable keeps its own reference to the data.
      const v = tf.tidy(() => tf.variable(tf.fill([layer.units], start) as tf.Tensor1D, learn, `${mlp.kernels[i].name}_beta`));
      owned.push(v);
      if (learn) trainable.push(v);
      return v;
    });
  }
  if (ortho?.kind === 'exact') {
    mlp.orthogonal = true;
    for (let i = 0; i < hidden; i++) {
      const k = mlp.kernels[i];
      const [rows, cols] = k.shape;
      const orthonormal = orthonormalize(k.dataSync() as Float32Array, rows, cols);
      tf.tidy(() => k.assign(tf.tensor2d(orthonormal, [rows, cols])));
    }
  }
  const residualEvery = Math.max(1, Math.round(spec.training.steps / ANNEAL_RESIDUAL_POINTS));
  return {
    trainable,
    beforeStep(step, steps) {
      if (!anneal || !mlp.betas) return;
      const beta = annealBeta(step, steps, anneal);
      for (const v of mlp.betas) if (v) tf.tidy(() => v.assign(tf.fill(v.shape, beta)));
    },
    penalty() {
      if (ortho?.kind !== 'penalty' || ortho.lambda === 0 || hidden === 0) return undefined;
      let total = offDiagonalPenalty(mlp.kernels[0]);
      for (let i = 1; i < hidden; i++) total = tf.add<tf.Scalar>(total, offDiagonalPenalty(mlp.kernels[i]));
      return tf.mul<tf.Scalar>(total, ortho.lambda);
    },
    afterStep() {
      if (!mlp.orthogonal) return;
      for (let i = 0; i < hidden; i++) {
        const k = mlp.kernels[i];
        tf.tidy(() => k.assign(polar(k, RETRACT_POLAR_STEPS)));
      }
    },
    metrics(step, steps, fold) {
      const betas = mlp.betas?.filter((v): v is tf.Variable<tf.Rank.R1> => v !== undefined);
      if (!betas?.length || annealed) return {};
      const beta = anneal ? annealBeta(step, steps, anneal) : tf.tidy(() => tf.mean(tf.concat(betas)).dataSync()[0]);
      if (!anneal || spec.regions.length === 0 || (step % residualEvery !== 0 && step !== steps)) return { beta };
      const residual = affineResidual(fold(), spec.regions[0].vertices, { samples: 64, seed: step }).maxResidual;
      return { beta, residual };
    },
    hardenForExport(completed) {
      if (!anneal || !mlp.betas || !completed) return;
      mlp.layers = mlp.layers.map((layer) => (layer.activation === 'swish' || layer.activation === 'softplus' ? { units: layer.units, activation: 'relu', alpha: 0 } : layer));
      mlp.betas = undefined;
      annealed = true;
    },
    dispose() {
      tf.dispose(owned);
    },
  };
}

/** β of layer i for network.json: one number when every unit shares it, else one per unit. */
export function exportedBeta(mlp: Mlp, i: number): number | number[] | undefined {
  const v = mlp.betas?.[i];
  if (!v) return undefined;
  const values = Array.from(v.dataSync());
  return values.every((b) => b === values[0]) ? values[0] : values;
}
