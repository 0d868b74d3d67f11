// The three.js scene: composes the viewport (renderer, camera, orbit) with its layers and the pointer input.
import * as THREE from 'three';
import type { ViewPlane, ViewShowData, ViewSpec, ViewSurface, ViewWindow } from '../../extension/protocol/messages';
import type { ThemeColors } from '../colors';
import { CellsLayer } from './cells-layer';
import { PartitionLayer } from './partition-layer';
import { BAKE_ABOVE_CELLS, PartitionBake } from './partition-bake';
import { PointerInput, type HoverPoint, type PointerCallbacks } from './pointer';
import { PointsLayer } from './points-layer';
import { FrameLayer, RegionsLayer } from './regions-layer';
import { SceneSpace, type ColorMode, type SurfaceStyle } from './space';
import { SurfaceLayer } from './surface-layer';
import { type FrameWork, Viewport } from './viewport';

export type { ColorMode, HoverPoint, SurfaceStyle };

/** Cells whose fills or edges one frame builds for a large partition: Figure 1's 200,000 take 150–300 ms per layer in one go. */
const CELLS_PER_FRAME = 40_000;

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
  private readonly bake: PartitionBake;
  private readonly partitionLayer: PartitionLayer;
  private readonly regionsLayer: RegionsLayer;
  private readonly frameLayer: FrameLayer;
  private readonly pointsLayer: PointsLayer;
  private readonly pointer: PointerInput | undefined;
  /** Layer builds left for the next frames (large partitions): each returns true once done, else runs again next frame. */
  private readonly deferred: (() => boolean)[] = [];

  constructor(
    container: HTMLElement,
    private theme: ThemeColors,
    callbacks: SceneCallbacks,
  ) {
    this.viewport = new Viewport(container, this.scene, {
      onOrbitStart: () => this.pointer?.cancelHover(),
      onRendered: () => callbacks.onRendered(),
      beforeDraw: (renderer) => this.beforeDraw(renderer),
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
    this.bake = new PartitionBake();
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
    this.viewport.topDown = spec.inputDim === 2;
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

  /** Client pixels of plane point (u, v) at the base of the view (the axis ticks of a 2-D spec); undefined in 3-D. */
  planeScreenPosition(u: number, v: number): { x: number; y: number } | undefined {
    const { window } = this.space;
    if (!window || this.space.is3d()) return undefined;
    const [[u0, u1], [v0, v1]] = window;
    return this.viewport.screenPosition(new THREE.Vector3(u - (u0 + u1) / 2, v - (v0 + v1) / 2, this.space.floorHeight()));
  }

  /** The values at the two ends of the value colour map (the colour bar's labels). */
  colorRange(): [number, number] {
    const { span, zScale, zMid } = this.space;
    const half = span / (2 * zScale);
    return [zMid - half, zMid + half];
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

  /** Benchmark hook (see Viewport.drawNow). */
  drawNow(moving = false): number {
    return this.viewport.drawNow(moving);
  }

  private applyTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.scene.background = new THREE.Color(...theme.background);
    this.partitionLayer.setTheme(theme);
    this.bake.setTheme(theme);
    this.viewport.requestRender();
  }

  private rebuildAll(): void {
    const large = (this.space.surface?.cells.count ?? 0) > BAKE_ABOVE_CELLS;
    // A software rasterizer draws a large partition from a texture baked once, not as geometry every frame.
    const baked = this.software && large;
    this.viewport.antialiasAtRest = !baked;
    this.deferred.length = 0;
    this.surfaceLayer.update(this.space, !baked && CellsLayer.fillsSurface(this.space), this.theme.background);
    this.frameLayer.update(this.space, this.theme.grid);
    this.regionsLayer.update(this.space);
    this.pointsLayer.update(this.space, this.theme);
    let buildFills: (() => boolean) | undefined;
    const fills = () => {
      buildFills ??= this.cellsLayer.update(this.space, baked, large ? CELLS_PER_FRAME : Infinity);
      if (!buildFills()) return false;
      this.surfaceLayer.setHidden(this.cellsLayer.drawn);
      return true;
    };
    let buildEdges: (() => boolean) | undefined;
    const edges = () => {
      buildEdges ??= this.partitionLayer.update(this.space, baked, large ? CELLS_PER_FRAME : Infinity);
      if (!buildEdges()) return false;
      const { geometry: fillGeometry, triangles } = this.cellsLayer.fills;
      const { geometry: edgeGeometry, segments } = this.partitionLayer.edges;
      this.bake.start(
        this.space,
        baked && this.surfaceLayer.pickable ? { fills: fillGeometry, triangles, edges: edgeGeometry, segments } : undefined,
      );
      // No frame may lay the previous bake over the new surface.
      this.surfaceLayer.setBaked(this.bake.texture);
      return true;
    };
    // Hundreds of thousands of cells take a few hundred ms per layer to build: the layers (and the edges in chunks of
    // cells) are built over the next frames, so no frame blocks the panel long.
    if (large) {
      this.deferred.push(fills, edges);
      document.body.dataset.partitionBake = 'building';
    } else {
      fills();
      edges();
    }
    this.viewport.requestRender();
  }

  /** Before a frame: the next deferred layer build, else the next step of the bake. */
  private beforeDraw(renderer: THREE.WebGLRenderer): FrameWork {
    const next = this.deferred[0];
    let work: FrameWork = 'more';
    if (next) {
      if (next()) this.deferred.shift();
    } else {
      work = this.bake.step(renderer);
    }
    this.surfaceLayer.setBaked(this.bake.texture);
    return work;
  }
}
