import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { verifyCommand } from '../../extension/cli/verify';
import { certify } from '../../extension/police/proof/certificate';
import { validateSpecText } from '../../extension/police/spec/parse';
import type { FoldedNetwork } from '../../extension/police/network/network';
import { captureCli, writeRunDir, type CliResult } from './cli-harness';
import { affineOnTriangle } from './network-fixtures';

const SPEC = resolve('test/fixtures/verify-triangle.police.json');
const root = mkdtempSync(join(tmpdir(), 'police-verify-'));
after(() => rmSync(root, { recursive: true, force: true }));

const runDir = (name: string, files: Record<string, string>): string => writeRunDir(root, name, files);

/** A run folder as training writes it: the network and its certificate. */
function wholeRun(name: string, net: FoldedNetwork, edit: (certificate: Record<string, unknown>) => void = () => undefined): string {
  const { spec } = validateSpecText(readFileSync(SPEC, 'utf8'), SPEC);
  assert.ok(spec);
  const certificate = JSON.parse(JSON.stringify(certify(net, spec.regions, { spec: spec.name }))) as Record<string, unknown>;
  edit(certificate);
  return runDir(name, { 'network.json': JSON.stringify(net), 'certificate.json': JSON.stringify(certificate) });
}

const verify = (args: string[]): Promise<CliResult> => captureCli(verifyCommand, args);

test('exit 0 when every region is proved, with margins and maps printed', async () => {
  const dir = wholeRun('proved', affineOnTriangle());
  const { code, stdout } = await verify([SPEC, dir]);
  assert.equal(code, 0, stdout);
  assert.match(stdout, /region 'triangle' \(3 vertices\): proved/);
  assert.match(stdout, /region 'corner' \(4 vertices\): proved/);
  assert.match(stdout, /A = \[\[1\.000, 2\.000\]\], b = \[15\.50\]/);
  assert.match(stdout, /weights and verdicts match .*certificate\.json/);
  assert.match(stdout, /all 2 region\(s\) proved/);
});

test('exit 2 when a region is not proved; --json prints the certificate', async () => {
  // Unit 1's hyperplane x1 = −0.5 crosses the triangle but not the corner.
  const dir = wholeRun('crossed', affineOnTriangle(0.5));
  const { code, stdout } = await verify([SPEC, dir, '--json']);
  assert.equal(code, 2);
  const cert = JSON.parse(stdout);
  assert.equal(cert.format, 'police-certificate/1');
  assert.equal(cert.spec, 'verify-triangle');
  assert.equal(cert.proved, false);
  assert.deepEqual(
    cert.regions.map((r: { status: string }) => r.status),
    ['not-proved', 'proved'],
  );
  assert.deepEqual(cert.regions[0].firstViolation, { layer: 0, unit: 1 });
  assert.equal(cert.storedCertificateMatches, true);
});

test('the recomputed weights hash is compared with certificate.json', async () => {
  const first = await verify([SPEC, runDir('hash', { 'network.json': JSON.stringify(affineOnTriangle()) }), '--json']);
  const stored = first.stdout;
  const same = await verify([SPEC, runDir('hash', { 'network.json': JSON.stringify(affineOnTriangle()), 'certificate.json': stored })]);
  assert.match(same.stdout, /weights and verdicts match .*certificate\.json/);
  const changed = affineOnTriangle();
  changed.layers[1].bias[0] = 0.25;
  const other = await verify([SPEC, runDir('hash', { 'network.json': JSON.stringify(changed), 'certificate.json': stored })]);
  assert.equal(other.code, 3);
  assert.match(other.stdout, /weights DIFFER from .*certificate\.json/);
});

test('exit 3 when certificate.json is missing, not JSON, or claims another verdict for the same weights', async () => {
  const missing = await verify([SPEC, runDir('no-cert', { 'network.json': JSON.stringify(affineOnTriangle()) })]);
  assert.equal(missing.code, 3);
  assert.match(missing.stdout, /no certificate\.json .*cannot be checked/);
  const garbled = await verify([
    SPEC,
    runDir('garbled', { 'network.json': JSON.stringify(affineOnTriangle()), 'certificate.json': '{"proved": tr' }),
  ]);
  assert.equal(garbled.code, 3);
  assert.match(garbled.stdout, /certificate\.json is not JSON/);
  // A network that is not proved, whose certificate was edited to say it is.
  const forged = wholeRun('forged', affineOnTriangle(0.5), (c) => {
    c.proved = true;
    for (const r of c.regions as { status: string }[]) r.status = 'proved';
  });
  const result = await verify([SPEC, forged]);
  assert.equal(result.code, 3);
  assert.match(result.stdout, /its verdicts DIFFER from the recomputed ones/);
});

test('exit 1 with a message naming the file for bad input', async () => {
  const missing = await verify([SPEC, join(root, 'nowhere')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /run folder .*nowhere does not exist/);

  const malformed = await verify([SPEC, runDir('malformed', { 'network.json': '{"format": "police-network/1", ' })]);
  assert.equal(malformed.code, 1);
  assert.match(malformed.stderr, /cannot read .*malformed\/network\.json/);

  const bad = affineOnTriangle();
  bad.layers[1].weights = [[1, 2, 3]];
  const shape = await verify([SPEC, runDir('shape', { 'network.json': JSON.stringify(bad) })]);
  assert.equal(shape.code, 1);
  assert.match(shape.stderr, /layers\[1\]\.weights\[0\] has 3 entries, expected 2/);

  const badStep = await verify([SPEC, runDir('step', { 'network.json': JSON.stringify({ ...affineOnTriangle(), step: 'last' }) })]);
  assert.equal(badStep.code, 1);
  assert.match(badStep.stderr, /step must be a non-negative integer/);

  const wide = { ...affineOnTriangle(), input_dim: 3 };
  wide.layers[0].weights = [
    [1, 0, 0],
    [0, 1, 0],
  ];
  const dims = await verify([SPEC, runDir('dims', { 'network.json': JSON.stringify(wide) })]);
  assert.equal(dims.code, 1);
  assert.match(dims.stderr, /input_dim 3 but spec 'verify-triangle' has input\.dim 2/);

  const specPath = join(root, 'broken.police.json');
  writeFileSync(specPath, '{ "name": "broken", "input": { "dim": 2 }, "model": 7 }');
  const spec = await verify([specPath, runDir('proved', { 'network.json': JSON.stringify(affineOnTriangle()) })]);
  assert.equal(spec.code, 1);
  assert.match(spec.stderr, /broken\.police\.json:1:\d+: error:/);
  assert.doesNotMatch(spec.stderr, /\n\s+at /, 'no stack trace');

  const usage = await verify([SPEC]);
  assert.equal(usage.code, 1);
  assert.match(usage.stderr, /usage: police verify SPEC DIR/);
});

test('the real command line exits with the same codes', () => {
  const proved = wholeRun('cli-proved', affineOnTriangle());
  const crossed = wholeRun('cli-crossed', affineOnTriangle(0.5));
  const bare = runDir('cli-bare', { 'network.json': JSON.stringify(affineOnTriangle()) });
  const run = (dir: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'extension/cli/main.ts', 'verify', SPEC, dir], { encoding: 'utf8' });
  assert.equal(run(proved).status, 0);
  assert.equal(run(crossed).status, 2);
  assert.equal(run(bare).status, 3);
});
