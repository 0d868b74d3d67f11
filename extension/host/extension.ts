// Extension entry: wires diagnostics, trainings, status bar, runs tree, CodeLens, commands and the view; owns every disposable.
import * as vscode from 'vscode';
import { SPEC_SELECTOR, SpecCodeLensProvider } from './code-lens';
import { registerCommands } from './commands';
import { dataAccessFor, SpecDiagnostics } from './diagnostics';
import { SpecValidator } from './spec-validation';
import { useSpecValidation } from './view/spec-source';
import { RunsTreeProvider } from './runs-tree';
import { TrainingStatusBar } from './status-bar';
import { runsRootFor, Trainings } from './trainings';
import { PoliceViewPanel, registerPoliceViewSerializer } from './view/panel';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('POLICE', { log: true });
  context.subscriptions.push(log);
  log.info(`POLICE Studio ${String(context.extension.packageJSON.version)} activating (workspace trusted: ${vscode.workspace.isTrusted})`);

  const trainings = new Trainings(vscode.Uri.joinPath(context.extensionUri, 'dist', 'trainer.js').fsPath, log);
  // Every spec validation of the host runs in this worker thread: a hostile spec cannot block the extension host.
  const validator = new SpecValidator(vscode.Uri.joinPath(context.extensionUri, 'dist', 'spec-validation-worker.js').fsPath, (m) =>
    log.error(m),
  );
  context.subscriptions.push(validator, { dispose: () => useSpecValidation(undefined) });
  useSpecValidation((text, specPath) => validator.validate(text, specPath, dataAccessFor(specPath)));
  const diagnostics = new SpecDiagnostics(log, validator);
  const statusBar = new TrainingStatusBar(trainings);
  const runsTree = new RunsTreeProvider(() => runsRootFor(), trainings);
  const codeLens = new SpecCodeLensProvider(trainings);
  trainings.liveView = () => PoliceViewPanel.active !== undefined;
  context.subscriptions.push(trainings, diagnostics, statusBar, runsTree, codeLens);

  const runsView = vscode.window.createTreeView('police.runs', { treeDataProvider: runsTree, showCollapseAll: true, canSelectMany: true });
  // Context key behind the editor-title Train/Stop buttons.
  const setTrainingContext = (): Thenable<unknown> =>
    vscode.commands.executeCommand('setContext', 'police.training', trainings.isTraining());
  void setTrainingContext();
  context.subscriptions.push(
    trainings.onDidChange(() => void setTrainingContext()),
    trainings.listen(statusBar),
    trainings.listen({
      progress: (state) => runsTree.trainingProgressed(state),
      trainerMessage: (state, message) => PoliceViewPanel.active?.onTrainerMessage(message, state.specPath),
    }),
    runsView,
    // Picking several runs (Ctrl/Shift+click) compares them in the view.
    runsView.onDidChangeSelection((e) => {
      const runs = e.selection.filter((node) => node.kind === 'run');
      if (runs.length >= 2) void vscode.commands.executeCommand('police.compareRuns', runs[0], runs);
    }),
    vscode.languages.registerCodeLensProvider(SPEC_SELECTOR, codeLens),
    ...registerCommands({ context, log, diagnostics, trainings, runsTree }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => log.info('workspace trusted: training enabled')),
    // The panel (and its worker thread) is created on demand; deactivation must still end it.
    { dispose: () => PoliceViewPanel.active?.dispose() },
  );
  registerPoliceViewSerializer(context);
}

export function deactivate(): void {}
