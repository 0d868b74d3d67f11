// The same scenario as workbench.test.mjs, driven through the VS Code API only: the entry point
// (`run()`, the extensionTestsPath contract) for @vscode/test-electron on machines that can download VS Code.
// Launched by test/e2e/electron.mjs. The assertions are the ones the code-server suite runs (checks.ts).
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { completionOffers, diagnosticAt, extensionActivates, hoverShows, noErrors, specOpensAsPoliceJson } from './checks';

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Finished runs only: a writer's `.<run>.tmp-<pid>` folder holds a certificate just before it is renamed into place. */
function finishedRuns(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((name) => !name.startsWith('.')) : [];
}

async function insert(uri: vscode.Uri, line: number, character: number, text: string): Promise<void> {
  const edit = new vscode.WorkspaceEdit();
  edit.insert(uri, new vscode.Position(line, character), text);
  assert.ok(await vscode.workspace.applyEdit(edit), `could not edit ${uri.fsPath}`);
}

async function revert(uri: vscode.Uri): Promise<void> {
  await vscode.window.showTextDocument(uri);
  await vscode.commands.executeCommand('workbench.action.files.revert');
}

export async function run(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'open the e2e fixtures folder as the workspace');
  const workspace = folder.uri.fsPath;
  const tiny = join(workspace, 'e2e-triangle.police.json');
  const long = join(workspace, 'e2e-long.police.json');
  const runsRoot = join(workspace, '.police', 'runs');
  const steps: [string, () => Promise<unknown>][] = [
    ['the extension activates', () => extensionActivates()],
    [
      'the spec opens as police-json without errors',
      async () => {
        await vscode.window.showTextDocument(vscode.Uri.file(tiny));
        await specOpensAsPoliceJson({ path: tiny });
        await noErrors({ path: tiny });
      },
    ],
    [
      'schema completion offers a field; hover documents it',
      async () => {
        await insert(vscode.Uri.file(tiny), 13, 29, ', ');
        await completionOffers({ path: tiny, line: 13, character: 31, label: 'rule' });
        await revert(vscode.Uri.file(tiny));
        await hoverShows({ path: tiny, line: 2, character: 4, text: 'runs are stored' });
      },
    ],
    [
      'a dimension mismatch is a diagnostic with the exact range',
      async () => {
        await insert(vscode.Uri.file(tiny), 9, 66, ', 1');
        await diagnosticAt({ path: tiny, message: 'dim', range: [9, 59, 9, 70], severity: 'error' });
        await revert(vscode.Uri.file(tiny));
        await noErrors({ path: tiny });
      },
    ],
    [
      'Train writes a run with a proved certificate',
      async () => {
        await vscode.commands.executeCommand('police.train', vscode.Uri.file(tiny));
        const dir = join(runsRoot, 'e2e-triangle');
        const run = await waitFor(
          'a finished run',
          () => finishedRuns(dir).find((n) => existsSync(join(dir, n, 'certificate.json'))),
          180_000,
        );
        const certificate = JSON.parse(readFileSync(join(dir, run, 'certificate.json'), 'utf8')) as { proved: boolean };
        assert.equal(certificate.proved, true);
      },
    ],
    [
      "a schema error is one diagnostic, the JSON language server's",
      async () => {
        await insert(vscode.Uri.file(tiny), 12, 25, '-');
        await diagnosticAt({ path: tiny, message: 'minimum', range: [12, 25, 12, 29] });
        await new Promise((r) => setTimeout(r, 1500));
        const { diagnostics } = await diagnosticAt({ path: tiny, message: 'minimum', range: [12, 25, 12, 29] });
        const onSteps = diagnostics.filter((d) => d.range.join(',') === '12,25,12,29');
        assert.equal(onSteps.length, 1, JSON.stringify(onSteps));
        assert.notEqual(onSteps[0].source, 'police');
        await revert(vscode.Uri.file(tiny));
        await noErrors({ path: tiny });
      },
    ],
    [
      'Analyze run writes analysis.md and the Gram heat-maps beside the run',
      async () => {
        const dir = join(runsRoot, 'e2e-triangle');
        const run = finishedRuns(dir)[0];
        await vscode.commands.executeCommand('police.analyze', vscode.Uri.file(tiny));
        const markdown = readFileSync(join(dir, run, 'analysis.md'), 'utf8');
        assert.match(markdown, /## Orthogonality of the filters/);
        assert.match(markdown, /## Injectivity, layer by layer/);
        assert.ok(existsSync(join(dir, run, 'gram-layer-1.png')));
      },
    ],
    [
      'stopping a second training keeps the first run and leaves no partial folder',
      async () => {
        const dir = join(runsRoot, 'e2e-triangle');
        const before = readdirSync(dir).map((n) => [n, readdirSync(join(dir, n)).sort().join(',')].join(':'));
        await vscode.commands.executeCommand('police.train', vscode.Uri.file(long));
        await new Promise((r) => setTimeout(r, 5000));
        await vscode.commands.executeCommand('police.stop', vscode.Uri.file(long));
        await new Promise((r) => setTimeout(r, 1500));
        assert.deepEqual(
          readdirSync(dir).map((n) => [n, readdirSync(join(dir, n)).sort().join(',')].join(':')),
          before,
        );
        const longDir = join(runsRoot, 'e2e-long');
        for (const name of existsSync(longDir) ? readdirSync(longDir) : []) {
          assert.ok(existsSync(join(longDir, name, 'certificate.json')), `e2e-long/${name} is a partial run`);
        }
      },
    ],
  ];
  const failures: string[] = [];
  for (const [name, step] of steps) {
    try {
      await step();
      console.log(`ok - ${name}`);
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      console.log(`not ok - ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failures.length > 0) throw new Error(`${failures.length} of ${steps.length} e2e steps failed:\n${failures.join('\n')}`);
}
