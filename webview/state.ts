// The webview's state: what it persists through VS Code (settings, camera, spec and run) and what it shows now.
import type { CellInputMap, ViewSpec, ViewSurface } from '../extension/protocol/messages';
import type { PlaneChoice, PlaneMode } from '../extension/common/view-geometry';
import type { LossAxis } from './loss-chart';
import type { ColorMode, HoverPoint } from './scene/scene-view';

export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** What survives hiding the panel and reloading VS Code (the serializer hands specUri/runDir to the host). */
export interface SavedState {
  specUri?: string;
  runDir?: string;
  output: number;
  colorMode: ColorMode;
  wireframe: boolean;
  logScale: boolean;
  /** The loss chart's moving-average weight and its x axis. */
  smoothing?: number;
  lossAxis?: LossAxis;
  planeMode?: PlaneMode;
  /** 0-based layer shown in the Gram heat-map. */
  gramLayer?: number;
  camera?: { position: number[]; target: number[] };
}

/** The settings kept with setState, restored from it at start. */
export class PersistedSettings {
  readonly saved: SavedState;
  /** Where the camera is now, read when saving. */
  camera: () => SavedState['camera'] = () => undefined;

  constructor(private readonly api: VsCodeApi) {
    const previous = (api.getState() as Partial<SavedState> | undefined) ?? {};
    this.saved = { ...{ output: 0, colorMode: 'value' as ColorMode, wireframe: true, logScale: true }, ...previous };
  }

  persist(): void {
    this.api.setState({ ...this.saved, camera: this.camera() });
  }
}

/** What the view shows now: the spec, the plane through it, the latest surface and the hovered point. */
export interface ShownState {
  spec: ViewSpec | undefined;
  specUri: string;
  choice: PlaneChoice | undefined;
  surface: ViewSurface | undefined;
  /** Input-space maps of the current surface's cells as the worker answered them. */
  cellMaps: Map<number, CellInputMap>;
  /** Point location by the worker: the cell it last found, the point asked (one ask at a time), a point it found outside. */
  hover: { lastCell: number; asked?: [number, number]; outside?: [number, number]; failed?: { at: [number, number]; message: string } };
  /** A finished run's kept step of its steps trained (the legend names it when it is not the last). */
  kept: { step: number; of: number } | undefined;
  /** The last hover, to redraw the tooltip when its cell's map arrives. */
  hovered: [HoverPoint, number, number] | undefined;
}
