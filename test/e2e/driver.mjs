// Driving the code-server workbench from node:test with Playwright: Chromium launch (DESIGN §3), palette, files,
// screenshots, and `check()` which runs a suite/checks.ts assertion inside the extension host through the probe.
import { existsSync, promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, test as nodeTest } from 'node:test';
import { chromium } from 'playwright-core';

// Each test file drives its own code-server session; run.mjs passes POLICE_E2E_<SESSION>_* (session = file name).
const session = basename(process.argv[1] ?? '').replace(/\.test\.mjs$/, '');
const env = (key, name = `POLICE_E2E_${session.toUpperCase()}_${key}`) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this suite through test/e2e/run.mjs`);
  return value;
};
export const url = env('URL');
export const workspace = env('WORKSPACE');
export const rpcDir = env('RPC');
export const profile = env('PROFILE');
export const extensionsDir = env('EXTENSIONS');
export const results = env('RESULTS', 'POLICE_E2E_RESULTS');

// DESIGN §3: these flags give WebGL2 through SwiftShader in headless Debian Chromium.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--use-gl=angle',
];

let context;
/** The workbench page (live binding: set once the workbench is open). */
export let page;
let shot = 0;

export async function screenshot(name) {
  shot += 1;
  await page.screenshot({ path: join(results, `${session}-${String(shot).padStart(2, '0')}-${name}.png`) });
}

/** A test that leaves a screenshot of the workbench when it fails. */
export function test(name, fn) {
  nodeTest(name, async () => {
    try {
      await fn();
    } catch (err) {
      await screenshot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
      throw err;
    }
  });
}

let requestCount = 0;
/** Run a check from test/e2e/suite/checks.ts inside the extension host and return what it saw. */
export async function check(name, args = {}, timeoutMs = 60_000) {
  const id = `${process.pid}-${++requestCount}`;
  const tmp = join(rpcDir, `.req-${id}.json`);
  await fs.writeFile(tmp, JSON.stringify({ id, check: name, args }));
  await fs.rename(tmp, join(rpcDir, `req-${id}.json`));
  const answer = join(rpcDir, `res-${id}.json`);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(answer)) {
    if (Date.now() > deadline) throw new Error(`check ${name} got no answer from the extension host in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const response = JSON.parse(await fs.readFile(answer, 'utf8'));
  if (!response.ok) throw new Error(`check ${name}(${JSON.stringify(args)}) failed in the extension host: ${response.error}`);
  return response.value;
}

export async function waitFor(what, probe, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Run a command by its palette title, as a user would. */
export async function runFromPalette(title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  try {
    await input.waitFor({ state: 'visible', timeout: 5000 });
  } catch {
    // A focused webview keeps F1 to itself: focus the side bar's title (a no-op click) and ask again.
    await page.locator('.part.sidebar .composite.title').first().click();
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible' });
  }
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await input.press('Enter');
}

/** Open a workspace file by double-clicking it in the Explorer (keyboard focus may sit inside a webview). */
export async function openFile(name) {
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first().dblclick();
  await page.locator(`.tab[data-resource-name="${name}"]`).waitFor({ timeout: 15_000 });
  // Click a rendered line, not the whole lines layer: that layer is taller than the viewport (scroll beyond the last
  // line), and Playwright scrolling it into view hid the CodeLens above line 1.
  await page.locator('.monaco-editor .view-line').first().click();
}

/** Put the cursor on a 1-based line and column with the Go to Line box. */
export async function gotoLine(line, column) {
  // A click on a tab gives the editor the keyboard a moment later: a Ctrl+G before then opens a box that closes again
  // as the editor takes focus, and its Enter lands in the text.
  await editorHasKeyboard('the editor to take the keyboard before Go to Line');
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`:${line}:${column}`);
  await input.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  // Focus returns to the editor a moment after the box hides; a key pressed before then (an Undo) is lost.
  await editorHasKeyboard('the editor to take the keyboard back');
  await waitFor(
    `the cursor to reach line ${line}`,
    async () =>
      (
        await page
          .locator('[id="status.editor.selection"]')
          .innerText()
          .catch(() => '')
      ).startsWith(`Ln ${line},`),
    10_000,
  );
}

function editorHasKeyboard(what) {
  return waitFor(what, () => page.evaluate(() => document.activeElement?.classList.contains('inputarea') === true), 10_000);
}

/** Undo this test's typing in the active editor: back to the file on disk (undo past it is a no-op). */
export async function revertEditor() {
  await page.keyboard.press('Escape');
  for (let i = 0; i < 4; i++) await page.keyboard.press('Control+Z');
}

export function statusBarText() {
  return page
    .locator('.statusbar-item')
    .allInnerTexts()
    .then((texts) => texts.join(' | '));
}

/**
 * Record every text the status bar shows from now on (a fast training's `N/200` may last less than one poll).
 * Returns a function that gives the texts seen so far and stops recording.
 */
export async function recordStatusBar() {
  await page.evaluate(() => {
    const seen = [];
    window.__policeStatusTexts = seen;
    const bar = document.querySelector('.part.statusbar') ?? document.body;
    const record = () => seen.push(Array.from(bar.querySelectorAll('.statusbar-item'), (item) => item.innerText).join(' | '));
    window.__policeStatusObserver?.disconnect();
    window.__policeStatusObserver = new MutationObserver(record);
    window.__policeStatusObserver.observe(bar, { subtree: true, childList: true, characterData: true, attributes: true });
    record();
  });
  return () => page.evaluate(() => window.__policeStatusTexts.slice());
}

/** Stop what recordStatusBar records. */
export function stopRecordingStatusBar() {
  return page.evaluate(() => window.__policeStatusObserver?.disconnect());
}

/** Open the workbench on the session's workspace before the tests, close Chromium after them. */
export function openWorkbench({ probe }) {
  before(async () => {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      viewport: { width: 1600, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    // Three workbenches may start at once on two CPUs: wait for the DOM, not for every resource.
    await page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    if (probe) await waitFor('the e2e probe extension to start', () => existsSync(join(rpcDir, 'probe-ready.json')), 60_000);
  });

  after(async () => {
    if (page) await screenshot('final').catch(() => undefined);
    await context?.close();
  });
}
