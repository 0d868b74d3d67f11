// The training loop: seeded, one tidy per step, prompt stop, constraint health, metrics rows, folded result.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendPreference } from './backend';
import { attachCompanions, type Companions } from './companions';
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
import { flushTinyGradients } from './fast-ops';
import { layerFlips, unitLayerMatrix, type ShiftTensors } from './police-layer';
import { createRng, deriveSeed, type Rng } from '../common/random';
import type { ResolvedSpec } from '../spec/types';
import { initBackend, stepFlops, type Workload } from './backend';

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
  /** The batch loss of `step`. */
  loss: number;
  /** The rows logged to metrics.jsonl since the previous progress: the loss curve, live as reopened. */
  logged: LossPoints;
  health: LayerHealth[];
  elapsedMs: number;
}

/** Points of the loss curve: step, batch loss and milliseconds since the start, per logged metrics row. */
export interface LossPoints {
  steps: number[];
  losses: number[];
  elapsedMs: number[];
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
  /** wasm threads (0 = every core), as the `police.wasmThreads` setting; absent: POLICE_WASM_THREADS, else 'auto'. */
  wasmThreads?: number;
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

/** Health of all layers on the device: shifted units per layer, then Σ|c| per layer, then max |c| per layer (3 × layers values). */
function healthTensor(shifts: tf.Tensor1D[], unitLayer: tf.Tensor2D): tf.Tensor1D {
  const magnitudes = shifts.map((s) => tf.abs(s));
  const all = tf.reshape(tf.concat(magnitudes), [1, -1]);
  // Counts and sums of every layer in one matmul; only the maxima need a reduction per layer.
  const countsAndSums = tf.matMul(tf.concat([tf.step(all, 0), all], 0), unitLayer);
  return tf.concat([tf.reshape(countsAndSums, [-1]), tf.stack(magnitudes.map((m) => tf.max(m)))]) as tf.Tensor1D;
}

function layerHealth(layer: number, units: number, layers: number, values: ArrayLike<number>, sideFlips: number): LayerHealth {
  const [shifted, sum, max] = [values[layer], values[layers + layer], values[2 * layers + layer]];
  return { layer, units, shifted, meanAbsShift: shifted ? sum / shifted : 0, maxAbsShift: max, sideFlips };
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

async function specData(spec: ResolvedSpec): Promise<TrainingData> {
  const loaded = await loadData(spec);
  return { x: loaded.x, y: loaded.y, count: loaded.count, inputDim: loaded.inputDim, outputDim: loaded.outputDim };
}

/** Chunks of a data set kept on the device, for evaluations repeated during training (no re-upload each time). */
interface DeviceData {
  chunks: { x: tf.Tensor2D; y: tf.Tensor2D; rows: number }[];
  count: number;
}

function deviceData(data: TrainingData, spec: ResolvedSpec): DeviceData {
  const chunk = 4096;
  const chunks: DeviceData['chunks'] = [];
  for (let start = 0; start < data.count; start += chunk) {
    const rows = Int32Array.from({ length: Math.min(chunk, data.count - start) }, (_, i) => start + i);
    chunks.push({ ...batchTensors(data, rows, spec.data.task, spec.outputUnits), rows: rows.length });
  }
  return { chunks, count: data.count };
}

function disposeDeviceData(data: DeviceData): void {
  for (const c of data.chunks) tf.dispose([c.x, c.y]);
}

/** Loss and correct classifications (0 for regression) of the current weights over a data set, on the device. */
function evaluateTensors(mlp: Mlp, police: PoliceTensors | undefined, data: DeviceData, spec: ResolvedSpec): tf.Tensor1D {
  const task = spec.data.task;
  return tf.tidy(() => {
    let lossSum: tf.Scalar = tf.scalar(0);
    let hits: tf.Scalar = tf.scalar(0);
    for (const { x, y, rows } of data.chunks) {
      const output = police ? forwardPolice(mlp, x, police).output : forwardPlain(mlp, x);
      const value = task === 'regression' ? regressionLoss(output, y) : classificationLoss(output, y);
      lossSum = tf.add(lossSum, tf.mul(value, rows));
      if (task === 'classification') hits = tf.add(hits, tf.sum(tf.cast(tf.equal(tf.argMax(output, 1), tf.argMax(y, 1)), 'float32')));
    }
    return tf.stack([tf.div(lossSum, Math.max(1, data.count)), hits]) as tf.Tensor1D;
  });
}

/** Loss (and accuracy) of the current weights over the whole data set, POLICE forward when enabled. */
async function evaluate(
  mlp: Mlp,
  police: PoliceTensors | undefined,
  data: TrainingData,
  spec: ResolvedSpec,
): Promise<{ loss: number; accuracy?: number }> {
  const onDevice = deviceData(data, spec);
  const values = evaluateTensors(mlp, police, onDevice, spec);
  disposeDeviceData(onDevice);
  try {
    const [loss, hits] = await values.data();
    const result: { loss: number; accuracy?: number } = { loss };
    if (spec.data.task === 'classification') result.accuracy = hits / Math.max(1, data.count);
    return result;
  } finally {
    values.dispose();
  }
}

/** What one of this spec's training steps costs, for 'auto' to weigh (batch and vertex rows through every layer). */
export function trainingWorkload(spec: ResolvedSpec): Workload {
  const vertexRows = spec.police.enabled ? spec.regions.reduce((n, r) => n + r.vertices.length, 0) : 0;
  const widths = [spec.inputDim, ...spec.layers.map((l) => l.units), spec.outputUnits];
  return { stepFlops: stepFlops(spec.training.batch + vertexRows, widths) };
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
  private best: { step: number; loss: number; saved: tf.Tensor[] } | undefined;
  /** The latest candidate: its weights (clones share the device buffer until the next update) and its loss being read. */
  private pending: { step: number; loss: Promise<number>; saved: tf.Tensor[] } | undefined;
  constructor(private readonly variables: tf.Variable[]) {}
  get loss(): number {
    return this.best?.loss ?? Infinity;
  }
  get step(): number {
    return this.best?.step ?? 0;
  }
  /** Takes a candidate whose loss is still on the device; the previous candidate is judged now (its loss has long arrived). */
  async consider(step: number, loss: tf.Tensor): Promise<void> {
    await this.settle();
    const read = loss.data().then((v) => v[0]);
    void read.finally(() => loss.dispose()).catch(() => undefined);
    this.pending = { step, loss: read, saved: this.variables.map((v) => tf.clone(v)) };
  }
  private async settle(): Promise<void> {
    const candidate = this.pending;
    if (!candidate) return;
    this.pending = undefined;
    const loss = await candidate.loss;
    if (loss < this.loss) {
      tf.dispose(this.best?.saved ?? []);
      this.best = { step: candidate.step, loss, saved: candidate.saved };
    } else {
      tf.dispose(candidate.saved);
    }
  }
  /** Judges the last candidate, then puts the best weights back; returns the best step (0 when none). */
  async restore(): Promise<number> {
    await this.settle();
    this.best?.saved.forEach((value, i) => this.variables[i].assign(value));
    return this.step;
  }
  dispose(): void {
    tf.dispose([...(this.best?.saved ?? []), ...(this.pending?.saved ?? [])]);
    this.best = undefined;
    this.pending = undefined;
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
  const choice = await initBackend(
    options.backend ?? 'auto',
    trainingWorkload(spec),
    options.wasmThreads !== undefined ? { wasmThreads: options.wasmThreads } : {},
  );
  for (const note of choice.notes) options.onLog?.('warn', note);
  const steps = options.steps ?? spec.training.steps;
  const seed = options.seed ?? spec.training.seed;
  const data = options.data ?? (await specData(spec));
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
  if (police) await currentShifts(mlp, police);
  const companions = await attachCompanions(mlp, { ...spec, training: { ...spec.training, steps } });
  const initialNetwork = await foldNetwork(mlp, police);
  const optimizer = new Optimizer({ kind: spec.training.optimizer, lr: spec.training.lr, weightDecay: spec.training.weightDecay });
  const variables: tf.Variable[] = [...mlp.kernels, ...mlp.biases, ...companions.trainable];
  const kernels = new Set<tf.Variable>(mlp.kernels);
  const batcher = new Batcher(data, spec.training.batch, createRng(deriveSeed(seed, 3)));
  const metrics: MetricsRow[] = [];
  const logEvery = Math.max(1, Math.round(steps / 200));
  const progressInterval = options.progressIntervalMs ?? 200;
  const hiddenUnits = spec.layers.map((l) => l.units);
  let lastProgress = -Infinity;
  let reportedRows = 0;
  let lastLiveSnapshot = -Infinity;
  /** Time spent folding and handing over live snapshots, kept under LIVE_SNAPSHOT_BUDGET of the time trained. */
  let liveSnapshotMs = 0;
  let health: LayerHealth[] = [];
  /** All layers' sides at the previous step (regions × ΣK) and the side flips summed since the start, on the device. */
  let previousSides: tf.Tensor2D | undefined;
  const flipTotals = police ? tf.tidy(() => tf.variable(tf.zeros([1, hiddenUnits.length]), false)) : undefined;
  const unitLayer = police ? unitLayerMatrix(hiddenUnits) : undefined;
  /** The last logged step's values, read while the next step runs. */
  let pending:
    | {
        step: number;
        now: number;
        logged: boolean;
        report: boolean;
        values: Promise<Float32Array>;
        extra: ReturnType<Companions['metrics']>;
      }
    | undefined;
  let stepsDone = 0;
  let stopped = false;
  // Selection would mix weights of one step with the β of another during an anneal: keep the last step there.
  const selecting = !spec.training.anneal && steps >= 20;
  const selectionStart = Math.floor(steps * 0.8);
  const selectionEvery = Math.max(1, Math.floor((steps - selectionStart) / SELECTION_CHECKS));
  const selectionData = selecting ? deviceData(selectionSubset(data, seed), spec) : undefined;
  const best = new BestNetwork(variables);
  /** Turns a logged step's device values into its metrics row and progress event. */
  const settle = async (): Promise<void> => {
    const done = pending;
    if (!done) return;
    pending = undefined;
    const values = await done.values;
    const extra = await done.extra;
    const loss = values[0];
    if (!Number.isFinite(loss)) throw new Error(`training '${spec.name}' diverged at step ${done.step} (loss ${loss}); lower training.lr`);
    const layers = hiddenUnits.length;
    health = police
      ? hiddenUnits.map((units, layer) => layerHealth(layer, units, layers, values.subarray(1), values[1 + 3 * layers + layer]))
      : [];
    const elapsed = done.now - started;
    if (done.logged) metrics.push({ step: done.step, loss, health, elapsed_ms: elapsed, backend: choice.backend, ...extra });
    if (done.report) {
      const newRows = metrics.slice(reportedRows);
      reportedRows = metrics.length;
      options.onProgress?.({
        step: done.step,
        totalSteps: steps,
        loss,
        logged: {
          steps: newRows.map((row) => row.step),
          losses: newRows.map((row) => row.loss),
          elapsedMs: newRows.map((row) => row.elapsed_ms),
        },
        health,
        elapsedMs: elapsed,
      });
    }
  };
  try {
    for (let step = 1; step <= steps; step++) {
      await yieldToEventLoop();
      if (options.shouldStop?.()) {
        stopped = true;
        break;
      }
      const shifts: ShiftTensors[] = [];
      companions.beforeStep(step, steps);
      const now = Date.now();
      const logged = step % logEvery === 0 || step === steps;
      const report = options.onProgress !== undefined && (now - lastProgress >= progressInterval || step === steps);
      const { probe, sides } = tf.tidy(() => {
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
          // Subnormal gradients would slow every backward matmul several times over (fast-ops.ts).
          output = flushTinyGradients(output);
          const base = task === 'regression' ? regressionLoss(output, y) : classificationLoss(output, y);
          const ortho = companions.penalty();
          const constrained = penalty ? tf.add<tf.Scalar>(base, penalty) : base;
          return ortho ? tf.add<tf.Scalar>(constrained, ortho) : constrained;
        }, variables);
        optimizer.apply(variables, grads, (v) => kernels.has(v));
        companions.afterStep();
        const sides =
          unitLayer && shifts.length
            ? tf.concat(
                shifts.map((s) => s.sides),
                1,
              )
            : undefined;
        if (flipTotals && unitLayer && previousSides && sides)
          flipTotals.assign(tf.add(flipTotals, layerFlips(previousSides, sides, unitLayer)));
        if (!logged && !report) return { sides };
        // One vector per logged step: loss, then shifted, Σ|c| and max|c| per layer, then the flips so far per layer.
        const probe = tf.concat([
          tf.reshape(value, [1]),
          ...(unitLayer && shifts.length
            ? [
                healthTensor(
                  shifts.map((s) => s.shift),
                  unitLayer,
                ),
              ]
            : []),
          ...(flipTotals ? [tf.reshape(flipTotals, [-1])] : []),
        ]);
        return { probe, sides };
      });
      tf.dispose([...(previousSides ? [previousSides] : []), ...shifts.flatMap((s) => [s.shift, s.sides])]);
      previousSides = sides;
      stepsDone = step;
      if (step === steps) options.onLastStep?.(step);
      // The previous logged step's values have long arrived; this step's kernels are already queued.
      await settle();
      if (probe) {
        if (report) lastProgress = now;
        const values = probe.data() as Promise<Float32Array>;
        void values.finally(() => probe.dispose()).catch(() => undefined);
        pending = {
          step,
          now,
          logged,
          report,
          values,
          extra: logged ? companions.metrics(step, steps, () => foldNetwork(mlp, police)) : Promise.resolve({}),
        };
      }
      const interval = options.snapshotIntervalMs;
      if (options.onSnapshot && spec.training.snapshotEvery > 0 && step % spec.training.snapshotEvery === 0) {
        options.onSnapshot(step, await foldNetwork(mlp, police));
      } else if (
        options.onSnapshot &&
        interval !== undefined &&
        now - lastLiveSnapshot >= interval &&
        liveSnapshotMs <= LIVE_SNAPSHOT_BUDGET * (now - started)
      ) {
        const snapshotStart = performance.now();
        options.onSnapshot(step, await foldNetwork(mlp, police));
        liveSnapshotMs += performance.now() - snapshotStart;
        lastLiveSnapshot = Date.now();
      }
      if (selectionData && step > selectionStart && ((step - selectionStart) % selectionEvery === 0 || step === steps)) {
        await best.consider(step, evaluateTensors(mlp, police, selectionData, spec));
      }
    }
    await settle();
    let keptStep = stepsDone;
    if (selecting && !stopped && stepsDone === steps) {
      const bestStep = await best.restore();
      if (bestStep !== steps && bestStep > 0) {
        keptStep = bestStep;
        options.onLog?.(
          'info',
          `kept the network of step ${best.step} (loss ${best.loss.toPrecision(3)}), the lowest of the final fifth of training`,
        );
      }
    }
    companions.hardenForExport(!stopped && stepsDone === steps);
    const network: FoldedNetwork = { ...(await foldNetwork(mlp, police)), step: keptStep };
    const final = await evaluate(mlp, police, data, spec);
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
    // A pending read may still hold the last probe: let it finish before the tensors go.
    await pending?.values.catch(() => undefined);
    tf.dispose([...(previousSides ? [previousSides] : []), ...(unitLayer ? [unitLayer] : [])]);
    flipTotals?.dispose();
    if (selectionData) disposeDeviceData(selectionData);
    best.dispose();
    optimizer.dispose();
    companions.dispose();
    if (police) disposePoliceTensors(police);
    disposeMlp(mlp);
  }
}
