// Adam, AdamW (decoupled weight decay) and SGD, updating each variable in its own tidy (lower peak memory than tf.train.adam).
import * as tf from '@tensorflow/tfjs-core';

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

export class Optimizer {
  private readonly first = new Map<tf.Variable, tf.Variable>();
  private readonly second = new Map<tf.Variable, tf.Variable>();
  private step = 0;

  constructor(private readonly options: OptimizerOptions) {}

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
          const m = this.slot(this.first, variable);
          const v = this.slot(this.second, variable);
          m.assign(tf.add(tf.mul(m, c.beta1), tf.mul(g, c.oneMinusBeta1)));
          v.assign(tf.add(tf.mul(v, c.beta2), tf.mul(tf.square(g), c.oneMinusBeta2)));
          const update = tf.div(tf.mul(m, c.stepSize), tf.add(tf.sqrt(tf.div(v, c.correction2)), c.epsilon));
          const base = kind === 'adamw' && decay > 0 ? tf.mul(variable, c.keep) : variable;
          variable.assign(tf.sub(base, update));
        });
      }
    } finally {
      tf.dispose(Object.values(c));
    }
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
    for (const slot of [...this.first.values(), ...this.second.values()]) slot.dispose();
    this.first.clear();
    this.second.clear();
  }
}
