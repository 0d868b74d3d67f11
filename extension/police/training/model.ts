// The MLP being trained: W^T storage (no transposed matmul), seeded init, plain and POLICE forward, exact Eq. 1/2 skip, losses.
import * as tf from '@tensorflow/tfjs-core';
import { pinv } from 'mathjs';
import { ACTIVATIONS, type Tf } from '../spec/activations';
import { polar } from './orthogonal';
import { leakyRelu } from './fast-ops';
import { policeShift, type ShiftTensors, type ShiftRule, type VertexLayout } from './police-layer';
import { createRng, deriveSeed } from '../common/random';
import type { Matrix, ResolvedLayer, ResolvedRegion, ResolvedSpec } from '../spec/types';

export interface MlpShape {
  inputDim: number;
  layers: ResolvedLayer[];
  outputUnits: number;
}

export interface Mlp extends MlpShape {
  /** Per layer (hidden layers then the linear output layer): W^T, fan_in × fan_out. */
  kernels: tf.Variable<tf.Rank.R2>[];
  biases: tf.Variable<tf.Rank.R1>[];
  /** swish/softplus layers: β per unit (trainable when learned, assigned by an anneal); see companion-training.ts. */
  betas?: (tf.Variable<tf.Rank.R1> | undefined)[];
  /** Exact orthogonal parametrisation of the hidden kernels (training.orthogonality.parametrization = exact). */
  orthogonal?: boolean;
}

let modelCounter = 0;

/** He-normal init for the (leaky-)ReLU/abs layers, Glorot-normal for the linear output layer; zero biases. */
export function createMlp(shape: MlpShape, seed: number): Mlp {
  const rng = createRng(deriveSeed(seed, 2));
  const kernels: tf.Variable<tf.Rank.R2>[] = [];
  const biases: tf.Variable<tf.Rank.R1>[] = [];
  const tag = modelCounter++;
  const widths = [shape.inputDim, ...shape.layers.map((l) => l.units), shape.outputUnits];
  for (let i = 0; i + 1 < widths.length; i++) {
    const fanIn = widths[i];
    const fanOut = widths[i + 1];
    const isOutput = i + 1 === widths.length - 1;
    const alpha = isOutput ? 0 : shape.layers[i].activation === 'leaky_relu' ? shape.layers[i].alpha : 0;
    const std = isOutput ? Math.sqrt(2 / (fanIn + fanOut)) : Math.sqrt(2 / ((1 + alpha * alpha) * fanIn));
    const values = new Float32Array(fanIn * fanOut);
    for (let j = 0; j < values.length; j++) values[j] = rng.normal() * std;
    // The variable keeps the data; dispose the initial tensors so they are not counted (and held) twice.
    const kernel = tf.tensor2d(values, [fanIn, fanOut]);
    const bias = tf.zeros([fanOut]) as tf.Tensor1D;
    kernels.push(tf.variable(kernel, true, `police_${tag}_kernel_${i}`));
    biases.push(tf.variable(bias, true, `police_${tag}_bias_${i}`));
    tf.dispose([kernel, bias]);
  }
  return { ...shape, kernels, biases };
}

export function disposeMlp(mlp: Mlp): void {
  for (const v of [...mlp.kernels, ...mlp.biases]) v.dispose();
}

const ACTIVATION_OPS: Tf = {
  relu: tf.relu,
  leakyRelu: leakyRelu as typeof tf.leakyRelu,
  abs: tf.abs,
  mul: tf.mul,
  sigmoid: tf.sigmoid,
  tanh: tf.tanh,
  div: tf.div,
  maximum: tf.maximum,
  softplus: tf.softplus,
};

/** The layer's activation; β is the learned or annealed per-unit tensor, else the layer's fixed β. */
export function activate(z: tf.Tensor2D, layer: ResolvedLayer, beta?: tf.Tensor1D): tf.Tensor2D {
  return ACTIVATIONS[layer.activation].tensor(ACTIVATION_OPS, z, layer.alpha, beta ?? layer.beta ?? 1);
}

/** Newton–Schulz steps inside the forward: at an orthonormal point one step already projects the gradient onto the tangent space. */
const FORWARD_POLAR_STEPS = 1;

/** The kernel (Wᵀ, fan_in × fan_out) the forward uses: the free parameter, or its orthonormalisation under the exact parametrisation. */
export function kernelOf(mlp: Mlp, i: number): tf.Tensor2D {
  const kernel = mlp.kernels[i];
  return mlp.orthogonal && i < mlp.layers.length ? polar(kernel, FORWARD_POLAR_STEPS) : kernel;
}

function dense(x: tf.Tensor2D, mlp: Mlp, i: number): tf.Tensor2D {
  return tf.add(tf.matMul(x, kernelOf(mlp, i)), mlp.biases[i]);
}

/** The unconstrained network (no vertex pass, no shift). */
export function forwardPlain(mlp: Mlp, x: tf.Tensor2D): tf.Tensor2D {
  let h = x;
  for (let i = 0; i < mlp.layers.length; i++) h = activate(dense(h, mlp, i), mlp.layers[i], mlp.betas?.[i]);
  return dense(h, mlp, mlp.layers.length);
}

// ---------- POLICE context: vertices, exact skip, penalties ----------

export interface ExactSkip {
  kind: 'jacobian' | 'affine_map';
  region: number;
  /** Row offset of the region in the vertex block. */
  offset: number;
  count: number;
  /** (D+1)×P pseudo-inverse of [V 1], float64, computed once. */
  pinv: Matrix;
  /** A* (outputs × D) and b* (zeros for jacobian). */
  A: Matrix;
  b: number[];
}

export interface PenaltyTerm {
  kind: 'jacobian' | 'affine_map';
  region: number;
  offset: number;
  count: number;
  /** affine_map: targets A v + b per vertex (P×O); jacobian: (v_p − v_0) Aᵀ for p ≥ 1 ((P−1)×O). */
  target: Matrix;
}

export interface PoliceContext {
  /** All regions' vertices stacked, P_total × D. */
  vertices: Matrix;
  regionSizes: number[];
  rule: ShiftRule;
  margin: number;
  exact?: ExactSkip;
  penalties: PenaltyTerm[];
}

function matVec(A: Matrix, v: number[]): number[] {
  return A.map((row) => row.reduce((sum, a, j) => sum + a * v[j], 0));
}

/** [V 1]⁺ in float64: maps vertex outputs to the least-squares affine map [Mᵀ; mᵀ]. */
export function vertexPseudoInverse(vertices: Matrix): Matrix {
  return pinv(vertices.map((v) => [...v, 1])) as Matrix;
}

export function buildPoliceContext(spec: ResolvedSpec): PoliceContext {
  const vertices: Matrix = [];
  const regionSizes: number[] = [];
  let exact: ExactSkip | undefined;
  const penalties: PenaltyTerm[] = [];
  spec.regions.forEach((region: ResolvedRegion, index) => {
    const offset = vertices.length;
    vertices.push(...region.vertices);
    regionSizes.push(region.vertices.length);
    const c = region.constraint;
    if (c.kind === 'affine') return;
    const b = c.kind === 'affine_map' ? c.b : new Array<number>(spec.outputUnits).fill(0);
    if (!exact) {
      exact = { kind: c.kind, region: index, offset, count: region.vertices.length, pinv: vertexPseudoInverse(region.vertices), A: c.A, b };
      return;
    }
    const target =
      c.kind === 'affine_map'
        ? region.vertices.map((v) => matVec(c.A, v).map((value, i) => value + b[i]))
        : region.vertices.slice(1).map((v) =>
            matVec(
              c.A,
              v.map((x, j) => x - region.vertices[0][j]),
            ),
          );
    penalties.push({ kind: c.kind, region: index, offset, count: region.vertices.length, target });
  });
  return { vertices, regionSizes, rule: effectiveShiftRule(spec), margin: spec.police.margin, exact, penalties };
}

/** The rule a spec trains with: a vote per region at every step cannot keep several regions on one side, so 'majority' means 'minimal' there. */
export function effectiveShiftRule(spec: ResolvedSpec): ShiftRule {
  return spec.regions.length > 1 && spec.police.rule === 'majority' ? 'minimal' : spec.police.rule;
}

/** Constant tensors of a PoliceContext, built once per training run, and the sides the 'fixed' rule keeps. */
export interface PoliceTensors {
  context: PoliceContext;
  vertices: tf.Tensor2D;
  pinv?: tf.Tensor2D;
  skipA?: tf.Tensor2D;
  skipB?: tf.Tensor2D;
  penaltyTargets: tf.Tensor2D[];
  /** Per hidden layer, each unit's side on each region ('fixed' rule; regions × units, on the device), voted on the initial weights (0 until then). */
  keptSides: tf.Variable<tf.Rank.R2>[];
}

export function policeTensors(context: PoliceContext, inputDim: number): PoliceTensors {
  const flat = new Float32Array(context.vertices.length * inputDim);
  context.vertices.forEach((v, p) => flat.set(v, p * inputDim));
  const t: PoliceTensors = {
    context,
    vertices: tf.tensor2d(flat, [context.vertices.length, inputDim]),
    penaltyTargets: context.penalties.map((p) => tf.tensor2d(p.target)),
    keptSides: [],
  };
  if (context.exact) {
    t.pinv = tf.tensor2d(context.exact.pinv);
    // A*ᵀ (D×O) and b* (1×O): the skip's targets.
    const target = context.exact.A;
    t.skipA = tf.tidy(() => tf.transpose(tf.tensor2d(target)));
    t.skipB = tf.tensor2d([context.exact.b]);
  }
  return t;
}

export function disposePoliceTensors(t: PoliceTensors): void {
  tf.dispose([
    t.vertices,
    ...(t.pinv ? [t.pinv] : []),
    ...(t.skipA ? [t.skipA] : []),
    ...(t.skipB ? [t.skipB] : []),
    ...t.penaltyTargets,
    ...t.keptSides,
  ]);
  t.keptSides = [];
}

export interface PoliceForward {
  /** N×O network outputs for the batch, skip included. */
  output: tf.Tensor2D;
  /** P×O outputs at the vertices, skip included. */
  vertexOutputs: tf.Tensor2D;
  /** Sum of the penalty terms of further jacobian/affine_map regions (undefined when none). */
  penalty?: tf.Scalar;
}

/** Least-squares affine map of the network on the exact region from its vertex outputs: the skip (Wᵀ: D×O, b: 1×O). */
export function exactSkipTensors(
  t: PoliceTensors,
  vertexOutputs: tf.Tensor2D,
  inputDim: number,
): { w: tf.Tensor2D; b: tf.Tensor2D } | undefined {
  const exact = t.context.exact;
  if (!exact || !t.pinv || !t.skipA || !t.skipB) return undefined;
  const outputs = vertexOutputs.shape[1];
  const theta = tf.matMul(t.pinv, tf.slice(vertexOutputs, [exact.offset, 0], [exact.count, outputs]));
  const mT = tf.slice(theta, [0, 0], [inputDim, outputs]);
  const w = tf.sub<tf.Tensor2D>(t.skipA, mT);
  const b: tf.Tensor2D =
    exact.kind === 'affine_map' ? tf.sub<tf.Tensor2D>(t.skipB, tf.slice(theta, [inputDim, 0], [1, outputs])) : tf.zerosLike(t.skipB);
  return { w, b };
}

/**
 * Algorithm 1 with the vertices concatenated to the batch (one matmul per layer), then the exact
 * Eq. (1)/(2) skip for the first region that asks and penalties for the others.
 */
export function forwardPolice(
  mlp: Mlp,
  x: tf.Tensor2D,
  t: PoliceTensors,
  onShift?: (layer: number, shift: ShiftTensors) => void,
): PoliceForward {
  const batchRows = x.shape[0];
  const layout: VertexLayout = { batchRows, regionSizes: t.context.regionSizes };
  let h = batchRows > 0 ? tf.concat([x, t.vertices], 0) : t.vertices;
  for (let i = 0; i < mlp.layers.length; i++) {
    const keptSides =
      t.context.rule === 'fixed'
        ? (t.keptSides[i] ??= tf.tidy(() => tf.variable(tf.zeros([t.context.regionSizes.length, mlp.layers[i].units]), false)))
        : undefined;
    const z = policeShift(tf.matMul(h, kernelOf(mlp, i)), layout, t.context.rule, t.context.margin, {
      bias: mlp.biases[i],
      onShift: onShift && ((s) => onShift(i, s)),
      keptSides,
    });
    h = activate(z, mlp.layers[i], mlp.betas?.[i]);
  }
  const z = dense(h, mlp, mlp.layers.length);
  const outputs = mlp.outputUnits;
  const vertexCount = t.vertices.shape[0];
  let output = tf.slice(z, [0, 0], [batchRows, outputs]);
  let vertexOutputs = tf.slice(z, [batchRows, 0], [vertexCount, outputs]);
  const skip = exactSkipTensors(t, vertexOutputs, mlp.inputDim);
  if (skip) {
    output = tf.add(output, tf.add(tf.matMul(x, skip.w), skip.b));
    vertexOutputs = tf.add(vertexOutputs, tf.add(tf.matMul(t.vertices, skip.w), skip.b));
  }
  let penalty: tf.Scalar | undefined;
  t.context.penalties.forEach((term, i) => {
    const fv = tf.slice(vertexOutputs, [term.offset, 0], [term.count, outputs]);
    const got =
      term.kind === 'affine_map' ? fv : tf.sub(tf.slice(fv, [1, 0], [term.count - 1, outputs]), tf.slice(fv, [0, 0], [1, outputs]));
    const value = tf.mean(tf.square(tf.sub(got, t.penaltyTargets[i]))) as tf.Scalar;
    penalty = penalty ? tf.add<tf.Scalar>(penalty, value) : value;
  });
  return { output, vertexOutputs, penalty };
}

// ---------- losses ----------

export function regressionLoss(output: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.mean<tf.Scalar>(tf.square(tf.sub(output, target)));
}

/** Softmax cross-entropy against one-hot targets (built on the JS side: tf.oneHot is broken on wasm). */
export function classificationLoss(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.neg<tf.Scalar>(tf.mean<tf.Scalar>(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)));
}
