// What the view does with a spec, its plane, data, surfaces and the hovered point: state in, UI components out.
import type { CellInputMap, ViewShowData, ViewSpec, ViewSurface, WebviewToHost } from '../extension/protocol/messages';
import { cellRegionDistances, cellValue, choosePlane, findCell, planePoint } from '../extension/common/view-geometry';
import type { HoverPoint, SceneView } from './scene/scene-view';
import type { PersistedSettings, ShownState } from './state';
import { describeCell } from './text';
import type { Legend } from './ui/legend';
import type { SidePanel } from './ui/side-panel';
import type { Toolbar } from './ui/toolbar';
import type { Tooltip } from './ui/tooltip';

/** Grid points per side of the surface the view asks for. */
const RESOLUTION = 200;

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
    private readonly send: (message: WebviewToHost) => void,
  ) {
    this.shown = {
      spec: undefined,
      specUri: settings.saved.specUri ?? '',
      choice: undefined,
      surface: undefined,
      cellMaps: new Map(),
      hovered: undefined,
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
      parts.scene.clearContent();
      parts.side.clear();
    }
    shown.spec = next;
    shown.specUri = uri;
    settings.saved.specUri = uri;
    parts.notice.hidden = true;
    parts.toolbar.showSpec(next, dimChanged);
    this.updatePlane(true);
    parts.scene.setStyle(this.style());
    parts.legend.render(shown.spec, shown.surface);
    settings.persist();
  }

  /** The plane controls moved. */
  planeChanged(): void {
    this.updatePlane(false);
    this.settings.persist();
  }

  /** Output, colour mode or the partition toggle changed. */
  styleChanged(): void {
    this.parts.scene.setStyle(this.style());
    this.parts.legend.render(this.shown.spec, this.shown.surface);
    this.settings.persist();
  }

  showData(data: ViewShowData): void {
    this.parts.scene.setData(data);
    document.body.dataset.dataPoints = String(data.count);
  }

  showSurface(next: ViewSurface): void {
    const shown = this.shown;
    // A surface computed for a plane the user has since left is dropped, not drawn.
    if (shown.choice && JSON.stringify(next.plane) !== JSON.stringify(shown.choice.plane)) return;
    const sameGrid = shown.surface?.resolution === next.resolution;
    shown.surface = next;
    shown.cellMaps.clear();
    this.parts.scene.setSurface(next);
    document.body.dataset.cells = String(next.cellCount);
    document.body.dataset.surfaceStep = String(next.step);
    this.parts.legend.render(shown.spec, next);
    // A tooltip left open describes the new surface (and asks for its cell's map); a new grid needs a new hover.
    if (shown.hovered && sameGrid) this.showHover(...shown.hovered);
    else this.showHover(undefined, 0, 0);
  }

  /** The worker's answer to an askCellMap; null when it dropped that surface (the next hover asks again). */
  cellMap(surfaceId: number, cell: number, map: CellInputMap | null): void {
    const shown = this.shown;
    if (surfaceId !== shown.surface?.surfaceId) return;
    if (map) shown.cellMaps.set(cell, map);
    else shown.cellMaps.delete(cell);
    if (shown.hovered) this.showHover(...shown.hovered);
  }

  showHover(point: HoverPoint | undefined, clientX: number, clientY: number): void {
    const shown = this.shown;
    const { surface, spec } = shown;
    shown.hovered = point ? [point, clientX, clientY] : undefined;
    if (!point || !surface || !spec || !shown.choice) {
      this.parts.tooltip.hide();
      return;
    }
    const cells = surface.cells;
    const index = findCell(cells, surface.cellIndex[point.grid] ?? -1, point.u, point.v, 1e-6);
    const x = planePoint(surface.plane, point.u, point.v);
    const outputs = surface.outputs;
    // Exact from the cell's map when the cell is known, else the nearest grid sample.
    const y =
      index >= 0
        ? Array.from({ length: outputs }, (_, k) => cellValue(cells, index, k, point.u, point.v))
        : Array.from(surface.values.subarray(point.grid * outputs, (point.grid + 1) * outputs));
    // The input-space map costs a pass through the weights: the worker computes it for the hovered cell only.
    if (index >= 0 && !shown.cellMaps.has(index)) {
      shown.cellMaps.set(index, 'asked');
      this.send({ type: 'askCellMap', surfaceId: surface.surfaceId, cell: index });
    }
    const map = shown.cellMaps.get(index);
    const lines = describeCell({
      x,
      y,
      cellIndex: index,
      regionDistances: index >= 0 ? cellRegionDistances(cells, index) : undefined,
      map: map === 'asked' ? undefined : map,
      regionNames: spec.regions.map((r) => r.name),
    });
    if (index < 0 && surface.cellCount > cells.count)
      lines[lines.length - 1] = `one of ${surface.cellCount} linear regions (too many to list their maps)`;
    this.parts.tooltip.show(lines, clientX, clientY);
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
    if (changed || specChanged) this.send({ type: 'setPlane', plane: next.plane, window: next.window, resolution: RESOLUTION });
  }
}
