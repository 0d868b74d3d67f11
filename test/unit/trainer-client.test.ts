// The trainer client (the editor's and the CLI's) against small stand-in trainer scripts: how each way a training can end is reported.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { StartTraining, TrainerToHost } from '../../extension/protocol/messages';
import { tempRunDir } from '../../extension/police/io/run-files';
import { STOP_GRACE_MS, TrainerClient, type TrainingOutcome } from '../../extension/trainer/client';

const dir = mkdtempSync(join(tmpdir(), 'police-trainer-client-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const path = join(dir, `${name}.js`);
  writeFileSync(path, body);
  return path;
}

const start: StartTraining = {
  type: 'start',
  specPath: '/w/wave.police.json',
  specText: '{}',
  runDir: '/w/.police/runs/wave/1',
  backend: 'cpu',
  progressIntervalMs: 10,
};

/** Runs a stand-in trainer; with `stopOn`, the user presses Stop (or `how` = 'kill': a second Ctrl+C) when that event first arrives. */
function train(
  path: string,
  stopOn?: 'progress' | 'finishing',
  how: 'stop' | 'kill' = 'stop',
  startMessage: StartTraining = start,
): Promise<{ outcome: TrainingOutcome; messages: TrainerToHost[]; logs: string[] }> {
  return new Promise((resolve) => {
    const messages: TrainerToHost[] = [];
    const logs: string[] = [];
    let outcome: TrainingOutcome | undefined;
    const press = (): void => void (how === 'kill' ? client.kill() : client.stop());
    const client: TrainerClient = new TrainerClient(path, startMessage, {
      message: (m) => messages.push(m),
      ready: () => undefined,
      progress: () => {
        if (stopOn === 'progress') press();
      },
      snapshot: () => undefined,
      finishing: () => {
        if (stopOn === 'finishing') press();
      },
      log: (level, message) => logs.push(`${level}: ${message}`),
      ended: (o) => {
        outcome = o;
      },
    });
    void client.exited.then(() => resolve({ outcome: outcome as TrainingOutcome, messages, logs }));
  });
}

test('a trainer that finishes reports done with its certificate, and the typed stream in order', async () => {
  const path = script(
    'done',
    `process.on('message', (m) => {
      if (m.type !== 'start') return;
      process.send({ type: 'ready', backend: 'cpu' });
      process.send({ type: 'progress', step: 1, totalSteps: 1, loss: 0.5, logged: { steps: [1], losses: [0.5], elapsedMs: [1] }, health: [], elapsedMs: 1 });
      process.send({ type: 'done', runDir: m.runDir, record: { format: 'police-run/1', fullDataLoss: 0.5, stepsDone: 1, totalSteps: 1, keptStep: 1, elapsedMs: 1, backend: 'cpu' }, certificate: { proved: true } });
    });`,
  );
  const { outcome, messages } = await train(path);
  assert.equal(outcome.kind, 'done');
  assert.equal(outcome.kind === 'done' && outcome.done.runDir, start.runDir);
  assert.deepEqual(
    messages.map((m) => m.type),
    ['ready', 'progress', 'done'],
  );
});

test('stop is prompt: a trainer that ignores it is killed and reported as stopped', async () => {
  const path = script(
    'deaf',
    `process.on('message', (m) => {
      if (m.type === 'start') setInterval(() => process.send({ type: 'progress', step: 1, totalSteps: 9, loss: 1, logged: { steps: [], losses: [], elapsedMs: [] }, health: [], elapsedMs: 1 }), 20);
    });`,
  );
  const { outcome } = await train(path, 'progress');
  assert.deepEqual(outcome, { kind: 'stopped', step: 1, killed: true });
});

test('a trainer that acknowledges stop is reported as stopped, not killed', async () => {
  const path = script(
    'polite',
    `process.on('message', (m) => {
      if (m.type === 'start') process.send({ type: 'progress', step: 3, totalSteps: 9, loss: 1, logged: { steps: [], losses: [], elapsedMs: [] }, health: [], elapsedMs: 1 });
      if (m.type === 'stop') { process.send({ type: 'stopped', step: 3 }); process.exit(0); }
    });`,
  );
  const { outcome } = await train(path, 'progress');
  assert.deepEqual(outcome, { kind: 'stopped', step: 3, killed: false });
});

test('a crash is reported with the exit code and the last line the trainer printed', async () => {
  const path = script('crash', `process.on('message', () => { console.error('Aborted(): wasm heap exhausted'); process.exit(7); });`);
  const { outcome, logs } = await train(path);
  assert.equal(outcome.kind, 'crashed');
  assert.match(outcome.kind === 'crashed' ? outcome.message : '', /exited with code 7: Aborted\(\): wasm heap exhausted/);
  assert.ok(logs.some((l) => l.startsWith('error: ') && l.includes('wasm heap exhausted')));
});

test('an error message from the trainer ends the training with its text', async () => {
  const path = script(
    'error',
    `process.on('message', () => process.send({ type: 'error', message: "data.csv.path: 'x.csv' not found" }));`,
  );
  const { outcome } = await train(path);
  assert.deepEqual(outcome, { kind: 'error', message: "data.csv.path: 'x.csv' not found", detail: undefined });
});

// Certifying and writing a big network can take longer than STOP_GRACE_MS; the finished training must not be thrown away.
const SLOW_WRITER = `process.on('message', (m) => {
  if (m.type !== 'start') return;
  process.send({ type: 'progress', step: 9, totalSteps: 9, loss: 1, logged: { steps: [], losses: [], elapsedMs: [] }, health: [], elapsedMs: 1 });
  setTimeout(() => process.send({ type: 'finishing', step: 9 }), ${STOP_GRACE_MS / 5});
  setTimeout(() => process.send({ type: 'done', runDir: m.runDir, record: { format: 'police-run/1', fullDataLoss: 1, stepsDone: 9, totalSteps: 9, keptStep: 9, elapsedMs: 1, backend: 'cpu' }, certificate: { proved: true } }), ${STOP_GRACE_MS} * 1.5 + 700);
});`;

test('a Stop once the trainer is certifying and writing keeps the run: no kill, the outcome is done', async () => {
  const { outcome, messages } = await train(script('slow-writer', SLOW_WRITER), 'finishing');
  assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
  assert.deepEqual(
    messages.map((m) => m.type),
    ['progress', 'finishing', 'done'],
  );
});

test('a Stop that crosses the finishing message (trainer past its loop) does not kill the trainer while it writes', async () => {
  const { outcome } = await train(script('slow-writer-crossed', SLOW_WRITER), 'progress');
  assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
});

test('a trainer that dies while writing, after a Stop it could no longer act on, is reported as a crash, not a stop', async () => {
  const path = script(
    'dies-writing',
    `process.on('message', (m) => {
      if (m.type !== 'start') return;
      process.send({ type: 'progress', step: 9, totalSteps: 9, loss: 1, logged: { steps: [], losses: [], elapsedMs: [] }, health: [], elapsedMs: 1 });
      process.send({ type: 'finishing', step: 9 });
      setTimeout(() => { console.error('RangeError: out of memory'); process.exit(3); }, 200);
    });`,
  );
  const { outcome } = await train(path, 'finishing');
  assert.equal(outcome.kind, 'crashed', JSON.stringify(outcome));
  assert.match(outcome.kind === 'crashed' ? outcome.message : '', /exited with code 3: RangeError: out of memory/);
});

test('a kill while the trainer writes its run (a second Ctrl+C) is a stop, and the half-written folder it left is removed', async () => {
  const parent = join(dir, 'runs', 'wave');
  mkdirSync(parent, { recursive: true });
  const runDir = join(parent, '1');
  const path = script(
    'killed-writing',
    `const { mkdirSync, writeFileSync } = require('node:fs');
    process.on('message', (m) => {
      if (m.type !== 'start') return;
      const temp = process.env.POLICE_TEST_TEMP_PREFIX + process.pid;
      mkdirSync(temp);
      writeFileSync(temp + '/network.json', '{');
      process.send({ type: 'finishing', step: 9 });
      setInterval(() => undefined, 1000);
    });`,
  );
  // The stand-in writes where a real trainer would: tempRunDir(runDir, its pid).
  process.env.POLICE_TEST_TEMP_PREFIX = tempRunDir(runDir, 0).slice(0, -1);
  let seenWhileWriting: string[] = [];
  const outcome = await new Promise<TrainingOutcome>((resolve) => {
    let ended: TrainingOutcome | undefined;
    const client: TrainerClient = new TrainerClient(
      path,
      { ...start, runDir },
      {
        message: () => undefined,
        ready: () => undefined,
        progress: () => undefined,
        snapshot: () => undefined,
        finishing: () => {
          seenWhileWriting = readdirSync(parent);
          void client.kill();
        },
        log: () => undefined,
        ended: (o) => {
          ended = o;
        },
      },
    );
    void client.exited.then(() => resolve(ended as TrainingOutcome));
  });
  delete process.env.POLICE_TEST_TEMP_PREFIX;
  assert.deepEqual(outcome, { kind: 'stopped', step: 9, killed: true });
  assert.equal(seenWhileWriting.length, 1, 'the trainer had a temp folder when it was killed');
  assert.deepEqual(readdirSync(parent), [], 'no run folder and no temp folder are left');
});
