// The spec's regions: outlines and fills on the plane (3-D: convex hulls), vertex markers, and the one cell holding each.
import * as THREE from 'three';
import { ConvexGeometry } from 'three/examples/jsm/geometries/ConvexGeometry.js';
import { convexHullIndices, projectToPlane } from '../../extension/common/view-geometry';
import { regionColor } from '../colors';
import { clearGroup, type SceneSpace } from './space';

export class RegionsLayer {
  readonly group = new THREE.Group();

  constructor(scene: THREE.Scene) {
    scene.add(this.group);
  }

  /** The vertex markers a drag can start on. */
  draggableMarkers(): THREE.Object3D[] {
    return this.group.children.filter((o) => o.userData.draggable);
  }

  /** Region r's vertex marker, if drawn. */
  marker(region: number, vertex: number): THREE.Object3D | undefined {
    return this.group.children.find((o) => o.userData.region === region && o.userData.vertex === vertex);
  }

  update(space: SceneSpace): void {
    clearGroup(this.group);
    const spec = space.spec;
    const plane = space.plane;
    if (!spec || !plane) return;
    let hulls = 0;
    let holding = 0;
    spec.regions.forEach((region, r) => {
      const color = new THREE.Color(...regionColor(r));
      if (space.is3d()) {
        const points = region.vertices.map((x) => new THREE.Vector3(...(space.inputToWorld(x) as [number, number, number])));
        if (points.length >= 4) {
          try {
            const hull = new ConvexGeometry(points);
            hulls++;
            this.group.add(
              new THREE.Mesh(hull, new THREE.MeshBasicMaterial({ color, transparent: true, opacity: 0.35, depthWrite: false })),
            );
            this.group.add(new THREE.LineSegments(new THREE.EdgesGeometry(hull), new THREE.LineBasicMaterial({ color })));
          } catch {
            // A flat vertex set has no 3-D hull; its vertices below still show where it is.
          }
        }
        this.addVertexMarkers(space, points, color, r, false);
        return;
      }
      const uv = region.vertices.map((x) => projectToPlane(plane, x));
      const k = space.output();
      const lifted = (i: number) => {
        const values = space.surface?.regionValues[r]?.[i];
        const onSurface = spec.inputDim === 2 && values !== undefined && !space.classification();
        return space.world(uv[i][0], uv[i][1], onSurface ? values[k] : space.zMid, new THREE.Vector3());
      };
      const hullIndices = convexHullIndices(uv);
      const outline = hullIndices.map((i) => lifted(i).add(new THREE.Vector3(0, 0, 0.006 * space.span)));
      if (outline.length >= 2) {
        const geometry = new THREE.BufferGeometry().setFromPoints([...outline, outline[0]]);
        this.group.add(new THREE.Line(geometry, new THREE.LineBasicMaterial({ color, linewidth: 2 })));
        const shape = new THREE.BufferGeometry().setFromPoints(outline);
        const fan: number[] = [];
        for (let i = 1; i + 1 < outline.length; i++) fan.push(0, i, i + 1);
        shape.setIndex(fan);
        this.group.add(
          new THREE.Mesh(
            shape,
            new THREE.MeshBasicMaterial({ color, transparent: true, opacity: 0.25, side: THREE.DoubleSide, depthWrite: false }),
          ),
        );
      }
      this.addVertexMarkers(
        space,
        uv.map((_, i) => lifted(i).add(new THREE.Vector3(0, 0, 0.006 * space.span))),
        color,
        r,
        region.draggable,
      );
      if (this.addHoldingCell(space, r, color)) holding++;
    });
    document.body.dataset.holdingCells = String(holding);
    document.body.dataset.regionHulls = String(hulls);
  }

  /** The one linear region holding region r, outlined dashed in r's colour on the surface: Theorem 1 made visible. */
  private addHoldingCell(space: SceneSpace, r: number, color: THREE.Color): boolean {
    const surface = space.surface;
    const holding = surface?.regionCells[r];
    if (!surface || !holding || holding.cell < 0) return false;
    const { polygon, planeMaps } = holding;
    const k = space.output();
    const points: THREE.Vector3[] = [];
    for (let i = 0; i <= polygon.length / 2; i++) {
      const q = i % (polygon.length / 2);
      const [u, v] = [polygon[2 * q], polygon[2 * q + 1]];
      // Drawn at the height its region's outline has: on the surface for 2-D inputs, at mid height otherwise.
      const value =
        space.classification() || space.spec?.inputDim !== 2
          ? space.zMid
          : planeMaps[3 * k] * u + planeMaps[3 * k + 1] * v + planeMaps[3 * k + 2];
      points.push(space.world(u, v, value, new THREE.Vector3()).add(new THREE.Vector3(0, 0, 0.005 * space.span)));
    }
    const line = new THREE.Line(
      new THREE.BufferGeometry().setFromPoints(points),
      new THREE.LineDashedMaterial({ color, dashSize: 0.02 * space.span, gapSize: 0.012 * space.span }),
    );
    line.computeLineDistances();
    line.userData = { holdingCell: r };
    this.group.add(line);
    return true;
  }

  private addVertexMarkers(space: SceneSpace, points: THREE.Vector3[], color: THREE.Color, region: number, draggable: boolean): void {
    const radius = (draggable ? 0.014 : 0.008) * space.span;
    const geometry = new THREE.SphereGeometry(radius, 12, 8);
    const material = new THREE.MeshBasicMaterial({ color });
    points.forEach((point, vertex) => {
      const marker = new THREE.Mesh(geometry, material);
      marker.position.copy(point);
      marker.userData = { region, vertex, draggable };
      this.group.add(marker);
    });
  }
}

/** Domain outline (2-D: the window's rectangle at the floor; 3-D: the domain box). */
export class FrameLayer {
  private readonly group = new THREE.Group();

  constructor(scene: THREE.Scene) {
    scene.add(this.group);
  }

  update(space: SceneSpace, gridColor: [number, number, number]): void {
    clearGroup(this.group);
    if (!space.spec || !space.window) return;
    const material = new THREE.LineBasicMaterial({ color: new THREE.Color(...gridColor) });
    if (space.is3d()) {
      const size = space.spec.domain.map(([lo, hi]) => hi - lo);
      const box = new THREE.LineSegments(new THREE.EdgesGeometry(new THREE.BoxGeometry(size[0], size[1], size[2])), material);
      this.group.add(box);
      return;
    }
    const [[u0, u1], [v0, v1]] = space.window;
    const floor = space.floorHeight();
    const hu = (u1 - u0) / 2;
    const hv = (v1 - v0) / 2;
    const corners = [-hu, -hv, hu, -hv, hu, hv, -hu, hv, -hu, -hv].flatMap((c, i) => (i % 2 === 1 ? [c, floor] : [c]));
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.Float32BufferAttribute(corners, 3));
    this.group.add(new THREE.Line(geometry, material));
  }
}
