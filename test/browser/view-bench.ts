// View benchmark (not a test): message handling and orbit cost of the real webview bundle in headless Chromium.
// Run: node --import tsx test/browser/view-bench.ts   (prints numbers; SwiftShader renders on the CPU, a GPU is far faster)
// POLICE_BENCH_GPU=1 asks Chromium for the machine's GPU (ANGLE over Vulkan, or EGL) instead; the renderer in use is printed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import type { FoldedNetwork } from '../../extension/police/network/network';
import type { SurfaceRequest, ViewSurface } from '../../extension/protocol/messages';
import { SurfaceService } from '../../extension/host/view/surface-service';

function heNetwork(width: number, depth: number, seed: number): FoldedNetwork {
  let s = seed;
  const gauss = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    const a = s / 2 ** 32;
    s = (s * 1664525 + 1013904223) >>> 0;
    return Math.sqrt(-2 * Math.log(a + 1e-12)) * Math.cos(2 * Math.PI * (s / 2 ** 32));
  };
  const layers: FoldedNetwork['layers'] = [];
  let inputs = 2;
  for (let l = 0; l < depth; l++) {
    layers.push({
      weights: Array.from({ length: width }, () => Array.from({ length: inputs }, () => gauss() * Math.sqrt(2 / inputs))),
      bias: Array.from({ length: width }, () => 0.1 * gauss()),
      activation: 'leaky_relu',
      alpha: 0.01,
    });
    inputs = width;
  }
  layers.push({ weights: [Array.from({ length: inputs }, () => gauss() / Math.sqrt(inputs))], bias: [0], activation: 'linear' });
  return { format: 'police-network/1', input_dim: 2, output_dim: 1, layers };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'police-view-bench-'));
  const browser = await chromium.launch({
    executablePath: process.env.POLICE_CHROMIUM ?? '/usr/bin/chromium',
    args: process.env.POLICE_BENCH_GPU
      ? [
          '--no-sandbox',
          '--disable-dev-shm-usage',
          '--ignore-gpu-blocklist',
          '--enable-gpu',
          '--use-angle=vulkan',
          '--enable-features=Vulkan',
        ]
      : ['--no-sandbox', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--use-gl=angle'],
  });
  try {
    await esbuild.build({
      entryPoints: ['webview/main.ts'],
      bundle: true,
      platform: 'browser',
      target: 'es2022',
      format: 'iife',
      outfile: join(dir, 'webview.js'),
      logLevel: 'warning',
    });
    // The view's worker as the production build makes it, so the first job pays its real cold start.
    const workerPath = join(dir, 'partition-worker.js');
    await esbuild.build({
      entryPoints: ['extension/host/view/partition-worker.ts'],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: workerPath,
      logLevel: 'warning',
    });
    writeFileSync(
      join(dir, 'index.html'),
      `<!DOCTYPE html><html><head><link rel="stylesheet" href="webview.css"><script>window.acquireVsCodeApi = () => ({ postMessage() {}, getState() {}, setState() {} });</script></head><body><div id="app"></div><script src="webview.js"></script></body></html>`,
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`file://${join(dir, 'index.html')}`);
    const renderer = await page.evaluate(() => {
      const gl = document.createElement('canvas').getContext('webgl2');
      const info = gl?.getExtension('WEBGL_debug_renderer_info');
      return gl ? String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : 'no WebGL2';
    });
    console.log(`WebGL renderer: ${renderer}`);
    const viewWindow: [[number, number], [number, number]] = [
      [-4, 4],
      [-4, 4],
    ];
    const plane = { origin: [0, 0], e1: [1, 0], e2: [0, 1] };
    const triangle = [
      [-1.4, -1.4],
      [0, 2],
      [1.4, -1.4],
    ];
    await page.evaluate((m) => window.postMessage(m, '*'), {
      type: 'spec',
      specUri: 'file:///bench',
      spec: {
        name: 'bench',
        inputDim: 2,
        outputUnits: 1,
        domain: viewWindow,
        task: 'regression',
        regions: [{ name: 'triangle', vertices: triangle, form: 'vertices', draggable: true }],
      },
    } as Record<string, unknown>);
    await page.waitForFunction(() => document.body.dataset.state === 'rendered');

    // One worker for the whole run, as one view panel has: the first job is cold, the next ones warm.
    let received: ((surface: ViewSurface) => void) | undefined;
    const service = new SurfaceService(
      workerPath,
      {
        onSurface: (surface) => received?.(surface),
        onData: () => undefined,
        onError: (message) => console.error(message),
      },
      1000,
    );
    const job = (request: SurfaceRequest): Promise<{ surface: ViewSurface; ms: number }> =>
      new Promise((resolve) => {
        const started = performance.now();
        received = (surface) => resolve({ surface, ms: performance.now() - started });
        service.requestSurface(request, true);
      });
    try {
      const startedAt = performance.now();
      await service.start();
      console.log(
        `view worker thread started in ${(performance.now() - startedAt).toFixed(0)} ms (the panel starts it when it opens, before the view asks for a surface)`,
      );
      const jobs = [
        [64, 3],
        [64, 3],
        [64, 3],
        [256, 3],
        [256, 3],
      ];
      for (const [i, [width, depth]] of jobs.entries()) {
        const network = heNetwork(width, depth, width);
        const { surface, ms } = await job({ step: width, network, plane, window: viewWindow, resolution: 200, regions: [triangle] });
        const bytes = [
          surface.values,
          surface.cellIndex,
          surface.cells.polygonStart,
          surface.cells.vertices,
          surface.cells.planeMaps,
          surface.cells.regionDistances,
        ].reduce((sum, a) => sum + a.byteLength, 0);
        // Time the view's handling of one surface message on its main thread (typed arrays arrive as VS Code delivers them).
        const handleMs = await page.evaluate(
          (message) => {
            const start = performance.now();
            window.dispatchEvent(new MessageEvent('message', { data: message }));
            return performance.now() - start;
          },
          { type: 'surface', surface } as unknown as Record<string, unknown>,
        );
        // A hover asks the worker for its cell's map in input coordinates: the round trip, webview messaging excluded.
        const askedAt = performance.now();
        if (surface.cells.count > 0) await service.requestCell(surface.surfaceId, 0.1, 0.2);
        const cellMapMs = surface.cells.count > 0 ? `; a hovered cell's map ${(performance.now() - askedAt).toFixed(1)} ms` : '';
        console.log(
          `width ${width} depth ${depth}: ${surface.cellCount} cells; worker job ${ms.toFixed(0)} ms (partition ${surface.partitionMs.toFixed(0)} ms, rest surface, cells and the copy to the host); message ${(bytes / 1e6).toFixed(1)} MB binary; view update ${handleMs.toFixed(1)} ms${cellMapMs}${surface.partitionError ? `; ${surface.partitionError}` : ''}`,
        );
        if (jobs[i + 1]?.[0] === width) continue;
        // Orbit each width's surface: with its cells sent (width 64) the wireframe draws every cell edge; without (width 256) it is empty.
        type Orbit = { frameMs: number; mainThreadMs: number };
        const measure = (moving: boolean) =>
          page.evaluate(
            (m) =>
              (window as unknown as { policeView: { measureOrbit(n: number, moving: boolean): Orbit } }).policeView.measureOrbit(30, m),
            moving,
          );
        const orbit = await measure(true);
        const still = await measure(false);
        const lines = Number(await page.evaluate(() => document.body.dataset.wireSegments ?? 0));
        console.log(
          `  orbit of its 200×200 surface${lines > 0 ? ` and ${lines} wireframe edges` : ', no wireframe'} at 1280×800: ${orbit.frameMs.toFixed(1)} ms per frame (${(1000 / orbit.frameMs).toFixed(0)} fps); main thread ${orbit.mainThreadMs.toFixed(2)} ms per frame (the 60 fps budget is 16.7 ms; the rest is rasterizing, a GPU's work)`,
        );
        console.log(`  the same frames drawn at rest: ${still.frameMs.toFixed(1)} ms (on a software renderer only these are antialiased)`);
      }
    } finally {
      service.dispose();
    }

    const progressMs = await page.evaluate(() => {
      const start = performance.now();
      for (let i = 0; i < 1000; i++) {
        window.dispatchEvent(
          new MessageEvent('message', {
            data: {
              type: 'progress',
              step: i,
              totalSteps: 1000,
              loss: 1 / (i + 1),
              health: [{ layer: 0, units: 64, shifted: 3, meanAbsShift: 0.1, maxAbsShift: 0.3, sideFlips: 0 }],
            },
          }),
        );
      }
      return (performance.now() - start) / 1000;
    });
    console.log(`progress message: ${(progressMs * 1000).toFixed(1)} µs each (the chart and health redraw once per frame)`);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
