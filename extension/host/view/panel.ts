// The POLICE view panel: webview lifecycle, replay of state after hide/reload, trainer events → view messages.
import * as vscode from 'vscode';
import { readTextLimitedAsync } from '../../police/io/safe-read';
import { join } from 'node:path';
import type { FoldedNetwork } from '../../police/network/network';
import type { ResolvedSpec } from '../../police/spec/types';
import type { Certificate } from '../../police/proof/certificate-types';
import { MessageChannel } from '../../protocol/channel';
import {
  assertNever,
  type HostToWebview,
  type LayerHealth,
  type LossPoints,
  type TrainerToHost,
  type ViewComparison,
  type ViewGram,
  type ViewLossHistory,
  type ViewPlane,
  type ViewProgress,
  type ViewShowData,
  type ViewShowSpec,
  type ViewStatus,
  type ViewSurface,
  type ViewWindow,
  type WebviewToHost,
} from '../../protocol/messages';
import { Disposable, toDisposable } from '../dispose';
import { gramMessage } from './gram';
import { makeNonce, renderHtml } from './html';
import { SurfaceService } from './surface-service';
import { computeVertexEdit } from './vertex-edit';
import { computeSettingEdit } from './setting-edit';
import { comparedRun } from './run-compare';
import { parseSpecText } from './spec-source';
import { readMetrics } from './run-files';
import { viewRefreshRate } from '../trainings';
import { toViewSpecPlain } from './view-spec';
import { RUN_FILES } from '../../police/io/run-files';
import { parseNetworkText } from '../../police/io/network-check';
import { readRunRecord } from '../run-folders';
import { outcomeText } from '../training-text';

/** What the webview keeps with setState; the serializer hands it back after a reload. */
export interface PersistedViewState {
  specUri?: string;
  runDir?: string;
}

const DATA_POINTS = 1500;
const DEFAULT_RESOLUTION = 200;
/** A live refresh waits at most this long on the exact partition (past it, live refreshes sample the map). */
const LIVE_PARTITION_MS = 1500;
/** A live refresh samples the map with at most this many multiply-adds (about 0.1 s), so training keeps its CPU. */
const LIVE_SAMPLE_MACS = 1e8;
/** Live Gram heat-map updates during training at most this often. */
const GRAM_INTERVAL_MS = 1000;

export class PoliceViewPanel extends Disposable {
  static readonly viewType = 'police.view';
  private static current: PoliceViewPanel | undefined;

  private readonly channel: MessageChannel<HostToWebview, WebviewToHost>;
  private readonly surfaces: SurfaceService;
  private spec: ResolvedSpec | undefined;
  private specUri: vscode.Uri | undefined;
  private network: FoldedNetwork | undefined;
  private networkStep = 0;
  private plane: { plane: ViewPlane; window: ViewWindow; resolution: number } | undefined;
  private loss: LossPoints = emptyLossPoints();
  private totalSteps = 0;
  private lastSpecMessage: ViewShowSpec | undefined;
  private lastData: ViewShowData | undefined;
  private lastSurface: ViewSurface | undefined;
  private lastCertificate: Certificate | undefined;
  /** The regions (vertices, as JSON) the certificate shown was made for, and those of the training now running. */
  private certificateRegions: string | undefined;
  private trainingRegions: string | undefined;
  private lastStatus: ViewStatus | undefined;
  private lastHealth: ViewProgress | undefined;
  /** A finished run's last constraint health (metrics.jsonl), sent with its loss history. */
  private lastHistoryHealth: LayerHealth[] | undefined;
  private lastGram: ViewGram | undefined;
  private lastComparison: ViewComparison | undefined;
  /** Counts run picks: a run (or comparison) still loading when the user picks another is dropped. */
  private runTicket = 0;
  private lastGramAt = 0;
  private reparseTimer: ReturnType<typeof setTimeout> | undefined;
  private editable = true;
  /** During a training: whether live refreshes still try the exact partition (cheap enough so far). */
  private livePartition = true;

  /** Open (or reveal) the one view panel. */
  static show(context: vscode.ExtensionContext, extensionUri: vscode.Uri = context.extensionUri): PoliceViewPanel {
    if (PoliceViewPanel.current) {
      PoliceViewPanel.current.panel.reveal(undefined, true);
      return PoliceViewPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      PoliceViewPanel.viewType,
      'POLICE view',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      PoliceViewPanel.webviewOptions(extensionUri),
    );
    PoliceViewPanel.current = new PoliceViewPanel(panel, extensionUri);
    return PoliceViewPanel.current;
  }

  /** The open panel, if any (the host forwards trainer events only when one is open). */
  static get active(): PoliceViewPanel | undefined {
    return PoliceViewPanel.current;
  }

  private static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    // No retainContextWhenHidden: the host replays the view's state on 'ready', which is cheaper than a live hidden page.
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')] };
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
  ) {
    super();
    this._register(
      toDisposable(() => {
        if (PoliceViewPanel.current === this) PoliceViewPanel.current = undefined;
      }),
    );
    // Closing the view from our side (deactivation, a revived panel replacing this one) closes the webview.
    this._register(panel);
    panel.webview.options = PoliceViewPanel.webviewOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'police-view.svg');
    this.channel = new MessageChannel<HostToWebview, WebviewToHost>(
      // Async work (a run's files still loading) can finish after the panel closed: a disposed webview throws on post.
      (message) => {
        if (!this.isDisposed) void panel.webview.postMessage(message);
      },
      {
        ready: () => this.replay(),
        moveVertex: (m) =>
          void this.editSpec(m.specUri, 'move the vertex', (text) => computeVertexEdit(text, m.region, m.vertex, m.from, m.to)),
        setSetting: (m) => void this.editSpec(m.specUri, `set ${m.change.setting}`, (text) => computeSettingEdit(text, m.change)),
        training: (m) => {
          // The spec's own commands: the same checks (errors, trust, one training per spec) as the palette and the CodeLens.
          const uri = vscode.Uri.parse(m.specUri);
          void vscode.commands.executeCommand(m.action === 'train' ? 'police.train' : 'police.stop', uri);
        },
        setPlane: (m) => {
          this.plane = { plane: m.plane, window: m.window, resolution: m.resolution };
          this.refreshSurface(true);
        },
        // The worker locates the hovered point and computes its cell's map; a failure goes back as the request's ReplyFailure.
        cell: (m) => this.surfaces.requestCell(m.surfaceId, m.u, m.v),
        log: (m) => console[m.level === 'info' ? 'log' : m.level](`[police view] ${m.message}`),
      },
      (raw, reason) => console.warn(`[police view] ignored message from the view (${reason}): ${JSON.stringify(raw)}`),
    );
    this.surfaces = this._register(
      new SurfaceService(
        vscode.Uri.joinPath(extensionUri, 'dist', 'partition-worker.js').fsPath,
        {
          onSurface: (surface) => {
            // A live refresh whose partition ran out of time: the next live refreshes sample the map instead of trying again.
            if (surface.partitionError && surface.partitionMs >= LIVE_PARTITION_MS) this.livePartition = false;
            this.lastSurface = surface;
            this.channel.send({ type: 'surface', surface });
          },
          onData: (data) => {
            this.lastData = data;
            this.channel.send(data);
          },
          onError: (message) => this.setStatus('error', message),
        },
        viewRefreshRate(),
      ),
    );
    this._register(toDisposable(() => clearTimeout(this.reparseTimer)));
    void this.surfaces.start();
    panel.webview.html = this.html();
    // The user closed the panel; the guard in dispose() stops the re-entry when we closed it ourselves.
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register(panel.webview.onDidReceiveMessage((raw: unknown) => this.channel.receive(raw)));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('police.viewRefreshRate')) this.surfaces.rateHz = viewRefreshRate();
      }),
    );
    this._register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.specUri && e.document.uri.toString() === this.specUri.toString()) this.scheduleReparse(e.document);
      }),
    );
  }

  /** Show a spec: domain, regions, data. Training events that follow are drawn against it. */
  showSpec(spec: ResolvedSpec, specUri: vscode.Uri, editable = true): void {
    const sameSpec = this.specUri?.toString() === specUri.toString();
    this.spec = spec;
    this.specUri = specUri;
    if (!sameSpec) {
      this.network = undefined;
      this.lastSurface = undefined;
      this.lastCertificate = undefined;
      this.certificateRegions = undefined;
      this.lastGram = undefined;
      this.plane = undefined;
      this.resetLoss(spec.training.steps);
      // Nothing said about the previous spec's training may stay on screen (nor come back when the view is re-shown).
      this.setStatus('idle', '');
      this.endComparison();
    }
    this.editable = editable;
    this.panel.title = `POLICE view: ${spec.name}`;
    this.lastSpecMessage = { type: 'spec', spec: toViewSpecPlain(spec, editable), specUri: specUri.toString() };
    this.channel.send(this.lastSpecMessage);
    this.sendCertificate();
    this.surfaces.requestData(spec, DATA_POINTS);
    this.refreshSurface(true);
  }

  /**
   * Forward one trainer event; snapshots become surfaces at the configured refresh rate, off the UI thread.
   * With `specPath`, events of a training of another spec than the one shown are ignored.
   */
  onTrainerMessage(message: TrainerToHost, specPath?: string): void {
    if (specPath !== undefined && this.specUri && this.specUri.fsPath !== specPath) return;
    switch (message.type) {
      case 'ready':
        this.livePartition = true;
        this.resetLoss(this.spec?.training.steps ?? 0);
        this.lastCertificate = undefined;
        this.trainingRegions = this.spec ? regionsKey(this.spec) : undefined;
        this.channel.send({ type: 'trainingStarted', totalSteps: this.totalSteps, backend: message.backend });
        this.setStatus('training', `training on ${message.backend}`);
        break;
      case 'progress':
        this.totalSteps = message.totalSteps;
        this.loss.steps.push(...message.logged.steps);
        this.loss.losses.push(...message.logged.losses);
        this.loss.elapsedMs.push(...message.logged.elapsedMs);
        this.channel.send({
          type: 'progress',
          step: message.step,
          totalSteps: message.totalSteps,
          loss: message.loss,
          logged: message.logged,
          health: message.health,
        });
        // Replayed after the loss history: the curve points are in it already.
        this.lastHealth = {
          type: 'progress',
          step: message.step,
          totalSteps: message.totalSteps,
          loss: message.loss,
          logged: { steps: [], losses: [], elapsedMs: [] },
          health: message.health,
        };
        break;
      case 'snapshot':
        this.network = message.network;
        this.networkStep = message.step;
        this.refreshSurface(false);
        if (Date.now() - this.lastGramAt >= GRAM_INTERVAL_MS) this.sendGram();
        break;
      case 'finishing':
        this.setStatus('training', `trained ${message.step} steps; certifying and writing the run`);
        break;
      case 'done':
        this.lastCertificate = message.certificate;
        this.certificateRegions = this.trainingRegions;
        this.sendCertificate();
        this.setStatus('done', `${outcomeText(message)} · run ${relativePath(message.runDir)}`, message.runDir, {
          step: message.record.keptStep,
          of: message.record.stepsDone,
        });
        void this.loadRunNetwork(message.runDir);
        break;
      case 'stopped':
        this.setStatus('stopped', `stopped at step ${message.step}`);
        break;
      case 'error':
        this.setStatus('error', message.message);
        break;
      case 'log':
        break;
      default:
        assertNever(message);
    }
  }

  /** Show a finished run folder: its spec, loss curve, final network and certificate. */
  async showRun(runDir: vscode.Uri | string): Promise<void> {
    await this.loadRun(typeof runDir === 'string' ? runDir : runDir.fsPath, ++this.runTicket);
  }

  /** Several runs at once: the first drawn as by showRun, every one's loss curve overlaid and a table of their settings and results. */
  async compareRuns(dirs: string[]): Promise<void> {
    const ticket = ++this.runTicket;
    await this.loadRun(dirs[0], ticket);
    const runs = await Promise.all(dirs.map((dir) => comparedRun(dir, relativePath(dir))));
    // A later pick (another run, another comparison) wins over this one.
    if (ticket !== this.runTicket) return;
    this.lastComparison = { type: 'comparison', runs };
    this.channel.send(this.lastComparison);
  }

  private async loadRun(dir: string, ticket: number): Promise<void> {
    const specPath = join(dir, RUN_FILES.spec);
    let text: string;
    try {
      text = await readTextLimitedAsync(specPath, { kind: 'spec' });
    } catch (error) {
      this.setStatus('error', `cannot read ${specPath}: ${(error as Error).message}`);
      return;
    }
    const parsed = await parseSpecText(text, specPath);
    if (ticket !== this.runTicket) return;
    if (!parsed.spec) {
      this.setStatus('error', `${specPath}: ${parsed.problems.find((p) => p.severity === 'error')?.message ?? 'invalid spec'}`);
      return;
    }
    this.showSpec(parsed.spec, vscode.Uri.file(specPath), false);
    this.endComparison();
    const [history, record] = await Promise.all([readMetrics(join(dir, RUN_FILES.metrics)), readRunRecord(dir)]);
    if (ticket !== this.runTicket) return;
    this.loss = history.points;
    this.totalSteps = record?.stepsDone ?? parsed.spec.training.steps;
    this.lastHistoryHealth = history.health;
    this.channel.send(this.lossHistoryMessage());
    try {
      this.lastCertificate = JSON.parse(
        await readTextLimitedAsync(join(dir, RUN_FILES.certificate), { kind: 'certificate' }),
      ) as Certificate;
      this.certificateRegions = regionsKey(parsed.spec);
      this.sendCertificate();
    } catch {
      this.lastCertificate = undefined;
    }
    await this.loadRunNetwork(dir);
    const where = `run ${relativePath(dir)}`;
    if (record && this.lastCertificate)
      this.setStatus('done', `${outcomeText({ certificate: this.lastCertificate, record })} · ${where}`, dir, {
        step: record.keptStep,
        of: record.stepsDone,
      });
    else this.setStatus('done', where, dir);
  }

  /** Bring back a panel VS Code restored after a reload, from the state the webview saved. */
  static async revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: PersistedViewState | undefined): Promise<void> {
    PoliceViewPanel.current?.dispose();
    const view = new PoliceViewPanel(panel, extensionUri);
    PoliceViewPanel.current = view;
    if (state?.runDir) {
      await view.showRun(state.runDir);
    } else if (state?.specUri) {
      try {
        const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(state.specUri));
        const parsed = await parseSpecText(document.getText(), document.uri.fsPath);
        if (parsed.spec) view.showSpec(parsed.spec, document.uri);
      } catch (error) {
        view.setStatus('error', `cannot reopen ${state.specUri}: ${(error as Error).message}`);
      }
    }
  }

  private html(): string {
    const webview = this.panel.webview;
    const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', name)).toString();
    return renderHtml({ cspSource: webview.cspSource, scriptUri: asset('webview.js'), styleUri: asset('webview.css'), nonce: makeNonce() });
  }

  /** A (re)loaded webview starts blank: send it everything it needs to draw the current state. */
  private replay(): void {
    if (this.lastSpecMessage) this.channel.send(this.lastSpecMessage);
    if (this.lastData) this.channel.send(this.lastData);
    this.channel.send(this.lossHistoryMessage());
    if (this.lastHealth) this.channel.send(this.lastHealth);
    if (this.lastSurface) this.channel.send({ type: 'surface', surface: this.lastSurface });
    this.sendCertificate();
    if (this.lastGram) this.channel.send(this.lastGram);
    if (this.lastStatus) this.channel.send(this.lastStatus);
    if (this.lastComparison) this.channel.send(this.lastComparison);
  }

  private setStatus(state: ViewStatus['state'], message: string, runDir?: string, kept?: { step: number; of: number }): void {
    this.lastStatus = { type: 'status', state, message, ...(runDir ? { runDir } : {}), ...(kept ? { kept } : {}) };
    this.channel.send(this.lastStatus);
  }

  private endComparison(): void {
    if (!this.lastComparison) return;
    this.lastComparison = undefined;
    this.channel.send({ type: 'comparison', runs: [] });
  }

  private lossHistoryMessage(): ViewLossHistory {
    return {
      type: 'lossHistory',
      points: this.loss,
      totalSteps: this.totalSteps,
      ...(this.lastHistoryHealth ? { health: this.lastHistoryHealth } : {}),
    };
  }

  /** The certificate shown, marked stale while the spec's regions differ from the ones it proves (a dragged vertex). */
  private sendCertificate(): void {
    if (!this.lastCertificate) return;
    const stale = this.spec !== undefined && this.certificateRegions !== undefined && this.certificateRegions !== regionsKey(this.spec);
    this.channel.send({ type: 'certificate', certificate: this.lastCertificate, ...(stale ? { stale } : {}) });
  }

  private resetLoss(totalSteps: number): void {
    this.loss = emptyLossPoints();
    this.totalSteps = totalSteps;
    this.lastHealth = undefined;
    this.lastHistoryHealth = undefined;
  }

  private async loadRunNetwork(dir: string): Promise<void> {
    try {
      const file = join(dir, RUN_FILES.network);
      const network = parseNetworkText(await readTextLimitedAsync(file, { kind: 'network' }), file);
      this.network = network;
      this.networkStep = network.step ?? this.totalSteps;
      this.refreshSurface(true);
      this.sendGram();
    } catch (error) {
      this.setStatus('error', `cannot read the run's network: ${(error as Error).message}`);
    }
  }

  /** The filter cosines of the current network, per layer (cheap: at most 64×64 per layer). */
  private sendGram(): void {
    if (!this.network) return;
    this.lastGramAt = Date.now();
    try {
      this.lastGram = gramMessage(this.network, this.networkStep);
      this.channel.send(this.lastGram);
    } catch (error) {
      console.warn(`[police view] no Gram heat-map for step ${this.networkStep}: ${(error as Error).message}`);
    }
  }

  /**
   * `immediate`: a finished run, another spec or plane (the exact partition may take PARTITION_TIME_LIMIT_MS); else a
   * live refresh during training, at the refresh rate, with the partition only while it stays cheap.
   */
  private refreshSurface(immediate: boolean): void {
    if (!this.network || !this.spec || !this.plane) return;
    if (this.network.input_dim !== this.spec.inputDim || this.plane.plane.origin.length !== this.spec.inputDim) return;
    this.surfaces.requestSurface(
      {
        step: this.networkStep,
        network: this.network,
        plane: this.plane.plane,
        window: this.plane.window,
        resolution: Math.min(this.plane.resolution || DEFAULT_RESOLUTION, 256),
        regions: this.spec.regions.map((r) => r.vertices),
        classification: this.spec.data.task === 'classification',
        ...(immediate ? {} : { partitionTimeLimitMs: this.livePartition ? LIVE_PARTITION_MS : 0, sampleMacs: LIVE_SAMPLE_MACS }),
      },
      immediate,
    );
  }

  private scheduleReparse(document: vscode.TextDocument): void {
    if (this.reparseTimer) clearTimeout(this.reparseTimer);
    this.reparseTimer = setTimeout(async () => {
      this.reparseTimer = undefined;
      const version = document.version;
      const parsed = await parseSpecText(document.getText(), document.uri.fsPath);
      if (!parsed.spec || !this.specUri || document.version !== version) return;
      this.spec = parsed.spec;
      this.lastSpecMessage = { type: 'spec', spec: toViewSpecPlain(parsed.spec, this.editable), specUri: this.specUri.toString() };
      this.channel.send(this.lastSpecMessage);
      this.sendCertificate();
      this.refreshSurface(true);
    }, 250);
  }

  /**
   * One WorkspaceEdit per drag or control change, so a single undo puts it back; the spec text stays the one source
   * of truth (the view redraws from the edited text). On failure the view is sent the spec as it is.
   */
  private async editSpec(
    specUri: string,
    what: string,
    compute: (text: string) => { edits: { offset: number; length: number; content: string }[] } | { error: string },
  ): Promise<void> {
    if (!this.editable || specUri !== this.specUri?.toString()) {
      if (this.lastSpecMessage) this.channel.send(this.lastSpecMessage);
      return;
    }
    try {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(specUri));
      const result = compute(document.getText());
      if ('error' in result) {
        // Put the dragged marker (or the control) back where the spec says it is.
        if (this.lastSpecMessage) this.channel.send(this.lastSpecMessage);
        void vscode.window.showWarningMessage(`POLICE: ${vscode.workspace.asRelativePath(document.uri)}: ${result.error}`);
        return;
      }
      const edit = new vscode.WorkspaceEdit();
      for (const e of result.edits) {
        edit.replace(document.uri, new vscode.Range(document.positionAt(e.offset), document.positionAt(e.offset + e.length)), e.content);
      }
      if (!(await vscode.workspace.applyEdit(edit)) && this.lastSpecMessage) this.channel.send(this.lastSpecMessage);
    } catch (error) {
      if (this.lastSpecMessage) this.channel.send(this.lastSpecMessage);
      void vscode.window.showErrorMessage(`POLICE: could not ${what} in ${specUri}: ${(error as Error).message}`);
    }
  }
}

/** Keeps the view across VS Code reloads (needs "onWebviewPanel:police.view" among activationEvents). */
export function registerPoliceViewSerializer(context: vscode.ExtensionContext): vscode.Disposable {
  const disposable = vscode.window.registerWebviewPanelSerializer(PoliceViewPanel.viewType, {
    deserializeWebviewPanel: (panel: vscode.WebviewPanel, state: unknown) =>
      PoliceViewPanel.revive(panel, context.extensionUri, state as PersistedViewState | undefined),
  });
  context.subscriptions.push(disposable);
  return disposable;
}

function emptyLossPoints(): LossPoints {
  return { steps: [], losses: [], elapsedMs: [] };
}

/** The regions a certificate is about, comparable as one string. */
function regionsKey(spec: ResolvedSpec): string {
  return JSON.stringify(spec.regions.map((r) => r.vertices));
}

/** A path as the user reads it: relative to the workspace folder holding it. */
function relativePath(path: string): string {
  return vscode.workspace.asRelativePath(path, false);
}
