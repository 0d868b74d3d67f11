// The training data: a subsample of the inputs, at their targets (regression) or on the map in their class colour.
import * as THREE from 'three';
import { projectToPlane } from '../../extension/common/view-geometry';
import { classColor, type ThemeColors } from '../colors';
import type { SceneSpace } from './space';

export class PointsLayer {
  private readonly points = new THREE.Points(
    new THREE.BufferGeometry(),
    new THREE.PointsMaterial({ size: 3, sizeAttenuation: false, vertexColors: true }),
  );
  private readonly tmp = new THREE.Vector3();

  constructor(scene: THREE.Scene) {
    scene.add(this.points);
  }

  update(space: SceneSpace, theme: ThemeColors): void {
    const { data, spec, plane } = space;
    if (!data || !spec || !plane || data.count === 0) {
      this.points.visible = false;
      return;
    }
    const positions = new Float32Array(data.count * 3);
    const colors = new Float32Array(data.count * 3);
    const dim = spec.inputDim;
    const outputs = spec.outputUnits;
    const k = space.output();
    const p = this.tmp;
    for (let n = 0; n < data.count; n++) {
      const x = data.inputs.slice(n * dim, (n + 1) * dim);
      if (dim === 3) p.set(...(space.inputToWorld(x) as [number, number, number]));
      else {
        const [u, v] = projectToPlane(plane, x);
        const target = data.labels ? 0 : data.targets[n * outputs + k];
        space.world(u, v, target, p);
        if (data.labels) p.z += 0.008 * space.span;
      }
      positions.set([p.x, p.y, p.z], 3 * n);
      const c = data.labels ? classColor(data.targets[n]) : theme.foreground;
      colors.set(c, 3 * n);
    }
    this.points.geometry.dispose();
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
    geometry.setAttribute('color', new THREE.BufferAttribute(colors, 3));
    this.points.geometry = geometry;
    this.points.visible = true;
  }
}
