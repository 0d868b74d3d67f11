// Runs test/e2e/suite (the API half of the e2e suite) in desktop VS Code through @vscode/test-electron,
// for machines that can download VS Code (these build machines cannot; `npm test` uses code-server instead).
//   npm install --no-save @vscode/test-electron && npm run build && node test/e2e/electron.mjs
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let runTests;
try {
  ({ runTests } = await import('@vscode/test-electron'));
} catch {
  process.stderr.write('@vscode/test-electron is not installed: npm install --no-save @vscode/test-electron\n');
  process.exit(1);
}

const { build } = await import('esbuild');
const session = mkdtempSync(join(tmpdir(), 'police-electron-'));
const workspace = join(session, 'workspace');
cpSync(join(repo, 'test/e2e/fixtures'), workspace, { recursive: true });
const suite = join(session, 'suite', 'index.js');
await build({
  entryPoints: [join(repo, 'test/e2e/suite/index.ts')],
  outfile: suite,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode'],
  logLevel: 'warning',
});

let code = 1;
try {
  code = await runTests({
    extensionDevelopmentPath: repo,
    extensionTestsPath: suite,
    launchArgs: [workspace, '--disable-workspace-trust', '--user-data-dir', join(session, 'user-data')],
  });
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
} finally {
  rmSync(session, { recursive: true, force: true });
}
process.exit(code);
