// View benchmark (not a test): message handling and orbit cost of the real webview bundle in headless Chromium.
// Run: node --import tsx test/browser/view-bench.ts   (prints numbers; SwiftShader renders on the CPU, a GPU is far faster)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import type { FoldedNetwork } from '../../extension/police/network';
import { buildSurface } from '../../extension/host/view/surface';
import { partitionOnPlane } from '../../extension/host/view/partition-adapter';

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
    layers.push({ weights: Array.from({ length: width }, () => Array.from({ length: inputs }, () => gauss() * Math.sqrt(2 / inputs))), bias: Array.from({ length: width }, () => 0.1 * gauss()), activation: 'leaky_relu', alpha: 0.01 });
    inputs = width;
  }
  layers.push({ weights: [Array.from({ length: inputs }, () => gauss() / Math.sqrt(inputs))], bias: [0], activation: 'linear' });
  return { format: 'police-network/1', input_dim: 2, output_dim: 1, layers };
}

async function main(): Promise<void> {
const dir = mkdtempSync(join(tmpdir(), 'police-view-bench-'));
const browser = await chromium.launch({
  executablePath: process.env.POLICE_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--use-gl=angle'],
});
try {
  await esbuild.build({ entryPoints: ['webview/main.ts'], bundle: true, platform: 'browser', target: 'es2022', format: 'iife', outfile: join(dir, 'webview.js'), logLevel: 'warning' });
  writeFileSync(join(dir, 'index.html'), `<!DOCTYPE html><html><head><link rel="stylesheet" href="webview.css"><script>window.acquireVsCodeApi = () => ({ postMessage() {}, getState() {}, setState() {} });</script></head><body><div id="app"></div><script src="webview.js"></script></body></html>`);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`file://${join(dir, 'index.html')}`);
  const viewWindow: [[number, number], [number, number]] = [[-4, 4], [-4, 4]];
  const plane = { origin: [0, 0], e1: [1, 0], e2: [0, 1] };
  const triangle = [[-1.4, -1.4], [0, 2], [1.4, -1.4]];
  await page.evaluate((m) => window.postMessage(m, '*'), { type: 'spec', specUri: 'file:///bench', spec: { name: 'bench', inputDim: 2, outputUnits: 1, domain: viewWindow, task: 'regression', regions: [{ name: 'triangle', vertices: triangle, form: 'vertices', draggable: true }] } } as Record<string, unknown>);
  await page.waitForFunction(() => document.body.dataset.state === 'rendered');

  for (const [width, depth] of [[64, 3], [256, 3]]) {
    const network = heNetwork(width, depth, 1);
    const t0 = performance.now();
    const { cells, drawable, error } = partitionOnPlane(network, plane, viewWindow);
    const t1 = performance.now();
    const surface = buildSurface({ step: 1, network, plane, window: viewWindow, resolution: 200, regions: [triangle] }, cells, t1 - t0, error, drawable);
    const t2 = performance.now();
    const json = JSON.stringify({ type: 'surface', surface });
    // Time the view's handling of one surface message on its main thread (parse excluded: VS Code delivers objects).
    const handleMs = await page.evaluate((text) => {
      const message = JSON.parse(text);
      const start = performance.now();
      window.dispatchEvent(new MessageEvent('message', { data: message }));
      return performance.now() - start;
    }, json);
    console.log(`width ${width} depth ${depth}: ${cells.length} cells; partition ${(t1 - t0).toFixed(0)} ms, surface sampling ${(t2 - t1).toFixed(0)} ms (worker thread); message ${(json.length / 1e6).toFixed(1)} MB; view update ${handleMs.toFixed(1)} ms${error ? `; ${error}` : ''}`);
  }

  const progressMs = await page.evaluate(() => {
    const start = performance.now();
    for (let i = 0; i < 1000; i++) {
      window.dispatchEvent(new MessageEvent('message', { data: { type: 'progress', step: i, totalSteps: 1000, loss: 1 / (i + 1), health: [{ layer: 0, units: 64, shifted: 3, meanAbsShift: 0.1, maxAbsShift: 0.3 }] } }));
    }
    return (performance.now() - start) / 1000;
  });
  console.log(`progress message: ${(progressMs * 1000).toFixed(1)} µs each (the chart and health redraw once per frame)`);
  const orbit = await page.evaluate(() => (window as unknown as { policeView: { measureOrbit(n: number): number } }).policeView.measureOrbit(60));
  console.log(`orbit of the 200×200 surface (last network) at 1280×800: ${orbit.toFixed(1)} ms per frame (${(1000 / orbit).toFixed(0)} fps) on SwiftShader (CPU)`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
}

void main();
