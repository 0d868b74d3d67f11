// The exact partition on the surface: every cell edge once, and the decision boundary of a classifier.
import * as THREE from 'three';
import type { ViewSurface } from '../../extension/protocol/messages';
import { cellPolygonOf, ownsEdgeAt, signedAreaAt, windowBounds } from '../../extension/common/view-geometry';
import type { ThemeColors } from '../colors';
import type { SceneSpace } from './space';

const QUAD_ENDS = [0, 1] as const;

export class PartitionLayer {
  // Each cell edge is drawn once (see update): 0.75 looks like the two coincident lines at 0.55 it replaces.
  private readonly wireframe = new THREE.LineSegments(
    new THREE.BufferGeometry(),
    new THREE.LineBasicMaterial({ transparent: true, opacity: 0.75 }),
  );
  private readonly boundary = new THREE.LineSegments(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ color: 0xffffff }));
  /** The hovered cell's outline, in the accent colour. */
  private readonly hovered = new THREE.LineLoop(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ linewidth: 2 }));
  private hoveredCell = -1;
  private readonly wireLines = new GrowableLines();
  private readonly tmp = new THREE.Vector3();

  constructor(scene: THREE.Scene) {
    // Their buffers are reused with a draw range; the bounds would be stale, and the lines span the view anyway.
    this.wireframe.frustumCulled = false;
    this.boundary.frustumCulled = false;
    this.hovered.frustumCulled = false;
    this.hovered.visible = false;
    scene.add(this.wireframe, this.boundary, this.hovered);
  }

  /** Outline cell `cell` of the surface on screen (−1: none); false when nothing changed. */
  highlight(space: SceneSpace, cell: number): boolean {
    const surface = space.surface;
    const cells = surface?.cells;
    const valid = cells !== undefined && cell >= 0 && cell < cells.count;
    if ((valid ? cell : -1) === this.hoveredCell && this.hovered.visible === valid) return false;
    this.hoveredCell = valid ? cell : -1;
    this.hovered.visible = valid;
    document.body.dataset.hoveredCell = String(this.hoveredCell);
    if (!valid || !surface) return true;
    const k = space.output();
    const polygon = cellPolygonOf(cells, cell);
    const lift = (space.is3d() ? 0.003 : 0.008) * space.span;
    const points: number[] = [];
    for (let q = 0; q < polygon.length; q += 2) {
      const [u, v] = [polygon[q], polygon[q + 1]];
      const m = 3 * (cell * cells.outputs + k);
      space.world(u, v, cells.planeMaps[m] * u + cells.planeMaps[m + 1] * v + cells.planeMaps[m + 2], this.tmp);
      points.push(this.tmp.x, this.tmp.y, this.tmp.z + lift);
    }
    this.hovered.geometry.dispose();
    this.hovered.geometry = new THREE.BufferGeometry();
    this.hovered.geometry.setAttribute('position', new THREE.Float32BufferAttribute(points, 3));
    return true;
  }

  setTheme(theme: ThemeColors): void {
    (this.hovered.material as THREE.LineBasicMaterial).color.setRGB(...theme.accent);
    (this.wireframe.material as THREE.LineBasicMaterial).color.setRGB(...theme.foreground);
    (this.boundary.material as THREE.LineBasicMaterial).color.setRGB(...theme.foreground);
  }

  /** The edges' geometry and segment count, for the bake. */
  get edges(): { geometry: THREE.BufferGeometry; segments: number } {
    return { geometry: this.wireframe.geometry, segments: this.segments };
  }

  private segments = 0;

  /**
   * Rebuild the edges for the space's surface and style: the returned step builds the next `cellsPerStep` cells' edges
   * and returns true once all are built and shown (a large partition is built over several frames, see scene-view.ts).
   * `flat`: the edges are baked into a texture (see partition-bake.ts): built in plane coordinates at z = 0, not drawn.
   */
  update(space: SceneSpace, flat = false, cellsPerStep = Infinity): () => boolean {
    const surface = space.surface;
    // A new surface or style: the hovered cell is drawn again by the next hover.
    this.hoveredCell = -1;
    this.hovered.visible = false;
    this.segments = 0;
    if (!surface || !space.spec) {
      this.wireframe.visible = false;
      this.boundary.visible = false;
      return () => true;
    }
    return this.rebuild(space, surface, space.output(), flat, cellsPerStep);
  }

  /** Cell edges lifted onto the surface with each cell's own affine map (exact, not sampled), `cellsPerStep` cells a call. */
  private rebuild(space: SceneSpace, surface: ViewSurface, k: number, baked: boolean, cellsPerStep: number): () => boolean {
    const p = this.tmp;
    const lift = space.is3d() ? 0.002 * space.span : 0.004 * space.span;
    const cells = surface.cells;
    const edges = space.style.wireframe ? cells.polygonStart[cells.count] : 0;
    const lines = this.wireLines.reserve(edges * 6);
    // The buffer is rewritten over several frames: none of them may draw it half written.
    this.wireframe.visible = false;
    let o = 0;
    let next = 0;
    const flat = !space.is3d() || baked;
    const [[wu0, wu1], [wv0, wv1]] = surface.window;
    const cu = (wu0 + wu1) / 2;
    const cv = (wv0 + wv1) / 2;
    const heightScale = space.classification() || baked ? 0 : space.zScale;
    const zMid = space.zMid;
    const zLift = baked ? 0 : lift;
    const bounds = windowBounds(surface.window);
    const xy = cells.vertices;
    return () => {
      const end = edges > 0 ? Math.min(cells.count, next + cellsPerStep) : next;
      for (let cell = next; cell < end; cell++) {
        const start = cells.polygonStart[cell];
        const n = cells.polygonStart[cell + 1] - start;
        const m = 3 * (cell * cells.outputs + k);
        const au = cells.planeMaps[m];
        const av = cells.planeMaps[m + 1];
        const c = cells.planeMaps[m + 2];
        const orientation = signedAreaAt(xy, start, n) < 0 ? -1 : 1;
        // Each edge (a → b) is written as two points; 2-D views inline the plane → world map.
        for (let e = 0; e < n; e++) {
          if (!ownsEdgeAt(xy, start, n, e, orientation, bounds)) continue;
          const b = e + 1 === n ? 0 : e + 1;
          for (const q of QUAD_ENDS) {
            const index = 2 * (start + (q === 0 ? e : b));
            const u = xy[index];
            const v = xy[index + 1];
            const value = au * u + av * v + c;
            if (flat) {
              lines[o++] = u - cu;
              lines[o++] = v - cv;
              lines[o++] = (value - zMid) * heightScale + zLift;
            } else {
              space.world(u, v, value, p);
              lines[o++] = p.x;
              lines[o++] = p.y;
              lines[o++] = p.z + lift;
            }
          }
        }
      }
      next = end;
      if (edges > 0 && next < cells.count) return false;
      // The worker traced the decision boundary over every cell, also when the cells are too many to send.
      const boundary: number[] = [];
      const segments = space.classification() && surface.boundary ? surface.boundary : [];
      for (let q = 0; q < segments.length; q += 2) {
        space.world(segments[q], segments[q + 1], 0, p);
        boundary.push(p.x, p.y, p.z + 2 * lift);
      }
      this.wireLines.commit(this.wireframe.geometry, o);
      setPositions(this.boundary.geometry, boundary);
      this.segments = o / 6;
      this.wireframe.visible = o > 0 && !baked;
      this.boundary.visible = boundary.length > 0;
      document.body.dataset.boundarySegments = String(boundary.length / 6);
      document.body.dataset.wireSegments = String(o / 6);
      return true;
    };
  }
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
