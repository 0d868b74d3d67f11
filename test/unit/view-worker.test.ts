// The view's worker thread: exact partition + surface off the host's thread, latest request wins.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { forward, type FoldedNetwork } from '../../extension/police/network/network';
import { validateSpecText } from '../../extension/police/spec/parse';
import type { CellInputMap, SurfaceRequest, ViewShowData, ViewSurface } from '../../extension/protocol/messages';
import { SurfaceService } from '../../extension/host/view/surface-service';
import { NoReplyError } from '../../extension/protocol/channel';
import { gridCoordinate } from '../../extension/host/view/surface';
import { cellPolygonOf, pointInConvexPolygon } from '../../extension/common/view-geometry';

function seededNetwork(width: number, depth: number, seed: number, inputDim = 2): FoldedNetwork {
  let s = seed;
  const random = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const layers: FoldedNetwork['layers'] = [];
  let inputs = inputDim;
  for (let l = 0; l < depth; l++) {
    layers.push({
      weights: Array.from({ length: width }, () => Array.from({ length: inputs }, () => random() * Math.sqrt(6 / inputs))),
      bias: Array.from({ length: width }, () => 0.5 * random()),
      activation: 'leaky_relu',
      alpha: 0.01,
    });
    inputs = width;
  }
  layers.push({ weights: [Array.from({ length: inputs }, () => random())], bias: [0], activation: 'linear' });
  return { format: 'police-network/1', input_dim: inputDim, output_dim: 1, layers };
}

// The worker runs as the production build makes it: one esbuild bundle (node, cjs).
let bundleDir = '';
let workerPath = '';
before(async () => {
  bundleDir = mkdtempSync(join(tmpdir(), 'police-worker-'));
  workerPath = join(bundleDir, 'partition-worker.js');
  await esbuild.build({
    entryPoints: ['extension/host/view/partition-worker.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: workerPath,
    logLevel: 'warning',
  });
});
after(() => rmSync(bundleDir, { recursive: true, force: true }));

function startService(
  onSurface: (s: ViewSurface) => void,
  onData: (d: ViewShowData) => void = () => undefined,
  errors: string[] = [],
): SurfaceService {
  return new SurfaceService(workerPath, { onSurface, onData, onError: (m) => errors.push(m) }, 1000);
}

const plane = { origin: [0, 0], e1: [1, 0], e2: [0, 1] };
const window: [[number, number], [number, number]] = [
  [-2, 2],
  [-2, 2],
];

/** One surface from a fresh worker, then the worker's point location at the given grid points: each point's cell and its map. */
async function surfaceAndLocated(
  network: FoldedNetwork,
  request: Omit<SurfaceRequest, 'network'>,
  gridPoints: number[],
): Promise<{ surface: ViewSurface; located: Map<number, { cell: number; map: CellInputMap }> }> {
  const located = new Map<number, { cell: number; map: CellInputMap }>();
  let surface: ViewSurface | undefined;
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      service.dispose();
      reject(new Error(why));
    };
    const [[u0, u1], [v0, v1]] = request.window;
    const R = request.resolution;
    const at = (g: number): [number, number] => [gridCoordinate(u0, u1, R, g % R), gridCoordinate(v0, v1, R, Math.floor(g / R))];
    const service = new SurfaceService(
      workerPath,
      {
        onSurface: (s) => {
          surface = s;
          Promise.all(
            gridPoints.map(async (g) => {
              const { cell, map } = await service.requestCell(s.surfaceId, ...at(g));
              if (!map || cell < 0) throw new Error(`no cell at grid point ${g} of the surface just sent`);
              located.set(g, { cell, map });
            }),
          ).then(
            () => {
              service.dispose();
              resolve();
            },
            (error: Error) => fail(error.message),
          );
        },
        onData: () => undefined,
        onError: (message) => fail(`worker error: ${message}`),
      },
      1000,
    );
    service.requestSurface({ ...request, network }, true);
  });
  return { surface: surface!, located };
}

test(
  "the worker returns the exact cells, a surface that matches the network, and locates each hovered point's cell with its map in input coordinates",
  { timeout: 60_000 },
  async () => {
    const network = seededNetwork(12, 2, 7);
    const grid = Array.from({ length: 68 }, (_, n) => n * 37);
    const { surface, located } = await surfaceAndLocated(
      network,
      {
        step: 3,
        plane,
        window,
        resolution: 50,
        regions: [
          [
            [-0.1, -0.1],
            [0.1, -0.1],
            [0, 0.1],
          ],
        ],
      },
      grid,
    );
    assert.equal(surface.partitionError, undefined);
    assert.ok(surface.cells.count > 5, `${surface.cells.count} cells`);
    assert.ok(
      surface.values instanceof Float64Array && surface.cells.vertices instanceof Float64Array,
      'the cells cross the thread as typed arrays',
    );
    for (const g of grid) {
      const x = [gridCoordinate(-2, 2, 50, g % 50), gridCoordinate(-2, 2, 50, Math.floor(g / 50))];
      assert.ok(Math.abs(surface.values[g] - forward(network, x)[0]) < 1e-9, `value at ${x}`);
      assert.ok(pointInConvexPolygon(cellPolygonOf(surface.cells, surface.cellIndex[g]), x[0], x[1], 1e-7));
      const { cell, map } = located.get(g)!;
      assert.ok(pointInConvexPolygon(cellPolygonOf(surface.cells, cell), x[0], x[1], 1e-7), `the located cell holds ${x}`);
      const { A, b } = map;
      assert.ok(
        Math.abs(A[0][0] * x[0] + A[0][1] * x[1] + b[0] - forward(network, x)[0]) < 1e-9,
        'the cell map in input coordinates reproduces f',
      );
    }
  },
);

test('on a slice of a 3-D input the cell map is the full input-space map, off-plane slope included', { timeout: 60_000 }, async () => {
  const network = seededNetwork(10, 2, 5, 3);
  const slice = { origin: [0, 0, 0.3], e1: [1, 0, 0], e2: [0, 1, 0] };
  const grid = [1275, 555, 2000];
  const { located } = await surfaceAndLocated(network, { step: 1, plane: slice, window, resolution: 50, regions: [] }, grid);
  for (const g of grid) {
    const x = [gridCoordinate(-2, 2, 50, g % 50), gridCoordinate(-2, 2, 50, Math.floor(g / 50)), 0.3];
    const { A, b } = located.get(g)!.map;
    assert.equal(A[0].length, 3);
    assert.ok(Math.abs(A[0][0] * x[0] + A[0][1] * x[1] + A[0][2] * x[2] + b[0] - forward(network, x)[0]) < 1e-9);
    // A step of 1e-7 off the plane stays in the same linear region: the slope along x2 is A[0][2].
    const up = forward(network, [x[0], x[1], x[2] + 1e-7])[0];
    assert.ok(Math.abs((up - forward(network, x)[0]) / 1e-7 - A[0][2]) < 1e-5, `off-plane slope at ${x}`);
  }
});

test(
  'an ask about the surface on screen is answered after the next surface is made; one two surfaces old gets null',
  { timeout: 60_000 },
  async () => {
    const network = seededNetwork(12, 2, 7);
    const surfaces: ViewSurface[] = [];
    let next: (() => void) | undefined;
    const service = startService((s) => {
      surfaces.push(s);
      next?.();
    });
    const wait = (work: () => void) =>
      new Promise<void>((resolve) => {
        next = resolve;
        work();
      });
    try {
      for (const step of [1, 2, 3])
        await wait(() => service.requestSurface({ step, network, plane, window, resolution: 20, regions: [] }, true));
      const previous = await service.requestCell(surfaces[1].surfaceId, 0.1, 0.2);
      const older = await service.requestCell(surfaces[0].surfaceId, 0.1, 0.2);
      assert.ok(previous.map && previous.map.A[0].length === 2, 'the previous surface is still answered');
      assert.ok(previous.cell >= 0 && pointInConvexPolygon(cellPolygonOf(surfaces[1].cells, previous.cell), 0.1, 0.2, 1e-9));
      assert.deepEqual(older, { cell: -1, map: null }, 'a surface two behind is gone, and the answer says so');
      // Closing the view rejects what is still in flight instead of leaving its promise hanging.
      const inFlight = service.requestCell(surfaces[2].surfaceId, 0.1, 0.2);
      service.dispose();
      await assert.rejects(inFlight, NoReplyError);
    } finally {
      service.dispose();
    }
  },
);

test('requests made while the worker is busy collapse to the newest one', async () => {
  const network = seededNetwork(32, 3, 11);
  const steps: number[] = [];
  await new Promise<void>((resolve) => {
    const service = startService((s) => {
      steps.push(s.step);
      if (s.step === 5) {
        service.dispose();
        resolve();
      }
    });
    for (let step = 1; step <= 5; step++) service.requestSurface({ step, network, plane, window, resolution: 120, regions: [] });
  });
  assert.ok(steps.length < 5, `computed ${steps.join(',')}: stale snapshots were not dropped`);
  assert.equal(steps[steps.length - 1], 5);
});

test(
  'a new plane asked for while a live refresh runs is computed once that job ends, not after a stalled rest',
  { timeout: 30_000 },
  async () => {
    const network = seededNetwork(32, 3, 5);
    const steps: number[] = [];
    await new Promise<void>((resolve) => {
      const service = startService((s) => {
        steps.push(s.step);
        if (s.step === 2) {
          service.dispose();
          resolve();
        }
      });
      // A live refresh starts; the user picks another plane while it runs (an immediate request).
      service.requestSurface({ step: 1, network, plane, window, resolution: 120, regions: [] });
      service.requestSurface({ step: 2, network, plane, window, resolution: 120, regions: [] }, true);
    });
    assert.deepEqual(steps, [1, 2]);
  },
);

test("the worker subsamples the spec's training data for the view", async () => {
  const path = 'test/fixtures/spec/moons.police.json';
  const { spec, problems } = validateSpecText(readFileSync(path, 'utf8'), path);
  assert.ok(spec, JSON.stringify(problems));
  const data = await new Promise<ViewShowData>((resolve) => {
    const service = startService(
      () => undefined,
      (d) => {
        service.dispose();
        resolve(d);
      },
    );
    service.requestData(spec, 300);
  });
  assert.ok(data.count > 0 && data.count <= 300);
  assert.equal(data.labels, spec.data.task === 'classification');
  assert.equal(data.inputs.length, data.count * 2);
});
