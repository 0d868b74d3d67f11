// The three.js scene: composes the viewport (renderer, camera, orbit) with its layers and the pointer input.
import * as THREE from 'three';
import type { ViewPlane, ViewShowData, ViewSpec, ViewSurface, ViewWindow } from '../../extension/protocol/messages';
import type { ThemeColors } from '../colors';
import { CellsLayer } from './cells-layer';
import { PartitionLayer } from './partition-layer';
import { PointerInput, type HoverPoint, type PointerCallbacks } from './pointer';
import { PointsLayer } from './points-layer';
import { FrameLayer, RegionsLayer } from './regions-layer';
import { SceneSpace, type ColorMode, type SurfaceStyle } from './space';
import { SurfaceLayer } from './surface-layer';
import { Viewport } from './viewport';

export type { ColorMode, HoverPoint, SurfaceStyle };

// Theme and colour-map values are display colours: draw them as given, without linear→sRGB conversion.
THREE.ColorManagement.enabled = false;

export interface SceneCallbacks extends PointerCallbacks {
  onRendered(): void;
}

export class SceneView {
  readonly webgl: 0 | 1 | 2;
  /** WebGL runs on a CPU rasterizer (SwiftShader, llvmpipe, …). */
  readonly software: boolean;
  private readonly scene = new THREE.Scene();
  private readonly space = new SceneSpace();
  private readonly viewport: Viewport;
  private readonly surfaceLayer: SurfaceLayer;
  private readonly cellsLayer: CellsLayer;
  private readonly partitionLayer: PartitionLayer;
  private readonly regionsLayer: RegionsLayer;
  private readonly frameLayer: FrameLayer;
  private readonly pointsLayer: PointsLayer;
  private readonly pointer: PointerInput | undefined;

  constructor(
    container: HTMLElement,
    private theme: ThemeColors,
    callbacks: SceneCallbacks,
  ) {
    this.viewport = new Viewport(container, this.scene, {
      onOrbitStart: () => this.pointer?.cancelHover(),
      onRendered: () => callbacks.onRendered(),
    });
    this.webgl = this.viewport.webgl;
    this.software = this.viewport.software;
    this.scene.add(new THREE.AmbientLight(0xffffff, 1.6));
    this.partitionLayer = new PartitionLayer(this.scene);
    this.regionsLayer = new RegionsLayer(this.scene);
    this.frameLayer = new FrameLayer(this.scene);
    this.pointsLayer = new PointsLayer(this.scene);
    this.surfaceLayer = new SurfaceLayer(this.scene);
    this.cellsLayer = new CellsLayer(this.scene);
    const light = new THREE.DirectionalLight(0xffffff, 1.4);
    light.position.set(-1, -2, 3);
    this.scene.add(light);
    const canvas = this.viewport.renderer?.domElement;
    if (canvas)
      this.pointer = new PointerInput(
        canvas,
        this.viewport,
        this.space,
        { surface: () => this.surfaceLayer.pickable, draggableMarkers: () => this.regionsLayer.draggableMarkers() },
        callbacks,
      );
    this.applyTheme(theme);
    this.viewport.resetView();
  }

  setTheme(theme: ThemeColors): void {
    this.applyTheme(theme);
    this.rebuildAll();
  }

  /** New spec or plane: frame the window, redraw regions and data. */
  setSpec(spec: ViewSpec, plane: ViewPlane, window: ViewWindow): void {
    const reframe = this.space.setSpec(spec, plane, window);
    this.viewport.span = this.space.span;
    if (reframe) this.viewport.resetView();
    this.rebuildAll();
  }

  /** Forget data and surface (a different spec is shown). */
  clearContent(): void {
    this.space.data = undefined;
    this.space.surface = undefined;
    this.rebuildAll();
  }

  setData(data: ViewShowData): void {
    this.space.data = data;
    this.space.updateHeightScale();
    this.rebuildAll();
  }

  setSurface(surface: ViewSurface): void {
    this.space.surface = surface;
    if (!this.space.data || this.space.data.count === 0 || this.space.data.labels) this.space.updateHeightScale();
    this.rebuildAll();
  }

  setStyle(style: SurfaceStyle): void {
    this.space.style = style;
    this.space.updateHeightScale();
    this.rebuildAll();
  }

  /** Look straight down on the plane: the 2-D picture of the paper's figures. */
  topView(): void {
    this.viewport.topView();
  }

  resetView(): void {
    this.viewport.resetView();
  }

  cameraState(): { position: number[]; target: number[] } | undefined {
    return this.viewport.cameraState();
  }

  restoreCamera(state: { position: number[]; target: number[] }): void {
    this.viewport.restoreCamera(state);
  }

  /** Where a region's vertex marker is on screen, in client pixels (a hook for browser tests). */
  vertexScreenPosition(region: number, vertex: number): { x: number; y: number } | undefined {
    const marker = this.regionsLayer.marker(region, vertex);
    return marker ? this.viewport.screenPosition(marker.position) : undefined;
  }

  /** Outline the hovered cell (−1: none). */
  highlightCell(cell: number): void {
    if (this.partitionLayer.highlight(this.space, cell)) this.viewport.requestRender();
  }

  /** Benchmark hook (see Viewport.measureOrbit). */
  measureOrbit(frames: number, moving = true): { frameMs: number; worstFrameMs: number; mainThreadMs: number } {
    return this.viewport.measureOrbit(frames, moving);
  }

  private applyTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.scene.background = new THREE.Color(...theme.background);
    this.partitionLayer.setTheme(theme);
    this.viewport.requestRender();
  }

  private rebuildAll(): void {
    this.cellsLayer.update(this.space);
    this.surfaceLayer.update(this.space, this.cellsLayer.drawn);
    this.partitionLayer.update(this.space);
    this.frameLayer.update(this.space, this.theme.grid);
    this.regionsLayer.update(this.space);
    this.pointsLayer.update(this.space, this.theme);
    this.viewport.requestRender();
  }
}
