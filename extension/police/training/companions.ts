// Training-side companions: learnable or annealed β, the orthogonality penalty and the exact orthogonal parametrisation's retraction.
import * as tf from '@tensorflow/tfjs-core';
import { affineResidual } from '../network/affine-residual';
import { isAnnealable } from '../spec/activations';
import type { Mlp } from './model';
import { offDiagonalPenalty, orthonormalize, polar } from './orthogonal';
import type { FoldedNetwork } from '../network/network';
import type { ResolvedSpec } from '../spec/types';

/** Newton–Schulz steps of the retraction after each update (quadratic convergence from a point 1e-3 off). */
const RETRACT_POLAR_STEPS = 3;
/** At most this many residual measurements during an anneal (each needs a fold and a float64 pass). */
const ANNEAL_RESIDUAL_POINTS = 20;

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
  /**
   * Fields for the metrics row of a logged step: β, and the residual on the first region during an anneal. Every device
   * read starts before this returns (so later steps cannot change what it reads); the values arrive asynchronously.
   */
  metrics(step: number, steps: number, fold: () => Promise<FoldedNetwork>): Promise<{ beta?: number; residual?: number }>;
  /** At the end of a completed anneal: swish/softplus layers become hard ReLU before the final fold. */
  hardenForExport(completed: boolean): void;
  dispose(): void;
}

/** Adds β variables and orthogonality handling to a freshly created MLP, as the spec asks. */
export async function attachCompanions(mlp: Mlp, spec: ResolvedSpec): Promise<Companions> {
  const anneal = spec.training.anneal;
  const ortho = spec.training.orthogonality;
  const hidden = mlp.layers.length;
  const owned: tf.Variable[] = [];
  const trainable: tf.Variable[] = [];
  let annealed = false;
  if (mlp.layers.some((l) => isAnnealable(l.activation))) {
    mlp.betas = mlp.layers.map((layer, i) => {
      if (!isAnnealable(layer.activation)) return undefined;
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
      const orthonormal = orthonormalize((await k.data()) as Float32Array, rows, cols);
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
    async metrics(step, steps, fold) {
      const betas = mlp.betas?.filter((v): v is tf.Variable<tf.Rank.R1> => v !== undefined);
      if (!betas?.length || annealed) return {};
      if (!anneal) {
        const mean = tf.tidy(() => tf.mean(tf.concat(betas)));
        try {
          return { beta: (await mean.data())[0] };
        } finally {
          mean.dispose();
        }
      }
      const beta = annealBeta(step, steps, anneal);
      if (spec.regions.length === 0 || (step % residualEvery !== 0 && step !== steps)) return { beta };
      const residual = affineResidual(await fold(), spec.regions[0].vertices, { samples: 64, seed: step }).maxResidual;
      return { beta, residual };
    },
    hardenForExport(completed) {
      if (!anneal || !mlp.betas || !completed) return;
      mlp.layers = mlp.layers.map((layer) =>
        isAnnealable(layer.activation) ? { units: layer.units, activation: 'relu', alpha: 0 } : layer,
      );
      mlp.betas = undefined;
      annealed = true;
    },
    dispose() {
      tf.dispose(owned);
    },
  };
}

/** β of layer i for network.json: one number when every unit shares it, else one per unit. */
export async function exportedBeta(mlp: Mlp, i: number): Promise<number | number[] | undefined> {
  const v = mlp.betas?.[i];
  if (!v) return undefined;
  const values = Array.from(await v.data());
  return values.every((b) => b === values[0]) ? values[0] : values;
}
