// The one safe-read module: regular files only, a size limit checked before and during the read, paths confined after realpath.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  checkRegularFile,
  confinedPath,
  readTextLimited,
  readTextLimitedAsync,
  readTextTailAsync,
  SafeReadError,
} from '../../extension/police/io/safe-read';

const dir = mkdtempSync(join(tmpdir(), 'police-safe-read-'));

function reason(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof SafeReadError, `expected a SafeReadError, got ${String(err)}`);
    return err.reason;
  }
  return 'read';
}

test('a regular file within its limit is read; one above it is refused before reading, naming the limit', () => {
  const file = join(dir, 'small.json');
  writeFileSync(file, '{"a": 1}');
  assert.equal(readTextLimited(file, { kind: 'spec' }), '{"a": 1}');
  assert.throws(() => readTextLimited(file, { kind: 'spec', limit: 4 }), /8 bytes, above the 4 bytes limit for a spec/);
});

test('devices, folders, FIFOs and missing files are refused with a reason, without blocking or reading', async () => {
  assert.equal(
    reason(() => readTextLimited('/dev/zero', { kind: 'network' })),
    'not-a-file',
  );
  assert.equal(
    reason(() => readTextLimited(dir, { kind: 'spec' })),
    'not-a-file',
  );
  assert.equal(
    reason(() => readTextLimited(join(dir, 'nope'), { kind: 'spec' })),
    'missing',
  );
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  assert.equal(
    reason(() => readTextLimited(fifo, { kind: 'csv' })),
    'not-a-file',
  );
  await assert.rejects(readTextLimitedAsync(fifo, { kind: 'metrics' }), /not a regular file/);
  const link = join(dir, 'zero-link.json');
  symlinkSync('/dev/zero', link);
  assert.equal(
    reason(() => checkRegularFile(link, { kind: 'network' })),
    'not-a-file',
  );
  await assert.rejects(readTextTailAsync(link, 1024), /not a regular file/);
});

test('a file that reports size 0 but is endless or long (/proc) is cut at the limit', () => {
  assert.equal(
    reason(() => readTextLimited('/proc/self/maps', { kind: 'spec', limit: 16 })),
    'too-large',
  );
});

test('confinedPath resolves symbolic links and refuses what lies outside the roots, unless anywhere', () => {
  const root = join(dir, 'project');
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(join(root, 'data', 'a.csv'), 'x,y\n1,2\n');
  writeFileSync(join(dir, 'secret.csv'), 'token\n');
  symlinkSync(join(dir, 'secret.csv'), join(root, 'data', 'link.csv'));
  assert.equal(confinedPath(join(root, 'data', 'a.csv'), { folders: [root] }, '--allow'), join(root, 'data', 'a.csv'));
  assert.throws(
    () => confinedPath(join(root, 'data', 'link.csv'), { folders: [root] }, '--allow'),
    /outside .*resolves to .*secret\.csv.*--allow/,
  );
  assert.throws(() => confinedPath(join(root, '..', 'secret.csv'), { folders: [root] }, '--allow'), /outside/);
  assert.equal(confinedPath(join(root, 'data', 'link.csv'), { anywhere: true }, '--allow'), join(dir, 'secret.csv'));
});
