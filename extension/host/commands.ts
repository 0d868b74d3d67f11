// The POLICE commands: train, stop, show view, verify, analyze, export, import, open run folder, new spec from template.
import { fork, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isSpecDocument, type SpecDiagnostics } from './diagnostics';
import { describeRun, listRuns, newRunDir, removeWriterTempFiles, summarizeRun, specNameFromPath, type RunSummary } from './run-folders';
import type { RunsNode, RunsTreeProvider } from './runs-tree';
import { runsRootFor, type Trainings } from './trainings';
import { PoliceViewPanel } from './view/panel';
import { ANALYSIS_FILES, RUN_FILES } from '../police/io/run-files';
import { EXPORT_FORMATS, EXPORT_WRITES_FILE, type ExportFormat } from '../police/io/format-names';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  diagnostics: SpecDiagnostics;
  trainings: Trainings;
  runsTree: RunsTreeProvider;
}

/** What a command may be invoked with: nothing (palette), a spec Uri (CodeLens, editor title) or a tree node. */
type Target = vscode.Uri | RunsNode | undefined;

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { context, log, trainings } = deps;
  const cliScript = vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath;
  const guard =
    <A extends unknown[]>(name: string, run: (...args: A) => Promise<unknown> | unknown) =>
    async (...args: A): Promise<void> => {
      try {
        await run(...args);
      } catch (err) {
        // A command failure is the user's business: say which command and why, keep the stack in the log.
        log.error(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        void vscode.window.showErrorMessage(`POLICE: ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    };

  return [
    // Verify/analyze children still running at deactivation end with it.
    { dispose: () => liveCliChildren.forEach((child) => child.kill()) },
    vscode.commands.registerCommand(
      'police.train',
      guard('Train', (target?: Target) => train(deps, target)),
    ),
    vscode.commands.registerCommand(
      'police.stop',
      guard('Stop training', async (target?: Target) => {
        const document = await specDocument(target, false);
        if (document && trainings.isTraining(document.uri.fsPath)) await trainings.stop(document.uri.fsPath);
        else if (trainings.isTraining()) await trainings.stop();
        else void vscode.window.showInformationMessage('POLICE: nothing is training.');
      }),
    ),
    vscode.commands.registerCommand(
      'police.showView',
      guard('Show view', (target?: Target) => showView(deps, target)),
    ),
    vscode.commands.registerCommand(
      'police.showRun',
      guard('Show run', async (target?: Target) => {
        const run = await pickRun(target, 'Show which run?');
        if (run) await PoliceViewPanel.show(context).showRun(run.dir);
      }),
    ),
    vscode.commands.registerCommand(
      'police.compareRuns',
      guard('Compare runs', async (target?: Target, selected?: RunsNode[]) => {
        const runs = await pickRuns(target, selected);
        if (runs.length >= 2) await PoliceViewPanel.show(context).compareRuns(runs.map((run) => run.dir));
        else if (runs.length === 1) await PoliceViewPanel.show(context).showRun(runs[0].dir);
      }),
    ),
    vscode.commands.registerCommand(
      'police.verify',
      guard('Verify run', (target?: Target) => verify(deps, cliScript, target)),
    ),
    vscode.commands.registerCommand(
      'police.analyze',
      guard('Analyze run', (target?: Target) => analyzeRun(deps, cliScript, target)),
    ),
    vscode.commands.registerCommand(
      'police.export',
      guard('Export model', (target?: Target) => exportModel(deps, cliScript, target)),
    ),
    vscode.commands.registerCommand(
      'police.import',
      guard('Import model', (target?: Target) => importModel(deps, cliScript, target)),
    ),
    vscode.commands.registerCommand(
      'police.openRunFolder',
      guard('Open run folder', async (target?: Target) => {
        const run = await pickRun(target, 'Open which run folder?');
        if (!run) return;
        const uri = vscode.Uri.file(run.dir);
        // Desktop VS Code can show the folder in the OS file manager; in a browser workbench reveal it in the Explorer.
        if (vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName)
          await vscode.commands.executeCommand('revealFileInOS', uri);
        else await vscode.commands.executeCommand('revealInExplorer', uri);
      }),
    ),
    vscode.commands.registerCommand(
      'police.newSpec',
      guard('New spec from template', () => newSpec(context)),
    ),
    vscode.commands.registerCommand('police.showLog', () => log.show()),
    vscode.commands.registerCommand('police.refreshRuns', () => deps.runsTree.refresh()),
  ];
}

async function train(deps: CommandDeps, target: Target): Promise<void> {
  const document = await specDocument(target, true);
  if (!document) return;
  // The resolved spec is copied back from the worker only when a view will show it.
  const { spec, problems } = await deps.diagnostics.validateNow(document, PoliceViewPanel.active !== undefined);
  const errors = problems.filter((p) => p.severity === 'error');
  const name = specNameFromPath(document.uri.fsPath);
  if (errors.length > 0) {
    const first = errors[0];
    void vscode.window.showErrorMessage(
      `POLICE: not training ${name}: the spec has ${errors.length} error${errors.length === 1 ? '' : 's'}; first at line ${first.range.start.line + 1}: ${first.message}`,
    );
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    return;
  }
  const state = await deps.trainings.start(document);
  if (state && spec && PoliceViewPanel.active) PoliceViewPanel.active.showSpec(spec, document.uri);
}

async function showView(deps: CommandDeps, target: Target): Promise<void> {
  if (target && !(target instanceof vscode.Uri) && target.kind === 'run') {
    await PoliceViewPanel.show(deps.context).showRun(target.run.dir);
    return;
  }
  const document = await specDocument(target, false);
  const panel = PoliceViewPanel.show(deps.context);
  if (!document) return;
  const parsed = await deps.diagnostics.validate(document);
  if (parsed.spec) panel.showSpec(parsed.spec, document.uri);
  else
    void vscode.window.showWarningMessage(
      `POLICE: ${specNameFromPath(document.uri.fsPath)} has errors; the view shows it once they are fixed.`,
    );
}

async function verify(deps: CommandDeps, cliScript: string, target: Target): Promise<void> {
  const run = await pickRun(target, 'Verify which run?');
  if (!run) return;
  const specCopy = path.join(run.dir, RUN_FILES.spec);
  // Verification re-derives the certificate in float64 with the CLI, in its own process like training.
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `POLICE: verifying ${run.specName}/${run.id}`, cancellable: true },
    (_progress, token) => runCli(cliScript, ['verify', specCopy, run.dir], deps.log, token),
  );
  if (result.cancelled) return;
  deps.runsTree.refresh();
  const after = await summarizeRun(run.specName, run.dir);
  const summary = result.output.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
  if (result.code === 0 && after.certificate === 'proved') {
    void vscode.window.showInformationMessage(`POLICE: ${run.specName}/${run.id}: certificate proved. ${summary}`);
  } else {
    const showLog = 'Show log';
    const choice = await vscode.window.showWarningMessage(
      result.code === 3
        ? `POLICE: ${run.specName}/${run.id}: its certificate.json is missing or disagrees with the recomputed certificate. ${summary}`
        : `POLICE: ${run.specName}/${run.id}: not proved (verify exited with ${result.code}). ${summary}`,
      showLog,
    );
    if (choice === showLog) deps.log.show();
  }
}

/** Smooth-activation residual, orthogonality and injectivity of a run, written beside it and previewed beside the view. */
async function analyzeRun(deps: CommandDeps, cliScript: string, target: Target): Promise<void> {
  const run = await pickRun(target, 'Analyze which run?');
  if (!run) return;
  const label = `${run.specName}/${run.id}`;
  // The analysis (injectivity probes, β sweeps) can take seconds: it runs in the CLI's process, not the extension host.
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `POLICE: analysing ${label}`, cancellable: true },
    (_progress, token) => runCli(cliScript, ['analyze', path.join(run.dir, RUN_FILES.spec), run.dir, '--json'], deps.log, token),
  );
  // Each analysis file is renamed into place whole; a cancel or a crash may leave the one being written (and a mix of old and new files).
  if ((result.cancelled || result.code !== 0) && result.pid !== undefined) await removeWriterTempFiles(run.dir, result.pid);
  if (result.cancelled) return;
  if (result.code !== 0) {
    const reason = result.output.trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'no output';
    throw new Error(`the analysis of ${label} failed (exit ${result.code}): ${reason}`);
  }
  const markdown = vscode.Uri.file(path.join(run.dir, ANALYSIS_FILES.markdown));
  try {
    await vscode.commands.executeCommand('markdown.showPreviewToSide', markdown);
  } catch (err) {
    // Without the built-in Markdown preview the report still opens, as text.
    deps.log.warn(`Markdown preview of ${markdown.fsPath} unavailable: ${err instanceof Error ? err.message : String(err)}`);
    await vscode.window.showTextDocument(markdown, { viewColumn: vscode.ViewColumn.Beside, preview: true });
  }
  const verdict = injectivityVerdict(result.output);
  void vscode.window.showInformationMessage(
    `POLICE: analysed ${label}${verdict ? `: the network is ${verdict}` : ''}. Report: ${ANALYSIS_FILES.markdown} in the run folder.`,
  );
}

/** The whole-network injectivity verdict from `police analyze --json`, in words (undefined when unreadable). */
function injectivityVerdict(output: string): string | undefined {
  const line = output.split('\n').find((l) => l.startsWith('{'));
  if (!line) return undefined;
  try {
    const verdict = (JSON.parse(line) as { injectivity?: { network?: { verdict?: string } } }).injectivity?.network?.verdict;
    const words: Record<string, string> = {
      injective: 'injective (proved)',
      'not-injective': 'not injective (proved)',
      'no-counter-example': 'without an injectivity counter-example',
      undecided: 'undecided for injectivity',
    };
    return verdict ? (words[verdict] ?? verdict) : undefined;
  } catch {
    return undefined;
  }
}

const FORMAT_DESCRIPTIONS: Record<ExportFormat, string> = {
  onnx: "ONNX (opset 17) with the spec name, weights hash and each region's status and affine map as metadata",
  safetensors: 'the weights, named as the PyTorch module expects, hash and spec name in __metadata__',
  pytorch: 'a folder: police_model.py (the POLICE layer), train.py (torchrun, DistributedDataParallel), data and initial weights',
  tfjs: 'the TensorFlow.js Layers model with network.json and certificate.json',
};

/** `police export` in the CLI's process: the format is picked, then where it goes (a file, or a folder for pytorch and tfjs). */
async function exportModel(deps: CommandDeps, cliScript: string, target: Target): Promise<void> {
  const run = await pickRun(target, 'Export which run?');
  if (!run) return;
  const picked = await vscode.window.showQuickPick(
    EXPORT_FORMATS.map((format) => ({ label: format, detail: FORMAT_DESCRIPTIONS[format], format })),
    { title: `POLICE: export ${run.specName}/${run.id} as`, placeHolder: 'Which format?' },
  );
  if (!picked) return;
  const { format } = picked;
  const base = vscode.workspace.workspaceFolders?.[0]?.uri;
  let destination: string | undefined;
  if (EXPORT_WRITES_FILE[format]) {
    const uri = await vscode.window.showSaveDialog({
      title: `Export ${run.specName}/${run.id} as ${format}`,
      defaultUri: base && vscode.Uri.joinPath(base, `${run.specName}-${run.id}.${format}`),
      filters: { [format]: [format] },
    });
    destination = uri?.fsPath;
  } else {
    const folder = await vscode.window.showOpenDialog({
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      openLabel: 'Export here',
      defaultUri: base,
      title: `Export ${run.specName}/${run.id} as ${format} into a new folder here`,
    });
    destination = folder?.[0] && path.join(folder[0].fsPath, `${run.specName}-${run.id}-${format}`);
  }
  if (!destination) return;
  const args = ['export', path.join(run.dir, RUN_FILES.spec), run.dir, '--format', format, '--out', destination];
  const result = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `POLICE: exporting ${run.specName}/${run.id} as ${format}`,
      cancellable: true,
    },
    (_progress, token) => runCli(cliScript, args, deps.log, token),
  );
  if (result.cancelled) return;
  if (result.code !== 0) throw new Error(lastLine(result.output) || `police export exited with ${result.code}`);
  void vscode.window.showInformationMessage(`POLICE: exported ${run.specName}/${run.id} as ${format} to ${destination}`);
}

/** `police import`: a model file (ONNX plain MLP or safetensors) and the spec whose regions certify it, as a new run. */
async function importModel(deps: CommandDeps, cliScript: string, target: Target): Promise<void> {
  const files = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: false,
    canSelectMany: false,
    openLabel: 'Import',
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: { 'ONNX or safetensors': ['onnx', 'safetensors'] },
    title: 'POLICE: import which model (ONNX plain MLP, or weights.safetensors from the exported train.py)?',
  });
  const file = files?.[0]?.fsPath;
  if (!file) return;
  const document = await specDocument(target, true);
  if (!document) return;
  const root = runsRootFor(document.uri);
  if (!root) {
    void vscode.window.showInformationMessage('POLICE: open a folder first; runs live inside the workspace.');
    return;
  }
  if (document.isDirty) await document.save();
  const runDir = newRunDir(root, document.uri.fsPath);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `POLICE: importing ${path.basename(file)}`, cancellable: true },
    (_progress, token) => runCli(cliScript, ['import', document.uri.fsPath, file, '--out', runDir], deps.log, token),
  );
  if (result.cancelled) return;
  deps.runsTree.refresh();
  const label = `${specNameFromPath(document.uri.fsPath)}/${path.basename(runDir)}`;
  if (result.code === 0)
    void vscode.window.showInformationMessage(`POLICE: imported ${path.basename(file)} as ${label}: every region proved affine.`);
  else if (result.code === 2) {
    const showLog = 'Show log';
    const choice = await vscode.window.showWarningMessage(
      `POLICE: imported ${path.basename(file)} as ${label}: NOT proved affine on every region. ${lastLine(result.output)}`,
      showLog,
    );
    if (choice === showLog) deps.log.show();
  } else throw new Error(lastLine(result.output) || `police import exited with ${result.code}`);
}

function lastLine(output: string): string {
  return output.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
}

async function newSpec(context: vscode.ExtensionContext): Promise<void> {
  const examplesDir = vscode.Uri.joinPath(context.extensionUri, 'examples').fsPath;
  const files = (await fs.readdir(examplesDir).catch(() => [] as string[])).filter((f) => f.endsWith('.police.json')).sort();
  if (files.length === 0) throw new Error(`no templates found in ${examplesDir}`);
  const items = await Promise.all(
    files.map(async (file) => {
      const text = await fs.readFile(path.join(examplesDir, file), 'utf8');
      const described = /"description"\s*:\s*"([^"]*)"/.exec(text)?.[1] ?? /"name"\s*:\s*"([^"]*)"/.exec(text)?.[1];
      return { label: specNameFromPath(file), description: described, file, text };
    }),
  );
  const choice = await vscode.window.showQuickPick(items, { title: 'POLICE: new spec from template', placeHolder: 'Pick an example' });
  if (!choice) return;
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    // No folder to write into: an untitled document still gets completion and diagnostics.
    const document = await vscode.workspace.openTextDocument({ language: 'police-json', content: choice.text });
    await vscode.window.showTextDocument(document);
    return;
  }
  const fileName = await vscode.window.showInputBox({
    title: 'POLICE: new spec file name',
    value: choice.file,
    validateInput: (v) => (v.endsWith('.police.json') ? undefined : 'The file name must end in .police.json'),
  });
  if (!fileName) return;
  const target = vscode.Uri.joinPath(folder.uri, fileName);
  try {
    await fs.access(target.fsPath);
    throw new Error(`${target.fsPath} already exists`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.mkdir(path.dirname(target.fsPath), { recursive: true });
  await fs.writeFile(target.fsPath, choice.text, 'utf8');
  await vscode.window.showTextDocument(target);
}

/** The spec a command acts on: the given Uri, else the active editor's spec, else (when asked) a pick from the workspace. */
async function specDocument(target: Target, askIfNone: boolean): Promise<vscode.TextDocument | undefined> {
  if (target instanceof vscode.Uri) return vscode.workspace.openTextDocument(target);
  if (target?.kind === 'run' && target.run.specCopy) return vscode.workspace.openTextDocument(vscode.Uri.file(target.run.specCopy));
  const active = vscode.window.activeTextEditor?.document;
  if (active && isSpecDocument(active)) return active;
  const visible = vscode.window.visibleTextEditors.map((e) => e.document).find(isSpecDocument);
  if (visible) return visible;
  if (!askIfNone) return undefined;
  const found = await vscode.workspace.findFiles('**/*.police.json', '**/{node_modules,.police}/**', 200);
  if (found.length === 0) {
    void vscode.window.showInformationMessage(
      'POLICE: open a *.police.json spec first (or create one with "POLICE: New spec from template").',
    );
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    found.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { placeHolder: 'Which spec?' },
  );
  return pick ? vscode.workspace.openTextDocument(pick.uri) : undefined;
}

/** The run a command acts on: the tree node, else a run of the active spec (newest first), else any run. */
async function pickRun(target: Target, placeHolder: string): Promise<RunSummary | undefined> {
  if (target && !(target instanceof vscode.Uri)) {
    if (target.kind === 'run') return target.run;
    if (target.kind === 'spec' && target.runs[0]) return target.runs[0];
  }
  const specUri = target instanceof vscode.Uri ? target : vscode.window.activeTextEditor?.document.uri;
  const root = runsRootFor(specUri);
  if (!root) {
    void vscode.window.showInformationMessage('POLICE: open a folder first; runs live inside the workspace.');
    return undefined;
  }
  const bySpec = await listRuns(root);
  const own = specUri?.path.endsWith('.police.json') ? bySpec.get(specNameFromPath(specUri.fsPath)) : undefined;
  // From the spec's CodeLens: its newest run.
  if (target instanceof vscode.Uri && own?.[0]) return own[0];
  const candidates = own ?? [...bySpec.values()].flat();
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`POLICE: no runs yet under ${root}. Train a spec first.`);
    return undefined;
  }
  if (candidates.length === 1) return candidates[0];
  const pick = await vscode.window.showQuickPick(
    candidates.map((run) => ({ label: `${run.specName}/${run.id}`, description: `${run.certificate}`, run })),
    { placeHolder },
  );
  return pick?.run;
}

/** The runs to compare: those selected in the Runs view, else picked from every run (several at once). */
async function pickRuns(target: Target, selected: RunsNode[] | undefined): Promise<RunSummary[]> {
  const fromTree = (selected ?? (target && !(target instanceof vscode.Uri) ? [target] : [])).flatMap((node) =>
    node.kind === 'run' ? [node.run] : [],
  );
  if (fromTree.length >= 2) return fromTree;
  const root = runsRootFor(target instanceof vscode.Uri ? target : undefined);
  if (!root) return fromTree;
  const all = [...(await listRuns(root)).values()].flat();
  const picks = await vscode.window.showQuickPick(
    all.map((run) => ({ label: `${run.specName}/${run.id}`, description: describeRun(run), run, picked: fromTree.includes(run) })),
    { canPickMany: true, placeHolder: 'Compare which runs? (pick two or more)' },
  );
  return picks?.map((pick) => pick.run) ?? [];
}

const liveCliChildren = new Set<ChildProcess>();

/** `police <args>` in its own process; cancelling the progress notification kills it. */
function runCli(
  script: string,
  args: string[],
  log: vscode.LogOutputChannel,
  token: vscode.CancellationToken,
): Promise<{ code: number; output: string; cancelled: boolean; pid?: number }> {
  return new Promise((resolve) => {
    let output = '';
    const child = fork(script, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    liveCliChildren.add(child);
    const cancel = token.onCancellationRequested(() => child.kill());
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('error', (err) => resolve({ code: -1, output: `${output}\n${err.message}`, cancelled: token.isCancellationRequested }));
    child.on('exit', (code) => {
      liveCliChildren.delete(child);
      cancel.dispose();
      log.info(`police ${args.join(' ')} → exit ${code}${token.isCancellationRequested ? ' (cancelled)' : ''}\n${output.trim()}`);
      resolve({ code: code ?? -1, output, cancelled: token.isCancellationRequested, pid: child.pid });
    });
  });
}
