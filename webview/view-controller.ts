// What the view does with a spec, its plane, data, surfaces and the hovered point: state in, UI components out.
import type { Certificate } from '../extension/police/proof/certificate-types';
import type {
  CellInputMap,
  ViewShowData,
  ViewSpec,
  ViewStatus,
  ViewSurface,
  ViewTrainingStarted,
  WebviewToHost,
} from '../extension/protocol/messages';
import type { PlainOf } from '../extension/protocol/channel';
import { cellHolds, cellRegionDistances, cellValue, choosePlane, planePoint, samePlane } from '../extension/common/view-geometry';
import type { HoverPoint, SceneView } from './scene/scene-view';
import type { PersistedSettings, ShownState } from './state';
import { describeCell } from './text';
import type { Legend } from './ui/legend';
import type { SidePanel } from './ui/side-panel';
import type { Toolbar } from './ui/toolbar';
import type { Tooltip } from './ui/tooltip';

/** Grid points per side of the surface the view asks for. */
const RESOLUTION = 200;
/** What the view needs from its end of the host channel. */
export interface HostLink {
  send(message: PlainOf<WebviewToHost>): void;
  /** Which cell of surface `surfaceId` holds (u, v), and its map: a request whose promise rejects on a failure or timeout. */
  askCell(surfaceId: number, u: number, v: number): Promise<{ cell: number; map: CellInputMap | null }>;
}

export interface ViewParts {
  scene: SceneView;
  toolbar: Toolbar;
  legend: Legend;
  tooltip: Tooltip;
  side: SidePanel;
  notice: HTMLElement;
}

export class ViewController {
  readonly shown: ShownState;

  constructor(
    private readonly settings: PersistedSettings,
    private readonly parts: ViewParts,
    private readonly host: HostLink,
  ) {
    this.shown = {
      spec: undefined,
      specUri: settings.saved.specUri ?? '',
      choice: undefined,
      surface: undefined,
      cellMaps: new Map(),
      hovered: undefined,
      hover: { lastCell: -1 },
      kept: undefined,
    };
  }

  showSpec(next: ViewSpec, uri: string): void {
    const { parts, settings, shown } = this;
    if (next.inputDim < 2) {
      parts.notice.hidden = false;
      parts.notice.textContent = `${next.name}: the view draws inputs of dimension 2 or more (this spec has ${next.inputDim}).`;
      return;
    }
    const dimChanged = shown.spec?.inputDim !== next.inputDim || shown.specUri !== uri;
    if (shown.specUri !== uri) {
      settings.saved.runDir = undefined;
      // Another spec: nothing drawn for the previous one may stay (the host sends this one's data and runs).
      shown.surface = undefined;
      shown.kept = undefined;
      parts.scene.clearContent();
      parts.side.clear();
    }
    shown.spec = next;
    shown.specUri = uri;
    settings.saved.specUri = uri;
    parts.notice.hidden = true;
    parts.toolbar.showSpec(next, dimChanged);
    parts.side.showSpec(next);
    this.updatePlane(true);
    parts.scene.setStyle(this.style());
    this.renderLegend();
    settings.persist();
  }

  trainingStarted(m: ViewTrainingStarted): void {
    this.shown.kept = undefined;
    this.parts.side.trainingStarted(m.totalSteps, m.backend);
  }

  status(m: ViewStatus): void {
    this.parts.side.status(m.state, m.message);
    this.shown.kept = m.kept;
    this.renderLegend();
    if (m.runDir) {
      this.settings.saved.runDir = m.runDir;
      this.settings.persist();
    }
  }

  certificate(certificate: Certificate, stale: boolean | undefined): void {
    this.parts.side.showCertificate(certificate, stale);
  }

  /** The plane controls moved. */
  planeChanged(): void {
    this.updatePlane(false);
    this.settings.persist();
  }

  /** Output, colour mode or the partition toggle changed. */
  styleChanged(): void {
    this.parts.scene.setStyle(this.style());
    this.renderLegend();
    this.settings.persist();
  }

  showData(data: ViewShowData): void {
    this.parts.scene.setData(data);
    document.body.dataset.dataPoints = String(data.count);
    // Regression data sets the height scale, so the colour bar's ends.
    this.renderLegend();
  }

  showSurface(next: ViewSurface): void {
    const shown = this.shown;
    // A surface computed for a plane the user has since left is dropped, not drawn.
    if (shown.choice && !samePlane(next.plane, shown.choice.plane)) return;
    const sameGrid = shown.surface?.resolution === next.resolution;
    shown.surface = next;
    shown.cellMaps.clear();
    shown.hover = { lastCell: -1 };
    this.parts.scene.setSurface(next);
    document.body.dataset.cells = String(next.cellCount);
    document.body.dataset.surfaceStep = String(next.step);
    this.renderLegend();
    // A tooltip left open describes the new surface (and asks for its cell's map); a new grid needs a new hover.
    if (shown.hovered && sameGrid) this.showHover(...shown.hovered);
    else this.showHover(undefined, 0, 0);
  }

  /** Ask the worker which cell holds (u, v) of `surfaceId`; its answer (or failure) updates the hover it was asked for. */
  private locate(surfaceId: number, u: number, v: number): void {
    const hover = this.shown.hover;
    const asked: [number, number] = [u, v];
    hover.asked = asked;
    this.host.askCell(surfaceId, u, v).then(
      (answer) => {
        const shown = this.shown;
        // A newer surface replaced the one asked about: its cells and hover state are new.
        if (surfaceId !== shown.surface?.surfaceId) return;
        if (answer.cell >= 0 && answer.map) {
          shown.cellMaps.set(answer.cell, answer.map);
          shown.hover.lastCell = answer.cell;
        } else shown.hover.outside = asked;
        if (shown.hover.asked === asked) shown.hover.asked = undefined;
        if (shown.hovered) this.showHover(...shown.hovered);
      },
      (error: Error) => {
        const shown = this.shown;
        if (surfaceId !== shown.surface?.surfaceId) return;
        // A failed or lost ask must not stop hovering for good: the next hover asks again; a failure is said once.
        if (shown.hover.asked === asked) shown.hover.asked = undefined;
        shown.hover.failed = { at: asked, message: error.message };
        if (shown.hovered) this.showHover(...shown.hovered);
      },
    );
  }

  showHover(point: HoverPoint | undefined, clientX: number, clientY: number): void {
    const shown = this.shown;
    const { surface, spec } = shown;
    shown.hovered = point ? [point, clientX, clientY] : undefined;
    if (!point || !surface || !spec || !shown.choice) {
      this.parts.scene.highlightCell(-1);
      this.parts.tooltip.hide();
      return;
    }
    const cells = surface.cells;
    const index = this.knownCell(point);
    // The worker locates the point (and computes its map, a pass through the weights) when the view cannot tell; one ask at a time.
    const hover = shown.hover;
    const outside = hover.outside?.[0] === point.u && hover.outside[1] === point.v;
    const failed = hover.failed?.at[0] === point.u && hover.failed.at[1] === point.v ? hover.failed : undefined;
    if ((index < 0 || !shown.cellMaps.has(index)) && cells.count > 0 && !outside && !failed && !hover.asked)
      this.locate(surface.surfaceId, point.u, point.v);
    this.parts.scene.highlightCell(index);
    const x = planePoint(surface.plane, point.u, point.v);
    const outputs = surface.outputs;
    // Exact from the cell's map when the cell is known, else the nearest grid sample.
    const y =
      index >= 0
        ? Array.from({ length: outputs }, (_, k) => cellValue(cells, index, k, point.u, point.v))
        : Array.from(surface.values.subarray(point.grid * outputs, (point.grid + 1) * outputs));
    const lines = describeCell({
      x,
      y,
      cellIndex: index,
      regionDistances: index >= 0 ? cellRegionDistances(cells, index) : undefined,
      map: shown.cellMaps.get(index),
      regionNames: spec.regions.map((r) => r.name),
      locating: index < 0 && hover.asked !== undefined,
      failure: failed?.message,
      undrawnCellCount: surface.cellCount > cells.count ? surface.cellCount : undefined,
    });
    this.parts.tooltip.show(lines, clientX, clientY);
  }

  /** The cell holding the hovered point when the view can tell at once: the grid sample's cell or the last one located. */
  private knownCell(point: HoverPoint): number {
    const { surface, hover } = this.shown;
    if (!surface) return -1;
    const cells = surface.cells;
    for (const guess of [surface.cellIndex[point.grid] ?? -1, hover.lastCell])
      if (cellHolds(cells, guess, point.u, point.v, 1e-9)) return guess;
    return -1;
  }

  /** The legend strip: regions, classes, the partition with the kept step, and the colour bar in value mode. */
  private renderLegend(): void {
    const { colorMode, output } = this.settings.saved;
    this.parts.legend.render(this.shown.spec, this.shown.surface, {
      kept: this.shown.kept,
      colorBar: colorMode === 'value' ? { range: this.parts.scene.colorRange(), output } : undefined,
    });
  }

  private style() {
    const { output, colorMode, wireframe } = this.settings.saved;
    return { output, colorMode, wireframe };
  }

  private updatePlane(specChanged: boolean): void {
    const { spec } = this.shown;
    const mode = this.settings.saved.planeMode;
    if (!spec || !mode) return;
    const next = choosePlane(
      spec.inputDim,
      spec.domain,
      spec.regions.map((r) => r.vertices),
      mode,
    );
    const changed = JSON.stringify(next) !== JSON.stringify(this.shown.choice);
    this.shown.choice = next;
    this.parts.scene.setSpec(spec, next.plane, next.window);
    if (changed || specChanged) this.host.send({ type: 'setPlane', plane: next.plane, window: next.window, resolution: RESOLUTION });
  }
}
