// Pointer input on the canvas: hover over the surface (once per frame at most) and dragging a region's vertex.
import * as THREE from 'three';
import { planePoint } from '../../extension/common/view-geometry';
import type { SceneSpace } from './space';
import type { Viewport } from './viewport';

export interface HoverPoint {
  u: number;
  v: number;
  /** Grid index of the nearest sample. */
  grid: number;
}

export interface PointerCallbacks {
  onHover(point: HoverPoint | undefined, clientX: number, clientY: number): void;
  onVertexDrop(region: number, vertex: number, from: number[], to: number[]): void;
}

/** What the pointer can hit: the surface to hover, the vertex markers to drag. */
export interface PointerTargets {
  surface(): THREE.Mesh | undefined;
  draggableMarkers(): THREE.Object3D[];
}

interface DragState {
  handle: THREE.Mesh;
  region: number;
  vertex: number;
  from: number[];
  height: number;
}

export class PointerInput {
  private readonly raycaster = new THREE.Raycaster();
  private readonly pointer = new THREE.Vector2();
  private readonly dragPlane = new THREE.Plane();
  private readonly tmp = new THREE.Vector3();
  private drag: DragState | undefined;
  private hoverFrame = 0;

  constructor(
    element: HTMLCanvasElement,
    private readonly viewport: Viewport,
    private readonly space: SceneSpace,
    private readonly targets: PointerTargets,
    private readonly callbacks: PointerCallbacks,
  ) {
    element.addEventListener('pointerdown', (event) => this.pointerDown(element, event));
    element.addEventListener('pointermove', (event) => this.pointerMove(event));
    element.addEventListener('pointerup', (event) => this.pointerUp(element, event));
    element.addEventListener('pointerleave', () => this.callbacks.onHover(undefined, 0, 0));
  }

  /** Orbiting started: drop any pending hover and hide the tooltip. */
  cancelHover(): void {
    if (this.hoverFrame) cancelAnimationFrame(this.hoverFrame);
    this.hoverFrame = 0;
    this.callbacks.onHover(undefined, 0, 0);
  }

  private pointerDown(element: HTMLCanvasElement, event: PointerEvent): void {
    const controls = this.viewport.controls;
    const hit = this.pick(event, this.targets.draggableMarkers());
    if (!hit || !controls || !this.space.spec || !this.space.plane) return;
    const handle = hit.object as THREE.Mesh;
    const { region, vertex } = handle.userData as { region: number; vertex: number };
    this.drag = { handle, region, vertex, from: [...this.space.spec.regions[region].vertices[vertex]], height: handle.position.z };
    this.dragPlane.set(new THREE.Vector3(0, 0, 1), -handle.position.z);
    controls.enabled = false;
    element.setPointerCapture(event.pointerId);
  }

  private pointerMove(event: PointerEvent): void {
    if (this.drag) {
      this.setPointer(event);
      this.raycaster.setFromCamera(this.pointer, this.viewport.camera);
      if (this.raycaster.ray.intersectPlane(this.dragPlane, this.tmp)) {
        this.drag.handle.position.set(this.tmp.x, this.tmp.y, this.drag.height);
        this.viewport.requestRender();
      }
      return;
    }
    if (!this.viewport.orbiting) this.scheduleHover(event);
  }

  private pointerUp(element: HTMLCanvasElement, event: PointerEvent): void {
    const drag = this.drag;
    const controls = this.viewport.controls;
    const { window, plane } = this.space;
    if (!drag || !controls || !window || !plane) return;
    this.drag = undefined;
    controls.enabled = true;
    element.releasePointerCapture(event.pointerId);
    const [[u0, u1], [v0, v1]] = window;
    const u = drag.handle.position.x + (u0 + u1) / 2;
    const v = drag.handle.position.y + (v0 + v1) / 2;
    this.callbacks.onVertexDrop(drag.region, drag.vertex, drag.from, planePoint(plane, u, v));
  }

  /** Hover work is done once per frame at most, whatever the pointer's event rate. */
  private scheduleHover(event: PointerEvent): void {
    const { clientX, clientY } = event;
    this.setPointer(event);
    if (this.hoverFrame) return;
    this.hoverFrame = requestAnimationFrame(() => {
      this.hoverFrame = 0;
      const mesh = this.targets.surface();
      const surface = this.space.surface;
      if (!mesh || !surface) return;
      this.raycaster.setFromCamera(this.pointer, this.viewport.camera);
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
    this.raycaster.setFromCamera(this.pointer, this.viewport.camera);
    return this.raycaster.intersectObjects(objects, false)[0];
  }
}
