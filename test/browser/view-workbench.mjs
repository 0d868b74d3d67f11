// The POLICE view in a real workbench (code-server + Chromium): show, train, certificate, drag + one undo, reload.
// A manual check beside test/e2e (which owns the suite): needs .e2e/code-server (installed by test/e2e/run.mjs).
// Run: npm run package && node test/browser/view-workbench.mjs dist/police-studio.vsix   (screens: test-results/view/workbench)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
const require = createRequire(new URL('../../package.json', import.meta.url));
const { chromium } = require('playwright-core');

const repo = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const entry = join(repo, '.e2e/code-server/node_modules/code-server/out/node/entry.js');
const out = join(repo, 'test-results/view/workbench');
mkdirSync(out, { recursive: true });
const session = mkdtempSync(join(tmpdir(), 'police-viewcheck-'));
const dirs = { userData: join(session, 'ud'), extensions: join(session, 'ext'), workspace: join(session, 'ws'), profile: join(session, 'chrome') };
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
writeFileSync(join(session, 'config.yaml'), 'auth: none\ncert: false\n');
cpSync(join(repo, 'test/e2e/fixtures/e2e-triangle.police.json'), join(dirs.workspace, 'e2e-triangle.police.json'));
mkdirSync(join(dirs.userData, 'User'), { recursive: true });
writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'police.backend': 'wasm', 'telemetry.telemetryLevel': 'off' }));
const args = (extra) => [entry, '--config', join(session, 'config.yaml'), '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, ...extra];
const vsix = process.argv[2];
let r = spawnSync(process.execPath, args(['--install-extension', vsix]), { stdio: 'inherit' });
if (r.status !== 0) throw new Error('install failed');
const port = await new Promise((res) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
const url = `http://127.0.0.1:${port}`;
const logFd = openSync(join(out, 'code-server.log'), 'w');
const server = spawn(process.execPath, args(['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', dirs.workspace]), { stdio: ['ignore', logFd, logFd] });
let context;
function killMine() {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try { if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(session)) process.kill(Number(e), 'SIGKILL'); } catch {}
  }
}
function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, fn, ms = 60000) { const end = Date.now() + ms; for (;;) { const v = await fn(); if (v) return v; if (Date.now() > end) throw new Error('timeout: ' + what); await wait(300); } }
try {
  await waitFor('health', async () => { try { return (await fetch(url + '/healthz')).ok; } catch { return false; } });
  context = await chromium.launchPersistentContext(dirs.profile, { executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--use-gl=angle'], viewport: { width: 1600, height: 1000 } });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => { if (/Refused|Content Security Policy/i.test(m.text())) console.log('CSP:', m.text().slice(0, 300)); });
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  await page.goto(`${url}/?folder=${encodeURIComponent(dirs.workspace)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  await wait(3000);
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill('e2e-triangle.police.json');
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor();
  await page.keyboard.press('Enter');
  await wait(3000);
  const palette = async (title) => {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.fill('>' + title);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15000 });
    await input.press('Enter');
  };
  await palette('POLICE: Show view');
  const viewFrame = async () => {
    for (const f of page.frames()) {
      try { if (await f.evaluate(() => document.body?.dataset?.webgl !== undefined && !!document.getElementById('app'))) return f; } catch {}
    }
    return undefined;
  };
  const frame = await waitFor('view frame', viewFrame, 60000);
  const ds = () => frame.evaluate(() => ({ ...document.body.dataset }));
  await waitFor('rendered', async () => (await ds()).state === 'rendered', 30000);
  check((await ds()).webgl === '2', 'the view renders with WebGL2');
  await page.screenshot({ path: join(out, '1-show-view.png') });
  // Back to the spec editor, then train.
  await page.locator('.tab[data-resource-name="e2e-triangle.police.json"]').first().click();
  await palette('POLICE: Train');
  await waitFor('loss points', async () => Number((await ds()).lossPoints) > 3, 120000);
  check(Number((await ds()).lossPoints) > 3, 'the loss curve grows during training');
  await page.screenshot({ path: join(out, '2-training.png') });
  await waitFor('certificate', async () => (await ds()).certificate !== 'none', 240000);
  await wait(3000);
  const done = await ds();
  check(done.certificate === 'proved', 'the certificate reads proved');
  await waitFor('the final surface', async () => Number((await ds()).cells) > 0, 60000);
  check(true, `the partition is drawn (${(await ds()).cells} linear regions)`);
  await page.screenshot({ path: join(out, '3-done.png') });
  // Drag the top vertex of R and check the spec text changed in one undoable edit.
  const pos = await frame.evaluate(() => window.policeView.vertexScreenPosition(0, 2));
  const frameBox = await (await frame.frameElement()).boundingBox();
  check(pos && frameBox, 'the top vertex of R is on screen');
  {
    await page.mouse.move(frameBox.x + pos.x, frameBox.y + pos.y);
    await page.mouse.down();
    await page.mouse.move(frameBox.x + pos.x + 30, frameBox.y + pos.y + 20, { steps: 5 });
    await page.mouse.up();
    await wait(2500);
    const text = await page.locator('.monaco-editor .view-lines').first().innerText();
    const dragged = text.replace(/\u00a0/g, ' ').split('\n').find((l) => l.includes('"vertices"')) ?? '';
    check(!dragged.includes('[0, 0.5]') && /\[\[-0\.5, -0\.5\], \[0\.5, -0\.5\], \[-?[\d.]+, -?[\d.]+\]\]/.test(dragged), `the drag moved the vertex in the spec: ${dragged.trim()}`);
    await page.screenshot({ path: join(out, '4-dragged.png') });
    await page.locator('.tab[data-resource-name="e2e-triangle.police.json"]').first().click();
    await page.keyboard.press('Control+Z');
    await wait(1500);
    const undone = await page.locator('.monaco-editor .view-lines').first().innerText();
    check((undone.replace(/\u00a0/g, ' ').split('\n').find((l) => l.includes('"vertices"')) ?? '').includes('[0, 0.5]]'), 'one undo puts the vertex back');
  }
  await page.reload();
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  await wait(5000);
  const frame2 = await waitFor('view frame after reload', viewFrame, 60000);
  await waitFor('restored', async () => (await frame2.evaluate(() => document.body.dataset.certificate)) === 'proved', 60000);
  const t0 = Date.now();
  await waitFor('restored surface', async () => Number(await frame2.evaluate(() => document.body.dataset.cells ?? '0')) > 0, 60000);
  check(true, `after a reload the view comes back with the run's certificate and partition (${Date.now() - t0} ms)`);
  await page.screenshot({ path: join(out, '5-reloaded.png') });
} catch (e) {
  console.log('FAILED', e.message);
  process.exitCode = 1;
  try { await context?.pages()[0]?.screenshot({ path: join(out, 'failed.png') }); } catch {}
} finally {
  await context?.close().catch(() => {});
  server.kill('SIGKILL');
  killMine();
  rmSync(session, { recursive: true, force: true });
}
