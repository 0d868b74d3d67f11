// The training loop: seeded, one tidy per step, prompt stop, constraint health, metrics rows, folded result.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendPreference } from './backend';
import { attachCompanions } from './companions';
import { loadData } from './data';
import { currentShifts, foldNetwork } from './fold';
import {
  buildPoliceContext,
  classificationLoss,
  createMlp,
  disposeMlp,
  disposePoliceTensors,
  forwardPlain,
  forwardPolice,
  policeTensors,
  regressionLoss,
  type Mlp,
  type PoliceTensors,
} from './model';
import type { FoldedNetwork } from '../network/network';
import { Optimizer } from './optimizer';
import { sideFlips, type LayerShift } from './police-layer';
import { createRng, deriveSeed, type Rng } from '../common/random';
import type { ResolvedSpec } from '../spec/types';
import { initBackend } from './backend';

/** Samples as the engine consumes them: row-major inputs and targets. */
/** Per hidden layer: how many units needed a bias shift at this step, and how large the shifts were. */
export interface LayerHealth {
  layer: number;
  units: number;
  shifted: number;
  meanAbsShift: number;
  maxAbsShift: number;
  /** Steps, summed over units, at which a unit of this layer changed side on some region since the start (each moves the function on R discontinuously). */
  sideFlips: number;
}

export interface TrainingData {
  x: Float32Array;
  /** Regression: count × outputDim targets. Classification: count class indices, or count × classes one-hot. */
  y: Float32Array;
  count: number;
  inputDim: number;
  outputDim: number;
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  health: LayerHealth[];
  elapsedMs: number;
}

/** One line of metrics.jsonl. */
export interface MetricsRow {
  step: number;
  loss: number;
  health: LayerHealth[];
  elapsed_ms: number;
  backend: string;
  /** swish/softplus β at this step (the anneal's, or the mean learned one). */
  beta?: number;
  /** During an anneal: largest affine residual on the first region at this step. */
  residual?: number;
}

/** Share of the training's wall time live snapshots may take (folding the network, copying it to the host). */
export const LIVE_SNAPSHOT_BUDGET = 0.03;

export interface TrainOptions {
  steps?: number;
  seed?: number;
  backend?: BackendPreference;
  onProgress?: (progress: TrainProgress) => void;
  onSnapshot?: (step: number, network: FoldedNetwork) => void;
  /** Checked before every step; training ends promptly when it returns true. */
  shouldStop?: () => boolean;
  /** Called as soon as the last step is taken, before its progress, snapshot, selection and the final fold. */
  onLastStep?: (step: number) => void;
  progressIntervalMs?: number;
  /**
   * Also snapshot at most this often (ms) besides spec.training.snapshotEvery: a view drawing the map live asks for it.
   * Live snapshots take at most LIVE_SNAPSHOT_BUDGET of the training's time; past it they wait.
   */
  snapshotIntervalMs?: number;
  /** Use these samples instead of loading the spec's data source. */
  data?: TrainingData;
  onLog?: (level: 'info' | 'warn', message: string) => void;
}

export interface TrainResult {
  network: FoldedNetwork;
  /** The folded network before the first step (the analysis compares orthogonality before/after). */
  initialNetwork?: FoldedNetwork;
  /** Loss of the folded model's training-time forward over the whole data set. */
  finalLoss: number;
  /** Classification only: fraction of samples classified correctly. */
  accuracy?: number;
  stepsDone: number;
  totalSteps: number;
  /** The step whose weights the network holds (the best of the final fifth; see BestNetwork). */
  keptStep: number;
  stopped: boolean;
  backend: string;
  backendNotes: string[];
  health: LayerHealth[];
  metrics: MetricsRow[];
  elapsedMs: number;
}

function layerHealth(layer: number, shift: LayerShift, sideFlips: number): LayerHealth {
  let shifted = 0;
  let sum = 0;
  let max = 0;
  for (let k = 0; k < shift.shift.length; k++) {
    const c = Math.abs(shift.shift[k]);
    if (c > 0) {
      shifted++;
      sum += c;
      if (c > max) max = c;
    }
  }
  return { layer, units: shift.shift.length, shifted, meanAbsShift: shifted ? sum / shifted : 0, maxAbsShift: max, sideFlips };
}

/** Batches drawn epoch by epoch from a seeded permutation. */
class Batcher {
  private order: Int32Array;
  private cursor = 0;
  constructor(
    private readonly data: TrainingData,
    private readonly size: number,
    private readonly rng: Rng,
  ) {
    this.order = Int32Array.from({ length: data.count }, (_, i) => i);
    this.shuffle();
  }
  private shuffle(): void {
    for (let i = this.order.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      const t = this.order[i];
      this.order[i] = this.order[j];
      this.order[j] = t;
    }
    this.cursor = 0;
  }
  next(): Int32Array {
    const rows = Math.min(this.size, this.data.count);
    if (this.cursor + rows > this.order.length) this.shuffle();
    const picked = this.order.subarray(this.cursor, this.cursor + rows);
    this.cursor += rows;
    return picked;
  }
}

/** Builds the x and target tensors for the given sample rows. */
function batchTensors(
  data: TrainingData,
  rows: ArrayLike<number>,
  task: 'regression' | 'classification',
  classes: number,
): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const D = data.inputDim;
  const n = rows.length;
  const x = new Float32Array(n * D);
  for (let i = 0; i < n; i++) x.set(data.x.subarray(rows[i] * D, rows[i] * D + D), i * D);
  if (task === 'regression') {
    const O = data.outputDim;
    const y = new Float32Array(n * O);
    for (let i = 0; i < n; i++) y.set(data.y.subarray(rows[i] * O, rows[i] * O + O), i * O);
    return { x: tf.tensor2d(x, [n, D]), y: tf.tensor2d(y, [n, O]) };
  }
  // One-hot built in JS: tf.oneHot returns 1.4e-45 instead of 1 on wasm.
  const oneHot = new Float32Array(n * classes);
  const isOneHot = data.y.length === data.count * classes && classes > 1 && data.outputDim === classes;
  for (let i = 0; i < n; i++) {
    if (isOneHot) oneHot.set(data.y.subarray(rows[i] * classes, rows[i] * classes + classes), i * classes);
    else oneHot[i * classes + Math.round(data.y[rows[i]])] = 1;
  }
  return { x: tf.tensor2d(x, [n, D]), y: tf.tensor2d(oneHot, [n, classes]) };
}

function specData(spec: ResolvedSpec): TrainingData {
  const loaded = loadData(spec);
  return { x: loaded.x, y: loaded.y, count: loaded.count, inputDim: loaded.inputDim, outputDim: loaded.outputDim };
}

/** Loss (and accuracy) of the current weights over the whole data set, POLICE forward when enabled. */
function evaluate(
  mlp: Mlp,
  police: PoliceTensors | undefined,
  data: TrainingData,
  spec: ResolvedSpec,
): { loss: number; accuracy?: number } {
  const task = spec.data.task;
  const classes = spec.outputUnits;
  const chunk = 4096;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += chunk) {
    const rows = Int32Array.from({ length: Math.min(chunk, data.count - start) }, (_, i) => start + i);
    const [loss, hits] = tf.tidy(() => {
      const { x, y } = batchTensors(data, rows, task, classes);
      const output = police ? forwardPolice(mlp, x, police).output : forwardPlain(mlp, x);
      const value = task === 'regression' ? regressionLoss(output, y) : classificationLoss(output, y);
      const hit = task === 'classification' ? tf.sum(tf.cast(tf.equal(tf.argMax(output, 1), tf.argMax(y, 1)), 'float32')) : tf.scalar(0);
      return [value.dataSync()[0], hit.dataSync()[0]];
    });
    lossSum += loss * rows.length;
    correct += hits;
  }
  const result: { loss: number; accuracy?: number } = { loss: lossSum / Math.max(1, data.count) };
  if (task === 'classification') result.accuracy = correct / Math.max(1, data.count);
  return result;
}

/** Samples used to pick the kept network: all of them up to this many, else a fixed seeded subset. */
const SELECTION_SAMPLES = 8192;
/** The kept network is chosen among the last fifth of the steps, at most this many times. */
const SELECTION_CHECKS = 20;

/**
 * POLICE's side of a unit can flip from one step to the next, and a flip moves the whole function: the loss
 * spikes and recovers. So that a run never ends on such a spike, the network of the final fifth of training
 * with the lowest loss (measured on the data, not a batch) is the one kept.
 */
class BestNetwork {
  private saved: tf.Tensor[] | undefined;
  loss = Infinity;
  step = 0;
  constructor(private readonly variables: tf.Variable[]) {}
  consider(step: number, loss: number): void {
    if (!(loss < this.loss)) return;
    this.loss = loss;
    this.step = step;
    tf.dispose(this.saved ?? []);
    this.saved = this.variables.map((v) => tf.clone(v));
  }
  restore(): void {
    this.saved?.forEach((value, i) => this.variables[i].assign(value));
  }
  dispose(): void {
    tf.dispose(this.saved ?? []);
    this.saved = undefined;
  }
}

function selectionSubset(data: TrainingData, seed: number): TrainingData {
  if (data.count <= SELECTION_SAMPLES) return data;
  const rng = createRng(deriveSeed(seed, 4));
  const D = data.inputDim;
  const O = data.y.length / data.count;
  const x = new Float32Array(SELECTION_SAMPLES * D);
  const y = new Float32Array(SELECTION_SAMPLES * O);
  for (let i = 0; i < SELECTION_SAMPLES; i++) {
    const row = rng.int(data.count);
    x.set(data.x.subarray(row * D, row * D + D), i * D);
    y.set(data.y.subarray(row * O, row * O + O), i * O);
  }
  return { ...data, x, y, count: SELECTION_SAMPLES };
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Trains the spec's network and returns it folded. Every step runs in one tidy; the stop flag is
 * checked before every step (and the event loop gets a turn, so an IPC 'stop' arrives promptly).
 */
export async function train(spec: ResolvedSpec, options: TrainOptions = {}): Promise<TrainResult> {
  const choice = await initBackend(options.backend ?? 'auto');
  for (const note of choice.notes) options.onLog?.('warn', note);
  const steps = options.steps ?? spec.training.steps;
  const seed = options.seed ?? spec.training.seed;
  const data = options.data ?? specData(spec);
  if (data.inputDim !== spec.inputDim)
    throw new Error(`data for '${spec.name}' has ${data.inputDim} inputs, the spec says input.dim = ${spec.inputDim}`);
  if (spec.data.task === 'regression' && data.outputDim !== spec.outputUnits) {
    throw new Error(`data for '${spec.name}' has ${data.outputDim} target(s), model.output.units is ${spec.outputUnits}`);
  }
  if (data.count === 0) throw new Error(`data for '${spec.name}' has no samples`);
  const task = spec.data.task;
  const classes = spec.outputUnits;
  const started = Date.now();
  const mlp = createMlp({ inputDim: spec.inputDim, layers: spec.layers, outputUnits: spec.outputUnits }, seed);
  const police = spec.police.enabled && spec.regions.length > 0 ? policeTensors(buildPoliceContext(spec), spec.inputDim) : undefined;
  // The 'fixed' rule votes each unit's side here, on the initial weights (a vertex pass; other rules just look).
  if (police) currentShifts(mlp, police);
  const companions = attachCompanions(mlp, { ...spec, training: { ...spec.training, steps } });
  const initialNetwork = foldNetwork(mlp, police);
  const optimizer = new Optimizer({ kind: spec.training.optimizer, lr: spec.training.lr, weightDecay: spec.training.weightDecay });
  const variables: tf.Variable[] = [...mlp.kernels, ...mlp.biases, ...companions.trainable];
  const kernels = new Set<tf.Variable>(mlp.kernels);
  const batcher = new Batcher(data, spec.training.batch, createRng(deriveSeed(seed, 3)));
  const metrics: MetricsRow[] = [];
  const logEvery = Math.max(1, Math.round(steps / 200));
  const progressInterval = options.progressIntervalMs ?? 200;
  let lastProgress = -Infinity;
  let lastLiveSnapshot = -Infinity;
  /** Time spent folding and handing over live snapshots, kept under LIVE_SNAPSHOT_BUDGET of the time trained. */
  let liveSnapshotMs = 0;
  let health: LayerHealth[] = [];
  let previousShifts: LayerShift[] = [];
  const flipTotals: number[] = [];
  let lastLoss = NaN;
  let stepsDone = 0;
  let stopped = false;
  // Selection would mix weights of one step with the β of another during an anneal: keep the last step there.
  const selecting = !spec.training.anneal && steps >= 20;
  const selectionStart = Math.floor(steps * 0.8);
  const selectionEvery = Math.max(1, Math.floor((steps - selectionStart) / SELECTION_CHECKS));
  const selectionData = selecting ? selectionSubset(data, seed) : data;
  const best = new BestNetwork(variables);
  try {
    for (let step = 1; step <= steps; step++) {
      await yieldToEventLoop();
      if (options.shouldStop?.()) {
        stopped = true;
        break;
      }
      const shifts: LayerShift[] = [];
      companions.beforeStep(step, steps);
      const loss = tf.tidy(() => {
        const { x, y } = batchTensors(data, batcher.next(), task, classes);
        const { value, grads } = tf.variableGrads(() => {
          let output: tf.Tensor2D;
          let penalty: tf.Scalar | undefined;
          if (police) {
            const result = forwardPolice(mlp, x, police, (layer, shift) => (shifts[layer] = shift));
            output = result.output;
            penalty = result.penalty;
          } else {
            output = forwardPlain(mlp, x);
          }
          const base = task === 'regression' ? regressionLoss(output, y) : classificationLoss(output, y);
          const ortho = companions.penalty();
          const constrained = penalty ? tf.add<tf.Scalar>(base, penalty) : base;
          return ortho ? tf.add<tf.Scalar>(constrained, ortho) : constrained;
        }, variables);
        optimizer.apply(variables, grads, (v) => kernels.has(v));
        companions.afterStep();
        return value;
      });
      stepsDone = step;
      if (step === steps) options.onLastStep?.(step);
      shifts.forEach((shift, layer) => {
        const before = previousShifts[layer];
        flipTotals[layer] = (flipTotals[layer] ?? 0) + (before ? sideFlips(before, shift) : 0);
      });
      previousShifts = shifts;
      const now = Date.now();
      const logged = step % logEvery === 0 || step === steps;
      const report = options.onProgress && (now - lastProgress >= progressInterval || step === steps);
      if (logged || report) {
        lastLoss = loss.dataSync()[0];
        health = shifts.map((s, layer) => layerHealth(layer, s, flipTotals[layer]));
      }
      loss.dispose();
      if (!Number.isFinite(lastLoss) && (logged || report))
        throw new Error(`training '${spec.name}' diverged at step ${step} (loss ${lastLoss}); lower training.lr`);
      if (logged)
        metrics.push({
          step,
          loss: lastLoss,
          health,
          elapsed_ms: now - started,
          backend: choice.backend,
          ...companions.metrics(step, steps, () => foldNetwork(mlp, police)),
        });
      if (report) {
        lastProgress = now;
        options.onProgress?.({ step, totalSteps: steps, loss: lastLoss, health, elapsedMs: now - started });
      }
      const interval = options.snapshotIntervalMs;
      if (options.onSnapshot && spec.training.snapshotEvery > 0 && step % spec.training.snapshotEvery === 0) {
        options.onSnapshot(step, foldNetwork(mlp, police));
      } else if (
        options.onSnapshot &&
        interval !== undefined &&
        now - lastLiveSnapshot >= interval &&
        liveSnapshotMs <= LIVE_SNAPSHOT_BUDGET * (now - started)
      ) {
        const snapshotStart = performance.now();
        options.onSnapshot(step, foldNetwork(mlp, police));
        liveSnapshotMs += performance.now() - snapshotStart;
        lastLiveSnapshot = Date.now();
      }
      if (selecting && step > selectionStart && ((step - selectionStart) % selectionEvery === 0 || step === steps)) {
        best.consider(step, evaluate(mlp, police, selectionData, spec).loss);
      }
    }
    let keptStep = stepsDone;
    if (selecting && !stopped && stepsDone === steps && best.step !== steps && best.step > 0) {
      best.restore();
      keptStep = best.step;
      options.onLog?.(
        'info',
        `kept the network of step ${best.step} (loss ${best.loss.toPrecision(3)}), the lowest of the final fifth of training`,
      );
    }
    companions.hardenForExport(!stopped && stepsDone === steps);
    const network: FoldedNetwork = { ...foldNetwork(mlp, police), step: keptStep };
    const final = evaluate(mlp, police, data, spec);
    const result: TrainResult = {
      network,
      initialNetwork,
      finalLoss: final.loss,
      stepsDone,
      totalSteps: steps,
      keptStep,
      stopped,
      backend: choice.backend,
      backendNotes: choice.notes,
      health,
      metrics,
      elapsedMs: Date.now() - started,
    };
    if (final.accuracy !== undefined) result.accuracy = final.accuracy;
    return result;
  } finally {
    best.dispose();
    optimizer.dispose();
    companions.dispose();
    if (police) disposePoliceTensors(police);
    disposeMlp(mlp);
  }
}
