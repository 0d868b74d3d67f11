// One status-bar item: step/total, loss and backend while training; the last outcome afterwards.
import * as vscode from 'vscode';
import { Disposable } from './dispose';
import { outcomeText, progressText } from './training-text';
import type { TrainingOutcome } from '../trainer/client';
import type { TrainingListener, Trainings, TrainingState } from './trainings';

export class TrainingStatusBar extends Disposable implements TrainingListener {
  private readonly item = this._register(vscode.window.createStatusBarItem('police.training', vscode.StatusBarAlignment.Left, 10));

  constructor(private readonly trainings: Trainings) {
    super();
    this.item.name = 'POLICE training';
    this.item.command = 'police.showView';
  }

  started(state: TrainingState): void {
    this.render(state);
  }

  progress(state: TrainingState): void {
    this.render(state);
  }

  finishing(state: TrainingState): void {
    this.render(state);
  }

  ended(state: TrainingState, outcome: TrainingOutcome): void {
    // Another training still running keeps the item busy.
    const other = this.trainings.states()[0];
    if (other) {
      this.render(other);
      return;
    }
    this.item.backgroundColor = undefined;
    switch (outcome.kind) {
      case 'done':
        this.item.text = `${outcome.done.certificate.proved ? '$(pass)' : '$(warning)'} POLICE ${state.specName}: ${outcomeText(outcome.done)}`;
        this.item.tooltip = `Training of ${state.specName} finished: ${outcome.done.runDir}`;
        break;
      case 'stopped':
        this.item.text = `$(debug-stop) POLICE ${state.specName}: stopped at step ${outcome.step}`;
        this.item.tooltip = 'Training stopped; no run was written.';
        break;
      case 'error':
      case 'crashed':
        this.item.text = `$(error) POLICE ${state.specName}: failed`;
        this.item.tooltip = outcome.message;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
    }
    this.item.show();
  }

  private render(state: TrainingState): void {
    const backend = state.backend ? ` · ${state.backend}` : '';
    const more = this.trainings.states().length > 1 ? ` (+${this.trainings.states().length - 1})` : '';
    this.item.text = `$(sync~spin) POLICE ${state.specName} ${progressText(state.progress, Boolean(state.finishing))}${backend}${more}`;
    this.item.tooltip = `Training ${state.specPath}\n→ ${state.runDir}\nClick to show the view.`;
    this.item.backgroundColor = undefined;
    this.item.show();
  }
}
