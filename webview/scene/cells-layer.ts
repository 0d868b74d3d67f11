// The linear regions filled, each in its own colour (the look of SplineCam's figures): every cell a triangle fan in
// one merged mesh, lifted onto the surface with the cell's own affine map, so hundreds of thousands draw in one call.
import * as THREE from 'three';
import type { ViewCells } from '../../extension/protocol/messages';
import { cellColor } from '../colors';
import type { SceneSpace } from './space';

export class CellsLayer {
  private readonly material = new THREE.MeshLambertMaterial({ vertexColors: true, side: THREE.DoubleSide });
  private readonly mesh = new THREE.Mesh(new THREE.BufferGeometry(), this.material);
  private buffers: FillBuffers | undefined;
  private readonly tmp = new THREE.Vector3();

  constructor(scene: THREE.Scene) {
    // The draw range changes with every surface; the fills span the window, which the camera always frames.
    this.mesh.frustumCulled = false;
    this.mesh.visible = false;
    scene.add(this.mesh);
  }

  /** True when the fills stand in for the grid surface (colour by linear region, cells sent, not baked). */
  get drawn(): boolean {
    return this.mesh.visible;
  }

  /** The fills' geometry and triangle count, for the bake (none unless colouring by linear region). */
  get fills(): { geometry: THREE.BufferGeometry | undefined; triangles: number } {
    return { geometry: this.triangles > 0 ? this.mesh.geometry : undefined, triangles: this.triangles };
  }

  private triangles = 0;

  /** Whether the fills stand in for the surface in this state (colour by linear region, cells sent). */
  static fillsSurface(space: SceneSpace): boolean {
    return space.spec !== undefined && space.style.colorMode === 'cells' && (space.surface?.cells.count ?? 0) > 0;
  }

  /**
   * Rebuild the fills for the space's surface and style: the returned step fills the next `cellsPerStep` cells and
   * returns true once all are built and shown (a large partition is built over several frames, see scene-view.ts).
   * `flat`: the fills are baked into a texture (see partition-bake.ts): built in plane coordinates at z = 0, not drawn.
   */
  update(space: SceneSpace, flat = false, cellsPerStep = Infinity): () => boolean {
    const surface = space.surface;
    const cells = surface?.cells;
    this.triangles = 0;
    // The buffers are rewritten over several frames: none of them may draw them half written.
    this.mesh.visible = false;
    if (!surface || !cells || !CellsLayer.fillsSurface(space)) return () => true;
    const vertexCount = cells.polygonStart[cells.count];
    let triangleCount = 0;
    for (let cell = 0; cell < cells.count; cell++)
      triangleCount += Math.max(0, cells.polygonStart[cell + 1] - cells.polygonStart[cell] - 2);
    const buffers = this.reserve(vertexCount, triangleCount);
    const k = space.output();
    let next = 0;
    let t = 0;
    return () => {
      const end = Math.min(cells.count, next + cellsPerStep);
      t = fillCells(space, cells, k, buffers, this.tmp, flat, next, end, t);
      next = end;
      if (next < cells.count) return false;
      buffers.commit(vertexCount, triangleCount);
      this.triangles = triangleCount;
      // A 3-D slice must not hide the region hulls behind it.
      this.material.transparent = space.is3d();
      this.material.opacity = space.is3d() ? 0.75 : 1;
      this.material.depthWrite = !space.is3d();
      this.mesh.visible = !flat;
      document.body.dataset.filledCells = String(cells.count);
      return true;
    };
  }

  /** Buffers that only grow (with slack), so a training's stream of surfaces reuses them instead of reallocating. */
  private reserve(vertices: number, triangles: number): FillBuffers {
    if (this.buffers && this.buffers.vertexCapacity >= vertices && this.buffers.triangleCapacity >= triangles) return this.buffers;
    this.mesh.geometry.dispose();
    this.buffers = new FillBuffers(Math.ceil(vertices * 1.25), Math.ceil(triangles * 1.25));
    this.mesh.geometry = this.buffers.geometry;
    return this.buffers;
  }
}

class FillBuffers {
  readonly geometry = new THREE.BufferGeometry();
  readonly positions: Float32Array;
  readonly normals: Float32Array;
  readonly colors: Uint8Array;
  readonly index: Uint32Array;
  private readonly attributes: THREE.BufferAttribute[];
  private readonly indexAttribute: THREE.BufferAttribute;

  constructor(
    readonly vertexCapacity: number,
    readonly triangleCapacity: number,
  ) {
    this.positions = new Float32Array(3 * vertexCapacity);
    this.normals = new Float32Array(3 * vertexCapacity);
    this.colors = new Uint8Array(3 * vertexCapacity);
    this.index = new Uint32Array(3 * triangleCapacity);
    const position = new THREE.BufferAttribute(this.positions, 3).setUsage(THREE.DynamicDrawUsage);
    const normal = new THREE.BufferAttribute(this.normals, 3).setUsage(THREE.DynamicDrawUsage);
    // One byte per channel: a quarter of the memory of float colours, and a cell colour needs no more.
    const color = new THREE.BufferAttribute(this.colors, 3, true).setUsage(THREE.DynamicDrawUsage);
    this.indexAttribute = new THREE.BufferAttribute(this.index, 1).setUsage(THREE.DynamicDrawUsage);
    this.geometry.setAttribute('position', position);
    this.geometry.setAttribute('normal', normal);
    this.geometry.setAttribute('color', color);
    this.geometry.setIndex(this.indexAttribute);
    this.attributes = [position, normal, color];
  }

  /** Upload only the part in use. */
  commit(vertices: number, triangles: number): void {
    for (const attribute of this.attributes) {
      attribute.clearUpdateRanges();
      attribute.addUpdateRange(0, 3 * vertices);
      attribute.needsUpdate = true;
    }
    this.indexAttribute.clearUpdateRanges();
    this.indexAttribute.addUpdateRange(0, 3 * triangles);
    this.indexAttribute.needsUpdate = true;
    this.geometry.setDrawRange(0, 3 * triangles);
  }
}

/**
 * Cells [from, to) as fans of triangles from their first vertex, in each cell's colour, at its own plane's height;
 * their triangles are written from index entry `t` on. Returns the index entry after the last one written.
 */
function fillCells(
  space: SceneSpace,
  cells: ViewCells,
  k: number,
  buffers: FillBuffers,
  p: THREE.Vector3,
  baked: boolean,
  from: number,
  to: number,
  t: number,
): number {
  const { positions, normals, colors, index } = buffers;
  const flat = !space.is3d() || baked;
  const [[wu0, wu1], [wv0, wv1]] = space.surface?.window ??
    space.window ?? [
      [0, 0],
      [0, 0],
    ];
  const cu = (wu0 + wu1) / 2;
  const cv = (wv0 + wv1) / 2;
  const heightScale = space.classification() || baked ? 0 : space.zScale;
  const zMid = space.zMid;
  const xy = cells.vertices;
  for (let cell = from; cell < to; cell++) {
    const start = cells.polygonStart[cell];
    const end = cells.polygonStart[cell + 1];
    const m = 3 * (cell * cells.outputs + k);
    const au = cells.planeMaps[m];
    const av = cells.planeMaps[m + 1];
    const c = cells.planeMaps[m + 2];
    // The cell is one plane: one normal for all its vertices (flat shading by construction).
    let nx = flat ? -au * heightScale : 0;
    let ny = flat ? -av * heightScale : 0;
    const length = Math.hypot(nx, ny, 1);
    nx /= length;
    ny /= length;
    const nz = 1 / length;
    const [r, g, b] = cellColor(cell);
    const rb = Math.round(255 * r);
    const gb = Math.round(255 * g);
    const bb = Math.round(255 * b);
    for (let q = start; q < end; q++) {
      const u = xy[2 * q];
      const v = xy[2 * q + 1];
      const o = 3 * q;
      if (flat) {
        positions[o] = u - cu;
        positions[o + 1] = v - cv;
        positions[o + 2] = (au * u + av * v + c - zMid) * heightScale;
      } else {
        space.world(u, v, 0, p);
        positions[o] = p.x;
        positions[o + 1] = p.y;
        positions[o + 2] = p.z;
      }
      normals[o] = nx;
      normals[o + 1] = ny;
      normals[o + 2] = nz;
      colors[o] = rb;
      colors[o + 1] = gb;
      colors[o + 2] = bb;
    }
    for (let q = start + 1; q + 1 < end; q++) {
      index[t++] = start;
      index[t++] = q;
      index[t++] = q + 1;
    }
  }
  return t;
}
