// The POLICE view in the real workbench (its own trusted code-server from run.mjs, so no runs from workbench.test.mjs):
// opened from the palette, drawn with WebGL2, live while a training runs, the run's certificate, and a vertex dragged in
// the view edits the spec in one undoable step. Read through the data-* hooks documented at the top of webview/main.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gotoLine, openFile, openWorkbench, page, runFromPalette, screenshot, statusBarText, test, waitFor, workspace } from './driver.mjs';

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
  // A 2-D spec opens top-down: R's bottom edge, [-0.5, -0.5] to [0.5, -0.5], is level on screen and below its top vertex.
  const frame = await viewFrame();
  const [a, b, top] = await frame.evaluate(() => [0, 1, 2].map((k) => window.policeView.vertexScreenPosition(0, k)));
  assert.ok(Math.abs(a.y - b.y) < 2 && top.y < a.y - 20, `R on screen: ${JSON.stringify([a, b, top])}`);
  // The window fills most of the canvas, with ticks and axis names along its edges; the legend sits above the map.
  await waitFor('axis ticks', async () => Number((await viewState()).axisTicks) >= 6, 15_000);
  const canvasBox = await frame.locator('.scene canvas:not(.axes)').boundingBox();
  const legendBox = await frame.locator('.legend').boundingBox();
  assert.ok(
    legendBox.y + legendBox.height <= canvasBox.y + 1,
    `legend ${JSON.stringify(legendBox)} over the map ${JSON.stringify(canvasBox)}`,
  );
  assert.ok(Math.abs(b.x - a.x) > 0.25 * canvasBox.width * 0.5, `R spans ${b.x - a.x} px of a ${canvasBox.width} px canvas`);
  await screenshot('view-open');
});

let firstRead;

test("the view's Train button trains the spec and grows the loss curve while the training runs", async () => {
  await (await viewFrame()).locator('.control-buttons button', { hasText: 'Train' }).click();
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
  // The kept network may be an earlier step than the last (the best of the final fifth): the legend and status say which.
  const record = JSON.parse(readFileSync(join(runsDir, runs[0], 'summary.json'), 'utf8'));
  assert.equal(String(record.keptStep), keptStep);
  const frame = await viewFrame();
  const stepWords =
    record.keptStep === record.stepsDone ? `step ${record.stepsDone}` : `kept step ${record.keptStep} of ${record.stepsDone}`;
  await waitFor(`the legend to say "${stepWords}"`, async () => (await frame.locator('.legend').innerText()).includes(stepWords), 15_000);
  const status = await frame.locator('.status').innerText();
  const keptWords = record.keptStep === record.stepsDone ? '' : ` · ${stepWords}`;
  assert.match(status, new RegExp(`^done: proved · full-data loss [\\d.e-]+${keptWords} · run \\.police/runs/e2e-view/`), status);
  liveLossLabel = await frame.evaluate(() => document.querySelector('canvas.loss-chart').dataset.label);
  // Value mode: a colour bar says what the colours mean.
  assert.equal((await viewState()).colorbar, 'true');
  assert.match(liveLossLabel, new RegExp(`^batch loss [\\d.e-]+ · smoothed [\\d.e-]+ at step ${TOTAL_STEPS}$`), liveLossLabel);
  await screenshot('certificate-proved');
});

/** The loss chart's label when the training ended live; the reopened run must read the same. */
let liveLossLabel;

/** Moves the mouse `offset` px up-right of region 0's first vertex, waits for the tooltip to carry the cell's map: its text, and the frame's box. */
async function hoverNearFirstVertex(frame, offset, what, timeoutMs) {
  const vertex = await frame.evaluate(() => window.policeView.vertexScreenPosition(0, 0));
  const box = await (await frame.frameElement()).boundingBox();
  assert.ok(vertex && box, `vertex ${JSON.stringify(vertex)}, frame box ${JSON.stringify(box)}`);
  await page.mouse.move(box.x + vertex.x + offset, box.y + vertex.y - offset, { steps: 3 });
  const text = await waitFor(
    what,
    async () => {
      const current = await (
        await viewFrame()
      )
        ?.locator('.tooltip')
        .innerText()
        .catch(() => '');
      return current && /y0 = \[/.test(current) ? current : undefined;
    },
    timeoutMs,
  );
  return { text, box };
}

test('hovering the surface shows the cell, its pattern distance to R and, from the worker, its affine map', async () => {
  const frame = await viewFrame();
  assert.ok(frame, 'the view frame is gone');
  // Next to R's first vertex (its marker is on screen by construction) the surface is under the mouse.
  const { text, box } = await hoverNearFirstVertex(frame, 12, "the tooltip to show the cell's affine map", 15_000);
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
  // The certificate proves the old triangle: until a training proves the new one it must read as stale, not proved.
  await waitFor('the certificate to read as stale', async () => (await viewState()).certificate === 'stale', 15_000);
  assert.match(await (await viewFrame()).locator('.certificate').innerText(), /stale: proved for the regions before your edit/);
  // Put the cursor at the end of the vertices line, so the editor scrolls to the moved vertex for the screenshots.
  await focusSpecEditor();
  await gotoLine(VERTICES_LINE, 200);
  await screenshot('vertex-dragged-certificate-stale');
  await page.keyboard.press('Control+Z');
  await waitFor('one Undo to restore the vertex', async () => (await verticesLine()) === before, 15_000);
  await waitFor('the view to put the marker back where it was', () => markerAt(vertex), 15_000);
  await waitFor(
    'the certificate to read proved again for the restored region',
    async () => (await viewState()).certificate === 'proved',
    15_000,
  );
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
  const frame = await viewFrame();
  // The finished run's constraint health comes from its metrics, not "no training yet".
  assert.match(await frame.locator('.health').innerText(), /layer 0[\s\S]*shifted/);
  // The same loss curve as live, so the same smoothed loss.
  await waitFor(
    'the reopened loss chart to read as it did live',
    () => frame.evaluate(() => document.querySelector('canvas.loss-chart').dataset.label),
    15_000,
  );
  assert.equal(await frame.evaluate(() => document.querySelector('canvas.loss-chart').dataset.label), liveLossLabel);
  await screenshot('view-after-reload');
});

test("showing another spec leaves nothing of the previous spec's training in the status line, even when the view is re-shown", async () => {
  // Open the other spec in the view's own group: the view is hidden, and showing it again replays its state.
  await page.locator('.tab', { hasText: 'POLICE view' }).first().click();
  // Not openFile(): it clicks into the first group's editor, and the spec shown must be the one in the view's group.
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'e2e-triangle.police.json' }).first().dblclick();
  await page.locator('.tab[data-resource-name="e2e-triangle.police.json"]').waitFor({ timeout: 15_000 });
  await runFromPalette('POLICE: Show view');
  const state = await waitFor(
    'the view to show e2e-triangle',
    async () => {
      const frame = await viewFrame();
      const title = await frame
        ?.locator('.toolbar .title')
        .innerText()
        .catch(() => '');
      return title === 'e2e-triangle' ? viewState() : undefined;
    },
    60_000,
  );
  const status = await (await viewFrame()).locator('.status').innerText();
  assert.equal(state.status, 'idle', `status: ${status}`);
  assert.doesNotMatch(status, /done|loss|proved/, status);
  assert.equal(state.certificate, 'none');
  assert.equal(await (await viewFrame()).locator('.health').innerText(), 'no training yet');
  await screenshot('other-spec-status-idle');
});

test("the view's controls edit the spec (one Undo each), and its Train and Stop buttons train and stop it", async () => {
  const frame = await viewFrame();
  assert.ok(frame, 'the view frame is gone');
  const steps = frame.locator('.controls input[aria-label="steps"]');
  assert.equal(await steps.inputValue(), '200');
  await steps.fill('100000');
  await steps.press('Enter');
  // The host writes the spec and sends it back: the control shows what the spec now says.
  await waitFor(
    'the spec to say 100000 steps',
    async () => (await (await viewFrame()).locator('.controls input[aria-label="steps"]').inputValue()) === '100000',
    15_000,
  );
  await screenshot('controls-steps-edited');
  await (await viewFrame()).locator('.control-buttons button', { hasText: 'Train' }).click();
  // The edited, unsaved spec is the one that trains.
  await waitFor(
    'the training of 100000 steps',
    async () => /POLICE e2e-triangle step [1-9]\d*\/100000/.test(await statusBarText()),
    60_000,
  );
  await waitFor(
    'the Stop button to be enabled',
    () => viewFrame().then((f) => f.locator('.control-buttons button', { hasText: 'Stop' }).isEnabled()),
    15_000,
  );
  await screenshot('controls-training');
  await (await viewFrame()).locator('.control-buttons button', { hasText: 'Stop' }).click();
  await waitFor('the stop to show', async () => /e2e-triangle: stopped/.test(await statusBarText()), 15_000);
  assert.equal((await viewState()).status, 'stopped');
  // One Undo in the spec's editor puts the steps back.
  await page.locator('.tab[data-resource-name="e2e-triangle.police.json"]').first().click();
  const editor = page.locator('.editor-group-container.active .monaco-editor');
  await editor.locator('.view-line').first().click();
  await page.keyboard.press('Control+Z');
  await waitFor(
    'one Undo to restore "steps": 200',
    async () => /"steps": 200,/.test((await editor.locator('.view-lines').first().innerText()).replace(/\u00a0/g, ' ')),
    15_000,
  );
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
  // Rows of the Runs view only: the Explorer's fig1-moons-classification.police.json row would open the spec instead.
  const runsPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'POLICE Runs' }) });
  const specRow = runsPane.locator('.monaco-list-row', { hasText: 'fig1-moons-classification' }).first();
  const row = runsPane.locator('.monaco-list-row', { hasText: 'e2e-cli' }).first();
  await waitFor(
    'the fig1 run in the Runs view',
    async () => {
      if (await row.isVisible()) return true;
      const expanded = await specRow.getAttribute('aria-expanded', { timeout: 1000 }).catch(() => null);
      if (expanded === null) {
        // Not listed yet: the view's Refresh action (shown while the header is hovered), as after any run written
        // outside the editor (the file watcher may be slower).
        const header = runsPane.locator('.pane-header').first();
        await header.hover({ timeout: 2000 }).catch(() => undefined);
        await header
          .locator('.action-label[aria-label*="Refresh runs"]')
          .first()
          .click({ timeout: 2000 })
          .catch(() => undefined);
      } else if (expanded === 'false') {
        // Expand the spec's row when it is folded; clicking it on every poll would fold it again.
        await specRow.click({ timeout: 2000 }).catch(() => undefined);
      }
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
  const { text } = await hoverNearFirstVertex(frame, 25, "the tooltip to show the hovered cell's affine map", 30_000);
  assert.match(text, /linear region #\d+/);
  assert.match(text, /y1 = \[/, 'both class scores have their map');
  assert.ok(Number((await viewState()).hoveredCell) >= 0, 'the hovered cell is outlined');
  await screenshot('fig1-hover-map');
});
