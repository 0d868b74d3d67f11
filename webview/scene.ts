// The three.js scene: surface (height or decision map), partition wireframe, regions, data, orbit + drag.
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { ConvexGeometry } from 'three/examples/jsm/geometries/ConvexGeometry.js';
import type { ViewPlane, ViewShowData, ViewSpec, ViewSurface, ViewWindow } from '../extension/protocol/messages';
import { argmax, cellColor, classColor, regionColor, viridisInto, type ThemeColors } from './colors';
import { cellPolygonOf, convexHullIndices, ownsEdge, planePoint, projectToPlane, signedArea } from '../extension/common/view-geometry';

/** Camera distance of the top view, in window spans: 45° of field of view holds the window with a small margin. */
const TOP_VIEW_DISTANCE = 1.3;
/** How far the decision ground's class colours fade toward the background. */
const GROUND_FADE = 0.55;

// Theme and colour-map values are display colours: draw them as given, without linear→sRGB conversion.
THREE.ColorManagement.enabled = false;

export type ColorMode = 'value' | 'cells';

export interface SurfaceStyle {
  output: number;
  colorMode: ColorMode;
  wireframe: boolean;
}

export interface HoverPoint {
  u: number;
  v: number;
  /** Grid index of the nearest sample. */
  grid: number;
}

export interface SceneCallbacks {
  onHover(point: HoverPoint | undefined, clientX: number, clientY: number): void;
  onVertexDrop(region: number, vertex: number, from: number[], to: number[]): void;
  onRendered(): void;
}

interface DragState {
  handle: THREE.Mesh;
  region: number;
  vertex: number;
  from: number[];
  height: number;
}

export class SceneView {
  readonly webgl: 0 | 1 | 2;
  private readonly renderer: THREE.WebGLRenderer | undefined;
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.PerspectiveCamera(45, 1, 0.01, 1000);
  private readonly controls: OrbitControls | undefined;
  private readonly raycaster = new THREE.Raycaster();
  private readonly pointer = new THREE.Vector2();
  private readonly surfaceMaterial = new THREE.MeshLambertMaterial({ vertexColors: true, side: THREE.DoubleSide });
  private surfaceMesh: THREE.Mesh | undefined;
  private resolution = 0;
  // Each cell edge is drawn once (see rebuildWireframe): 0.75 looks like the two coincident lines at 0.55 it replaces.
  private readonly wireframe = new THREE.LineSegments(
    new THREE.BufferGeometry(),
    new THREE.LineBasicMaterial({ transparent: true, opacity: 0.75 }),
  );
  private readonly boundary = new THREE.LineSegments(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ color: 0xffffff }));
  private readonly regionGroup = new THREE.Group();
  private readonly frameGroup = new THREE.Group();
  private readonly points = new THREE.Points(
    new THREE.BufferGeometry(),
    new THREE.PointsMaterial({ size: 3, sizeAttenuation: false, vertexColors: true }),
  );
  private spec: ViewSpec | undefined;
  private plane: ViewPlane | undefined;
  private window: ViewWindow | undefined;
  private surface: ViewSurface | undefined;
  private data: ViewShowData | undefined;
  private style: SurfaceStyle = { output: 0, colorMode: 'value', wireframe: true };
  private zMid = 0;
  private zScale = 1;
  private span = 1;
  private frame = 0;
  private drag: DragState | undefined;
  private hoverFrame = 0;
  /** Until the user orbits, resizes re-frame the default view (a narrow panel needs the camera further back). */
  private userMovedCamera = false;
  /** Between the orbit controls' start and end: no hover picking (a raycast through every surface triangle) per frame. */
  private orbiting = false;
  /** When the orbit controls last moved the camera; frames within SETTLE_MS of it count as moving (wheel zoom ticks). */
  private cameraMovedAt = -Infinity;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  /** WebGL runs on a CPU rasterizer (SwiftShader, llvmpipe, …). */
  readonly software: boolean;
  /** On a software renderer: the antialiased path for frames drawn at rest. */
  private readonly still: StillFrames | undefined;
  private readonly tmpVector = new THREE.Vector3();
  private readonly wireLines = new GrowableLines();
  private readonly dragPlane = new THREE.Plane();

  constructor(
    private readonly container: HTMLElement,
    private theme: ThemeColors,
    private readonly callbacks: SceneCallbacks,
  ) {
    let renderer: THREE.WebGLRenderer | undefined;
    // MSAA is nearly free on a GPU but most of a frame on a CPU rasterizer: there, still frames get it from a
    // multisampled target (see draw) and orbit frames go without.
    this.software = softwareRenderer();
    try {
      renderer = new THREE.WebGLRenderer({ antialias: !this.software, preserveDrawingBuffer: true });
    } catch {
      renderer = undefined;
    }
    this.renderer = renderer;
    if (renderer && this.software) this.still = new StillFrames();
    if (renderer) renderer.outputColorSpace = THREE.LinearSRGBColorSpace;
    const gl = renderer?.getContext();
    this.webgl = !gl ? 0 : typeof WebGL2RenderingContext !== 'undefined' && gl instanceof WebGL2RenderingContext ? 2 : 1;
    this.camera.up.set(0, 0, 1);
    // Their buffers are reused with a draw range; the bounds would be stale, and the lines span the view anyway.
    this.wireframe.frustumCulled = false;
    this.boundary.frustumCulled = false;
    this.scene.add(new THREE.AmbientLight(0xffffff, 1.6), this.wireframe, this.boundary, this.regionGroup, this.frameGroup, this.points);
    const light = new THREE.DirectionalLight(0xffffff, 1.4);
    light.position.set(-1, -2, 3);
    this.scene.add(light);
    if (renderer) {
      renderer.setPixelRatio(pixelRatio());
      container.appendChild(renderer.domElement);
      const controls = new OrbitControls(this.camera, renderer.domElement);
      controls.addEventListener('change', () => {
        this.cameraMovedAt = performance.now();
        this.requestRender();
        // Once the camera settles the frame is drawn antialiased again (software renderers drop it while it moves).
        if (this.still) {
          clearTimeout(this.settleTimer);
          this.settleTimer = setTimeout(() => this.requestRender(), SETTLE_MS);
        }
      });
      controls.addEventListener('start', () => {
        this.userMovedCamera = true;
        this.orbiting = true;
        if (this.hoverFrame) cancelAnimationFrame(this.hoverFrame);
        this.hoverFrame = 0;
        this.callbacks.onHover(undefined, 0, 0);
      });
      controls.addEventListener('end', () => {
        this.orbiting = false;
      });
      this.controls = controls;
      this.listenPointer(renderer.domElement);
      new ResizeObserver(() => this.resize()).observe(container);
    }
    this.applyTheme(theme);
    this.resetView();
  }

  setTheme(theme: ThemeColors): void {
    this.applyTheme(theme);
    this.rebuildAll();
  }

  /** New spec or plane: frame the window, redraw regions and data. */
  setSpec(spec: ViewSpec, plane: ViewPlane, window: ViewWindow): void {
    const reframe = !this.window || JSON.stringify(this.window) !== JSON.stringify(window) || this.spec?.inputDim !== spec.inputDim;
    this.spec = spec;
    this.plane = plane;
    this.window = window;
    if (this.surface && JSON.stringify(this.surface.plane) !== JSON.stringify(plane)) this.surface = undefined;
    this.span = this.is3d()
      ? Math.max(...spec.domain.map(([lo, hi]) => hi - lo))
      : Math.max(window[0][1] - window[0][0], window[1][1] - window[1][0]);
    this.updateHeightScale();
    if (reframe) this.resetView();
    this.rebuildAll();
  }

  /** Forget data and surface (a different spec is shown). */
  clearContent(): void {
    this.data = undefined;
    this.surface = undefined;
    this.rebuildAll();
  }

  setData(data: ViewShowData): void {
    this.data = data;
    this.updateHeightScale();
    this.rebuildAll();
  }

  setSurface(surface: ViewSurface): void {
    this.surface = surface;
    if (!this.data || this.data.count === 0 || this.data.labels) this.updateHeightScale();
    this.rebuildAll();
  }

  setStyle(style: SurfaceStyle): void {
    this.style = style;
    this.updateHeightScale();
    this.rebuildAll();
  }

  /** Look straight down on the plane: the 2-D picture of the paper's figures. */
  topView(): void {
    if (!this.controls) return;
    this.userMovedCamera = true;
    const d = TOP_VIEW_DISTANCE * this.span * this.aspectFit();
    this.camera.position.set(0, -1e-3 * d, d);
    this.controls.target.set(0, 0, 0);
    this.controls.update();
    this.requestRender();
  }

  resetView(): void {
    this.userMovedCamera = false;
    const d = this.span * this.aspectFit();
    // A 2-D spec opens top-down with its window filling the canvas (the paper's figures); 3-D ones at an angle.
    if (this.spec?.inputDim === 2) this.camera.position.set(0, -1e-3 * d, TOP_VIEW_DISTANCE * d);
    else this.camera.position.set(0.9 * d, -1.6 * d, 1.3 * d);
    this.camera.near = d / 100;
    this.camera.far = d * 100;
    this.camera.updateProjectionMatrix();
    if (this.controls) {
      this.controls.target.set(0, 0, 0);
      this.controls.update();
    }
    this.requestRender();
  }

  cameraState(): { position: number[]; target: number[] } | undefined {
    if (!this.controls) return undefined;
    return { position: this.camera.position.toArray(), target: this.controls.target.toArray() };
  }

  restoreCamera(state: { position: number[]; target: number[] }): void {
    if (!this.controls) return;
    this.userMovedCamera = true;
    this.camera.position.fromArray(state.position);
    this.controls.target.fromArray(state.target);
    this.controls.update();
    this.requestRender();
  }

  /** Where a region's vertex marker is on screen, in client pixels (a hook for browser tests). */
  /** Client pixels of plane point (u, v) at the base of the view (the axis ticks of a 2-D spec). */
  planeScreenPosition(u: number, v: number): { x: number; y: number } | undefined {
    if (!this.renderer || !this.window || this.is3d()) return undefined;
    const [[u0, u1], [v0, v1]] = this.window;
    const base = this.classification() ? 0 : -0.25 * this.span;
    const p = new THREE.Vector3(u - (u0 + u1) / 2, v - (v0 + v1) / 2, base).project(this.camera);
    const rect = this.renderer.domElement.getBoundingClientRect();
    return { x: rect.left + ((p.x + 1) / 2) * rect.width, y: rect.top + ((1 - p.y) / 2) * rect.height };
  }

  /** The values at the two ends of the value colour map (the colour bar's labels). */
  colorRange(): [number, number] {
    const half = this.span / (2 * this.zScale);
    return [this.zMid - half, this.zMid + half];
  }

  vertexScreenPosition(region: number, vertex: number): { x: number; y: number } | undefined {
    const marker = this.regionGroup.children.find((o) => o.userData.region === region && o.userData.vertex === vertex);
    if (!marker || !this.renderer) return undefined;
    const p = marker.position.clone().project(this.camera);
    const rect = this.renderer.domElement.getBoundingClientRect();
    return { x: rect.left + ((p.x + 1) / 2) * rect.width, y: rect.top + ((1 - p.y) / 2) * rect.height };
  }

  /**
   * Benchmark hook: orbit the camera a full turn over `frames` synchronous renders, drawn as orbit frames (`moving`)
   * or as frames at rest. frameMs: mean time per frame
   * until drawn; mainThreadMs: mean time of the render call alone (scene traversal and command submission, the
   * part a GPU does not take over).
   */
  measureOrbit(frames: number, moving = true): { frameMs: number; mainThreadMs: number } {
    if (!this.renderer || !this.controls) return { frameMs: Number.NaN, mainThreadMs: Number.NaN };
    const gl = this.renderer.getContext();
    const target = this.controls.target;
    const offset = this.camera.position.clone().sub(target);
    const radius = Math.hypot(offset.x, offset.y);
    const pixel = new Uint8Array(4);
    // Reading a pixel back waits for the frame to be drawn, so the time is the real frame cost.
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
    let mainThread = 0;
    const start = performance.now();
    for (let f = 0; f < frames; f++) {
      const angle = (2 * Math.PI * f) / frames;
      this.camera.position.set(target.x + radius * Math.cos(angle), target.y + radius * Math.sin(angle), target.z + offset.z);
      this.camera.lookAt(target);
      const submitted = performance.now();
      this.draw(moving);
      mainThread += performance.now() - submitted;
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
    }
    const elapsed = performance.now() - start;
    this.camera.position.copy(offset.add(target));
    this.controls.update();
    return { frameMs: elapsed / frames, mainThreadMs: mainThread / frames };
  }

  /** Renders happen on the next animation frame, once, however many updates came in. */
  requestRender(): void {
    if (this.frame || !this.renderer) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw(this.orbiting || performance.now() - this.cameraMovedAt < SETTLE_MS);
      this.callbacks.onRendered();
    });
  }

  /** Distance factor so the window fits a panel narrower than it is tall. */
  private aspectFit(): number {
    return Math.max(1, 1 / this.camera.aspect);
  }

  private is3d(): boolean {
    return this.spec?.inputDim === 3;
  }

  private classification(): boolean {
    return this.spec?.task === 'classification';
  }

  private applyTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.scene.background = new THREE.Color(...theme.background);
    (this.wireframe.material as THREE.LineBasicMaterial).color.setRGB(...theme.foreground);
    (this.boundary.material as THREE.LineBasicMaterial).color.setRGB(...theme.foreground);
    this.requestRender();
  }

  /** One frame: straight to the canvas, or on a software renderer at rest through the multisampled target. */
  private draw(moving: boolean): void {
    if (!this.renderer) return;
    if (this.still && !moving) this.still.draw(this.renderer, this.scene, this.camera);
    else this.renderer.render(this.scene, this.camera);
  }

  private resize(): void {
    if (!this.renderer) return;
    const width = this.container.clientWidth;
    const height = this.container.clientHeight;
    if (width === 0 || height === 0) return;
    this.renderer.setPixelRatio(pixelRatio());
    this.renderer.setSize(width, height, false);
    this.renderer.domElement.style.width = '100%';
    this.renderer.domElement.style.height = '100%';
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    if (!this.userMovedCamera) this.resetView();
    this.requestRender();
  }

  /** Heights fill about half the window span; regression data (stable during training) sets the range. */
  private updateHeightScale(): void {
    let lo = Infinity;
    let hi = -Infinity;
    const k = this.style.output;
    if (this.data && !this.data.labels && this.data.count > 0 && this.spec) {
      const outputs = this.spec.outputUnits;
      for (let n = 0; n < this.data.count; n++) {
        const y = this.data.targets[n * outputs + k];
        if (Number.isFinite(y)) {
          lo = Math.min(lo, y);
          hi = Math.max(hi, y);
        }
      }
    } else if (this.surface) {
      const outputs = this.surface.outputs;
      for (let g = 0; g < this.surface.values.length / outputs; g++) {
        const y = this.surface.values[g * outputs + k];
        if (Number.isFinite(y)) {
          lo = Math.min(lo, y);
          hi = Math.max(hi, y);
        }
      }
    }
    if (!(hi > lo)) {
      lo = Number.isFinite(lo) ? lo - 1 : -1;
      hi = lo + 2;
    }
    this.zMid = (lo + hi) / 2;
    this.zScale = (0.5 * this.span) / (hi - lo);
  }

  /** World position of plane point (u, v) carrying value z (height in 2-D views, ignored in 3-D). */
  private world(u: number, v: number, z: number, out: THREE.Vector3): THREE.Vector3 {
    if (this.is3d() && this.plane && this.spec) {
      const x = planePoint(this.plane, u, v);
      return out.set(...(this.inputToWorld(x) as [number, number, number]));
    }
    const [[u0, u1], [v0, v1]] = this.window ?? [
      [0, 0],
      [0, 0],
    ];
    const height = this.classification() ? 0 : (z - this.zMid) * this.zScale;
    return out.set(u - (u0 + u1) / 2, v - (v0 + v1) / 2, height);
  }

  private inputToWorld(x: number[]): number[] {
    const domain = this.spec?.domain ?? [];
    return [0, 1, 2].map((d) => x[d] - (domain[d] ? (domain[d][0] + domain[d][1]) / 2 : 0));
  }

  private rebuildAll(): void {
    this.rebuildSurface();
    this.rebuildFrame();
    this.rebuildRegions();
    this.rebuildPoints();
    this.requestRender();
  }

  /** The grid mesh is allocated once per resolution; later surfaces rewrite its attributes in place. */
  private ensureMesh(resolution: number): THREE.Mesh {
    if (this.surfaceMesh && this.resolution === resolution) return this.surfaceMesh;
    if (this.surfaceMesh) {
      this.scene.remove(this.surfaceMesh);
      this.surfaceMesh.geometry.dispose();
    }
    const geometry = new THREE.BufferGeometry();
    const count = resolution * resolution;
    geometry.setAttribute('position', new THREE.BufferAttribute(new Float32Array(count * 3), 3).setUsage(THREE.DynamicDrawUsage));
    geometry.setAttribute('color', new THREE.BufferAttribute(new Float32Array(count * 3), 3).setUsage(THREE.DynamicDrawUsage));
    geometry.setAttribute('normal', new THREE.BufferAttribute(new Float32Array(count * 3), 3).setUsage(THREE.DynamicDrawUsage));
    geometry.boundingSphere = new THREE.Sphere();
    const uv = new Float32Array(count * 2);
    for (let j = 0; j < resolution; j++) {
      for (let i = 0; i < resolution; i++) {
        uv[2 * (j * resolution + i)] = i / (resolution - 1);
        uv[2 * (j * resolution + i) + 1] = j / (resolution - 1);
      }
    }
    geometry.setAttribute('uv', new THREE.BufferAttribute(uv, 2));
    const index = new Uint32Array((resolution - 1) * (resolution - 1) * 6);
    let t = 0;
    for (let j = 0; j < resolution - 1; j++) {
      for (let i = 0; i < resolution - 1; i++) {
        const a = j * resolution + i;
        index.set([a, a + 1, a + resolution, a + 1, a + resolution + 1, a + resolution], t);
        t += 6;
      }
    }
    geometry.setIndex(new THREE.BufferAttribute(index, 1));
    this.surfaceMesh = new THREE.Mesh(geometry, this.surfaceMaterial);
    this.resolution = resolution;
    this.scene.add(this.surfaceMesh);
    return this.surfaceMesh;
  }

  private rebuildSurface(): void {
    const surface = this.surface;
    if (!surface || !this.spec) {
      if (this.surfaceMesh) this.surfaceMesh.visible = false;
      this.wireframe.visible = false;
      this.boundary.visible = false;
      return;
    }
    const R = surface.resolution;
    const mesh = this.ensureMesh(R);
    mesh.visible = true;
    // A 3-D slice must not hide the region hulls behind it.
    this.surfaceMaterial.transparent = this.is3d();
    this.surfaceMaterial.opacity = this.is3d() ? 0.75 : 1;
    this.surfaceMaterial.depthWrite = !this.is3d();
    const position = mesh.geometry.getAttribute('position') as THREE.BufferAttribute;
    const color = mesh.geometry.getAttribute('color') as THREE.BufferAttribute;
    const positions = position.array as Float32Array;
    const colors = color.array as Float32Array;
    const outputs = surface.outputs;
    const k = Math.min(this.style.output, outputs - 1);
    const [[u0, u1], [v0, v1]] = surface.window;
    const classification = this.classification();
    const p = this.tmpVector;
    // One colour per cell (index −1, outside every cell, first), not one allocation per grid point.
    const cellColors = this.style.colorMode === 'cells' ? Array.from({ length: surface.cells.count + 1 }, (_, i) => cellColor(i - 1)) : [];
    for (let j = 0; j < R; j++) {
      const v = v0 + ((v1 - v0) * j) / (R - 1);
      for (let i = 0; i < R; i++) {
        const u = u0 + ((u1 - u0) * i) / (R - 1);
        const g = j * R + i;
        const value = surface.values[g * outputs + k];
        this.world(u, v, value, p);
        positions[3 * g] = p.x;
        positions[3 * g + 1] = p.y;
        positions[3 * g + 2] = p.z;
        if (this.style.colorMode === 'cells') {
          const c = cellColors[surface.cellIndex[g] + 1];
          colors[3 * g] = c[0];
          colors[3 * g + 1] = c[1];
          colors[3 * g + 2] = c[2];
        } else if (classification) {
          // Pale ground, saturated points: a point stays visible on the ground of its own class.
          const c = classColor(argmax(surface.values, g * outputs, outputs));
          const bg = this.theme.background;
          colors[3 * g] = c[0] + (bg[0] - c[0]) * GROUND_FADE;
          colors[3 * g + 1] = c[1] + (bg[1] - c[1]) * GROUND_FADE;
          colors[3 * g + 2] = c[2] + (bg[2] - c[2]) * GROUND_FADE;
        } else {
          viridisInto((value - this.zMid) * (this.zScale / this.span) + 0.5, colors, 3 * g);
        }
      }
    }
    const normal = mesh.geometry.getAttribute('normal') as THREE.BufferAttribute;
    gridNormals(positions, normal.array as Float32Array, R);
    position.needsUpdate = true;
    color.needsUpdate = true;
    normal.needsUpdate = true;
    gridBoundingSphere(positions, mesh.geometry.boundingSphere!);
    this.rebuildWireframe(surface, k);
  }

  /** Cell edges lifted onto the surface with each cell's own affine map (exact, not sampled). */
  private rebuildWireframe(surface: ViewSurface, k: number): void {
    const p = this.tmpVector;
    const lift = this.is3d() ? 0.002 * this.span : 0.004 * this.span;
    const cells = surface.cells;
    const edges = this.style.wireframe ? cells.polygonStart[cells.count] : 0;
    const lines = this.wireLines.reserve(edges * 6);
    let o = 0;
    const flat = !this.is3d();
    const [[wu0, wu1], [wv0, wv1]] = surface.window;
    const cu = (wu0 + wu1) / 2;
    const cv = (wv0 + wv1) / 2;
    const heightScale = this.classification() ? 0 : this.zScale;
    const zMid = this.zMid;
    for (let cell = 0; edges > 0 && cell < cells.count; cell++) {
      const polygon = cellPolygonOf(cells, cell);
      const n = polygon.length / 2;
      const m = 3 * (cell * cells.outputs + k);
      const au = cells.planeMaps[m];
      const av = cells.planeMaps[m + 1];
      const c = cells.planeMaps[m + 2];
      const orientation = signedArea(polygon) < 0 ? -1 : 1;
      // Each edge (a → b) is written as two points; 2-D views inline the plane → world map.
      for (let e = 0; e < n; e++) {
        if (!ownsEdge(polygon, e, orientation, surface.window)) continue;
        const b = e + 1 === n ? 0 : e + 1;
        for (const q of QUAD_ENDS) {
          const index = q === 0 ? e : b;
          const u = polygon[2 * index];
          const v = polygon[2 * index + 1];
          const value = au * u + av * v + c;
          if (flat) {
            lines[o++] = u - cu;
            lines[o++] = v - cv;
            lines[o++] = (value - zMid) * heightScale + lift;
          } else {
            this.world(u, v, value, p);
            lines[o++] = p.x;
            lines[o++] = p.y;
            lines[o++] = p.z + lift;
          }
        }
      }
    }
    // The worker traced the decision boundary over every cell, also when the cells are too many to send.
    const boundary: number[] = [];
    const segments = this.classification() && surface.boundary ? surface.boundary : [];
    for (let q = 0; q < segments.length; q += 2) {
      this.world(segments[q], segments[q + 1], 0, p);
      boundary.push(p.x, p.y, p.z + 2 * lift);
    }
    this.wireLines.commit(this.wireframe.geometry, o);
    setPositions(this.boundary.geometry, boundary);
    this.wireframe.visible = o > 0;
    this.boundary.visible = boundary.length > 0;
    document.body.dataset.boundarySegments = String(boundary.length / 6);
    document.body.dataset.wireSegments = String(o / 6);
  }

  /** Domain outline (2-D: the window's rectangle at the floor; 3-D: the domain box). */
  private rebuildFrame(): void {
    clearGroup(this.frameGroup);
    if (!this.spec || !this.window) return;
    const material = new THREE.LineBasicMaterial({ color: new THREE.Color(...this.theme.grid) });
    if (this.is3d()) {
      const size = this.spec.domain.map(([lo, hi]) => hi - lo);
      const box = new THREE.LineSegments(new THREE.EdgesGeometry(new THREE.BoxGeometry(size[0], size[1], size[2])), material);
      this.frameGroup.add(box);
      return;
    }
    const [[u0, u1], [v0, v1]] = this.window;
    const floor = this.classification() ? -0.001 * this.span : -0.3 * this.span;
    const hu = (u1 - u0) / 2;
    const hv = (v1 - v0) / 2;
    const corners = [-hu, -hv, hu, -hv, hu, hv, -hu, hv, -hu, -hv].flatMap((c, i) => (i % 2 === 1 ? [c, floor] : [c]));
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.Float32BufferAttribute(corners, 3));
    this.frameGroup.add(new THREE.Line(geometry, material));
  }

  private rebuildRegions(): void {
    clearGroup(this.regionGroup);
    const spec = this.spec;
    const plane = this.plane;
    if (!spec || !plane) return;
    let hulls = 0;
    let holding = 0;
    spec.regions.forEach((region, r) => {
      const color = new THREE.Color(...regionColor(r));
      if (this.is3d()) {
        const points = region.vertices.map((x) => new THREE.Vector3(...(this.inputToWorld(x) as [number, number, number])));
        if (points.length >= 4) {
          try {
            const hull = new ConvexGeometry(points);
            hulls++;
            this.regionGroup.add(
              new THREE.Mesh(hull, new THREE.MeshBasicMaterial({ color, transparent: true, opacity: 0.35, depthWrite: false })),
            );
            this.regionGroup.add(new THREE.LineSegments(new THREE.EdgesGeometry(hull), new THREE.LineBasicMaterial({ color })));
          } catch {
            // A flat vertex set has no 3-D hull; its vertices below still show where it is.
          }
        }
        this.addVertexMarkers(points, color, r, false);
        return;
      }
      const uv = region.vertices.map((x) => projectToPlane(plane, x));
      const k = this.style.output;
      const lifted = (i: number) => {
        const values = this.surface?.regionValues[r]?.[i];
        const onSurface = spec.inputDim === 2 && values !== undefined && !this.classification();
        return this.world(uv[i][0], uv[i][1], onSurface ? values[k] : this.zMid, new THREE.Vector3());
      };
      const hullIndices = convexHullIndices(uv);
      const outline = hullIndices.map((i) => lifted(i).add(new THREE.Vector3(0, 0, 0.006 * this.span)));
      if (outline.length >= 2) {
        const geometry = new THREE.BufferGeometry().setFromPoints([...outline, outline[0]]);
        this.regionGroup.add(new THREE.Line(geometry, new THREE.LineBasicMaterial({ color, linewidth: 2 })));
        const shape = new THREE.BufferGeometry().setFromPoints(outline);
        const fan: number[] = [];
        for (let i = 1; i + 1 < outline.length; i++) fan.push(0, i, i + 1);
        shape.setIndex(fan);
        this.regionGroup.add(
          new THREE.Mesh(
            shape,
            new THREE.MeshBasicMaterial({ color, transparent: true, opacity: 0.25, side: THREE.DoubleSide, depthWrite: false }),
          ),
        );
      }
      this.addVertexMarkers(
        uv.map((_, i) => lifted(i).add(new THREE.Vector3(0, 0, 0.006 * this.span))),
        color,
        r,
        region.draggable,
      );
      if (this.addHoldingCell(r, color)) holding++;
    });
    document.body.dataset.holdingCells = String(holding);
    document.body.dataset.regionHulls = String(hulls);
  }

  /** The one linear region holding region r, outlined dashed in r's colour on the surface: Theorem 1 made visible. */
  private addHoldingCell(r: number, color: THREE.Color): boolean {
    const surface = this.surface;
    const holding = surface?.regionCells[r];
    if (!surface || !holding || holding.cell < 0) return false;
    const { polygon, planeMaps } = holding;
    const k = Math.min(this.style.output, surface.outputs - 1);
    const points: THREE.Vector3[] = [];
    for (let i = 0; i <= polygon.length / 2; i++) {
      const q = i % (polygon.length / 2);
      const [u, v] = [polygon[2 * q], polygon[2 * q + 1]];
      // Drawn at the height its region's outline has: on the surface for 2-D inputs, at mid height otherwise.
      const value =
        this.classification() || this.spec?.inputDim !== 2
          ? this.zMid
          : planeMaps[3 * k] * u + planeMaps[3 * k + 1] * v + planeMaps[3 * k + 2];
      points.push(this.world(u, v, value, new THREE.Vector3()).add(new THREE.Vector3(0, 0, 0.005 * this.span)));
    }
    const line = new THREE.Line(
      new THREE.BufferGeometry().setFromPoints(points),
      new THREE.LineDashedMaterial({ color, dashSize: 0.02 * this.span, gapSize: 0.012 * this.span }),
    );
    line.computeLineDistances();
    line.userData = { holdingCell: r };
    this.regionGroup.add(line);
    return true;
  }

  private addVertexMarkers(points: THREE.Vector3[], color: THREE.Color, region: number, draggable: boolean): void {
    const radius = (draggable ? 0.014 : 0.008) * this.span;
    const geometry = new THREE.SphereGeometry(radius, 12, 8);
    const material = new THREE.MeshBasicMaterial({ color });
    points.forEach((point, vertex) => {
      const marker = new THREE.Mesh(geometry, material);
      marker.position.copy(point);
      marker.userData = { region, vertex, draggable };
      this.regionGroup.add(marker);
    });
  }

  private rebuildPoints(): void {
    const data = this.data;
    const spec = this.spec;
    const plane = this.plane;
    if (!data || !spec || !plane || data.count === 0) {
      this.points.visible = false;
      return;
    }
    const positions = new Float32Array(data.count * 3);
    const colors = new Float32Array(data.count * 3);
    const dim = spec.inputDim;
    const outputs = spec.outputUnits;
    const k = this.style.output;
    const p = this.tmpVector;
    for (let n = 0; n < data.count; n++) {
      const x = data.inputs.slice(n * dim, (n + 1) * dim);
      if (dim === 3) p.set(...(this.inputToWorld(x) as [number, number, number]));
      else {
        const [u, v] = projectToPlane(plane, x);
        const target = data.labels ? 0 : data.targets[n * outputs + k];
        this.world(u, v, target, p);
        if (data.labels) p.z += 0.008 * this.span;
      }
      positions.set([p.x, p.y, p.z], 3 * n);
      const c = data.labels ? classColor(data.targets[n]) : this.theme.foreground;
      colors.set(c, 3 * n);
    }
    this.points.geometry.dispose();
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
    geometry.setAttribute('color', new THREE.BufferAttribute(colors, 3));
    this.points.geometry = geometry;
    this.points.visible = true;
  }

  private listenPointer(element: HTMLCanvasElement): void {
    element.addEventListener('pointerdown', (event) => {
      const hit = this.pick(
        event,
        this.regionGroup.children.filter((o) => o.userData.draggable),
      );
      if (!hit || !this.controls || !this.spec || !this.plane) return;
      const handle = hit.object as THREE.Mesh;
      const { region, vertex } = handle.userData as { region: number; vertex: number };
      this.drag = { handle, region, vertex, from: [...this.spec.regions[region].vertices[vertex]], height: handle.position.z };
      this.dragPlane.set(new THREE.Vector3(0, 0, 1), -handle.position.z);
      this.controls.enabled = false;
      element.setPointerCapture(event.pointerId);
    });
    element.addEventListener('pointermove', (event) => {
      if (this.drag) {
        this.setPointer(event);
        this.raycaster.setFromCamera(this.pointer, this.camera);
        if (this.raycaster.ray.intersectPlane(this.dragPlane, this.tmpVector)) {
          this.drag.handle.position.set(this.tmpVector.x, this.tmpVector.y, this.drag.height);
          this.requestRender();
        }
        return;
      }
      if (!this.orbiting) this.scheduleHover(event);
    });
    element.addEventListener('pointerup', (event) => {
      const drag = this.drag;
      if (!drag || !this.controls || !this.window || !this.plane) return;
      this.drag = undefined;
      this.controls.enabled = true;
      element.releasePointerCapture(event.pointerId);
      const [[u0, u1], [v0, v1]] = this.window;
      const u = drag.handle.position.x + (u0 + u1) / 2;
      const v = drag.handle.position.y + (v0 + v1) / 2;
      this.callbacks.onVertexDrop(drag.region, drag.vertex, drag.from, planePoint(this.plane, u, v));
    });
    element.addEventListener('pointerleave', () => this.callbacks.onHover(undefined, 0, 0));
  }

  /** Hover work is done once per frame at most, whatever the pointer's event rate. */
  private scheduleHover(event: PointerEvent): void {
    const { clientX, clientY } = event;
    this.setPointer(event);
    if (this.hoverFrame) return;
    this.hoverFrame = requestAnimationFrame(() => {
      this.hoverFrame = 0;
      const mesh = this.surfaceMesh;
      const surface = this.surface;
      if (!mesh || !mesh.visible || !surface) return;
      this.raycaster.setFromCamera(this.pointer, this.camera);
      const hit = this.raycaster.intersectObject(mesh, false)[0];
      if (!hit?.uv) {
        this.callbacks.onHover(undefined, clientX, clientY);
        return;
      }
      const [[u0, u1], [v0, v1]] = surface.window;
      const R = surface.resolution;
      const i = Math.round(hit.uv.x * (R - 1));
      const j = Math.round(hit.uv.y * (R - 1));
      this.callbacks.onHover({ u: u0 + hit.uv.x * (u1 - u0), v: v0 + hit.uv.y * (v1 - v0), grid: j * R + i }, clientX, clientY);
    });
  }

  private setPointer(event: PointerEvent): void {
    const rect = (event.target as HTMLElement).getBoundingClientRect();
    this.pointer.set(((event.clientX - rect.left) / rect.width) * 2 - 1, -((event.clientY - rect.top) / rect.height) * 2 + 1);
  }

  private pick(event: PointerEvent, objects: THREE.Object3D[]): THREE.Intersection | undefined {
    if (objects.length === 0) return undefined;
    this.setPointer(event);
    this.raycaster.setFromCamera(this.pointer, this.camera);
    return this.raycaster.intersectObjects(objects, false)[0];
  }
}

const QUAD_ENDS = [0, 1] as const;
/** How long the camera must rest before a software renderer draws the antialiased frame (wheel ticks come closer). */
const SETTLE_MS = 150;

/** True when WebGL is rasterized on the CPU (no usable GPU, remote desktops, some VMs): asked of a throwaway context. */
function softwareRenderer(): boolean {
  const probe = document.createElement('canvas').getContext('webgl2');
  if (!probe) return false;
  const info = probe.getExtension('WEBGL_debug_renderer_info');
  const name = String(probe.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : probe.RENDERER));
  probe.getExtension('WEBGL_lose_context')?.loseContext();
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name);
}

/** Antialiased frames without an antialiased canvas: the scene into a 4× multisampled target, then copied to the canvas. */
class StillFrames {
  private readonly target = new THREE.WebGLRenderTarget(1, 1, { samples: 4 });
  private readonly copy = new THREE.Mesh(
    new THREE.PlaneGeometry(2, 2),
    new THREE.MeshBasicMaterial({ map: this.target.texture, depthTest: false, depthWrite: false }),
  );
  private readonly copyScene = new THREE.Scene().add(this.copy);
  private readonly copyCamera = new THREE.OrthographicCamera(-1, 1, 1, -1, 0, 1);
  private readonly size = new THREE.Vector2();

  draw(renderer: THREE.WebGLRenderer, scene: THREE.Scene, camera: THREE.Camera): void {
    renderer.getDrawingBufferSize(this.size);
    if (this.target.width !== this.size.x || this.target.height !== this.size.y) this.target.setSize(this.size.x, this.size.y);
    renderer.setRenderTarget(this.target);
    renderer.render(scene, camera);
    renderer.setRenderTarget(null);
    renderer.render(this.copyScene, this.copyCamera);
  }
}

/** Pixel ratio of the canvas: the display's, at most 2 (a 3× screen would pay 2.25× the fragments for no visible gain). */
function pixelRatio(): number {
  return Math.min(window.devicePixelRatio || 1, 2);
}

/**
 * Normals of an R×R grid surface from the cross product of its grid tangents (central differences, one-sided
 * at the border): one pass, no allocation, unlike computeVertexNormals' per-triangle accumulation.
 */
export function gridNormals(positions: Float32Array, normals: Float32Array, R: number): void {
  for (let j = 0; j < R; j++) {
    const jm = j > 0 ? j - 1 : j;
    const jp = j < R - 1 ? j + 1 : j;
    for (let i = 0; i < R; i++) {
      const im = i > 0 ? i - 1 : i;
      const ip = i < R - 1 ? i + 1 : i;
      const a = 3 * (j * R + ip);
      const b = 3 * (j * R + im);
      const c = 3 * (jp * R + i);
      const d = 3 * (jm * R + i);
      const ux = positions[a] - positions[b];
      const uy = positions[a + 1] - positions[b + 1];
      const uz = positions[a + 2] - positions[b + 2];
      const vx = positions[c] - positions[d];
      const vy = positions[c + 1] - positions[d + 1];
      const vz = positions[c + 2] - positions[d + 2];
      let nx = uy * vz - uz * vy;
      let ny = uz * vx - ux * vz;
      let nz = ux * vy - uy * vx;
      const length = Math.hypot(nx, ny, nz) || 1;
      nx /= length;
      ny /= length;
      nz /= length;
      const o = 3 * (j * R + i);
      normals[o] = nx;
      normals[o + 1] = ny;
      normals[o + 2] = nz;
    }
  }
}

/** A sphere around the box of the positions (cheap and enough for culling and ray picking). */
function gridBoundingSphere(positions: Float32Array, sphere: THREE.Sphere): void {
  let minX = Infinity;
  let minY = Infinity;
  let minZ = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  let maxZ = -Infinity;
  for (let o = 0; o < positions.length; o += 3) {
    const x = positions[o];
    const y = positions[o + 1];
    const z = positions[o + 2];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    if (z < minZ) minZ = z;
    if (z > maxZ) maxZ = z;
  }
  sphere.center.set((minX + maxX) / 2, (minY + maxY) / 2, (minZ + maxZ) / 2);
  sphere.radius = Math.hypot(maxX - minX, maxY - minY, maxZ - minZ) / 2;
}

/** A line-segment position buffer reused across updates; it only grows, so steady training allocates nothing. */
class GrowableLines {
  private buffer = new Float32Array(0);
  private attribute: THREE.BufferAttribute | undefined;

  reserve(floats: number): Float32Array {
    if (floats > this.buffer.length) {
      this.buffer = new Float32Array(Math.ceil(floats * 1.5));
      this.attribute = undefined;
    }
    return this.buffer;
  }

  commit(geometry: THREE.BufferGeometry, floats: number): void {
    if (!this.attribute) {
      this.attribute = new THREE.BufferAttribute(this.buffer, 3).setUsage(THREE.DynamicDrawUsage);
      geometry.setAttribute('position', this.attribute);
    }
    this.attribute.needsUpdate = true;
    this.attribute.clearUpdateRanges();
    this.attribute.addUpdateRange(0, floats);
    geometry.setDrawRange(0, floats / 3);
    geometry.boundingSphere = null;
  }
}

function setPositions(geometry: THREE.BufferGeometry, values: number[]): void {
  const current = geometry.getAttribute('position') as THREE.BufferAttribute | undefined;
  if (current && current.array.length >= values.length && current.array.length <= values.length * 2) {
    (current.array as Float32Array).set(values);
    current.needsUpdate = true;
    geometry.setDrawRange(0, values.length / 3);
  } else {
    geometry.setAttribute('position', new THREE.BufferAttribute(new Float32Array(values), 3));
    geometry.setDrawRange(0, values.length / 3);
  }
  geometry.computeBoundingSphere();
}

function clearGroup(group: THREE.Group): void {
  for (const child of [...group.children]) {
    group.remove(child);
    const object = child as THREE.Mesh;
    object.geometry?.dispose();
    for (const material of Array.isArray(object.material) ? object.material : [object.material]) material?.dispose();
  }
}
