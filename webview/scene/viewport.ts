// Renderer, camera and orbit controls: one frame per animation frame, antialiased at rest on software rasterizers.
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

/** How long the camera must rest before a software renderer draws the antialiased frame (wheel ticks come closer). */
const SETTLE_MS = 150;
/** Camera distance of the top view, in window spans: 45° of field of view holds the window with a small margin. */
const TOP_VIEW_DISTANCE = 1.3;

export interface ViewportCallbacks {
  /** The user started orbiting (hover work stops until the camera rests). */
  onOrbitStart(): void;
  onRendered(): void;
  /** Work to do before a frame is drawn (the partition bake). */
  beforeDraw?(renderer: THREE.WebGLRenderer): FrameWork;
}

/**
 * What the work before a frame did: 'idle' (none left) or 'more' (a chunk done, more follows). On a software rasterizer a
 * chunk (a layer build on the main thread, a texture chunk on the CPU rasterizer) takes its frame and the next frame only draws.
 */
export type FrameWork = 'idle' | 'more';

export class Viewport {
  readonly webgl: 0 | 1 | 2;
  readonly renderer: THREE.WebGLRenderer | undefined;
  readonly camera = new THREE.PerspectiveCamera(45, 1, 0.01, 1000);
  readonly controls: OrbitControls | undefined;
  /** WebGL runs on a CPU rasterizer (SwiftShader, llvmpipe, …). */
  readonly software: boolean;
  /** Between the orbit controls' start and end: no hover picking (a raycast through every surface triangle) per frame. */
  orbiting = false;
  /** The window's or domain's largest side, which the default camera frames. */
  span = 1;
  /** A 2-D spec: the default camera looks straight down (the paper's figures), else it looks at an angle. */
  topDown = false;
  /**
   * Software renderers draw frames at rest antialiased (a 4× multisampled pass) unless this is off: with a baked
   * partition that pass costs more than a frame may, and the mipmapped texture needs no antialiasing.
   */
  antialiasAtRest = true;
  /** On a software renderer: the antialiased path for frames drawn at rest. */
  private readonly still: StillFrames | undefined;
  private frame = 0;
  /** The last frame did a chunk of work on a software rasterizer: this one only draws (then work resumes). */
  private drawOnlyNext = false;
  /** Until the user orbits, resizes re-frame the default view (a narrow panel needs the camera further back). */
  private userMovedCamera = false;
  /** When the orbit controls last moved the camera; frames within SETTLE_MS of it count as moving (wheel zoom ticks). */
  private cameraMovedAt = -Infinity;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly container: HTMLElement,
    private readonly scene: THREE.Scene,
    private readonly callbacks: ViewportCallbacks,
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
        this.callbacks.onOrbitStart();
      });
      controls.addEventListener('end', () => {
        this.orbiting = false;
      });
      this.controls = controls;
      new ResizeObserver(() => this.resize()).observe(container);
    }
  }

  /** Renders happen on the next animation frame, once, however many updates came in. */
  requestRender(): void {
    if (this.frame || !this.renderer) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const renderer = this.renderer;
      const resumeWork = this.drawOnlyNext;
      const work = renderer && !this.drawOnlyNext ? (this.callbacks.beforeDraw?.(renderer) ?? 'idle') : 'idle';
      this.drawOnlyNext = false;
      // A software rasterizer cannot do a chunk of work (a layer build, a texture chunk) and draw the scene in one frame's budget.
      if (work !== 'idle' && this.software) {
        this.drawOnlyNext = true;
        this.requestRender();
        return;
      }
      // Frames between two chunks of work are drawn as cheaply as orbit frames.
      this.draw(work !== 'idle' || resumeWork || this.orbiting || performance.now() - this.cameraMovedAt < SETTLE_MS);
      this.callbacks.onRendered();
      if (work !== 'idle' || resumeWork) this.requestRender();
    });
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
    // A 2-D spec opens top-down with its window filling the canvas; 3-D ones at an angle.
    if (this.topDown) this.camera.position.set(0, -1e-3 * d, TOP_VIEW_DISTANCE * d);
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

  /** Where a world point is on screen, in client pixels. */
  screenPosition(point: THREE.Vector3): { x: number; y: number } | undefined {
    if (!this.renderer) return undefined;
    const p = point.clone().project(this.camera);
    const rect = this.renderer.domElement.getBoundingClientRect();
    return { x: rect.left + ((p.x + 1) / 2) * rect.width, y: rect.top + ((1 - p.y) / 2) * rect.height };
  }

  /**
   * Benchmark hook: orbit the camera a full turn over `frames` synchronous renders, drawn as orbit frames (`moving`)
   * or as frames at rest. frameMs: mean time per frame until drawn; worstFrameMs: the slowest one; mainThreadMs: mean
   * time of the render call alone (scene traversal and command submission, the part a GPU does not take over).
   */
  measureOrbit(frames: number, moving = true): { frameMs: number; worstFrameMs: number; mainThreadMs: number } {
    if (!this.renderer || !this.controls) return { frameMs: Number.NaN, worstFrameMs: Number.NaN, mainThreadMs: Number.NaN };
    const gl = this.renderer.getContext();
    const target = this.controls.target;
    const offset = this.camera.position.clone().sub(target);
    const radius = Math.hypot(offset.x, offset.y);
    const pixel = new Uint8Array(4);
    // Reading a pixel back waits for the frame to be drawn, so the time is the real frame cost.
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
    let mainThread = 0;
    let worst = 0;
    const start = performance.now();
    for (let f = 0; f < frames; f++) {
      const angle = (2 * Math.PI * f) / frames;
      this.camera.position.set(target.x + radius * Math.cos(angle), target.y + radius * Math.sin(angle), target.z + offset.z);
      this.camera.lookAt(target);
      const submitted = performance.now();
      this.draw(moving);
      mainThread += performance.now() - submitted;
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
      worst = Math.max(worst, performance.now() - submitted);
    }
    const elapsed = performance.now() - start;
    this.camera.position.copy(offset.add(target));
    this.controls.update();
    return { frameMs: elapsed / frames, worstFrameMs: worst, mainThreadMs: mainThread / frames };
  }

  /** Benchmark hook: draw one frame now and wait until it is drawn (a pixel read back); its time in ms. */
  drawNow(moving = false): number {
    if (!this.renderer) return Number.NaN;
    const gl = this.renderer.getContext();
    const start = performance.now();
    this.draw(moving);
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
    return performance.now() - start;
  }

  /** Distance factor so the window fits a panel narrower than it is tall. */
  private aspectFit(): number {
    return Math.max(1, 1 / this.camera.aspect);
  }

  /** One frame: straight to the canvas, or on a software renderer at rest through the multisampled target. */
  private draw(moving: boolean): void {
    if (!this.renderer) return;
    if (this.still && !moving && this.antialiasAtRest) this.still.draw(this.renderer, this.scene, this.camera);
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
}

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
