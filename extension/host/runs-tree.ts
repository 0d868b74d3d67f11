// The "POLICE Runs" tree: spec → runs (newest first) with final loss and certificate state; trainings in progress on top.
import * as vscode from 'vscode';
import { Disposable, MutableDisposable, toDisposable } from './dispose';
import { describeRun, describeRunLoss, listRuns, type RunSummary } from './run-folders';
import { progressText } from './training-text';
import type { Trainings, TrainingState } from './trainings';

export type RunsNode =
  | { kind: 'spec'; specName: string; runs: RunSummary[]; training?: TrainingState }
  | { kind: 'run'; run: RunSummary }
  | { kind: 'training'; state: TrainingState };

const CERTIFICATE_ICONS: Record<RunSummary['certificate'], [string, string | undefined]> = {
  proved: ['pass', 'testing.iconPassed'],
  'not-proved': ['error', 'testing.iconFailed'],
  approximate: ['warning', 'list.warningForeground'],
  missing: ['circle-outline', undefined],
  unreadable: ['question', undefined],
};

export class RunsTreeProvider extends Disposable implements vscode.TreeDataProvider<RunsNode> {
  private readonly changed = this._register(new vscode.EventEmitter<RunsNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly watcher = this._register(new MutableDisposable<vscode.FileSystemWatcher>());
  /** The training rows last handed to the tree, so progress repaints one row instead of re-listing every run. */
  private readonly trainingNodes = new Map<string, RunsNode>();
  /** Training rows the workbench has asked for a tree item of after their first progress. */
  private readonly shownWithProgress = new WeakSet<RunsNode>();

  constructor(
    private readonly runsRoot: () => string | undefined,
    private readonly trainings: Trainings,
  ) {
    super();
    this._register(toDisposable(() => clearTimeout(this.refreshTimer)));
    this.watchRunsRoot();
    this._register(trainings.onDidChange(() => this.refresh()));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('police.runsFolder')) return;
        this.watchRunsRoot();
        this.refresh();
      }),
    );
  }

  /** Runs also appear from the CLI: watch the runs folder itself (a renamed-in run folder is one event). */
  private watchRunsRoot(): void {
    const root = this.runsRoot();
    this.watcher.value = root
      ? vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '**'))
      : undefined;
    this.watcher.value?.onDidCreate(() => this.refresh());
    this.watcher.value?.onDidDelete(() => this.refresh());
  }

  refresh(): void {
    // Coalesce bursts (a run folder appears with several files at once; progress arrives at the view rate).
    if (this.refreshTimer || this.isDisposed) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
    }, 250);
  }

  /**
   * A training's step and loss changed: repaint its row only (the runs on disk did not change). A row not yet shown with
   * progress is re-listed instead: the workbench can drop a repaint of a row it is still resolving, which left it "starting".
   */
  trainingProgressed(state: TrainingState): void {
    const node = this.trainingNodes.get(state.specName);
    if (node && this.shownWithProgress.has(node)) this.changed.fire(node);
    else this.refresh();
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (node?.kind === 'spec') {
      const running: RunsNode[] = [];
      if (node.training) {
        const row: RunsNode = { kind: 'training', state: node.training };
        this.trainingNodes.set(node.specName, row);
        running.push(row);
      } else this.trainingNodes.delete(node.specName);
      return [...running, ...node.runs.map((run): RunsNode => ({ kind: 'run', run }))];
    }
    if (node) return [];
    const root = this.runsRoot();
    const bySpec = root ? await listRuns(root) : new Map<string, RunSummary[]>();
    const training = new Map(this.trainings.states().map((s) => [s.specName, s]));
    const names = [...new Set([...bySpec.keys(), ...training.keys()])].sort();
    return names.map((specName) => ({ kind: 'spec', specName, runs: bySpec.get(specName) ?? [], training: training.get(specName) }));
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'spec': {
        const item = new vscode.TreeItem(node.specName, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `spec:${node.specName}`;
        item.iconPath = new vscode.ThemeIcon(node.training ? 'sync~spin' : 'file-code');
        item.description = `${node.runs.length} run${node.runs.length === 1 ? '' : 's'}`;
        item.contextValue = 'policeSpec';
        return item;
      }
      case 'training': {
        const item = new vscode.TreeItem('training…', vscode.TreeItemCollapsibleState.None);
        item.id = `training:${node.state.runDir}`;
        item.iconPath = new vscode.ThemeIcon('sync~spin');
        item.description = progressText(node.state.progress, Boolean(node.state.finishing));
        if (node.state.progress) this.shownWithProgress.add(node);
        item.accessibilityInformation = { label: `training ${node.state.specName}: ${item.description}` };
        item.contextValue = 'policeTraining';
        item.command = { command: 'police.showView', title: 'Show view' };
        return item;
      }
      case 'run': {
        const { run } = node;
        const item = new vscode.TreeItem(run.id, vscode.TreeItemCollapsibleState.None);
        item.id = `run:${run.dir}`;
        item.description = describeRun(run);
        const [icon, color] = CERTIFICATE_ICONS[run.certificate];
        item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
        item.tooltip = new vscode.MarkdownString(
          `**${run.specName}** run \`${run.id}\`\n\n- ${describeRunLoss(run)}\n- certificate: ${run.certificate}\n- folder: \`${run.dir}\``,
        );
        item.accessibilityInformation = { label: `run ${run.id} of ${run.specName}, ${describeRun(run)}` };
        item.resourceUri = vscode.Uri.file(run.dir);
        item.contextValue = 'policeRun';
        item.command = { command: 'police.showRun', title: 'Show run', arguments: [node] };
        return item;
      }
    }
  }
}
