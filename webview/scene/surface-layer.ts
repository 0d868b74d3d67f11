// The surface: the learned function on the plane's grid, as a height map (regression) or a decision map (classification).
import * as THREE from 'three';
import { argmax, cellColor, classColor, viridisInto } from '../colors';
import type { SceneSpace } from './space';

/** How far the decision ground's class colours fade toward the background. */
const GROUND_FADE = 0.55;

/** Stands for "nothing baked": fully transparent, so the surface shader's one program serves both states. */
const NO_BAKE = new THREE.DataTexture(new Uint8Array(4), 1, 1);
NO_BAKE.needsUpdate = true;

export class SurfaceLayer {
  /** The partition baked on a software renderer (partition-bake.ts), laid over the lit surface in the same pass. */
  private readonly baked = { value: NO_BAKE as THREE.Texture };
  private readonly material = surfaceMaterial(this.baked);
  private mesh: THREE.Mesh | undefined;
  private resolution = 0;
  private readonly tmp = new THREE.Vector3();

  constructor(private readonly scene: THREE.Scene) {}

  /** The surface mesh while a surface is shown, drawn or not: hover picks on it (the cell fills lie on the same heights). */
  get pickable(): THREE.Mesh | undefined {
    return this.hasSurface ? this.mesh : undefined;
  }

  private hasSurface = false;

  /** Lay this texture over the surface (undefined: none); switching costs no new shader. */
  setBaked(texture: THREE.Texture | undefined): void {
    this.baked.value = texture ?? NO_BAKE;
  }

  /** Another layer (the cell fills) now draws the surface, or no longer does. */
  setHidden(hidden: boolean): void {
    if (this.mesh && this.hasSurface) this.mesh.visible = !hidden;
  }

  /** `hidden`: another layer draws the surface (the cell fills); the grid is still kept for picking. */
  update(space: SceneSpace, hidden: boolean, background: readonly number[]): void {
    const surface = space.surface;
    this.hasSurface = surface !== undefined && space.spec !== undefined;
    if (!surface || !space.spec) {
      if (this.mesh) this.mesh.visible = false;
      return;
    }
    const R = surface.resolution;
    const mesh = this.ensureMesh(R);
    mesh.visible = !hidden;
    // A 3-D slice must not hide the region hulls behind it.
    this.material.transparent = space.is3d();
    this.material.opacity = space.is3d() ? 0.75 : 1;
    this.material.depthWrite = !space.is3d();
    const position = mesh.geometry.getAttribute('position') as THREE.BufferAttribute;
    const color = mesh.geometry.getAttribute('color') as THREE.BufferAttribute;
    const positions = position.array as Float32Array;
    const colors = color.array as Float32Array;
    const outputs = surface.outputs;
    const k = space.output();
    const [[u0, u1], [v0, v1]] = surface.window;
    const classification = space.classification();
    const p = this.tmp;
    for (let j = 0; j < R; j++) {
      const v = v0 + ((v1 - v0) * j) / (R - 1);
      for (let i = 0; i < R; i++) {
        const u = u0 + ((u1 - u0) * i) / (R - 1);
        const g = j * R + i;
        const value = surface.values[g * outputs + k];
        space.world(u, v, value, p);
        positions[3 * g] = p.x;
        positions[3 * g + 1] = p.y;
        positions[3 * g + 2] = p.z;
        if (hidden) {
          // Not drawn: positions only, for picking.
        } else if (space.style.colorMode === 'cells') {
          // One colour per grid point, not a table over cells (there can be 300,000 of them).
          const c = cellColor(surface.cellIndex[g]);
          colors[3 * g] = c[0];
          colors[3 * g + 1] = c[1];
          colors[3 * g + 2] = c[2];
        } else if (classification) {
          // Pale ground, saturated points: a point stays visible on the ground of its own class.
          const c = classColor(argmax(surface.values, g * outputs, outputs));
          colors[3 * g] = c[0] + (background[0] - c[0]) * GROUND_FADE;
          colors[3 * g + 1] = c[1] + (background[1] - c[1]) * GROUND_FADE;
          colors[3 * g + 2] = c[2] + (background[2] - c[2]) * GROUND_FADE;
        } else {
          viridisInto((value - space.zMid) * (space.zScale / space.span) + 0.5, colors, 3 * g);
        }
      }
    }
    const normal = mesh.geometry.getAttribute('normal') as THREE.BufferAttribute;
    gridNormals(positions, normal.array as Float32Array, R);
    position.needsUpdate = true;
    color.needsUpdate = true;
    normal.needsUpdate = true;
    gridBoundingSphere(positions, mesh.geometry.boundingSphere!);
  }

  /** The grid mesh is allocated once per resolution; later surfaces rewrite its attributes in place. */
  private ensureMesh(resolution: number): THREE.Mesh {
    if (this.mesh && this.resolution === resolution) return this.mesh;
    if (this.mesh) {
      this.scene.remove(this.mesh);
      this.mesh.geometry.dispose();
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
    this.mesh = new THREE.Mesh(geometry, this.material);
    this.resolution = resolution;
    this.scene.add(this.mesh);
    return this.mesh;
  }
}

/**
 * The surface's Lambert material, compositing `baked` (straight from the bake target: alpha-weighted colours) over the
 * lit colour, as a transparent unlit overlay would: one pass over the canvas instead of two (on SwiftShader each costs
 * about 80–100 ms a frame at 1280×800).
 */
function surfaceMaterial(baked: { value: THREE.Texture }): THREE.MeshLambertMaterial {
  const material = new THREE.MeshLambertMaterial({ vertexColors: true, side: THREE.DoubleSide });
  material.onBeforeCompile = (shader) => {
    shader.uniforms.bakedPartition = baked;
    shader.vertexShader = shader.vertexShader
      .replace('#include <common>', '#include <common>\nvarying vec2 vBakedUv;')
      .replace('#include <uv_vertex>', '#include <uv_vertex>\nvBakedUv = uv;');
    shader.fragmentShader = shader.fragmentShader
      .replace('#include <common>', '#include <common>\nuniform sampler2D bakedPartition;\nvarying vec2 vBakedUv;')
      .replace(
        '#include <opaque_fragment>',
        'vec4 bakedTexel = texture2D( bakedPartition, vBakedUv );\noutgoingLight = outgoingLight * ( 1.0 - bakedTexel.a ) + bakedTexel.rgb * bakedTexel.a;\ndiffuseColor.a = mix( diffuseColor.a, 1.0, bakedTexel.a );\n#include <opaque_fragment>',
      );
  };
  material.customProgramCacheKey = () => 'police-surface-with-bake';
  return material;
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
