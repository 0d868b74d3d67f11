// What the scene shows (spec, plane, window, surface, data, style) and where it goes in world coordinates.
import * as THREE from 'three';
import type { ViewPlane, ViewShowData, ViewSpec, ViewSurface, ViewWindow } from '../../extension/protocol/messages';
import { planePoint, samePlane, sameWindow } from '../../extension/common/view-geometry';

export type ColorMode = 'value' | 'cells';

export interface SurfaceStyle {
  output: number;
  colorMode: ColorMode;
  wireframe: boolean;
}

/** The scene's content and its world mapping, read by every layer: the plane is centred on the window, heights scaled. */
export class SceneSpace {
  spec: ViewSpec | undefined;
  plane: ViewPlane | undefined;
  window: ViewWindow | undefined;
  surface: ViewSurface | undefined;
  data: ViewShowData | undefined;
  style: SurfaceStyle = { output: 0, colorMode: 'value', wireframe: true };
  zMid = 0;
  zScale = 1;
  /** The window's (2-D) or the domain's (3-D) largest side: sizes markers, lifts and the camera distance. */
  span = 1;

  /** The output shown, within what the surface (or spec) has: a saved setting may name one past a smaller model's. */
  output(): number {
    const outputs = this.surface?.outputs ?? this.spec?.outputUnits ?? 1;
    return Math.max(0, Math.min(this.style.output, outputs - 1));
  }

  /** Height of the 2-D frame (and its axis ticks): just under the decision map, or below the lowest surface height (−span/4). */
  floorHeight(): number {
    return this.classification() ? -0.001 * this.span : -0.3 * this.span;
  }

  is3d(): boolean {
    return this.spec?.inputDim === 3;
  }

  classification(): boolean {
    return this.spec?.task === 'classification';
  }

  /** New spec, plane and window; true when the camera should re-frame (another window or input dimension). */
  setSpec(spec: ViewSpec, plane: ViewPlane, window: ViewWindow): boolean {
    const reframe = !this.window || !sameWindow(this.window, window) || this.spec?.inputDim !== spec.inputDim;
    this.spec = spec;
    this.plane = plane;
    this.window = window;
    if (this.surface && !samePlane(this.surface.plane, plane)) this.surface = undefined;
    this.span = this.is3d()
      ? Math.max(...spec.domain.map(([lo, hi]) => hi - lo))
      : Math.max(window[0][1] - window[0][0], window[1][1] - window[1][0]);
    this.updateHeightScale();
    return reframe;
  }

  /** Heights fill about half the window span; regression data (stable during training) sets the range. */
  updateHeightScale(): void {
    let lo = Infinity;
    let hi = -Infinity;
    const k = this.output();
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
  world(u: number, v: number, z: number, out: THREE.Vector3): THREE.Vector3 {
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

  /** World position of an input point (3-D inputs: the domain box centred at the origin). */
  inputToWorld(x: number[]): number[] {
    const domain = this.spec?.domain ?? [];
    return [0, 1, 2].map((d) => x[d] - (domain[d] ? (domain[d][0] + domain[d][1]) / 2 : 0));
  }
}

/** Drop every child of a group and free its GPU buffers and materials. */
export function clearGroup(group: THREE.Group): void {
  for (const child of [...group.children]) {
    group.remove(child);
    const object = child as THREE.Mesh;
    object.geometry?.dispose();
    for (const material of Array.isArray(object.material) ? object.material : [object.material]) material?.dispose();
  }
}
