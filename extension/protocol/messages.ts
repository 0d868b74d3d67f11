// Every message between host, trainer, view worker and webview: one discriminated union per direction.
// A request carries `messageId`; its one reply has the same `type` and `inReplyTo` (or is a ReplyFailure).
import type { Certificate } from '../police/proof/certificate-types';
import type { RunRecord } from '../police/io/run-files';
import type { FoldedNetwork } from '../police/network/network';
import type { ResolvedSpec } from '../police/spec/types';
import type { BackendPreference } from '../police/training/backend';
import type { ValidateOptions, ValidationResult } from '../police/spec/parse';
import type { LayerHealth, LossPoints } from '../police/training/train';

export type { BackendPreference, LayerHealth, LossPoints };

// ---------- request / reply envelope (extension/protocol/channel.ts numbers and matches them) ----------

/** A message that asks for one answer. */
export interface Request {
  type: string;
  messageId: number;
}
/** The answer to request `inReplyTo`, of the same `type`. */
export interface Reply {
  type: string;
  inReplyTo: number;
}
/** The answer to a request whose handler threw: the asker's promise rejects with `message`. */
export interface ReplyFailure {
  type: 'failure';
  inReplyTo: number;
  message: string;
}

// ---------- host → trainer ----------

export interface StartTraining {
  type: 'start';
  /** Absolute path of the spec file; relative paths inside it resolve against its folder. */
  specPath: string;
  /** The spec text as the editor holds it (may be unsaved). */
  specText: string;
  /** Final run folder; the trainer writes a sibling temporary folder and renames it into place. */
  runDir: string;
  steps?: number;
  seed?: number;
  backend: BackendPreference;
  /** The `police.wasmThreads` setting: wasm threads (0 = every core); absent leaves it to POLICE_WASM_THREADS, else to 'auto'. */
  wasmThreads?: number;
  /** Minimum milliseconds between progress messages. */
  progressIntervalMs: number;
  /** Where the spec's data files may be read from and how the user allows elsewhere, as the host or CLI validated it (absent: the spec's own folder). */
  dataAccess?: ValidateOptions;
  /** A view draws the map live: snapshot at most this often besides snapshot_every (the trainer caps their cost). */
  snapshotIntervalMs?: number;
}
export interface StopTraining {
  type: 'stop';
}
/**
 * Milliseconds a trainer gets to answer 'stop' before it is killed. A step is synchronous and cannot be interrupted
 * from inside; between steps the trainer answers at once, so a stop ends any training in well under a second.
 */
export const STOP_GRACE_MS = 250;
export type HostToTrainer = StartTraining | StopTraining;

// ---------- trainer → host ----------

export interface TrainerReady {
  type: 'ready';
  /** The tfjs backend actually running, e.g. 'tensorflow', 'webgpu', 'wasm', 'cpu'. */
  backend: string;
  /** One line: what runs and why (the GPU adapter, the rule 'auto' applied). */
  reason?: string;
}
export interface TrainingProgress {
  type: 'progress';
  step: number;
  totalSteps: number;
  /** The batch loss of `step`. */
  loss: number;
  /** The rows logged to metrics.jsonl since the previous progress (the loss curve the view draws). */
  logged: LossPoints;
  health: LayerHealth[];
  elapsedMs: number;
}
export interface TrainingSnapshot {
  type: 'snapshot';
  step: number;
  /** The network folded at this step (POLICE shift included in the biases). */
  network: FoldedNetwork;
}
/** The last step is taken; the trainer is choosing, certifying and writing the network (a Stop now no longer loses it). */
export interface TrainingFinishing {
  type: 'finishing';
  /** Steps trained. */
  step: number;
}
export interface TrainingDone {
  type: 'done';
  runDir: string;
  certificate: Certificate;
  /** The run's summary.json: full-data loss, kept step, time, backend. */
  record: RunRecord;
  /** Units that changed side over the training (the CLI warns about them under a non-fixed rule). */
  sideFlips: number;
}
export interface TrainingStopped {
  type: 'stopped';
  step: number;
}
export interface TrainingError {
  type: 'error';
  message: string;
  detail?: string;
}
export interface TrainerLog {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}
export type TrainerToHost =
  TrainerReady | TrainingProgress | TrainingSnapshot | TrainingFinishing | TrainingDone | TrainingStopped | TrainingError | TrainerLog;

/** Compile-time exhaustiveness for switch statements over a union's `type`. */
export function assertNever(value: never): never {
  throw new Error(`unhandled message: ${JSON.stringify(value)}`);
}

// ---------- host ↔ webview (the three.js view) ----------

/** A region as the view draws it. */
export interface ViewRegion {
  name: string;
  /** P×D vertices whose convex hull is the region. */
  vertices: number[][];
  form: 'vertices' | 'box' | 'simplex' | 'polygon' | 'halfspaces';
  /** True when dragging a vertex maps to one edit of the spec (2-D `vertices`, `box`, `polygon`). */
  draggable: boolean;
}

/** A training setting the view's controls edit in the spec (one undoable edit each). */
export type ViewSettingChange =
  | { setting: 'lr'; value: number }
  | { setting: 'steps'; value: number }
  | { setting: 'rule'; value: 'fixed' | 'majority' | 'minimal' }
  | { setting: 'width'; value: number }
  | { setting: 'depth'; value: number }
  | { setting: 'dataset'; value: string }
  | { setting: 'noise'; value: number };

/** The settings as the spec has them, for the view's controls. */
export interface ViewSettings {
  lr: number;
  steps: number;
  rule: 'fixed' | 'majority' | 'minimal';
  /** Units of the first hidden layer (the width control sets every layer's). */
  width: number;
  depth: number;
  /** The built-in data set, when the spec trains on one, and those of the same task it may switch to. */
  dataset?: string;
  datasets?: string[];
  noise: number;
}

/** What the view needs from a resolved spec. */
export interface ViewSpec {
  name: string;
  inputDim: number;
  outputUnits: number;
  domain: [number, number][];
  task: 'regression' | 'classification';
  regions: ViewRegion[];
  settings: ViewSettings;
  /** False for a run's spec copy: a finished run is a record, its settings are not edited. */
  editable: boolean;
}

/** A 2-D plane through input space: x = origin + u·e1 + v·e2. */
export interface ViewPlane {
  origin: number[];
  e1: number[];
  e2: number[];
}

/** The rectangle of the plane the view samples: [[uMin, uMax], [vMin, vMax]]. */
export type ViewWindow = [[number, number], [number, number]];

/**
 * The linear regions of the network on the plane, in flat typed arrays (VS Code and worker threads pass them
 * as binary, not JSON). Cell i: polygon vertices[2·polygonStart[i] … 2·polygonStart[i+1]) as (u, v) pairs;
 * map in plane coordinates planeMaps[(i·outputs + k)·3 …] = [a_u, a_v, c] with f_k = a_u·u + a_v·v + c;
 * activation-pattern (Hamming) distance to region r regionDistances[i·regions + r]. The hovered cell is found by
 * point location in the worker, which also sends its map in input coordinates (WebviewAskCell): that map costs a
 * pass through the weights, so it is computed for one cell at a time.
 */
export interface ViewCells {
  count: number;
  outputs: number;
  regions: number;
  polygonStart: Uint32Array;
  vertices: Float64Array;
  planeMaps: Float64Array;
  regionDistances: Int32Array;
}

/** A cell's map in input coordinates, f(x) = A x + b. */
export interface CellInputMap {
  A: number[][];
  b: number[];
}

/** The linear regions one region meets on the plane: one, as POLICE makes it, or several. */
export interface RegionCells {
  /** How many linear regions share positive area with the region. */
  meets: number;
  /** The one cell holding all of it (index into the partition's cells), -1 when it meets several. */
  cell: number;
  /** That cell's polygon [u0, v0, …] and plane maps [a_u, a_v, c] per output, sent even when the cells are not. */
  polygon: number[];
  planeMaps: number[];
}

/** The learned function and its partition on a plane, computed off the UI thread. */
export interface ViewSurface {
  /** Which worker job made it: names the partition when the view asks for a cell's map. */
  surfaceId: number;
  step: number;
  plane: ViewPlane;
  window: ViewWindow;
  /** Grid points per side. */
  resolution: number;
  outputs: number;
  /** resolution² × outputs, index ((j·resolution + i)·outputs + k) for u_i, v_j, output k. */
  values: Float64Array;
  /** Index into `cells` for each grid point (resolution²), -1 when outside every cell or the cells are not sent. */
  cellIndex: Int32Array;
  /** The cells, up to MAX_VIEW_CELLS of them (cells.count 0 beyond; see cellCount). */
  cells: ViewCells;
  /** How many linear regions the exact partition found on the window (0 when it was not computed). */
  cellCount: number;
  /** Classification: the exact decision boundary as segments [u0, v0, u1, v1, …] in plane coordinates. */
  boundary?: Float64Array;
  /** f at each region's vertices, per region: P×outputs. */
  regionValues: number[][][];
  /** Per region, the linear regions it meets; null for a region off the plane (3-D hulls, D > 3) or without a partition. */
  regionCells: (RegionCells | null)[];
  partitionMs: number;
  /** Set when the exact partition could not be computed (the surface is then sampled). */
  partitionError?: string;
}

export interface ViewShowSpec {
  type: 'spec';
  spec: ViewSpec;
  specUri: string;
}
export interface ViewShowData {
  type: 'data';
  /** A subsample of the training inputs, count × inputDim flattened. */
  inputs: number[];
  /** Regression targets (count × outputs flattened) or class ids (count). */
  targets: number[];
  count: number;
  labels: boolean;
}
export interface ViewTrainingStarted {
  type: 'trainingStarted';
  totalSteps: number;
  backend?: string;
}
export interface ViewProgress {
  type: 'progress';
  step: number;
  totalSteps: number;
  /** The batch loss of `step`. */
  loss: number;
  /** Loss-curve points logged since the previous progress (the metrics.jsonl rows). */
  logged: LossPoints;
  health: LayerHealth[];
}
/** The whole loss curve at once (after a reload, or for a finished run), with the constraint health of its last row. */
export interface ViewLossHistory {
  type: 'lossHistory';
  points: LossPoints;
  totalSteps: number;
  health?: LayerHealth[];
}
export interface ViewSurfaceMessage {
  type: 'surface';
  surface: ViewSurface;
}
export interface ViewCertificate {
  type: 'certificate';
  certificate: Certificate;
  /** The spec's regions changed since this certificate was made: it proves the old regions, not the ones drawn. */
  stale?: boolean;
}
export interface ViewStatus {
  type: 'status';
  state: 'idle' | 'training' | 'done' | 'stopped' | 'error';
  message: string;
  runDir?: string;
  /** A finished run: the step whose network it kept, of the steps trained. */
  kept?: { step: number; of: number };
}
/** One layer's filter cosines ⟨w_k, w_k'⟩ / (‖w_k‖‖w_k'‖), for the view's Gram heat-map. */
export interface ViewGramLayer {
  /** 0-based index into network.layers (the last one is the output layer). */
  layer: number;
  units: number;
  activation: string;
  /** ‖WWᵀ − diag(WWᵀ)‖_F / ‖WWᵀ‖_F over every unit; absent when the layer is too wide to measure here. */
  metric?: number;
  /** shown×shown cosines of the first `shown` filters (all of them up to GRAM_MAX_UNITS). */
  cosine: number[][];
  shown: number;
}
export interface ViewGram {
  type: 'gram';
  step: number;
  layers: ViewGramLayer[];
}
/** Reply to WebviewAskCell: the cell holding the asked point and its input-space map (a failure: ReplyFailure). */
export interface ViewCellAnswer {
  type: 'cell';
  inReplyTo: number;
  /** Index into the surface's cells; -1 outside the window, or when the worker no longer holds that surface. */
  cell: number;
  /** null when cell is -1. */
  map: CellInputMap | null;
}
/** One run of a comparison: its loss curve, settings and results. */
export interface ComparedRun {
  /** Where the run lives, as the user reads it (workspace-relative). */
  label: string;
  /** <spec>/<run id>. */
  id: string;
  points: LossPoints;
  /** The settings people vary, in one line: depth×width, lr, steps, batch, rule. */
  settings: string;
  certificate: 'proved' | 'not proved' | 'none';
  /** The smallest vertex margin over every region. */
  minMargin?: number;
  fullDataLoss?: number;
  elapsedMs?: number;
  backend?: string;
  keptStep?: number;
  stepsDone?: number;
}
/** Several runs side by side (picked together in the Runs view); no runs ends the comparison. */
export interface ViewComparison {
  type: 'comparison';
  runs: ComparedRun[];
}
export type HostToWebview =
  | ViewComparison
  | ViewCellAnswer
  | ReplyFailure
  | ViewShowSpec
  | ViewShowData
  | ViewTrainingStarted
  | ViewProgress
  | ViewLossHistory
  | ViewSurfaceMessage
  | ViewCertificate
  | ViewStatus
  | ViewGram;

export interface WebviewReady {
  type: 'ready';
}
/** The user dropped a region's vertex at a new position (plane coordinates already mapped to input space). */
export interface WebviewMoveVertex {
  type: 'moveVertex';
  specUri: string;
  region: number;
  vertex: number;
  from: number[];
  to: number[];
}
/** The user changed a setting in the view's controls. */
export interface WebviewSetSetting {
  type: 'setSetting';
  specUri: string;
  change: ViewSettingChange;
}
/** The view's Train or Stop button. */
export interface WebviewTrainingAction {
  type: 'training';
  action: 'train' | 'stop';
  specUri: string;
}
/** The view wants the function on another plane (3-D slice moved, D > 3 axes changed). */
export interface WebviewSetPlane {
  type: 'setPlane';
  plane: ViewPlane;
  window: ViewWindow;
  resolution: number;
}
export interface WebviewLog {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}
/** Request: the view hovers plane point (u, v) of surface `surfaceId`: which cell holds it, and what is its map in input coordinates? (reply: ViewCellAnswer) */
export interface WebviewAskCell {
  type: 'cell';
  messageId: number;
  surfaceId: number;
  u: number;
  v: number;
}
export type WebviewToHost =
  WebviewReady | WebviewMoveVertex | WebviewSetSetting | WebviewTrainingAction | WebviewSetPlane | WebviewAskCell | WebviewLog;

// ---------- extension host → view worker thread (partition, surface, data subsample) ----------

/** What the view worker needs to build a surface: the network, the plane and window, the regions. */
export interface SurfaceRequest {
  step: number;
  network: FoldedNetwork;
  plane: ViewPlane;
  window: ViewWindow;
  resolution: number;
  /** Region vertices in input coordinates, in spec order. */
  regions: number[][][];
  /** Classification: also trace the exact decision boundary (where the two best outputs tie). */
  classification?: boolean;
  /** Give up on the exact partition after this long and sample the surface (default PARTITION_TIME_LIMIT_MS). */
  partitionTimeLimitMs?: number;
  /** At most this many multiply-adds for a sampled surface (default SAMPLE_MACS): live refreshes sample coarser. */
  sampleMacs?: number;
}

/** Request: a surface and its exact partition (reply: WorkerSurfaceResult). */
export interface WorkerSurfaceJob {
  type: 'surface';
  messageId: number;
  request: SurfaceRequest;
}
/** Request: a subsample of the spec's data for the view (reply: WorkerDataResult). */
export interface WorkerDataJob {
  type: 'data';
  messageId: number;
  spec: ResolvedSpec;
  maxPoints: number;
}
/** Request: point location in the partition of the worker's surface `surfaceId`: the cell holding (u, v) and its input-space map (reply: WorkerLocateResult). */
export interface WorkerLocateJob {
  type: 'locate';
  messageId: number;
  surfaceId: number;
  u: number;
  v: number;
}
export type HostToWorker = WorkerSurfaceJob | WorkerDataJob | WorkerLocateJob;

export interface WorkerSurfaceResult {
  type: 'surface';
  inReplyTo: number;
  surface: ViewSurface;
}
export interface WorkerDataResult {
  type: 'data';
  inReplyTo: number;
  data: ViewShowData;
}
export interface WorkerLocateResult {
  type: 'locate';
  inReplyTo: number;
  /** -1 outside the window, or when the worker no longer holds that surface's partition (two newer surfaces replaced it). */
  cell: number;
  /** null when cell is -1. */
  map: CellInputMap | null;
}
/** Every job is a request; a job that throws comes back as a ReplyFailure. */
export type WorkerToHost = WorkerSurfaceResult | WorkerDataResult | WorkerLocateResult | ReplyFailure;

/**
 * Compile-time check that each request type in `Asks` has exactly one reply of the same type in `Answers`;
 * `RequestPairsChecked<...>` is `true` or names the unpaired type.
 */
type UnpairedRequests<Asks extends { type: string }, Answers extends { type: string }> = {
  [K in Extract<Asks, Request>['type']]: Extract<Answers, { type: K; inReplyTo: number }> extends never ? K : never;
}[Extract<Asks, Request>['type']];
type RequestPairsChecked<Asks extends { type: string }, Answers extends { type: string }> = [UnpairedRequests<Asks, Answers>] extends [
  never,
]
  ? true
  : UnpairedRequests<Asks, Answers>;
export const REQUEST_PAIRS = {
  hostToWorker: true satisfies RequestPairsChecked<HostToWorker, WorkerToHost>,
  webviewToHost: true satisfies RequestPairsChecked<WebviewToHost, HostToWebview>,
  hostToTrainer: true satisfies RequestPairsChecked<HostToTrainer, TrainerToHost>,
  hostToValidator: true satisfies RequestPairsChecked<HostToValidator, ValidatorToHost>,
} as const;

// ---------- host ↔ spec validation worker (extension/host/spec-validation-worker.ts) ----------

/** Request: validate one spec text (reply: SpecValidated). */
export interface ValidateSpecJob {
  type: 'validate';
  messageId: number;
  text: string;
  specPath: string;
  options: ValidateOptions;
  /** Send back the resolved spec too (the view needs it); diagnostics need only the problems, and a spec's vertices can be megabytes to copy. */
  withSpec: boolean;
}
export type HostToValidator = ValidateSpecJob;

export interface SpecValidated {
  type: 'validate';
  inReplyTo: number;
  result: ValidationResult;
}
/** The worker has loaded the engine: the time limit of a validation starts now. */
export interface ValidatorReady {
  type: 'validatorReady';
}
export type ValidatorToHost = ValidatorReady | SpecValidated | ReplyFailure;
