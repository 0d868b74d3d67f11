// Every spec in examples/ trains with the built `police` CLI and is certified by an independent `police verify`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

test("every example uses the recommended 'fixed' rule, except paper figures, which say they use the paper's", () => {
  for (const file of examples) {
    const spec = JSON.parse(readFileSync(join(root, 'examples', file), 'utf8')) as { description?: string; police?: { rule?: string } };
    const rule = spec.police?.rule ?? 'fixed';
    if (file.startsWith('fig')) assert.ok(rule === 'fixed' || spec.description?.includes(`'${rule}'`), `${file}: rule ${rule}, unexplained`);
    else assert.equal(rule, 'fixed', file);
  }
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const first = /node dist\/cli\.js train (examples\/\S+)/.exec(readme)?.[1];
  assert.ok(first, "the README's first command trains an example");
  assert.equal((JSON.parse(readFileSync(join(root, first), 'utf8')) as { police?: { rule?: string } }).police?.rule ?? 'fixed', 'fixed');
});

test('examples read on one screen: no vector spread over lines, and no warning from police validate', () => {
  for (const file of examples) {
    const text = readFileSync(join(root, 'examples', file), 'utf8');
    const lone = text.split('\n').findIndex((line) => /^\s*-?[\d.e+-]+,?\s*$/.test(line));
    assert.equal(lone, -1, `${file}:${lone + 1} holds a lone number`);
    const validated = police(['validate', join('examples', file)]);
    assert.equal(validated.status, 0, validated.output);
    assert.doesNotMatch(validated.output, /: (warning|error): /, validated.output);
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
