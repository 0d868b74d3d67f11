// Every spec in examples/ trains with the built `police` CLI and is certified by an independent `police verify`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.police.json')).sort();
const scratch = mkdtempSync(join(tmpdir(), 'police-examples-'));

function police(args: string[]): { status: number | null; stdout: string; output: string } {
  const run = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  return { status: run.status, stdout: run.stdout, output: `${run.stdout}${run.stderr}` };
}

test('examples/ holds the paper figures and a spec per companion feature', () => {
  for (const name of ['fig1', 'fig2-wave-triangle', 'fig2-rays-polygon', 'fig2-spiral-near-circle', 'fig3', 'multi-region', 'swish', 'orthogonal', 'injectivity', 'slice-3d']) {
    assert.ok(examples.some((f) => f.startsWith(name)), `no example named ${name}*`);
  }
});

for (const file of examples) {
  test(`${file} trains and is proved affine on every region`, () => {
    const spec = join('examples', file);
    const out = join(scratch, file.replace('.police.json', ''));
    const trained = police(['train', spec, '--out', out]);
    assert.equal(trained.status, 0, trained.output);
    assert.match(trained.output, /certificate: every region proved affine/);
    const verified = police(['verify', spec, out, '--json']);
    assert.equal(verified.status, 0, verified.output);
    const certificate = JSON.parse(verified.stdout) as { proved: boolean; storedCertificateMatches: boolean | null };
    assert.equal(certificate.proved, true);
    assert.equal(certificate.storedCertificateMatches, true, 'the recomputed weights hash matches certificate.json');
  });
}

test.after(() => rmSync(scratch, { recursive: true, force: true }));
