// On a software rasterizer the partition's hundreds of thousands of fills and edges cost seconds per frame: there they
// are drawn once, a chunk per animation frame, into a texture the surface's own shader lays over it (one pass, see surface-layer.ts).
import * as THREE from 'three';
import type { ThemeColors } from '../colors';
import type { SceneSpace } from './space';
import type { FrameWork } from './viewport';

/** On a software renderer, partitions with more cells than this are baked (fewer draw fast enough as lines and fills). */
export const BAKE_ABOVE_CELLS = 20_000;
/** Texture side: 2048² RGBA with mipmaps is 21 MB, about 5 texels across an average cell of Figure 1's 200,000. */
const TEXTURE_SIDE = 2048;
/** Primitives drawn into the texture per animation frame, so no frame of the bake blocks the panel long. */
const TRIANGLES_PER_FRAME = 20_000;
const SEGMENTS_PER_FRAME = 20_000;
/** Mipmaps (50-80 ms for 2048² on SwiftShader) are rebuilt after this many chunks and after the last, in a frame of their own. */
const CHUNKS_PER_MIPMAP = 4;

/** What the bake draws: the fills' and edges' flat geometry (plane coordinates centred on the window, z = 0). */
export interface BakeSource {
  fills: THREE.BufferGeometry | undefined;
  triangles: number;
  edges: THREE.BufferGeometry | undefined;
  segments: number;
}

export class PartitionBake {
  private readonly target = new THREE.WebGLRenderTarget(TEXTURE_SIDE, TEXTURE_SIDE, {
    generateMipmaps: true,
    minFilter: THREE.LinearMipmapLinearFilter,
    magFilter: THREE.LinearFilter,
    depthBuffer: false,
  });
  private readonly camera = new THREE.OrthographicCamera(-1, 1, 1, -1, -1, 1);
  private readonly fills = new THREE.Mesh(
    new THREE.BufferGeometry(),
    new THREE.MeshBasicMaterial({ vertexColors: true, side: THREE.DoubleSide, depthTest: false, depthWrite: false }),
  );
  private readonly edges = new THREE.LineSegments(
    new THREE.BufferGeometry(),
    new THREE.LineBasicMaterial({ transparent: true, opacity: 0.75, depthTest: false, depthWrite: false }),
  );
  private readonly bakeScene = new THREE.Scene();
  /** The surface's shader shows the texture from the first chunk on (drawn before, the target's allocation would fall in one frame). */
  private shown = false;
  private source: BakeSource = { fills: undefined, triangles: 0, edges: undefined, segments: 0 };
  /** Next triangle, then next segment, to draw; done when both reach their counts. */
  private nextTriangle = 0;
  private nextSegment = 0;
  private cleared = false;
  private active = false;
  /** Chunks drawn since the mipmaps were last rebuilt. */
  private chunksSinceMipmap = 0;
  private readonly empty = new THREE.Scene();

  constructor() {
    for (const object of [this.fills, this.edges]) object.frustumCulled = false;
    this.bakeScene.add(this.fills, this.edges);
  }

  /** The baked texture while it is to be laid on the surface, else undefined. */
  get texture(): THREE.Texture | undefined {
    return this.shown ? this.target.texture : undefined;
  }

  setTheme(theme: ThemeColors): void {
    (this.edges.material as THREE.LineBasicMaterial).color.setRGB(...theme.foreground);
  }

  /** Start baking `source` for the space's surface (undefined: nothing baked, no texture shown). */
  start(space: SceneSpace, source: BakeSource | undefined): void {
    const window = space.surface?.window;
    this.active = source !== undefined && window !== undefined && source.triangles + source.segments > 0;
    this.shown = false;
    document.body.dataset.partitionBake = this.active ? 'baking' : 'off';
    if (!this.active || !source || !window) return;
    this.source = source;
    const [[u0, u1], [v0, v1]] = window;
    const hu = (u1 - u0) / 2;
    const hv = (v1 - v0) / 2;
    this.camera.left = -hu;
    this.camera.right = hu;
    this.camera.bottom = -hv;
    this.camera.top = hv;
    this.camera.updateProjectionMatrix();
    this.nextTriangle = 0;
    this.nextSegment = 0;
    this.cleared = false;
    this.chunksSinceMipmap = 0;
  }

  /** Draw the next chunk into the texture, or rebuild its mipmaps: 'more' while the bake goes on, then 'idle'. */
  step(renderer: THREE.WebGLRenderer): FrameWork {
    if (!this.active) return 'idle';
    const { fills, triangles, edges, segments } = this.source;
    const more = this.nextTriangle < triangles || this.nextSegment < segments;
    if (this.cleared && this.chunksSinceMipmap > 0 && (this.chunksSinceMipmap >= CHUNKS_PER_MIPMAP || !more)) {
      this.rebuildMipmaps(renderer);
      if (!more) {
        this.active = false;
        document.body.dataset.partitionBake = 'done';
      }
      return 'more';
    }
    const drawFills = this.nextTriangle < triangles && fills !== undefined;
    const drawEdges = !drawFills && this.nextSegment < segments && edges !== undefined;
    if (!this.cleared) {
      // A frame of its own: the first clear allocates the 2048² target, and the bake's shaders start compiling (the
      // first chunk's frame then finds them ready instead of waiting on both).
      renderer.setRenderTarget(this.target);
      renderer.setClearColor(0x000000, 0);
      renderer.clear(true, false, false);
      renderer.setRenderTarget(null);
      this.cleared = true;
      // Allocated above with every mip level; from here on they are rebuilt only every few chunks.
      this.target.texture.generateMipmaps = false;
      renderer.compile(this.bakeScene, this.camera);
      return 'more';
    }
    this.shown = true;
    // Each frame draws its chunk from a small geometry of its own: the layers' whole buffers (tens of MB) are never
    // uploaded at once.
    let chunk: THREE.BufferGeometry | undefined;
    if (drawFills && fills) {
      const count = Math.min(TRIANGLES_PER_FRAME, triangles - this.nextTriangle);
      chunk = this.fills.geometry = fillsChunk(fills, this.nextTriangle, count);
      this.nextTriangle += count;
    } else if (drawEdges && edges) {
      const count = Math.min(SEGMENTS_PER_FRAME, segments - this.nextSegment);
      chunk = this.edges.geometry = edgesChunk(edges, this.nextSegment, count);
      this.nextSegment += count;
    }
    this.fills.visible = drawFills;
    this.edges.visible = drawEdges;
    if (chunk) {
      const autoClear = renderer.autoClear;
      renderer.autoClear = false;
      renderer.setRenderTarget(this.target);
      renderer.render(this.bakeScene, this.camera);
      renderer.setRenderTarget(null);
      renderer.autoClear = autoClear;
      chunk.dispose();
      this.chunksSinceMipmap++;
    }
    return 'more';
  }

  /** three builds a target's mipmaps at the end of a render into it: an empty scene's render does only that. */
  private rebuildMipmaps(renderer: THREE.WebGLRenderer): void {
    const autoClear = renderer.autoClear;
    renderer.autoClear = false;
    this.target.texture.generateMipmaps = true;
    renderer.setRenderTarget(this.target);
    renderer.render(this.empty, this.camera);
    renderer.setRenderTarget(null);
    this.target.texture.generateMipmaps = false;
    renderer.autoClear = autoClear;
    this.chunksSinceMipmap = 0;
  }
}

/** Segments [from, from + count) of a line-segment geometry, as a geometry over the same memory. */
function edgesChunk(edges: THREE.BufferGeometry, from: number, count: number): THREE.BufferGeometry {
  const positions = edges.getAttribute('position').array as Float32Array;
  const chunk = new THREE.BufferGeometry();
  chunk.setAttribute('position', new THREE.BufferAttribute(positions.subarray(6 * from, 6 * (from + count)), 3));
  return chunk;
}

/** Triangles [from, from + count) of the fills: the vertex range they use (cells are contiguous) and their index, rebased. */
function fillsChunk(fills: THREE.BufferGeometry, from: number, count: number): THREE.BufferGeometry {
  const index = fills.getIndex()!.array as Uint32Array;
  let first = Infinity;
  let last = -1;
  for (let i = 3 * from; i < 3 * (from + count); i++) {
    first = Math.min(first, index[i]);
    last = Math.max(last, index[i]);
  }
  const rebased = new Uint32Array(3 * count);
  for (let i = 0; i < rebased.length; i++) rebased[i] = index[3 * from + i] - first;
  const positions = fills.getAttribute('position').array as Float32Array;
  const colors = fills.getAttribute('color').array as Uint8Array;
  const chunk = new THREE.BufferGeometry();
  chunk.setAttribute('position', new THREE.BufferAttribute(positions.subarray(3 * first, 3 * (last + 1)), 3));
  chunk.setAttribute('color', new THREE.BufferAttribute(colors.subarray(3 * first, 3 * (last + 1)), 3, true));
  chunk.setIndex(new THREE.BufferAttribute(rebased, 1));
  return chunk;
}
