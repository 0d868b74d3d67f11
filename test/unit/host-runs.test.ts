// Run folders as the Runs view and the commands see them: naming, listing, summaries, cleanup after a stop.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  describeRun,
  listRuns,
  newRunDir,
  removeLeftovers,
  removeWriterTempFiles,
  specNameFromPath,
} from '../../extension/host/run-folders';

const root = mkdtempSync(join(tmpdir(), 'police-host-runs-'));
after(() => rmSync(root, { recursive: true, force: true }));

function writeRun(dir: string, options: { proved?: boolean; metrics?: string; certificate?: string }): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'network.json'), '{}');
  if (options.certificate !== undefined) writeFileSync(join(dir, 'certificate.json'), options.certificate);
  else if (options.proved !== undefined) {
    writeFileSync(
      join(dir, 'certificate.json'),
      JSON.stringify({ proved: options.proved, regions: [{ status: options.proved ? 'proved' : 'not-proved' }] }),
    );
  }
  if (options.metrics !== undefined) writeFileSync(join(dir, 'metrics.jsonl'), options.metrics);
}

test('a spec file name becomes a safe folder name', () => {
  assert.equal(specNameFromPath('/w/fig2-wave-triangle.police.json'), 'fig2-wave-triangle');
  assert.equal(specNameFromPath('/w/my spec:1.police.json'), 'my_spec_1');
});

test('run folders are named by start time and never collide', () => {
  const now = new Date('2026-11-22T10:15:03.123Z');
  const first = newRunDir(join(root, 'collide'), '/w/a.police.json', now);
  assert.equal(first, join(root, 'collide', 'a', '2026-11-22T10-15-03-123Z'));
  mkdirSync(first, { recursive: true });
  assert.equal(newRunDir(join(root, 'collide'), '/w/a.police.json', now), `${first}-2`);
});

test('listing shows whole runs per spec, newest first, with final loss and certificate state; hides temporary folders', async () => {
  const runs = join(root, 'list');
  writeRun(join(runs, 'wave', '2026-01-01T00-00-00-000Z'), { proved: true, metrics: '{"step":1,"loss":0.5}\n{"step":2,"loss":0.25}\n' });
  writeRun(join(runs, 'wave', '2026-01-02T00-00-00-000Z'), { proved: false, metrics: '{"step":1,"loss":0.5}\n{"step":2,"lo' });
  writeRun(join(runs, 'wave', '.2026-01-03T00-00-00-000Z.tmp'), { proved: true });
  writeRun(join(runs, 'moons', '2026-01-01T00-00-00-000Z'), { certificate: '{not json' });
  const listed = await listRuns(runs);
  assert.deepEqual([...listed.keys()], ['moons', 'wave']);
  const wave = listed.get('wave') ?? [];
  assert.deepEqual(
    wave.map((r) => [r.id, r.certificate, r.lastBatchLoss]),
    [
      ['2026-01-02T00-00-00-000Z', 'not-proved', 0.5],
      ['2026-01-01T00-00-00-000Z', 'proved', 0.25],
    ],
  );
  // Without summary.json the loss shown is named for what it is: the last logged batch loss.
  assert.equal(describeRun(wave[1]), 'batch loss 0.2500 at step 2 · proved');
  assert.equal(listed.get('moons')?.[0].certificate, 'unreadable');
});

test("a run with summary.json shows its kept network's full-data loss, not a batch loss", async () => {
  const dir = join(root, 'record', 'wave', '2026-01-01T00-00-00-000Z');
  writeRun(dir, { proved: true, metrics: '{"step":800,"loss":0.5}\n' });
  const record = {
    format: 'police-run/1',
    fullDataLoss: 0.01234,
    stepsDone: 800,
    totalSteps: 800,
    keptStep: 704,
    elapsedMs: 5,
    backend: 'wasm',
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(record));
  const [run] = (await listRuns(join(root, 'record'))).get('wave') ?? [];
  assert.equal(run?.record?.keptStep, 704);
  assert.equal(describeRun(run), 'full-data loss 0.01234 · proved');
});

test('a missing runs folder lists nothing instead of failing', async () => {
  assert.equal((await listRuns(join(root, 'does-not-exist'))).size, 0);
});

test("after a stop, the stopped run's temporary sibling is removed and other runs stay", async () => {
  const spec = join(root, 'stop', 'wave');
  const kept = join(spec, '2026-01-01T00-00-00-000Z');
  const stopped = join(spec, '2026-01-02T00-00-00-000Z');
  const sameMillisecond = `${stopped}-2`;
  writeRun(kept, { proved: true });
  writeRun(sameMillisecond, { proved: true });
  mkdirSync(join(spec, `.${'2026-01-02T00-00-00-000Z'}.tmp-1234`), { recursive: true });
  // The stopped run is itself a `-2` sibling: a `-21` run starts with its name but is whole and stays.
  writeRun(`${sameMillisecond}1`, { proved: true });
  const removed = await removeLeftovers(stopped);
  assert.deepEqual(removed, ['.2026-01-02T00-00-00-000Z.tmp-1234']);
  assert.deepEqual(await removeLeftovers(sameMillisecond), [], 'a run whose name extends the stopped one is not a leftover');
  assert.deepEqual(readdirSync(spec).sort(), ['2026-01-01T00-00-00-000Z', '2026-01-02T00-00-00-000Z-2', '2026-01-02T00-00-00-000Z-21']);
  assert.ok(existsSync(join(kept, 'certificate.json')));
});

test('a cancelled analysis: only the files its own process was writing are removed from the run', async () => {
  const run = join(root, 'analyze', 'wave', '2026-01-01T00-00-00-000Z');
  writeRun(run, { proved: true });
  for (const name of ['analysis.json', 'analysis.md.tmp-1234', 'gram-layer-1.png.tmp-1234', 'analysis.json.tmp-11234'])
    writeFileSync(join(run, name), 'x');
  assert.deepEqual((await removeWriterTempFiles(run, 1234)).sort(), ['analysis.md.tmp-1234', 'gram-layer-1.png.tmp-1234']);
  assert.deepEqual(readdirSync(run).sort(), ['analysis.json', 'analysis.json.tmp-11234', 'certificate.json', 'network.json']);
});
