// Adam, AdamW (decoupled weight decay) and SGD: small models as one flat vector (a few kernels a step instead of ~14 per variable),
// large ones variable by variable, each in its own tidy (lower peak memory than tf.train.adam).
import * as tf from '@tensorflow/tfjs-core';
import { FLAT_UPDATE_MAX_PARAMETERS } from './memory';

export type OptimizerKind = 'adam' | 'adamw' | 'sgd';

export interface OptimizerOptions {
  kind: OptimizerKind;
  lr: number;
  /** AdamW only: decoupled decay θ ← θ − lr·wd·θ (the spec documents it as ignored by adam and sgd). */
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** The flat update's state: the variables it covers (in order), their moments, and the per-entry decay factor. */
interface FlatState {
  variables: tf.Variable[];
  first: tf.Variable<tf.Rank.R1>;
  second: tf.Variable<tf.Rank.R1>;
  /** 1 − lr·wd on decayed entries, 1 elsewhere (AdamW with a weight decay only). */
  keep?: tf.Tensor1D;
}

/** One step's scalars, made once per step. */
type StepConstants = Record<
  'lr' | 'beta1' | 'oneMinusBeta1' | 'beta2' | 'oneMinusBeta2' | 'stepSize' | 'correction2' | 'epsilon',
  tf.Scalar
>;

/** Adam's update of x (moments m and v updated in place); `keep` multiplies x first (AdamW's decoupled decay). */
function adamStep(x: tf.Tensor, g: tf.Tensor, m: tf.Variable, v: tf.Variable, keep: tf.Tensor | undefined, c: StepConstants): tf.Tensor {
  m.assign(tf.add(tf.mul(m, c.beta1), tf.mul(g, c.oneMinusBeta1)));
  v.assign(tf.add(tf.mul(v, c.beta2), tf.mul(tf.square(g), c.oneMinusBeta2)));
  const update = tf.div(tf.mul(m, c.stepSize), tf.add(tf.sqrt(tf.div(v, c.correction2)), c.epsilon));
  return tf.sub(keep ? tf.mul(x, keep) : x, update);
}

export class Optimizer {
  private readonly first = new Map<tf.Variable, tf.Variable>();
  private readonly second = new Map<tf.Variable, tf.Variable>();
  private flat: FlatState | undefined;
  private step = 0;

  /** `flatUpTo`: the largest model updated as one vector (tests lower it to compare both paths). */
  constructor(
    private readonly options: OptimizerOptions,
    private readonly flatUpTo = FLAT_UPDATE_MAX_PARAMETERS,
  ) {}

  /** Applies one update; `grads` maps variable name → gradient (as tf.variableGrads returns). */
  apply(variables: tf.Variable[], grads: tf.NamedTensorMap, decayed: (v: tf.Variable) => boolean): void {
    this.step++;
    const { kind, lr, weightDecay } = this.options;
    const beta1 = this.options.beta1 ?? 0.9;
    const beta2 = this.options.beta2 ?? 0.999;
    const epsilon = this.options.epsilon ?? 1e-8;
    const correction1 = 1 - Math.pow(beta1, this.step);
    const correction2 = 1 - Math.pow(beta2, this.step);
    // The step's constants as scalars made once, not once per variable (each number operand is an upload and a dispose).
    const c = {
      lr: tf.scalar(lr),
      beta1: tf.scalar(beta1),
      oneMinusBeta1: tf.scalar(1 - beta1),
      beta2: tf.scalar(beta2),
      oneMinusBeta2: tf.scalar(1 - beta2),
      stepSize: tf.scalar(lr / correction1),
      correction2: tf.scalar(correction2),
      epsilon: tf.scalar(epsilon),
      keep: tf.scalar(1 - lr * weightDecay),
    };
    try {
      const present = variables.filter((v) => grads[v.name]);
      if (present.reduce((n, v) => n + v.size, 0) <= this.flatUpTo) {
        this.applyFlat(present, grads, decayed, c);
        return;
      }
      for (const variable of variables) {
        const grad = grads[variable.name];
        if (!grad) continue;
        const decay = decayed(variable) ? weightDecay : 0;
        tf.tidy(() => {
          const g: tf.Tensor = grad;
          if (kind === 'sgd') {
            variable.assign(tf.sub(variable, tf.mul(g, c.lr)));
            return;
          }
          const keep = kind === 'adamw' && decay > 0 ? c.keep : undefined;
          variable.assign(adamStep(variable, g, this.slot(this.first, variable), this.slot(this.second, variable), keep, c));
        });
      }
    } finally {
      tf.dispose(Object.values(c));
    }
  }

  /** The same update on all variables as one vector: identical arithmetic per entry (x·1 = x where no decay applies). */
  private applyFlat(variables: tf.Variable[], grads: tf.NamedTensorMap, decayed: (v: tf.Variable) => boolean, c: StepConstants): void {
    const { kind, lr, weightDecay } = this.options;
    const state = this.flatState(variables, decayed, lr, weightDecay);
    tf.tidy(() => {
      const flatten = (tensors: tf.Tensor[]): tf.Tensor1D =>
        (tensors.length === 1 ? tf.reshape(tensors[0], [-1]) : tf.concat(tensors.map((t) => tf.reshape(t, [-1])))) as tf.Tensor1D;
      const g = flatten(variables.map((v) => grads[v.name]));
      const x = flatten(variables);
      let next: tf.Tensor1D;
      if (kind === 'sgd') {
        next = tf.sub(x, tf.mul(g, c.lr));
      } else {
        next = adamStep(x, g, state.first, state.second, state.keep, c) as tf.Tensor1D;
      }
      const parts =
        variables.length === 1
          ? [next]
          : tf.split(
              next,
              variables.map((v) => v.size),
            );
      variables.forEach((variable, i) => variable.assign(tf.reshape(parts[i], variable.shape)));
    });
  }

  private flatState(variables: tf.Variable[], decayed: (v: tf.Variable) => boolean, lr: number, weightDecay: number): FlatState {
    const same = this.flat && this.flat.variables.length === variables.length && this.flat.variables.every((v, i) => v === variables[i]);
    if (this.flat && same) return this.flat;
    // A different set of variables (never within one training): start its moments afresh.
    this.disposeFlat();
    const size = variables.reduce((n, v) => n + v.size, 0);
    const decays = this.options.kind === 'adamw' && weightDecay > 0 && variables.some(decayed);
    let keep: tf.Tensor1D | undefined;
    if (decays) {
      const values = new Float32Array(size).fill(1);
      let offset = 0;
      for (const v of variables) {
        if (decayed(v)) values.fill(1 - lr * weightDecay, offset, offset + v.size);
        offset += v.size;
      }
      // Kept: apply() runs inside the training step's tidy, which would end it with the step.
      keep = tf.keep(tf.tensor1d(values));
    }
    const zeros = () => tf.tidy(() => tf.variable(tf.zeros<tf.Rank.R1>([size]), false));
    this.flat = { variables: [...variables], first: zeros(), second: zeros(), ...(keep ? { keep } : {}) };
    return this.flat;
  }

  private disposeFlat(): void {
    if (!this.flat) return;
    tf.dispose([this.flat.first, this.flat.second, ...(this.flat.keep ? [this.flat.keep] : [])]);
    this.flat = undefined;
  }

  private slot(slots: Map<tf.Variable, tf.Variable>, variable: tf.Variable): tf.Variable {
    let slot = slots.get(variable);
    if (!slot) {
      const zeros = tf.zerosLike(variable);
      slot = tf.variable(zeros, false);
      zeros.dispose();
      slots.set(variable, slot);
    }
    return slot;
  }

  dispose(): void {
    this.disposeFlat();
    for (const slot of [...this.first.values(), ...this.second.values()]) slot.dispose();
    this.first.clear();
    this.second.clear();
  }
}
