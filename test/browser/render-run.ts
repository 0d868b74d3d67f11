// Render a finished run folder with the real webview bundle in headless Chromium and save a PNG (no VS Code needed).
// Run: node --import tsx test/browser/render-run.ts RUN_DIR [OUT.png] [--top] [--cells]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import type { FoldedNetwork } from '../../extension/police/network/network';
import { validateSpecText } from '../../extension/police/spec/parse';
import type { HostToWebview, WebviewToHost } from '../../extension/protocol/messages';
import { toViewSpecPlain } from '../../extension/host/view/view-spec';
import { buildSurface } from '../../extension/host/view/surface';
import { partitionOnPlane } from '../../extension/host/view/partition-adapter';
import { subsampleData } from '../../extension/host/view/data-sample';
import { readMetrics } from '../../extension/host/view/run-files';
import { contentSecurityPolicy } from '../../extension/host/view/html';

async function main(): Promise<void> {
  const [runDir, outArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (!runDir) throw new Error('usage: render-run.ts RUN_DIR [OUT.png] [--top] [--cells]');
  const out = outArg ?? join('test-results', 'view', 'run.png');
  const specPath = join(runDir, 'spec.police.json');
  const { spec, problems } = validateSpecText(readFileSync(specPath, 'utf8'), specPath);
  if (!spec) throw new Error(`${specPath}: ${problems.map((p) => p.message).join('; ')}`);
  const network = JSON.parse(readFileSync(join(runDir, 'network.json'), 'utf8')) as FoldedNetwork;
  const dir = mkdtempSync(join(tmpdir(), 'police-render-'));
  const browser = await chromium.launch({
    executablePath: process.env.POLICE_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--use-gl=angle'],
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
    writeFileSync(
      join(dir, 'theme.css'),
      ':root { --vscode-editor-background: #1e1e1e; --vscode-editor-foreground: #d4d4d4; --vscode-focusBorder: #007fd4; }',
    );
    writeFileSync(
      join(dir, 'index.html'),
      `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy('file:', 'r')}">
<link rel="stylesheet" href="webview.css"><link rel="stylesheet" href="theme.css">
<script nonce="r">window.__posted = []; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState() {}, setState() {} });</script>
</head><body class="vscode-dark"><div id="app"></div><script nonce="r" src="webview.js"></script></body></html>`,
    );
    const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
    await page.goto(`file://${join(dir, 'index.html')}`);
    const post = (m: HostToWebview) => page.evaluate((x) => window.postMessage(x, '*'), m as unknown as Record<string, unknown>);
    await post({ type: 'spec', spec: toViewSpecPlain(spec, false), specUri: `file://${specPath}` });
    await post(await subsampleData(spec, 1500));
    const history = await readMetrics(join(runDir, 'metrics.jsonl'));
    await post({ type: 'lossHistory', steps: history.steps, losses: history.losses, totalSteps: spec.training.steps });
    try {
      await post({ type: 'certificate', certificate: JSON.parse(readFileSync(join(runDir, 'certificate.json'), 'utf8')) });
    } catch {
      // A run without a certificate still renders.
    }
    // The view asks for its plane; answer it as the host's worker would.
    const request = (await page.evaluate(() => (window as unknown as { __posted: WebviewToHost[] }).__posted))
      .filter((m) => m.type === 'setPlane')
      .pop();
    if (!request || request.type !== 'setPlane') throw new Error('the view asked for no plane');
    const started = performance.now();
    const { partition, error } = partitionOnPlane(network, request.plane, request.window);
    const partitionMs = performance.now() - started;
    const surface = buildSurface(
      {
        step: spec.training.steps,
        network,
        plane: request.plane,
        window: request.window,
        resolution: request.resolution,
        regions: spec.regions.map((r) => r.vertices),
        classification: spec.data.task === 'classification',
      },
      partition,
      partitionMs,
      { partitionError: error },
    );
    console.log(`${spec.name}: ${surface.cellCount} linear regions in ${partitionMs.toFixed(0)} ms${error ? ` (${error})` : ''}`);
    await post({ type: 'surface', surface });
    await page.waitForFunction(() => document.body.dataset.surfaceStep !== undefined);
    if (process.argv.includes('--cells')) await page.locator('select[aria-label="Colour"]').selectOption('cells');
    if (process.argv.includes('--top')) await page.getByText('Top view').click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: out });
    console.log(`saved ${out}`);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
