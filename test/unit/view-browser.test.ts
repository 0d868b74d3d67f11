// The real webview bundle in headless Chromium (WebGL2 via SwiftShader), driven by the host's messages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Certificate } from '../../extension/police/proof/certificate-types';
import type { HostToWebview, ViewSpec } from '../../extension/protocol/messages';
import { buildSurface } from '../../extension/host/view/surface';
import { cellAt, cellInputMap, partitionPlane, type Partition } from '../../extension/police/partition/partition';
import { randomLeakyNetwork } from '../../extension/police/partition/bench';
import { formatNumber } from '../../webview/text';
import { contentSecurityPolicy } from '../../extension/host/view/html';
import { exactPartition, oneLayerNetwork, type Window2 } from './view-fixtures';

const CHROMIUM = process.env.POLICE_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = join('test-results', 'view');

const network = oneLayerNetwork();
const exactPartitionOf = (window: Window2) => exactPartition(network, window);
/** The partition of the surface on screen, to answer the view's cell-map questions. */
let shownPartition: Partition | undefined;

const triangle = [
  [-1.4, -1.4],
  [0, 2],
  [1.4, -1.4],
];
const viewSpec: ViewSpec = {
  name: 'browser-harness',
  inputDim: 2,
  outputUnits: 1,
  domain: [
    [-4, 4],
    [-4, 4],
  ],
  task: 'regression',
  editable: true,
  settings: { lr: 0.005, steps: 200, rule: 'fixed', width: 16, depth: 2, noise: 0 },
  regions: [{ name: 'triangle', vertices: triangle, form: 'vertices', draggable: true }],
};

const certificate: Certificate = {
  format: 'police-certificate/1',
  spec: 'browser-harness',
  createdAt: '2026-01-01T00:00:00Z',
  weightsSha256: '0'.repeat(64),
  proved: true,
  overlaps: [],
  regions: [
    {
      name: 'triangle',
      status: 'proved',
      vertexCount: 3,
      minMargin: 0.012,
      affineMap: { A: [[1, 2]], b: [0] },
      maxResidual: 1e-15,
      samplesChecked: 64,
      checks: [],
    },
  ],
};

let browser: Browser;
let page: Page;
let dir: string;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set POLICE_CHROMIUM)`);
  dir = mkdtempSync(join(tmpdir(), 'police-view-'));
  await esbuild.build({
    entryPoints: ['webview/main.ts'],
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    outfile: join(dir, 'webview.js'),
    logLevel: 'warning',
  });
  // The fake VS Code API records what the view posts and keeps its state, like the real one.
  writeFileSync(
    join(dir, 'index.html'),
    `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy('file:', 'harness')}">
<link rel="stylesheet" href="webview.css"><link rel="stylesheet" href="theme.css">
<script nonce="harness">window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
window.__posted = []; window.__state = undefined;
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => window.__state, setState: (s) => { window.__state = s; } });</script>
</head><body class="vscode-dark" data-state="loading"><div id="app"></div><script nonce="harness" src="webview.js"></script></body></html>`,
  );
  // VS Code sets its theme variables on the page; here a stylesheet stands in for it (inline styles are not allowed).
  writeFileSync(
    join(dir, 'theme.css'),
    ':root { --vscode-editor-background: #1e1e1e; --vscode-editor-foreground: #d4d4d4; --vscode-focusBorder: #007fd4; }',
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--use-gl=angle'],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`file://${join(dir, 'index.html')}`);
  await page.waitForFunction(() => document.body.dataset.state === 'waiting');
  assert.deepEqual(errors, []);
  mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function post(message: HostToWebview): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), message as unknown as Record<string, unknown>);
}

async function posted(): Promise<{ type: string; [key: string]: unknown }[]> {
  return page.evaluate(() => (window as unknown as { __posted: { type: string }[] }).__posted);
}

test('the view says ready, renders a spec with WebGL2 and asks for the surface on its plane', async () => {
  assert.equal(await page.evaluate(() => document.body.dataset.webgl), '2');
  // This harness renders with SwiftShader: the view must know, to keep antialiasing for frames at rest only.
  assert.equal(await page.evaluate(() => document.body.dataset.rasterizer), 'software');
  await post({ type: 'spec', spec: viewSpec, specUri: 'file:///tmp/harness.police.json' });
  await page.waitForFunction(() => document.body.dataset.state === 'rendered');
  const messages = await posted();
  assert.equal(messages[0].type, 'ready');
  const setPlane = messages.find((m) => m.type === 'setPlane') as unknown as {
    plane: { e1: number[] };
    window: number[][];
    resolution: number;
  };
  assert.ok(setPlane, 'the view asks the host for a surface');
  assert.deepEqual(setPlane.window, [
    [-4, 4],
    [-4, 4],
  ]);
  assert.equal(setPlane.resolution, 200);
  assert.ok(await page.getByText('triangle (drag its vertices)').isVisible());
});

test('training progress grows the loss curve; a surface shows its linear regions; the certificate reads proved', async () => {
  await post({ type: 'trainingStarted', totalSteps: 200, backend: 'wasm' });
  for (let step = 0; step < 40; step++) {
    await post({
      type: 'progress',
      step: step * 5,
      totalSteps: 200,
      loss: 2 * Math.exp(-step / 8) + 0.01,
      logged: { steps: [step * 5], losses: [2 * Math.exp(-step / 8) + 0.01], elapsedMs: [step * 50] },
      health: [{ layer: 0, units: 3, shifted: 2, meanAbsShift: 0.05, maxAbsShift: 0.2, sideFlips: 1 }],
    });
  }
  await page.waitForFunction(() => document.body.dataset.lossPoints === '40');
  const window: Window2 = [
    [-4, 4],
    [-4, 4],
  ];
  const partition = exactPartitionOf(window);
  shownPartition = partition;
  const surface = buildSurface(
    { step: 195, network, plane: { origin: [0, 0], e1: [1, 0], e2: [0, 1] }, window, resolution: 200, regions: [triangle] },
    partition,
    1,
  );
  await post({ type: 'surface', surface });
  await page.waitForFunction((n) => document.body.dataset.cells === String(n), partition.cellCount);
  assert.ok(await page.getByText(`${partition.cellCount} linear regions · step 195`).isVisible());
  assert.ok(await page.getByText('2/3 shifted').isVisible());
  assert.match(await page.getByText('2/3 shifted').innerText(), /1 side flip$/);
  await post({ type: 'certificate', certificate });
  await page.waitForFunction(() => document.body.dataset.certificate === 'proved');
  assert.ok(await page.getByText('affine on every region: proved').isVisible());
  const shot = await page.screenshot({ path: join(SCREENSHOTS, 'view-2d-regression.png') });
  assert.ok(shot.length > 20_000, 'the screenshot has content');
});

/** Distinct colours on the scene's canvas, scaled down to width × height (a drawn scene has many; a blank one few). */
function distinctColours(width: number, height: number): Promise<number> {
  return page.evaluate(
    ([w, h]) => {
      const canvas = document.querySelector('.scene canvas') as HTMLCanvasElement;
      const copy = document.createElement('canvas');
      copy.width = w;
      copy.height = h;
      const ctx = copy.getContext('2d')!;
      ctx.drawImage(canvas, 0, 0, w, h);
      const pixels = ctx.getImageData(0, 0, w, h).data;
      const colours = new Set<number>();
      for (let i = 0; i < pixels.length; i += 4) colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
      return colours.size;
    },
    [width, height],
  );
}

test('the 3-D scene actually draws: the canvas holds many distinct colours', async () => {
  const distinct = await distinctColours(200, 150);
  assert.ok(distinct > 50, `only ${distinct} colours on the canvas`);
});

test('hovering the surface names the cell, its affine map and its pattern distance to the region', async () => {
  await page.getByText('Top view').click();
  const box = (await page.locator('.scene canvas:not(.axes)').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const tooltip = page.locator('.tooltip');
  await tooltip.waitFor({ state: 'visible' });
  assert.match(await tooltip.innerText(), /affine map: computing…|linear region: locating…/);
  // The view asks (a request) which cell holds the hovered point, and its map in input coordinates; reply as the host would.
  const ask = (await posted()).filter((m) => m.type === 'cell').pop() as unknown as
    { messageId: number; surfaceId: number; u: number; v: number } | undefined;
  assert.ok(ask, 'the view asked where the hovered point is');
  assert.equal(typeof ask.messageId, 'number');
  const cell = cellAt(shownPartition!, [ask.u, ask.v]);
  assert.ok(cell >= 0);
  const map = cellInputMap(network, shownPartition!, cell);
  await post({ type: 'cell', inReplyTo: ask.messageId, cell, map });
  await page.waitForFunction(() => /y0 = \[/.test(document.querySelector('.tooltip')?.textContent ?? ''));
  const text = await tooltip.innerText();
  assert.match(text, /linear region #\d+/);
  assert.match(text, /triangle/);
  assert.ok(text.includes(`y0 = [${map.A[0].map(formatNumber).join(', ')}]`), text);
});

test('a hovered point the host cannot locate: only the reply to that request counts, and its failure is said in the tooltip', async () => {
  const viewWindow: Window2 = [
    [-4, 4],
    [-4, 4],
  ];
  // A newer surface of the same grid: the tooltip left open asks again, about this surface.
  const before = (await posted()).length;
  const surface = buildSurface(
    { step: 196, network, plane: { origin: [0, 0], e1: [1, 0], e2: [0, 1] }, window: viewWindow, resolution: 200, regions: [triangle] },
    shownPartition,
    1,
    { surfaceId: 7 },
  );
  await post({ type: 'surface', surface });
  await page.waitForFunction(
    (n) => (window as unknown as { __posted: { type: string }[] }).__posted.slice(n).some((m) => m.type === 'cell'),
    before,
  );
  const ask = (await posted()).filter((m) => m.type === 'cell').pop() as unknown as { messageId: number; surfaceId: number };
  assert.equal(ask.surfaceId, 7);
  // A reply to some other request is not this one's answer.
  await post({ type: 'cell', inReplyTo: ask.messageId + 1000, cell: 0, map: null });
  await post({ type: 'failure', inReplyTo: ask.messageId, message: 'the view worker is not running' });
  await page.waitForFunction(() =>
    /affine map not computed: the view worker is not running/.test(document.querySelector('.tooltip')?.textContent ?? ''),
  );
});

test('a progress read after the training ended does not write over its status line', async () => {
  const statusText = () => page.locator('.status').innerText();
  const progress = (step: number): HostToWebview => ({
    type: 'progress',
    step,
    totalSteps: 200,
    loss: 0.02,
    logged: { steps: [step], losses: [0.02], elapsedMs: [step * 50] },
    health: [{ layer: 0, units: 3, shifted: 2, meanAbsShift: 0.05, maxAbsShift: 0.2, sideFlips: 1 }],
  });
  const nextFrames = () => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  // The last progress and the end of the training arrive within one frame: the status wins.
  await page.evaluate(
    (messages) => {
      for (const m of messages) window.dispatchEvent(new MessageEvent('message', { data: m }));
    },
    [progress(200), { type: 'status', state: 'done', message: 'proved · run r1' }] as unknown as Record<string, unknown>[],
  );
  await nextFrames();
  assert.equal(await statusText(), 'done: proved · run r1');
  // A progress that arrives after the status still updates the chart, not the status line.
  await post(progress(200));
  await nextFrames();
  assert.equal(await statusText(), 'done: proved · run r1');
  assert.equal(await page.evaluate(() => document.body.dataset.status), 'done');
});

test('dragging a region vertex posts one moveVertex with the dropped position', async () => {
  const target = await page.evaluate(() => (window as unknown as { __posted: unknown[] }).__posted.length);
  const found = await page.evaluate(() =>
    (
      window as unknown as { policeView: { vertexScreenPosition(r: number, v: number): { x: number; y: number } | undefined } }
    ).policeView.vertexScreenPosition(0, 1),
  );
  assert.ok(found, 'vertex (0, 2) is on screen');
  await page.mouse.move(found.x, found.y);
  await page.mouse.down();
  await page.mouse.move(found.x + 40, found.y + 10, { steps: 5 });
  await page.mouse.up();
  const messages = (await posted()).slice(target).filter((m) => m.type === 'moveVertex');
  assert.equal(messages.length, 1);
  const move = messages[0] as unknown as { region: number; vertex: number; from: number[]; to: number[]; specUri: string };
  assert.equal(move.region, 0);
  assert.equal(move.vertex, 1);
  assert.deepEqual(move.from, [0, 2]);
  assert.ok(move.to[0] > 0.2, `moved right: ${JSON.stringify(move.to)}`);
  assert.equal(move.specUri, 'file:///tmp/harness.police.json');
});

test("the Gram heat-map draws one layer's filter cosines (red +1, white 0, blue −1) and switches layer", async () => {
  await post({
    type: 'gram',
    step: 200,
    layers: [
      {
        layer: 0,
        units: 3,
        activation: 'leaky_relu',
        metric: 0.2747,
        shown: 3,
        cosine: [
          [1, 0, -1],
          [0, 1, 0],
          [-1, 0, 1],
        ],
      },
      {
        layer: 1,
        units: 2,
        activation: 'linear',
        metric: 0,
        shown: 2,
        cosine: [
          [1, 0],
          [0, 1],
        ],
      },
    ],
  });
  await page.waitForFunction(() => document.body.dataset.gramLayer === '1');
  assert.equal(await page.evaluate(() => document.body.dataset.gramLayers), '2');
  // The centre of cell (row, column) of the 3×3 map, read back from the canvas.
  const cellColour = (row: number, column: number, n: number) =>
    page.evaluate(
      ([r, c, size]) => {
        const canvas = document.querySelector('canvas.gram') as HTMLCanvasElement;
        const x = Math.floor(((c + 0.5) * canvas.width) / size);
        const y = Math.floor(((r + 0.5) * canvas.height) / size);
        return Array.from(canvas.getContext('2d')!.getImageData(x, y, 1, 1).data.slice(0, 3));
      },
      [row, column, n],
    );
  assert.deepEqual(await cellColour(0, 0, 3), [200, 40, 40]);
  assert.deepEqual(await cellColour(0, 1, 3), [255, 255, 255]);
  assert.deepEqual(await cellColour(0, 2, 3), [40, 80, 200]);
  assert.ok(await page.getByText(/layer 1, leaky_relu · ‖WWᵀ − diag‖\/‖WWᵀ‖ = 0\.2747/).isVisible());
  await page.locator('select[aria-label="Layer of the Gram heat-map"]').selectOption('1');
  await page.waitForFunction(() => document.body.dataset.gramLayer === '2');
  assert.deepEqual(await cellColour(1, 0, 2), [255, 255, 255]);
  const saved = await page.evaluate(() => (window as unknown as { __state: Record<string, unknown> }).__state);
  assert.equal(saved.gramLayer, 1);
  await page.locator('.gram-panel').screenshot({ path: join(SCREENSHOTS, 'view-gram.png') });
});

test('nothing the view does is blocked by the webview content security policy', async () => {
  assert.deepEqual(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), []);
});

test('the view keeps its settings and camera with setState (what survives a reload)', async () => {
  await page.locator('input[type=checkbox]').last().uncheck();
  const state = await page.evaluate(() => (window as unknown as { __state: Record<string, unknown> }).__state);
  assert.equal(state.specUri, 'file:///tmp/harness.police.json');
  assert.equal(state.logScale, false);
  assert.ok(Array.isArray((state.camera as { position: number[] }).position));
});

test('a classification spec draws a decision map with the exact decision boundary', async () => {
  const classifier = oneLayerNetwork(
    [
      [0.8, -1.1, 0.6],
      [-0.5, 0.9, 0.4],
    ],
    [0.2, -0.1],
  );
  const window: Window2 = [
    [-4, 4],
    [-4, 4],
  ];
  const partition = exactPartition(classifier, window);
  await post({
    type: 'spec',
    spec: { ...viewSpec, name: 'classifier', task: 'classification', outputUnits: 2 },
    specUri: 'file:///tmp/classifier.police.json',
  });
  const inputs: number[] = [];
  const targets: number[] = [];
  for (let n = 0; n < 200; n++) {
    const x = [-3.5 + (7 * (n % 20)) / 19, -3.5 + (7 * Math.floor(n / 20)) / 9];
    inputs.push(...x);
    targets.push(x[0] + x[1] > 0 ? 1 : 0);
  }
  await post({ type: 'data', inputs, targets, count: 200, labels: true });
  const surface = buildSurface(
    {
      step: 200,
      network: classifier,
      plane: { origin: [0, 0], e1: [1, 0], e2: [0, 1] },
      window,
      resolution: 200,
      regions: [triangle],
      classification: true,
    },
    partition,
    1,
  );
  await post({ type: 'surface', surface });
  await page.waitForFunction(() => Number(document.body.dataset.boundarySegments) > 0);
  assert.equal(await page.evaluate(() => document.body.dataset.dataPoints), '200');
  assert.ok(await page.locator('.legend').getByText('class 1', { exact: true }).isVisible());
  await page.getByText('Top view').click();
  await page.screenshot({ path: join(SCREENSHOTS, 'view-2d-classification.png') });
});

function lastSetPlane(messages: { type: string }[]): { plane: { origin: number[]; e1: number[]; e2: number[] }; window: number[][] } {
  const found = messages.filter((m) => m.type === 'setPlane').pop();
  assert.ok(found, 'a setPlane was posted');
  return found as unknown as { plane: { origin: number[]; e1: number[]; e2: number[] }; window: number[][] };
}

test('3-D inputs: regions are convex-hull meshes and moving the slice asks for the function on the new plane', async () => {
  const simplex = [
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  await post({
    type: 'spec',
    spec: {
      ...viewSpec,
      name: 'three-d',
      inputDim: 3,
      domain: [
        [-2, 2],
        [-2, 2],
        [-2, 2],
      ],
      regions: [{ name: 'simplex', vertices: simplex, form: 'simplex', draggable: false }],
    },
    specUri: 'file:///tmp/three.police.json',
  });
  await page.waitForFunction(() => document.body.dataset.regionHulls === '1');
  assert.deepEqual(lastSetPlane(await posted()).plane, { origin: [0, 0, 0], e1: [1, 0, 0], e2: [0, 1, 0] });
  await page.locator('input[aria-label="Slice position"]').fill('750');
  const moved = lastSetPlane(await posted());
  assert.deepEqual(moved.plane.origin, [0, 0, 1]);
  const net3 = oneLayerNetwork();
  net3.input_dim = 3;
  net3.layers[0] = { ...net3.layers[0], weights: net3.layers[0].weights.map((w) => [...w, 0.8]) };
  const surface = buildSurface(
    { step: 1, network: net3, plane: moved.plane, window: moved.window as Window2, resolution: 100, regions: [simplex] },
    undefined,
    1,
    { partitionError: 'sampled' },
  );
  await post({ type: 'surface', surface });
  await page.waitForFunction(() => document.body.dataset.surfaceStep === '1');
  await page.getByText('Reset view').click();
  await page.screenshot({ path: join(SCREENSHOTS, 'view-3d-slice.png') });
});

test('D > 3: the plane goes through the region centroid along its main directions, or along two chosen axes', async () => {
  const region = [
    [0, 0, 0, 0, 0],
    [2, 0, 0, 0, 0],
    [0, 1, 0, 0, 0],
    [0, 0, 0.5, 0, 0],
    [0, 0, 0, 0.2, 0],
    [0, 0, 0, 0, 0.1],
  ];
  await post({
    type: 'spec',
    spec: {
      ...viewSpec,
      name: 'five-d',
      inputDim: 5,
      domain: Array.from({ length: 5 }, () => [-3, 3] as [number, number]),
      regions: [{ name: 'simplex', vertices: region, form: 'simplex', draggable: false }],
    },
    specUri: 'file:///tmp/five.police.json',
  });
  const principal = lastSetPlane(await posted()).plane;
  const centroid = [0, 1, 2, 3, 4].map((d) => region.reduce((s, x) => s + x[d], 0) / region.length);
  principal.origin.forEach((o, d) => assert.ok(Math.abs(o - centroid[d]) < 1e-12));
  const dot = principal.e1.reduce((s, x, d) => s + x * principal.e2[d], 0);
  assert.ok(Math.abs(dot) < 1e-6 && Math.abs(Math.hypot(...principal.e1) - 1) < 1e-9);
  assert.ok(Math.abs(principal.e1[0]) > 0.9, 'the longest direction of the region comes first');
  await page.locator('select').filter({ hasText: 'plane of two axes' }).selectOption('axes');
  await page.locator('select[aria-label="First axis"]').selectOption('2');
  await page.locator('select[aria-label="Second axis"]').selectOption('4');
  const axes = lastSetPlane(await posted()).plane;
  assert.deepEqual(axes.e1, [0, 0, 1, 0, 0]);
  assert.deepEqual(axes.e2, [0, 0, 0, 0, 1]);
});

test('a partition of 30,000 cells draws every edge and, coloured by linear region, fills every cell in its own colour', async () => {
  // Past BAKE_ABOVE_CELLS on this software renderer: the layers are built over the next frames and baked into a texture.
  const big = randomLeakyNetwork(128, 2, 1);
  const window: Window2 = [
    [-4, 4],
    [-4, 4],
  ];
  const plane = { origin: [0, 0], e1: [1, 0], e2: [0, 1] };
  const partition = partitionPlane(big, plane, window);
  assert.ok(partition.cellCount > 25_000, `${partition.cellCount} cells`);
  await post({ type: 'spec', spec: { ...viewSpec, name: 'big-partition' }, specUri: 'file:///tmp/big.police.json' });
  const surface = buildSurface({ step: 7, network: big, plane, window, resolution: 200, regions: [triangle] }, partition, 1);
  assert.equal(surface.cells.count, partition.cellCount, 'every cell is sent to the view');
  await page.selectOption('select[aria-label="Colour"]', 'cells');
  await post({ type: 'surface', surface });
  await page.waitForFunction(() => document.body.dataset.partitionBake === 'done', undefined, { timeout: 60_000 });
  const hooks = await page.evaluate(() => ({ ...document.body.dataset }));
  assert.equal(hooks.filledCells, String(partition.cellCount));
  // Every boundary once: at least half the polygon edges (interior ones are shared by two cells).
  assert.ok(Number(hooks.wireSegments) >= partition.polygonStart[partition.cellCount] / 2, `${hooks.wireSegments} edges`);
  await page.getByText('Top view').click();
  await page.waitForTimeout(500);
  const distinct = await distinctColours(300, 200);
  assert.ok(distinct > 2000, `only ${distinct} colours: the cells are not filled each in its own colour`);
  await page.screenshot({ path: join(SCREENSHOTS, 'view-30k-cells-filled.png') });
  await page.selectOption('select[aria-label="Colour"]', 'value');
});
