// "Train · Show view · Verify · Analyze" above every spec (Stop instead of Train while it trains).
import * as vscode from 'vscode';
import { POLICE_LANGUAGE_ID } from './diagnostics';
import { Disposable, toDisposable } from './dispose';
import type { Trainings } from './trainings';

export class SpecCodeLensProvider extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;
  private refireTimer: NodeJS.Timeout | undefined;

  constructor(private readonly trainings: Trainings) {
    super();
    this._register(toDisposable(() => clearTimeout(this.refireTimer)));
    this._register(
      trainings.onDidChange(() => {
        this.changed.fire();
        // The workbench can drop a refresh that lands while it is still resolving the previous one: ask once more.
        clearTimeout(this.refireTimer);
        this.refireTimer = setTimeout(() => this.changed.fire(), 750);
      }),
    );
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    const training = this.trainings.isTraining(document.uri.fsPath);
    return [
      new vscode.CodeLens(
        top,
        training
          ? { title: '$(debug-stop) Stop', command: 'police.stop', arguments: [document.uri], tooltip: 'Stop this training' }
          : {
              title: '$(play) Train',
              command: 'police.train',
              arguments: [document.uri],
              tooltip: 'Train this spec in a background process',
            },
      ),
      new vscode.CodeLens(top, { title: 'Show view', command: 'police.showView', arguments: [document.uri] }),
      new vscode.CodeLens(top, {
        title: 'Verify',
        command: 'police.verify',
        arguments: [document.uri],
        tooltip: "Re-check the newest run's certificate",
      }),
      new vscode.CodeLens(top, {
        title: 'Analyze',
        command: 'police.analyze',
        arguments: [document.uri],
        tooltip: 'Orthogonality, injectivity and smooth-activation residual of the newest run',
      }),
    ];
  }
}

export const SPEC_SELECTOR: vscode.DocumentSelector = [{ language: POLICE_LANGUAGE_ID }, { pattern: '**/*.police.json' }];
