// The trainings running now: start (with trust and concurrency checks), stop, and fan-out of their events.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BackendPreference, TrainerToHost, TrainingFinishing, TrainingProgress, TrainingSnapshot } from '../protocol/messages';
import { dataAccessFor } from './diagnostics';
import { newRunDir, removeLeftovers, specNameFromPath } from './run-folders';
import { outcomeText } from './training-text';
import { TrainerClient, type TrainingOutcome } from '../trainer/client';
import { Disposable, toDisposable } from './dispose';

export interface TrainingState {
  specPath: string;
  specName: string;
  runDir: string;
  backend?: string;
  progress?: TrainingProgress;
  /** Set once training is over and the run is being certified and written. */
  finishing?: TrainingFinishing;
  startedAt: number;
}

/** What the view and the status bar hear about a training. */
export interface TrainingListener {
  started?(state: TrainingState): void;
  progress?(state: TrainingState, progress: TrainingProgress): void;
  snapshot?(state: TrainingState, snapshot: TrainingSnapshot): void;
  finishing?(state: TrainingState): void;
  /** The raw trainer stream, plus a synthesized 'stopped'/'error' when the trainer died without saying so. */
  trainerMessage?(state: TrainingState, message: TrainerToHost): void;
  ended?(state: TrainingState, outcome: TrainingOutcome): void;
}

export class Trainings extends Disposable {
  private readonly active = new Map<string, { client: TrainerClient; state: TrainingState }>();
  private readonly listeners = new Set<TrainingListener>();
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  /** Fires when a training starts or ends. */
  readonly onDidChange = this.changed.event;

  /** Whether a view is open to draw the map live (asked when a training starts: it then snapshots at the refresh rate). */
  liveView: () => boolean = () => false;

  constructor(
    private readonly trainerScript: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    // Deactivation kills every trainer still running.
    this._register(
      toDisposable(() => {
        for (const { client } of this.active.values()) client.dispose();
        this.active.clear();
      }),
    );
  }

  listen(listener: TrainingListener): vscode.Disposable {
    this.listeners.add(listener);
    return new vscode.Disposable(() => this.listeners.delete(listener));
  }

  isTraining(specPath?: string): boolean {
    return specPath === undefined ? this.active.size > 0 : this.active.has(specPath);
  }

  states(): TrainingState[] {
    return [...this.active.values()].map((a) => a.state);
  }

  /** Start training `document`; says why (and returns undefined) when it cannot. */
  async start(document: vscode.TextDocument, options: { steps?: number } = {}): Promise<TrainingState | undefined> {
    const specPath = document.uri.fsPath;
    const specName = specNameFromPath(specPath);
    if (!vscode.workspace.isTrusted) {
      const manage = 'Manage Workspace Trust';
      const choice = await vscode.window.showWarningMessage(
        `POLICE: not training ${specName}: this workspace is not trusted. Training runs a background process that reads the files a spec names and writes run folders, so it needs a trusted workspace.`,
        manage,
      );
      if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
      return undefined;
    }
    if (this.active.has(specPath)) {
      vscode.window.showInformationMessage(`POLICE: ${specName} is already training. Stop it first to start again.`);
      return undefined;
    }
    const config = vscode.workspace.getConfiguration('police', document.uri);
    const maxConcurrent = Math.max(1, config.get<number>('maxConcurrentTrainings', 1));
    // Passed as set: requestedWasmThreads leaves anything but a whole number ≥ 0 to 'auto'.
    const wasmThreads = config.get<number | null>('wasmThreads', null);
    if (this.active.size >= maxConcurrent) {
      const running = [...this.active.values()].map((a) => a.state.specName).join(', ');
      vscode.window.showWarningMessage(
        `POLICE: not training ${specName}: ${this.active.size} training(s) already running (${running}) and police.maxConcurrentTrainings is ${maxConcurrent}.`,
      );
      return undefined;
    }
    const runsRoot = runsRootFor(document.uri);
    if (!runsRoot) {
      vscode.window.showWarningMessage(`POLICE: not training ${specName}: open a folder first, runs are written inside the workspace.`);
      return undefined;
    }
    const runDir = newRunDir(runsRoot, specPath);
    const refreshHz = viewRefreshRate();
    const state: TrainingState = { specPath, specName, runDir, startedAt: Date.now() };

    this.log.info(`training ${specPath} → ${runDir}`);
    const access = dataAccessFor(specPath);
    const client = new TrainerClient(
      this.trainerScript,
      {
        type: 'start',
        specPath,
        specText: document.getText(),
        runDir,
        steps: options.steps,
        backend: config.get<BackendPreference>('backend', 'auto'),
        ...(wasmThreads !== null ? { wasmThreads } : {}),
        progressIntervalMs: Math.round(1000 / refreshHz),
        dataAccess: access,
        ...(this.liveView() ? { snapshotIntervalMs: Math.round(1000 / refreshHz) } : {}),
      },
      {
        message: (message) => this.emit((l) => l.trainerMessage?.(state, message)),
        ready: (backend, reason) => {
          state.backend = backend;
          this.log.info(`${specName}: trainer ready on ${reason ?? `the ${backend} backend`}`);
          this.emit((l) => l.progress?.(state, state.progress ?? emptyProgress()));
        },
        progress: (progress) => {
          state.progress = progress;
          this.emit((l) => l.progress?.(state, progress));
        },
        snapshot: (snapshot) => this.emit((l) => l.snapshot?.(state, snapshot)),
        finishing: (finishing) => {
          state.finishing = finishing;
          this.emit((l) => l.finishing?.(state));
        },
        log: (level, message) => this.log[level](`${specName}: ${message}`),
        ended: (outcome) => void this.ended(state, outcome),
      },
    );
    this.active.set(specPath, { client, state });
    this.changed.fire();
    this.emit((l) => l.started?.(state));
    return state;
  }

  /** Stop one spec's training, or every training when no spec is named. */
  async stop(specPath?: string): Promise<void> {
    const targets = specPath === undefined ? [...this.active.values()] : [this.active.get(specPath)].filter((a) => a !== undefined);
    for (const { client, state } of targets) {
      if (client.finishing) {
        void vscode.window.showInformationMessage(
          `POLICE: ${state.specName} has finished training; its run is being certified and written, and will be kept.`,
        );
      }
    }
    await Promise.all(targets.map((a) => a.client.stop()));
  }

  private async ended(state: TrainingState, outcome: TrainingOutcome): Promise<void> {
    this.active.delete(state.specPath);
    if (outcome.kind !== 'done') {
      const removed = await removeLeftovers(state.runDir).catch(() => []);
      if (removed.length > 0) this.log.info(`${state.specName}: removed unfinished ${removed.join(', ')}`);
    }
    if (outcome.kind === 'stopped' && outcome.killed) {
      this.emit((l) => l.trainerMessage?.(state, { type: 'stopped', step: outcome.step }));
    } else if (outcome.kind === 'crashed') {
      this.emit((l) => l.trainerMessage?.(state, { type: 'error', message: outcome.message }));
    }
    this.report(state, outcome);
    this.changed.fire();
    this.emit((l) => l.ended?.(state, outcome));
  }

  private report(state: TrainingState, outcome: TrainingOutcome): void {
    switch (outcome.kind) {
      case 'done':
        this.log.info(`${state.specName}: done, ${outcomeText(outcome.done)} → ${outcome.done.runDir}`);
        void vscode.window.showInformationMessage(`POLICE: ${state.specName}: ${outcomeText(outcome.done)}.`);
        return;
      case 'stopped':
        this.log.info(`${state.specName}: stopped at step ${outcome.step}${outcome.killed ? ' (trainer killed after no answer)' : ''}`);
        void vscode.window.showInformationMessage(
          `POLICE: training of ${state.specName} stopped at step ${outcome.step}; earlier runs are untouched.`,
        );
        return;
      case 'error':
      case 'crashed': {
        this.log.error(`${state.specName}: ${outcome.message}${outcome.kind === 'error' && outcome.detail ? `\n${outcome.detail}` : ''}`);
        const showLog = 'Show log';
        void vscode.window.showErrorMessage(`POLICE: training of ${state.specName} failed: ${outcome.message}`, showLog).then((choice) => {
          if (choice === showLog) this.log.show(true);
        });
        return;
      }
    }
  }

  private emit(call: (listener: TrainingListener) => void): void {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (err) {
        this.log.error(`a training listener failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
  }
}

/** The `police.wasmThreads` setting as the trainer takes it: a whole number ≥ 0, else nothing (auto decides). */
function emptyProgress(): TrainingProgress {
  return {
    type: 'progress',
    step: 0,
    totalSteps: 0,
    loss: Number.NaN,
    logged: { steps: [], losses: [], elapsedMs: [] },
    health: [],
    elapsedMs: 0,
  };
}

/** `<workspace folder>/<police.runsFolder>` for a spec (its own workspace folder, else the first one). */
/** police.viewRefreshRate in Hz (package.json holds the default), the one reading both progress and view use. */
export function viewRefreshRate(): number {
  return Math.max(0.5, vscode.workspace.getConfiguration('police').get<number>('viewRefreshRate') ?? 10);
}

export function runsRootFor(resource?: vscode.Uri): string | undefined {
  const folder = (resource && vscode.workspace.getWorkspaceFolder(resource)) ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder) return undefined;
  const configured = vscode.workspace.getConfiguration('police', folder.uri).get<string>('runsFolder', '.police/runs');
  return path.resolve(folder.uri.fsPath, configured || '.police/runs');
}
