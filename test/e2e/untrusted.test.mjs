// Workspace Trust: in Restricted Mode the extension still reads specs (CodeLens, diagnostics) but refuses to train, saying why.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openFile, openWorkbench, page, runFromPalette, screenshot, test, workspace } from './driver.mjs';

openWorkbench({ probe: false });

test('in Restricted Mode the spec still gets its CodeLens, and POLICE: Train refuses with the reason', async () => {
  await openFile('e2e-triangle.police.json');
  await page.locator('.codelens-decoration', { hasText: 'Train' }).first().waitFor({ timeout: 30_000 });
  await runFromPalette('POLICE: Train');
  const toast = page.locator('.notification-toast', { hasText: 'not trusted' }).first();
  await toast.waitFor({ timeout: 30_000 });
  const text = await toast.innerText();
  assert.match(text, /not training e2e-triangle/);
  await screenshot('untrusted-train-refused');
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(!existsSync(join(workspace, '.police')), 'a runs folder was written in an untrusted workspace');
});
