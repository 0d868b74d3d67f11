// The POLICE view in the real workbench (its own trusted code-server from run.mjs, so no runs from workbench.test.mjs):
// opened from the palette, drawn with WebGL2, live while a training runs, the run's certificate, and a vertex dragged in
// the view edits the spec in one undoable step. Read through the data-* hooks documented at the top of webview/main.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gotoLine, openFile, openWorkbench, page, runFromPalette, screenshot, test, waitFor, workspace } from './driver.mjs';

// The triangle fixture with more steps: a few seconds of training, long enough to read the loss curve twice meanwhile.
const SPEC_FILE = 'e2e-view.police.json';
const TOTAL_STEPS = 6000;
const fixture = readFileSync(join(workspace, 'e2e-triangle.police.json'), 'utf8');
const viewSpec = fixture
  .replace('"name": "e2e-triangle"', '"name": "e2e-view"')
  .replace('"steps": 200,', `"steps": ${TOTAL_STEPS},`)
  .replace('"snapshot_every": 50', '"snapshot_every": 1000');
for (const edited of ['"name": "e2e-view"', `"steps": ${TOTAL_STEPS},`, '"snapshot_every": 1000']) {
  assert.ok(viewSpec.includes(edited), `e2e-triangle.police.json changed shape, ${edited} not applied: ${fixture}`);
}
writeFileSync(join(workspace, SPEC_FILE), viewSpec);
const TOP_VERTEX = '[0, 0.5]]';
const VERTICES_LINE = viewSpec.split('\n').findIndex((line) => line.includes('"vertices"')) + 1;

openWorkbench({ probe: false });

/** The view's webview frame (webviews are nested iframes): looked up on every read, so a re-created frame is found. */
async function viewFrame() {
  for (const frame of page.frames()) {
    const isView = await frame
      .evaluate(() => document.body?.dataset.webgl !== undefined && Boolean(document.getElementById('app')))
      .catch(() => false);
    if (isView) return frame;
  }
  return undefined;
}

/** document.body.dataset of the view, or {} while it is not there. */
async function viewState() {
  const frame = await viewFrame();
  return (await frame?.evaluate(() => ({ ...document.body.dataset })).catch(() => undefined)) ?? {};
}

/** The spec's `"vertices"` line as the editor shows it. */
async function verticesLine() {
  const text = await page.locator('.monaco-editor .view-lines').first().innerText();
  return (
    text
      .replace(/\u00a0/g, ' ')
      .split('\n')
      .find((line) => line.includes('"vertices"'))
      ?.trim() ?? ''
  );
}

async function focusSpecEditor() {
  await page.locator(`.tab[data-resource-name="${SPEC_FILE}"]`).first().click();
}

test('POLICE: Show view from the palette opens the view, drawn with WebGL2', async () => {
  await openFile(SPEC_FILE);
  await runFromPalette('POLICE: Show view');
  await page.locator('.tab', { hasText: 'POLICE view' }).first().waitFor({ timeout: 30_000 });
  const state = await waitFor(
    'the view to draw the spec',
    async () => {
      const current = await viewState();
      return current.state === 'rendered' ? current : undefined;
    },
    60_000,
  );
  assert.equal(state.webgl, '2', `the view's WebGL: ${state.webgl}`);
  assert.equal(state.certificate, 'none');
  await screenshot('view-open');
});

let firstRead;

test('POLICE: Train grows the loss curve in the view while the training runs', async () => {
  await focusSpecEditor();
  await runFromPalette('POLICE: Train');
  firstRead = await waitFor(
    'loss points in the view during the training',
    async () => {
      const current = await viewState();
      return current.status === 'training' && Number(current.lossPoints) > 0 ? current : undefined;
    },
    90_000,
  );
  const secondRead = await waitFor(
    'the loss curve to grow',
    async () => {
      const current = await viewState();
      return current.status === 'training' && Number(current.lossPoints) > Number(firstRead.lossPoints) ? current : undefined;
    },
    60_000,
  );
  await screenshot('training-loss-curve');
  assert.ok(Number(firstRead.step) < TOTAL_STEPS, `first read at step ${firstRead.step} of ${TOTAL_STEPS}`);
  assert.equal(secondRead.status, 'training', `second read: ${JSON.stringify(secondRead)}`);
  assert.ok(Number(secondRead.step) > Number(firstRead.step), `steps ${firstRead.step} then ${secondRead.step}`);
});

test('when the training is done the view shows the proved certificate and the trained partition', async () => {
  await waitFor('the training to finish', async () => (await viewState()).status === 'done', 240_000);
  // The run's network.json names the step it was kept at; the view must draw that network, not the last snapshot.
  const runsDir = join(workspace, '.police', 'runs', 'e2e-view');
  const runs = readdirSync(runsDir).filter((name) => !name.startsWith('.'));
  assert.equal(runs.length, 1, `runs: ${runs.join(', ')}`);
  const keptStep = String(JSON.parse(readFileSync(join(runsDir, runs[0], 'network.json'), 'utf8')).step);
  const done = await waitFor(
    "the certificate and the run's network in the view",
    async () => {
      const current = await viewState();
      return current.certificate !== 'none' &&
        Number(current.cells) > 0 &&
        current.surfaceStep === keptStep &&
        current.drawnSurfaceStep === keptStep
        ? current
        : undefined;
    },
    60_000,
  );
  assert.equal(done.certificate, 'proved', `view: ${JSON.stringify(done)}`);
  // The picture of the proof: R lies inside one linear region of the trained network's partition.
  assert.equal(done.regionCells, '1', `view: ${JSON.stringify(done)}`);
  assert.equal(done.holdingCells, '1', 'the cell holding R is outlined');
  assert.ok(Number(done.lossPoints) > Number(firstRead.lossPoints), `loss points ${firstRead.lossPoints} then ${done.lossPoints}`);
  await screenshot('certificate-proved');
});

test('hovering the surface shows the cell, its pattern distance to R and, from the worker, its affine map', async () => {
  const frame = await viewFrame();
  assert.ok(frame, 'the view frame is gone');
  // Next to R's first vertex (its marker is on screen by construction) the surface is under the mouse.
  const vertex = await frame.evaluate(() => window.policeView.vertexScreenPosition(0, 0));
  const box = await (await frame.frameElement()).boundingBox();
  assert.ok(vertex && box, `vertex ${JSON.stringify(vertex)}, frame box ${JSON.stringify(box)}`);
  await page.mouse.move(box.x + vertex.x + 12, box.y + vertex.y - 12, { steps: 3 });
  const text = await waitFor(
    "the tooltip to show the cell's affine map",
    async () => {
      const current = await (
        await viewFrame()
      )
        ?.locator('.tooltip')
        .innerText()
        .catch(() => '');
      return current && /y0 = \[/.test(current) ? current : undefined;
    },
    15_000,
  );
  assert.match(text, /linear region #\d+/);
  assert.match(text, /same activation pattern as R|activation-pattern distance to R: \d+/);
  await screenshot('hover-cell-map');
  await page.mouse.move(box.x + 2, box.y + box.height - 2);
});

test('dragging a region vertex in the view edits the spec, and one Undo puts it back', async () => {
  const before = await verticesLine();
  assert.ok(before.includes(TOP_VERTEX), `vertices line before the drag: ${before}`);
  const frame = await viewFrame();
  assert.ok(frame, 'the view frame is gone');
  // Region 0 (R), vertex 2: the triangle's top vertex, in the view's client pixels; the frame box places it on the page.
  const vertex = await frame.evaluate(() => window.policeView.vertexScreenPosition(0, 2));
  const box = await (await frame.frameElement()).boundingBox();
  assert.ok(vertex && box, `vertex ${JSON.stringify(vertex)}, frame box ${JSON.stringify(box)}`);
  const markerAt = async (where) => {
    const now = await (await viewFrame())?.evaluate(() => window.policeView.vertexScreenPosition(0, 2));
    return now && Math.hypot(now.x - where.x, now.y - where.y) < 2;
  };
  await page.mouse.move(box.x + vertex.x, box.y + vertex.y);
  await page.mouse.down();
  await page.mouse.move(box.x + vertex.x + 30, box.y + vertex.y + 20, { steps: 5 });
  await page.mouse.up();
  const dragged = await waitFor(
    'the spec text to change',
    async () => {
      const line = await verticesLine();
      return line !== before ? line : undefined;
    },
    15_000,
  );
  assert.doesNotMatch(dragged, /\[0, 0\.5\]/, `the top vertex did not move: ${dragged}`);
  // Only the dragged vertex moves; the other two stay where they were.
  assert.match(dragged, /\[\[-0\.5, -0\.5\], \[0\.5, -0\.5\], \[-?[\d.]+(e-?\d+)?, -?[\d.]+(e-?\d+)?\]\]/, dragged);
  // Put the cursor at the end of the vertices line, so the editor scrolls to the moved vertex for the screenshots.
  await focusSpecEditor();
  await gotoLine(VERTICES_LINE, 200);
  await screenshot('vertex-dragged');
  await page.keyboard.press('Control+Z');
  await waitFor('one Undo to restore the vertex', async () => (await verticesLine()) === before, 15_000);
  await waitFor('the view to put the marker back where it was', () => markerAt(vertex), 15_000);
  await screenshot('vertex-drag-undone');
});

test("after Developer: Reload Window the view comes back with the run's certificate and partition", async () => {
  // The palette's reload saves the workbench state (the view's saved runDir) first; a bare page reload may not.
  await page.evaluate(() => {
    window.policeE2EBeforeReload = true;
  });
  await runFromPalette('Developer: Reload Window');
  // Only a fresh page counts: the old one still shows the run until it unloads.
  await waitFor('the window to reload', () => page.evaluate(() => !window.policeE2EBeforeReload).catch(() => false), 60_000);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  const restored = await waitFor(
    'the restored view to show the run',
    async () => {
      const current = await viewState();
      return current.certificate === 'proved' && Number(current.cells) > 0 && current.drawnSurfaceStep === current.surfaceStep
        ? current
        : undefined;
    },
    90_000,
  );
  assert.equal(restored.webgl, '2');
  await screenshot('view-after-reload');
});

test("fig1, the paper's first figure: its ~200,000 linear regions drawn, each filled in its own colour, and a hovered cell's map", async () => {
  // Figure 1's network (width 256, depth 3, 800 steps) trains in about a minute: the CLI trains it into the workspace's
  // runs folder (or the view benchmark's cached run is copied), and the view opens that run.
  const runDir = join(workspace, '.police', 'runs', 'fig1-moons-classification', 'e2e-cli');
  const cached = fileURLToPath(new URL('../../.police/bench/fig1-run', import.meta.url));
  if (existsSync(join(cached, 'network.json'))) cpSync(cached, runDir, { recursive: true });
  else {
    const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
    execFileSync(process.execPath, [cli, 'train', join(workspace, 'examples', 'fig1-moons-classification.police.json'), '--out', runDir], {
      stdio: 'ignore',
    });
  }
  // The Runs view lists the new run folder under its spec; selecting it shows the run in the view.
  await runFromPalette('Focus on POLICE Runs View');
  const row = page.locator('.monaco-list-row', { hasText: 'e2e-cli' }).first();
  await waitFor(
    'the fig1 run in the Runs view',
    async () => {
      if (await row.isVisible()) return true;
      await page
        .locator('.monaco-list-row', { hasText: 'fig1-moons-classification' })
        .first()
        .click()
        .catch(() => undefined);
      return false;
    },
    30_000,
  );
  await row.click();
  const shown = await waitFor(
    "fig1's run with its exact partition in the view",
    async () => {
      const current = await viewState();
      return current.certificate === 'proved' && Number(current.cells) > 100_000 && current.drawnSurfaceStep === current.surfaceStep
        ? current
        : undefined;
    },
    240_000,
  );
  const frame = await viewFrame();
  assert.ok(frame, 'the view frame is gone');
  await frame.selectOption('select[aria-label="Colour"]', 'cells');
  await frame.getByText('Top view').click();
  const filled = await waitFor(
    'every linear region filled',
    async () => {
      const current = await viewState();
      return current.filledCells === shown.cells && ['done', 'off'].includes(current.partitionBake) ? current : undefined;
    },
    120_000,
  );
  assert.ok(Number(filled.wireSegments) >= Number(shown.cells), `${filled.wireSegments} edges drawn for ${shown.cells} cells`);
  assert.equal(filled.regionCells, '1', 'the triangle lies inside one linear region');
  await screenshot('fig1-partition-filled');
  // Hover next to the triangle's first vertex: the worker locates the cell and sends its affine map.
  const vertex = await frame.evaluate(() => window.policeView.vertexScreenPosition(0, 0));
  const box = await (await frame.frameElement()).boundingBox();
  assert.ok(vertex && box, `vertex ${JSON.stringify(vertex)}, frame box ${JSON.stringify(box)}`);
  await page.mouse.move(box.x + vertex.x + 25, box.y + vertex.y - 25, { steps: 3 });
  const text = await waitFor(
    "the tooltip to show the hovered cell's affine map",
    async () => {
      const current = await (
        await viewFrame()
      )
        ?.locator('.tooltip')
        .innerText()
        .catch(() => '');
      return current && /y0 = \[/.test(current) ? current : undefined;
    },
    30_000,
  );
  assert.match(text, /linear region #\d+/);
  assert.match(text, /y1 = \[/, 'both class scores have their map');
  assert.ok(Number((await viewState()).hoveredCell) >= 0, 'the hovered cell is outlined');
  await screenshot('fig1-hover-map');
});
