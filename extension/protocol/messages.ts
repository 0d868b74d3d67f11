// Every message between host, trainer and webview: one discriminated union per direction.
import type { Certificate } from '../police/certificate-types';
import type { FoldedNetwork } from '../police/network';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** Per hidden layer: how many units needed a bias shift at this step, and how large the shifts were. */
export interface LayerHealth {
  layer: number;
  units: number;
  shifted: number;
  meanAbsShift: number;
  maxAbsShift: number;
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
  /** Minimum milliseconds between progress messages. */
  progressIntervalMs: number;
}
export interface StopTraining {
  type: 'stop';
}
export type HostToTrainer = StartTraining | StopTraining;

// ---------- trainer → host ----------

export interface TrainerReady {
  type: 'ready';
  /** The tfjs backend actually running, e.g. 'tensorflow', 'wasm', 'cpu'. */
  backend: string;
}
export interface TrainingProgress {
  type: 'progress';
  step: number;
  totalSteps: number;
  loss: number;
  health: LayerHealth[];
  elapsedMs: number;
}
export interface TrainingSnapshot {
  type: 'snapshot';
  step: number;
  /** The network folded at this step (POLICE shift included in the biases). */
  network: FoldedNetwork;
}
export interface TrainingDone {
  type: 'done';
  runDir: string;
  certificate: Certificate;
  finalLoss: number;
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
  | TrainerReady
  | TrainingProgress
  | TrainingSnapshot
  | TrainingDone
  | TrainingStopped
  | TrainingError
  | TrainerLog;

/** Compile-time exhaustiveness for switch statements over a union's `type`. */
export function assertNever(value: never): never {
  throw new Error(`unhandled message: ${JSON.stringify(value)}`);
}
