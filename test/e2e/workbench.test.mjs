// The e2e suite, as a person uses the extension in a real workbench (code-server + Chromium, started by run.mjs).
// UI steps go through Playwright; assertions about the VS Code API run in the extension host (suite/checks.ts via the probe).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  check,
  extensionsDir,
  gotoLine,
  openFile,
  openWorkbench,
  page,
  recordStatusBar,
  revertEditor,
  runFromPalette,
  screenshot,
  statusBarText,
  stopRecordingStatusBar,
  test,
  waitFor,
  workspace,
} from './driver.mjs';

const runsRoot = join(workspace, '.police', 'runs');
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tinySpec = join(workspace, 'e2e-triangle.police.json');

openWorkbench({ probe: true });

function hashTree(dir) {
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    hash.update(name);
    hash.update(statSync(path).isDirectory() ? hashTree(path) : readFileSync(path));
  }
  return hash.digest('hex');
}

/** Pids of the trainer processes forked by the extension under test (their script lives in our extensions dir). */
function trainerPids() {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(extensionsDir) && cmdline.includes('trainer.js')) pids.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

function assertOnlyWholeRuns() {
  for (const specName of readdirSync(runsRoot)) {
    for (const name of readdirSync(join(runsRoot, specName))) {
      const dir = join(runsRoot, specName, name);
      assert.ok(
        existsSync(join(dir, 'network.json')) && existsSync(join(dir, 'certificate.json')),
        `${specName}/${name} is not a whole run: ${readdirSync(dir).join(', ')}`,
      );
    }
  }
}

/** Finished runs only: a writer's `.<run>.tmp-<pid>` folder holds a certificate just before it is renamed into place. */
function runFolders(specName) {
  const dir = join(runsRoot, specName);
  return existsSync(dir) ? readdirSync(dir).filter((name) => !name.startsWith('.')) : [];
}

test('the extension activates and registers every POLICE command', async () => {
  const { commands } = await check('extensionActivates');
  assert.ok(commands.includes('police.train'));
});

test('an example spec opens as a POLICE spec', async () => {
  await openFile('e2e-triangle.police.json');
  await check('specOpensAsPoliceJson', { path: tinySpec });
  await check('noErrors', { path: tinySpec });
  await page.locator('.codelens-decoration', { hasText: 'Train' }).first().waitFor({ timeout: 30_000 });
  await screenshot('spec-open');
});

test('schema completion offers a field, hover shows its documentation', async () => {
  // Line 14 is `  "police": { "enabled": true }`: type a new key after `true` and ask for suggestions.
  await gotoLine(14, 30);
  await page.keyboard.type(', ');
  // The JSON language server starts and loads the schema on first use: the API check waits for it to answer.
  const { labels } = await check('completionOffers', { path: tinySpec, line: 13, character: 31, label: 'rule' });
  // Inside "police": {} only its own keys: no spec, region or layer snippets.
  assert.deepEqual(
    labels.filter((label) => !['enabled', 'rule', 'margin'].includes(label)),
    [],
    `completion inside "police": ${labels.join(', ')}`,
  );
  const suggestion = page.locator('.suggest-widget .monaco-list-row', { hasText: 'rule' }).first();
  await waitFor(
    'the suggest widget to offer "rule"',
    async () => {
      await page.keyboard.press('Control+Space');
      return suggestion.waitFor({ state: 'visible', timeout: 5000 }).then(
        () => true,
        () => undefined,
      );
    },
    30_000,
  );
  await screenshot('completion');
  await revertEditor();
  await check('noErrors', { path: tinySpec });
  await check('hoverShows', { path: tinySpec, line: 2, character: 4, text: 'runs are stored' });
});

test('an error shows as a squiggle and a Problems entry with the right range', async () => {
  await revertEditor();
  // Give the triangle's last vertex a third coordinate: a dimension mismatch with input.dim = 2.
  await gotoLine(10, 67);
  await page.keyboard.type(', 1');
  const { diagnostics } = await check('diagnosticAt', {
    path: tinySpec,
    message: 'dim',
    range: [9, 59, 9, 70],
    severity: 'error',
  });
  assert.ok(diagnostics.some((d) => d.source === 'police'));
  await page.locator('.squiggly-error').first().waitFor({ state: 'attached', timeout: 15_000 });
  await runFromPalette('View: Focus Problems');
  const entry = page.locator('.markers-panel .monaco-list-row', { hasText: /dim/i }).first();
  await entry.waitFor({ state: 'visible', timeout: 15_000 });
  const text = await entry.innerText();
  assert.match(text, /\[Ln 10, Col 60\]/, `Problems entry: ${text}`);
  await screenshot('error-squiggle-and-problems');
  // Back to the file on disk, so the spec trains from a clean file.
  await page.locator('.monaco-editor .view-lines').first().click();
  await revertEditor();
  await check('noErrors', { path: tinySpec });
});

test('schema errors show as errors, once each, like our own checks', async () => {
  await revertEditor();
  // Line 13 is the training block: "steps": 200 becomes -200, below the schema's minimum of 1.
  await gotoLine(13, 26);
  await page.keyboard.type('-');
  // Line 6: the first "leaky_relu" loses its second l.
  await gotoLine(6, 54);
  await page.keyboard.press('Delete');
  const steps = '12,25,12,29';
  const activation = '5,44,5,55';
  await check('diagnosticAt', { path: tinySpec, message: 'must be ≥ 1, got -200', range: [12, 25, 12, 29], severity: 'error' });
  await check('diagnosticAt', { path: tinySpec, message: 'unknown activation "leaky_reu"', range: [5, 44, 5, 55], severity: 'error' });
  // The JSON language server validates too: leave it time to (wrongly) add its own copy.
  await new Promise((r) => setTimeout(r, 2000));
  const { diagnostics } = await check('diagnosticAt', { path: tinySpec, message: 'got -200', range: [12, 25, 12, 29] });
  for (const range of [steps, activation]) {
    const here = diagnostics.filter((d) => d.range.join(',') === range);
    assert.equal(here.length, 1, `diagnostics at ${range}: ${JSON.stringify(here)}`);
    assert.equal(here[0].severity, 'error', JSON.stringify(here));
  }
  assert.equal(
    diagnostics.filter((d) => d.severity === 'warning').length,
    0,
    `warnings: ${JSON.stringify(diagnostics.filter((d) => d.severity === 'warning'))}`,
  );
  await page.locator('.squiggly-error').first().waitFor({ state: 'attached', timeout: 15_000 });
  assert.equal(await page.locator('.squiggly-warning').count(), 0);
  await screenshot('schema-errors-once-as-errors');
  await revertEditor();
  await check('noErrors', { path: tinySpec });
});

let firstRun;

/** The run the Train test wrote; the tests after it fail with this reason, not a confusing one, when it wrote none. */
function trainedRun() {
  assert.ok(firstRun, 'no run: the Train test did not write one');
  return firstRun;
}

test('POLICE: Train from the palette shows progress in the status bar and writes a proved run', async () => {
  const statusTexts = await recordStatusBar();
  await runFromPalette('POLICE: Train');
  const progress = await waitFor(
    'training progress in the status bar',
    async () => (await statusTexts()).find((text) => /POLICE e2e-triangle step \d+\/200/.test(text)),
    60_000,
  );
  await stopRecordingStatusBar();
  await screenshot('status-bar-progress');
  // A step's loss is named for what it is: the loss of that step's batch.
  assert.match(progress, /step \d+\/200 · batch loss [\d.e-]+/);
  firstRun = await waitFor(
    'the run folder',
    () => runFolders('e2e-triangle').find((name) => existsSync(join(runsRoot, 'e2e-triangle', name, 'certificate.json'))),
    120_000,
  );
  const certificate = JSON.parse(readFileSync(join(runsRoot, 'e2e-triangle', firstRun, 'certificate.json'), 'utf8'));
  assert.equal(certificate.proved, true, `certificate: ${JSON.stringify(certificate.regions?.map((r) => r.status))}`);
  const outcome = await waitFor(
    'the status bar to show the outcome',
    async () => /e2e-triangle: proved · full-data loss [\d.e-]+/.exec(await statusBarText())?.[0],
    30_000,
  );
  // The notification says the same, verdict first, with the same number.
  const toast = page.locator('.notification-toast', { hasText: 'e2e-triangle: proved · full-data loss' }).first();
  await toast.waitFor({ timeout: 15_000 });
  fullDataLoss = /full-data loss ([\d.e-]+)/.exec(outcome)[1];
  assert.ok((await toast.innerText()).includes(`full-data loss ${fullDataLoss}`), await toast.innerText());
  // Idle again: the CodeLens offers Train instead of Stop.
  await page.locator('.codelens-decoration', { hasText: 'Train' }).first().waitFor({ timeout: 15_000 });
});

/** The kept network's full-data loss as the status bar showed it when the first training ended. */
let fullDataLoss;

test('the run appears in the Runs view with a proved certificate', async () => {
  await runFromPalette('Focus on POLICE Runs View');
  const row = page.locator('.monaco-list-row', { hasText: trainedRun() }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  const label = await row.getAttribute('aria-label');
  assert.match(label ?? '', /e2e-triangle.*proved/, `tree row: ${label}`);
  assert.doesNotMatch(label ?? '', /not-proved/);
  // The same loss, by the same name, as the status bar and the notification.
  assert.ok(label.includes(`full-data loss ${fullDataLoss}`), `tree row: ${label}; status bar said full-data loss ${fullDataLoss}`);
  await screenshot('runs-view');
});

test('selecting the run in the Runs view shows it in the POLICE view', async () => {
  await page.locator('.monaco-list-row', { hasText: trainedRun() }).first().click();
  await page.locator('.tab', { hasText: 'POLICE view' }).first().waitFor({ timeout: 30_000 });
  // The view is a webview (nested iframes): it must show the picked run, its certificate and its partition, at the kept step.
  const keptStep = String(JSON.parse(readFileSync(join(runsRoot, 'e2e-triangle', trainedRun(), 'network.json'), 'utf8')).step);
  const frame = await webviewFrame(
    'the run drawn in the view',
    (step) =>
      document.body?.dataset.certificate === 'proved' &&
      Number(document.body.dataset.cells) > 0 &&
      document.body.dataset.drawnSurfaceStep === step,
    60_000,
    keptStep,
  );
  assert.match(await frame.locator('.legend').innerText(), new RegExp(`\\d+ linear regions · (kept )?step ${keptStep}`));
  // The run's constraint health comes from its metrics; its status names the same full-data loss and a workspace-relative folder.
  assert.match(await frame.locator('.health').innerText(), /layer 0[\s\S]*shifted/);
  const status = await frame.locator('.status').innerText();
  assert.ok(status.includes(`full-data loss ${fullDataLoss}`), status);
  assert.ok(status.includes(`run .police/runs/e2e-triangle/${trainedRun()}`), status);
  await screenshot('run-in-view');
});

/** The webview frame whose document satisfies `probe(arg)` (webviews are nested iframes of the workbench). */
async function webviewFrame(what, probe, timeoutMs, arg) {
  return waitFor(
    what,
    async () => {
      for (const frame of page.frames()) {
        if (await frame.evaluate(probe, arg).catch(() => false)) return frame;
      }
      return undefined;
    },
    timeoutMs,
  );
}

test("the POLICE view shows the Gram heat-map of the run's filters, layer by layer", async () => {
  const frame = await webviewFrame('the Gram heat-map in the view', () => Boolean(document.body?.dataset.gramLayer), 30_000);
  // e2e-triangle: 16 and 16 hidden units, then one output unit (no pair of filters to compare).
  assert.equal(await frame.evaluate(() => document.body.dataset.gramLayers), '2');
  assert.match(await frame.locator('.gram-caption').innerText(), /layer 1, leaky_relu · ‖WWᵀ − diag‖\/‖WWᵀ‖ = /);
  // Top-left cell: the first filter's cosine with itself, +1, drawn red.
  const corner = await frame.evaluate(() => {
    const canvas = document.querySelector('canvas.gram');
    return Array.from(canvas.getContext('2d').getImageData(1, 1, 1, 1).data.slice(0, 3));
  });
  assert.deepEqual(corner, [200, 40, 40]);
  await frame.locator('select[aria-label="Layer of the Gram heat-map"]').selectOption('1');
  await waitFor('layer 2 drawn', () => frame.evaluate(() => document.body.dataset.gramLayer === '2'), 10_000);
  await frame.locator('.gram-panel').scrollIntoViewIfNeeded();
  await screenshot('view-gram-heatmap');
  // Clicking in the view made its group active: give the keyboard back to the spec's group for the next steps.
  await runFromPalette('View: Focus First Editor Group');
});

test('POLICE: Verify run re-derives the certificate and says it is proved', async () => {
  await runFromPalette('POLICE: Verify run');
  await page.locator('.notification-toast', { hasText: 'certificate proved' }).first().waitFor({ timeout: 60_000 });
  await screenshot('verify');
});

test('POLICE: Analyze run writes analysis.md with its heat-maps and opens the report beside the view', async () => {
  const runDir = join(runsRoot, 'e2e-triangle', trainedRun());
  // From the spec's editor (group 1), as a user would; the preview then opens in the group beside it.
  await runFromPalette('View: Focus First Editor Group');
  await runFromPalette('POLICE: Analyze run');
  // The toast comes when the preview opens and leaves after 15 s: watch for it from now on.
  const analysedToast = page
    .locator('.notification-toast', { hasText: `analysed e2e-triangle/${trainedRun()}` })
    .first()
    .waitFor({ timeout: 120_000 });
  await waitFor('analysis.md in the run folder', () => existsSync(join(runDir, 'analysis.md')), 60_000);
  assert.ok(existsSync(join(runDir, 'gram-layer-1.png')) && existsSync(join(runDir, 'gram-layer-2.png')), readdirSync(runDir).join(', '));
  await page.locator('.tab', { hasText: 'analysis.md' }).first().waitFor({ timeout: 30_000 });
  // The Markdown preview is a webview: find the frame that renders the report.
  const frame = await webviewFrame(
    'the report in the Markdown preview',
    () =>
      /Orthogonality of the filters/.test(document.body?.innerText ?? '') &&
      /Injectivity, layer by layer/.test(document.body?.innerText ?? ''),
    60_000,
  );
  const headings = await frame.locator('h2').allInnerTexts();
  assert.deepEqual(headings, ['Affine on the regions', 'Orthogonality of the filters', 'Injectivity, layer by layer']);
  assert.match(await frame.locator('body').innerText(), /Whole network: /);
  // The heat-maps are PNGs beside analysis.md: the preview loads them from the run folder.
  await waitFor(
    'the two Gram heat-maps to load in the preview',
    () => frame.evaluate(() => Array.from(document.images).filter((img) => img.complete && img.naturalWidth > 0).length >= 2),
    30_000,
  );
  await analysedToast;
  await frame.locator('img').first().scrollIntoViewIfNeeded();
  await screenshot('analysis-report');
  await runFromPalette('View: Focus First Editor Group');
});

/** Picks `label` in the open quick pick (the Export command's format list). */
async function pickQuickItem(label) {
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: 15_000 });
  await input.fill(label);
  await input.press('Enter');
}

test('POLICE: Export model offers the formats; tfjs copies the model, network.json and the certificate to a folder the user picks', async () => {
  const target = join(workspace, 'exports');
  await fs.mkdir(target, { recursive: true });
  await openFile('e2e-triangle.police.json');
  await runFromPalette('POLICE: Export model');
  for (const format of ['onnx', 'safetensors', 'pytorch', 'tfjs']) {
    await page.locator('.quick-input-list .monaco-list-row', { hasText: format }).first().waitFor({ timeout: 15_000 });
  }
  await pickQuickItem('tfjs');
  // code-server's folder picker is a path box with an OK button carrying the command's label.
  const input = page.locator('.quick-input-widget input');
  await waitFor('the folder picker', async () => (await input.inputValue()).startsWith('/'), 15_000);
  // The picker may still be listing the folder it opened on and reset the box: fill until the path stays.
  await waitFor(
    'the folder picker to take the path',
    async () => {
      if ((await input.inputValue()) === `${target}/`) return true;
      await input.fill(`${target}/`);
      await new Promise((r) => setTimeout(r, 300));
      return (await input.inputValue()) === `${target}/`;
    },
    15_000,
  );
  await page.locator('.quick-input-widget .monaco-button', { hasText: 'Export here' }).first().click();
  const exported = join(target, `e2e-triangle-${trainedRun()}-tfjs`);
  // The toast comes once every file is written; a file seen before that may be half written.
  await page
    .locator('.notification-toast', { hasText: `to ${exported}` })
    .first()
    .waitFor({ timeout: 60_000 });
  assert.deepEqual(readdirSync(exported).sort(), ['certificate.json', 'model.json', 'network.json', 'weights.bin']);
  assert.equal(
    readFileSync(join(exported, 'network.json'), 'utf8'),
    readFileSync(join(runsRoot, 'e2e-triangle', trainedRun(), 'network.json'), 'utf8'),
  );
  await screenshot('export');
});

test('POLICE: Open run folder reveals the run in the Explorer', async () => {
  await runFromPalette('POLICE: Open run folder');
  await page.locator('.explorer-folders-view .monaco-list-row.selected', { hasText: trainedRun() }).first().waitFor({ timeout: 15_000 });
  await screenshot('open-run-folder');
});

test('stopping a second training midway keeps the first run intact and leaves no partial folder', async () => {
  const before = hashTree(join(runsRoot, 'e2e-triangle', trainedRun()));
  await openFile('e2e-long.police.json');
  await runFromPalette('POLICE: Train');
  await waitFor(
    'the second training to make progress',
    async () => /POLICE e2e-long step [1-9]\d*\/200000/.test(await statusBarText()),
    60_000,
  );
  // The Runs view tells the same story as the status bar: a step, not "starting".
  await runFromPalette('Focus on POLICE Runs View');
  const trainingRow = page.locator('.monaco-list-row[aria-label^="training e2e-long"]').first();
  const rowLabel = await waitFor(
    'the Runs view to show the training step',
    async () => {
      const label = (await trainingRow.getAttribute('aria-label', { timeout: 1000 }).catch(() => null)) ?? '';
      return /step [1-9]\d*\/200000 · batch loss/.test(label) ? label : undefined;
    },
    10_000,
  );
  const barStep = Number(/e2e-long step (\d+)\//.exec(await statusBarText())?.[1]);
  const rowStep = Number(/step (\d+)\//.exec(rowLabel)[1]);
  assert.ok(rowStep > 0 && rowStep <= barStep, `Runs view: ${rowLabel}; status bar at step ${barStep}`);
  await screenshot('second-training');
  await runFromPalette('POLICE: Stop training');
  await waitFor('the stop to show', async () => /e2e-long: stopped/.test(await statusBarText()), 15_000);
  await screenshot('second-training-stopped');
  // Give a killed trainer's leftovers a moment to be cleaned, then look at the disk.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(hashTree(join(runsRoot, 'e2e-triangle', trainedRun())), before, 'the first run folder changed');
  assertOnlyWholeRuns();
  assert.deepEqual(runFolders('e2e-triangle'), [trainedRun()]);
});

test('a trainer killed mid-run: an error names the spec and the cause, Show log opens the log, runs stay whole', async () => {
  const before = hashTree(join(runsRoot, 'e2e-triangle', trainedRun()));
  await runFromPalette('POLICE: Train');
  await waitFor(
    'the third training to make progress',
    async () => /POLICE e2e-long step [1-9]\d*\/200000/.test(await statusBarText()),
    60_000,
  );
  const pids = trainerPids();
  assert.equal(pids.length, 1, `expected one trainer process, found ${pids.join(', ')}`);
  process.kill(pids[0], 'SIGKILL');
  const toast = page.locator('.notification-toast', { hasText: 'training of e2e-long failed' }).first();
  await toast.waitFor({ timeout: 15_000 });
  assert.match(await toast.innerText(), /SIGKILL/);
  // Nothing trains any more: the CodeLens offers Train, not Stop, and agrees with the status bar's "failed".
  await waitFor('the status bar to say failed', async () => /e2e-long: failed/.test(await statusBarText()), 15_000);
  await page.locator('.codelens-decoration', { hasText: 'Train' }).first().waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('.codelens-decoration', { hasText: 'Stop' }).count(), 0);
  await screenshot('trainer-killed');
  await toast.getByRole('button', { name: 'Show log' }).click();
  await page
    .locator('.output-view, .panel', { hasText: /trainer.process.was.killed.by.SIGKILL/ })
    .first()
    .waitFor({ timeout: 15_000 });
  await screenshot('log');
  // The VSIX carries this platform's ONNX Runtime: the log's line for this trainer says its matmuls ran there (dots: the
  // output view renders spaces as no-break spaces).
  await page
    .locator('.output-view, .panel', { hasText: /e2e-long:.trainer.ready.on.wasm.\(SIMD;.matmuls.on.ONNX.Runtime's.MLAS/ })
    .first()
    .waitFor({ timeout: 15_000 });
  assert.equal(hashTree(join(runsRoot, 'e2e-triangle', trainedRun())), before, 'the first run folder changed');
  assertOnlyWholeRuns();
});

test('POLICE: Export model as onnx, then POLICE: Import model asks for the file and brings it back as a proved run', async () => {
  // The save dialog offers <spec>-<run>.onnx in the workspace folder: accept it as a user would.
  const file = join(workspace, `e2e-triangle-${trainedRun()}.onnx`);
  await openFile('e2e-triangle.police.json');
  await runFromPalette('POLICE: Export model');
  await pickQuickItem('onnx');
  const input = page.locator('.quick-input-widget input');
  await waitFor('the save dialog', async () => (await input.inputValue()).endsWith(`${trainedRun()}.onnx`), 15_000);
  await input.press('Enter');
  await page
    .locator('.notification-toast', { hasText: `as onnx to ${file}` })
    .first()
    .waitFor({ timeout: 60_000 });
  assert.ok(statSync(file).size > 0, 'the ONNX file is written');
  const before = runFolders('e2e-triangle');
  await runFromPalette('POLICE: Import model');
  // The open dialog is a path box with an OK button carrying the command's label, like the folder picker.
  await waitFor('the open dialog', async () => (await input.inputValue()).startsWith('/'), 15_000);
  await input.fill(file);
  await page.locator('.quick-input-widget .monaco-button', { hasText: 'Import' }).first().click();
  await page
    .locator('.notification-toast', { hasText: /imported e2e-triangle-.*\.onnx as e2e-triangle\/.*every region proved affine/ })
    .first()
    .waitFor({ timeout: 60_000 });
  const added = runFolders('e2e-triangle').filter((name) => !before.includes(name));
  assert.equal(added.length, 1, `one new run: ${added.join(', ')}`);
  const certificate = JSON.parse(readFileSync(join(runsRoot, 'e2e-triangle', added[0], 'certificate.json'), 'utf8'));
  assert.equal(certificate.proved, true);
  await page.locator('.monaco-list-row', { hasText: added[0] }).first().waitFor({ state: 'visible', timeout: 30_000 });
  assertOnlyWholeRuns();
  await screenshot('import');
});

test('POLICE: New spec from template writes an example into the workspace and opens it without errors', async () => {
  await runFromPalette('POLICE: New spec from template');
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'fig2-wave-triangle' }).first().waitFor({ timeout: 15_000 });
  await input.fill('fig2-wave-triangle');
  await input.press('Enter');
  // Then the file name box, prefilled with the template's name.
  await waitFor('the file name box', async () => (await input.inputValue()) === 'fig2-wave-triangle.police.json', 15_000);
  await input.press('Enter');
  await page.locator('.tab[data-resource-name="fig2-wave-triangle.police.json"]').waitFor({ timeout: 15_000 });
  const created = join(workspace, 'fig2-wave-triangle.police.json');
  assert.ok(existsSync(created), `${created} was not written`);
  await check('specOpensAsPoliceJson', { path: created });
  await check('noErrors', { path: created });
  await screenshot('new-spec-from-template');
});

test('picking two runs in the Runs view compares them: loss curves overlaid and a table of settings and results', async () => {
  // A second run of the same spec, written by the CLI as a script would (the Runs view watches the folder).
  const second = join(runsRoot, 'e2e-triangle', '2000-01-01T00-00-00-000Z');
  const cli = spawnSync(
    process.execPath,
    [join(repoRoot, 'dist', 'cli.js'), 'train', tinySpec, '--out', second, '--steps', '60', '--backend', 'wasm'],
    {
      encoding: 'utf8',
      timeout: 300_000,
    },
  );
  assert.equal(cli.status, 0, `${cli.stdout}\n${cli.stderr}`);
  await runFromPalette('Focus on POLICE Runs View');
  // The view's Refresh action, as after any run written outside the editor (its file watcher may be slower).
  await page.locator('.pane-header', { hasText: 'POLICE Runs' }).locator('.action-label[aria-label*="Refresh runs"]').first().click();
  const first = page.locator('.monaco-list-row', { hasText: trainedRun() }).first();
  const other = page.locator('.monaco-list-row', { hasText: '2000-01-01T00-00-00-000Z' }).first();
  await other.waitFor({ state: 'visible', timeout: 30_000 });
  // A click can land while the tree redraws (a refresh, the run just written): pick again until both rows read selected.
  const selected = async (row) => (await row.getAttribute('aria-selected').catch(() => null)) === 'true';
  await waitFor(
    'both runs to be selected',
    async () => {
      if (!(await selected(first))) await first.click();
      if (!(await selected(other))) await other.click({ modifiers: ['Control'] });
      return (await selected(first)) && (await selected(other));
    },
    30_000,
  );
  const frame = await webviewFrame('the comparison in the view', () => document.body?.dataset.comparedRuns === '2', 60_000);
  const rowPattern = /2×16 · lr 0\.005 · 200 steps · batch 256 · rule fixed\s+proved\s+[\d.e-]+\s+[\d.e-]+.*\s+[\d.]+ s\s+wasm/;
  // innerText separates the cells only once the table is laid out (read too early it ran them together): read until it is.
  await frame.locator('.compare-panel').scrollIntoViewIfNeeded();
  let rows = [];
  await waitFor(
    'the comparison table to be laid out',
    async () => {
      rows = await frame.locator('.compare-panel tr[data-run]').allInnerTexts();
      return rows.length === 2 && rows.every((row) => rowPattern.test(row));
    },
    15_000,
  ).catch(() => undefined);
  assert.equal(rows.length, 2, rows.join('\n'));
  for (const row of rows) assert.match(row, rowPattern);
  // The first run's full-data loss, as the status bar showed it when its training ended.
  assert.ok(
    rows.some((row) => row.includes(fullDataLoss)),
    `${rows.join('\n')}; status bar said ${fullDataLoss}`,
  );
  await screenshot('runs-compared');
});
