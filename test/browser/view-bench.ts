// View benchmark (not a test): from partition to first frame, orbit frame times and hover round trips of the real
// webview bundle in headless Chromium, for Figure 1's trained network (~200,000 cells) and a random width-256 depth-3 one.
// Run: npm run bench:view   (SwiftShader renders on the CPU here; a GPU is far faster)
// POLICE_BENCH_GPU=1 asks Chromium for the machine's GPU (ANGLE over Vulkan) instead; the renderer in use is printed.
// POLICE_BENCH_FIG1_RUN=DIR uses that run folder of examples/fig1-moons-classification.police.json; without it the
// bench trains one with the CLI into .police/bench/fig1-run (about a minute) and reuses it afterwards.
// POLICE_BENCH_QUICK=1 skips the random width-256 network.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Page } from 'playwright-core';
import type { FoldedNetwork } from '../../extension/police/network/network';
import { parseNetworkText } from '../../extension/police/io/network-check';
import type { SurfaceRequest, ViewSpec, ViewSurface, ViewWindow } from '../../extension/protocol/messages';
import { SurfaceService } from '../../extension/host/view/surface-service';

const FIG1_SPEC = 'examples/fig1-moons-classification.police.json';

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

/** Figure 1's trained network: from POLICE_BENCH_FIG1_RUN, or trained once by the CLI into .police/bench/fig1-run. */
function fig1Network(): FoldedNetwork {
  const runDir = process.env.POLICE_BENCH_FIG1_RUN ?? join('.police', 'bench', 'fig1-run');
  const file = join(runDir, 'network.json');
  if (!existsSync(file)) {
    console.log(`training ${FIG1_SPEC} with the CLI into ${runDir} (once; about a minute)…`);
    rmSync(runDir, { recursive: true, force: true });
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'extension/cli/main.ts', 'train', FIG1_SPEC, '--out', runDir], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (result.status !== 0) throw new Error(`police train ${FIG1_SPEC} failed (exit ${result.status})`);
  }
  return parseNetworkText(readFileSync(file, 'utf8'), file);
}

interface Case {
  name: string;
  network: FoldedNetwork;
  spec: ViewSpec;
  /** Only warms the worker up (its first job pays the thread's cold start). */
  warmUp?: boolean;
}

/** The playground controls' settings (a run's spec: not editable, so they stay hidden). */
const BENCH_SETTINGS: ViewSpec['settings'] = { lr: 0.001, steps: 1000, rule: 'fixed', width: 64, depth: 3, noise: 0 };

function regressionSpec(name: string, window: ViewWindow, triangle: number[][]): ViewSpec {
  return {
    name,
    inputDim: 2,
    outputUnits: 1,
    domain: window,
    task: 'regression',
    regions: [{ name: 'triangle', vertices: triangle, form: 'vertices', draggable: true }],
    settings: BENCH_SETTINGS,
    editable: false,
  };
}

type Hooks = {
  measureOrbit(n: number, moving: boolean): { frameMs: number; worstFrameMs: number; mainThreadMs: number };
  drawNow(moving?: boolean): number;
};

/** Dispatch a message to the view as VS Code would and draw the next frame at once: the two times, in ms. */
async function deliverAndDraw(page: Page, message: Record<string, unknown>): Promise<{ handleMs: number; drawMs: number }> {
  return page.evaluate((m) => {
    const start = performance.now();
    window.dispatchEvent(new MessageEvent('message', { data: m }));
    const handleMs = performance.now() - start;
    const drawMs = (window as unknown as { policeView: Hooks }).policeView.drawNow();
    return { handleMs, drawMs };
  }, message);
}

/** Switch the colour select as a user would, then draw: the rebuild and the first frame, in ms. */
async function colourAndDraw(page: Page, mode: 'value' | 'cells'): Promise<{ handleMs: number; drawMs: number }> {
  return page.evaluate((value) => {
    const select = document.querySelector('select[aria-label="Colour"]') as HTMLSelectElement;
    // Work the renderer still has queued (the end of a bake) finishes first: a user's click never lands within it.
    (window as unknown as { policeView: Hooks }).policeView.drawNow();
    const start = performance.now();
    select.value = value;
    select.dispatchEvent(new Event('change'));
    const handleMs = performance.now() - start;
    const drawMs = (window as unknown as { policeView: Hooks }).policeView.drawNow();
    return { handleMs, drawMs };
  }, mode);
}

interface Bake {
  bakeMs: number;
  worstGapMs: number;
  frames: number;
  /** The longest main-thread task meanwhile (a layer chunk and the frame's draw calls; the rasterizing is another process's). */
  worstTaskMs: number;
}

/**
 * On a software renderer a large partition is built and baked into a texture over the next frames: how long, the
 * longest gap between two frames, and the longest main-thread task.
 */
async function bakeFrames(page: Page): Promise<Bake | undefined> {
  return page.evaluate(
    () =>
      new Promise<Bake | undefined>((resolve) => {
        const busy = () => document.body.dataset.partitionBake === 'building' || document.body.dataset.partitionBake === 'baking';
        if (!busy()) return resolve(undefined);
        let worstTask = 0;
        const observer = new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) worstTask = Math.max(worstTask, entry.duration);
        });
        observer.observe({ type: 'longtask' });
        const start = performance.now();
        let last = start;
        let worst = 0;
        let frames = 0;
        const tick = (now: number) => {
          worst = Math.max(worst, now - last);
          last = now;
          frames++;
          if (busy()) requestAnimationFrame(tick);
          // The frame after the last chunk: its draw is included.
          else
            requestAnimationFrame((end) => {
              for (const entry of observer.takeRecords()) worstTask = Math.max(worstTask, entry.duration);
              observer.disconnect();
              resolve({ bakeMs: end - start, worstGapMs: Math.max(worst, end - last), frames, worstTaskMs: worstTask });
            });
        };
        requestAnimationFrame(tick);
      }),
  );
}

const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;

async function main(): Promise<void> {
  const fig1 = fig1Network();
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
  const service = new SurfaceService(
    join(dir, 'partition-worker.js'),
    {
      onSurface: (surface) => received?.(surface),
      onData: () => undefined,
      onError: (message) => console.error(message),
    },
    1000,
  );
  let received: ((surface: ViewSurface) => void) | undefined;
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
    await esbuild.build({
      entryPoints: ['extension/host/view/partition-worker.ts'],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: join(dir, 'partition-worker.js'),
      logLevel: 'warning',
    });
    writeFileSync(
      join(dir, 'index.html'),
      `<!DOCTYPE html><html><head><link rel="stylesheet" href="webview.css"><script>window.acquireVsCodeApi = () => ({ postMessage() {}, getState() {}, setState() {} }); window.__name = (f) => f; /* tsx keeps function names in evaluated code */</script></head><body><div id="app"></div><script src="webview.js"></script></body></html>`,
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`file://${join(dir, 'index.html')}`);
    const renderer = await page.evaluate(() => {
      const gl = document.createElement('canvas').getContext('webgl2');
      const info = gl?.getExtension('WEBGL_debug_renderer_info');
      return gl ? String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : 'no WebGL2';
    });
    console.log(`WebGL renderer: ${renderer} (canvas 1280×800 less the side panel, pixel ratio 1)`);

    const job = (request: SurfaceRequest): Promise<{ surface: ViewSurface; ms: number }> =>
      new Promise((resolve) => {
        const started = performance.now();
        received = (surface) => resolve({ surface, ms: performance.now() - started });
        service.requestSurface(request, true);
      });
    const startedAt = performance.now();
    await service.start();
    console.log(`view worker thread started in ${ms(performance.now() - startedAt)} (the panel starts it when it opens)`);

    const square: ViewWindow = [
      [-4, 4],
      [-4, 4],
    ];
    const triangle = [
      [-1.4, -1.4],
      [0, 2],
      [1.4, -1.4],
    ];
    const fig1Triangle = [
      [-0.6, -0.9],
      [0.2, 0.1],
      [0.9, -1.0],
    ];
    const cases: Case[] = [
      {
        name: 'warm-up: random width 64 depth 3',
        network: heNetwork(64, 3, 64),
        spec: regressionSpec('warm-up', square, triangle),
        warmUp: true,
      },
      {
        name: "fig1's trained network (width 256, depth 3, 2 classes)",
        network: fig1,
        spec: {
          name: 'fig1',
          inputDim: 2,
          outputUnits: 2,
          domain: [
            [-2, 2],
            [-1.5, 1.5],
          ],
          task: 'classification',
          regions: [{ name: 'triangle', vertices: fig1Triangle, form: 'vertices', draggable: true }],
          settings: BENCH_SETTINGS,
          editable: false,
        },
      },
      {
        name: 'random width 256 depth 3 (He init, window [-4, 4]²)',
        network: heNetwork(256, 3, 256),
        spec: regressionSpec('random-256', square, triangle),
      },
    ];
    let worstBlock = 0;
    for (const [n, c] of cases.entries()) {
      if (process.env.POLICE_BENCH_QUICK && n === 2) break;
      await page.evaluate((m) => window.postMessage(m, '*'), { type: 'spec', specUri: `file:///bench-${n}`, spec: c.spec } as Record<
        string,
        unknown
      >);
      await page.waitForFunction(() => document.body.dataset.state === 'rendered');
      await colourAndDraw(page, 'value');
      const plane = { origin: [0, 0], e1: [1, 0], e2: [0, 1] };
      const viewWindow = c.spec.domain as ViewWindow;
      const { surface, ms: jobMs } = await job({
        step: n,
        network: c.network,
        plane,
        window: viewWindow,
        resolution: 200,
        regions: c.spec.regions.map((r) => r.vertices),
        classification: c.spec.task === 'classification',
      });
      const bytes = [
        surface.values,
        surface.cellIndex,
        surface.cells.polygonStart,
        surface.cells.vertices,
        surface.cells.planeMaps,
        surface.cells.regionDistances,
        surface.boundary ?? new Float64Array(0),
      ].reduce((sum, a) => sum + a.byteLength, 0);
      const shown = await deliverAndDraw(page, { type: 'surface', surface } as unknown as Record<string, unknown>);
      console.log(
        `${c.name}: ${surface.cellCount} cells (${surface.cells.count} drawn); worker job ${ms(jobMs)} (partition ${ms(surface.partitionMs)}); message ${(bytes / 1e6).toFixed(1)} MB binary${surface.partitionError ? `; ${surface.partitionError}` : ''}`,
      );
      if (c.warmUp) continue;
      const edges = Number(await page.evaluate(() => document.body.dataset.wireSegments ?? 0));
      console.log(
        `  partition → first frame (colour: value, ${edges} edges): ${ms(jobMs + shown.handleMs + shown.drawMs)} = worker ${ms(jobMs)} + view update ${ms(shown.handleMs)} + first draw ${ms(shown.drawMs)} (VS Code's copy to the webview not included)`,
      );
      const edgeBake = await bakeFrames(page);
      if (edgeBake)
        console.log(
          `  edge layer built and baked into a texture over ${edgeBake.frames} frames in ${ms(edgeBake.bakeMs)}, the longest frame ${ms(edgeBake.worstGapMs)} (longest main-thread task ${ms(edgeBake.worstTaskMs)})`,
        );
      const filled = await colourAndDraw(page, 'cells');
      console.log(`  colour: linear regions: rebuild ${ms(filled.handleMs)} + first draw ${ms(filled.drawMs)}`);
      const fillBake = await bakeFrames(page);
      // Read once the fills are built (a large partition's over several frames).
      const fills = Number(await page.evaluate(() => document.body.dataset.filledCells ?? 0));
      if (fillBake)
        console.log(
          `  fills (${fills} cells) and edge layer built and baked into a texture over ${fillBake.frames} frames in ${ms(fillBake.bakeMs)}, the longest frame ${ms(fillBake.worstGapMs)} (longest main-thread task ${ms(fillBake.worstTaskMs)})`,
        );
      else console.log(`  ${fills} cells filled`);
      worstBlock = Math.max(
        worstBlock,
        shown.handleMs,
        shown.drawMs,
        filled.handleMs,
        filled.drawMs,
        edgeBake?.worstGapMs ?? 0,
        fillBake?.worstGapMs ?? 0,
      );
      for (const mode of ['cells', 'value'] as const) {
        if (mode === 'value') {
          await colourAndDraw(page, 'value');
          await bakeFrames(page);
        }
        const orbit = await page.evaluate(() => (window as unknown as { policeView: Hooks }).policeView.measureOrbit(30, true));
        const still = await page.evaluate(() => (window as unknown as { policeView: Hooks }).policeView.measureOrbit(8, false));
        worstBlock = Math.max(worstBlock, orbit.worstFrameMs, still.worstFrameMs);
        console.log(
          `  orbit, colour: ${mode === 'cells' ? 'linear regions' : 'value'}: ${ms(orbit.frameMs)} per frame (${(1000 / orbit.frameMs).toFixed(0)} fps), worst ${ms(orbit.worstFrameMs)}, main thread ${ms(orbit.mainThreadMs)}; at rest (antialiased) ${ms(still.frameMs)}, worst ${ms(still.worstFrameMs)}`,
        );
      }
      // Hover: the worker locates the point and computes its cell's input-space map (webview messaging excluded).
      const times: number[] = [];
      const [[u0, u1], [v0, v1]] = viewWindow;
      for (let i = 0; i < 20; i++) {
        const u = u0 + ((u1 - u0) * ((i * 7919) % 97)) / 97;
        const v = v0 + ((v1 - v0) * ((i * 104729) % 89)) / 89;
        const askedAt = performance.now();
        await service.requestCell(surface.surfaceId, u, v);
        times.push(performance.now() - askedAt);
      }
      console.log(
        `  hover: point location + the cell's map in the worker ${ms(times.reduce((a, b) => a + b, 0) / times.length)} mean, ${ms(Math.max(...times))} worst (20 points)`,
      );
    }
    console.log(`longest the view's main thread was blocked above (a message, a rebuild or one frame): ${ms(worstBlock)}`);
  } finally {
    service.dispose();
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
