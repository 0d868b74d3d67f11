// The trainer child process over IPC: ready → progress → done with a certificate; stop is prompt and writes nothing; bad specs are named.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { HostToTrainer, StartTraining, TrainerToHost } from '../../extension/protocol/messages';

const root = path.resolve(__dirname, '..', '..');
const work = mkdtempSync(path.join(tmpdir(), 'police-trainer-'));
after(() => rmSync(work, { recursive: true, force: true }));

function spec(steps: number): string {
  return JSON.stringify({
    name: 'ipc-tiny',
    input: {
      dim: 2,
      domain: [
        [-2, 2],
        [-2, 2],
      ],
    },
    model: { layers: [{ units: 8 }, { units: 8 }], output: { units: 1 } },
    regions: [{ name: 'box', box: { min: [-1, -1], max: [1, 1] } }],
    data: { target: 'x0*x1', samples: 128 },
    training: { steps, batch: 64, lr: 0.01, snapshot_every: 5 },
  });
}

function startTrainer(): { child: ChildProcess; messages: TrainerToHost[]; next: (type: TrainerToHost['type']) => Promise<TrainerToHost> } {
  const child = fork(path.join(root, 'extension', 'trainer', 'main.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const messages: TrainerToHost[] = [];
  const waiting: Array<{ type: string; resolve: (m: TrainerToHost) => void }> = [];
  child.on('message', (raw) => {
    const message = raw as TrainerToHost;
    messages.push(message);
    for (const w of waiting.filter((w) => w.type === message.type)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(message);
    }
  });
  const next = (type: TrainerToHost['type']) =>
    new Promise<TrainerToHost>((resolve, reject) => {
      const seen = messages.find((m) => m.type === type);
      if (seen) return resolve(seen);
      waiting.push({ type, resolve });
      child.once('exit', (code) =>
        reject(new Error(`trainer exited (${code}) before '${type}': ${JSON.stringify(messages.filter((m) => m.type === 'error'))}`)),
      );
    });
  return { child, messages, next };
}

function start(runDir: string, steps: number, text = spec(steps)): StartTraining {
  return { type: 'start', specPath: path.join(work, 'ipc.police.json'), specText: text, runDir, backend: 'wasm', progressIntervalMs: 0 };
}

test('a start message trains, streams ready/progress/snapshot and ends with done and a proved certificate', async () => {
  const { child, messages, next } = startTrainer();
  const runDir = path.join(work, 'done-run');
  child.send(start(runDir, 12) satisfies HostToTrainer);
  const done = (await next('done')) as Extract<TrainerToHost, { type: 'done' }>;
  child.disconnect();
  assert.equal(done.certificate.proved, true);
  assert.ok(existsSync(path.join(runDir, 'network.json')));
  const ready = messages.find((m) => m.type === 'ready') as Extract<TrainerToHost, { type: 'ready' }>;
  assert.equal(ready.backend, 'wasm');
  const steps = messages.filter((m) => m.type === 'progress').map((m) => (m as Extract<TrainerToHost, { type: 'progress' }>).step);
  assert.equal(steps.at(-1), 12);
  assert.deepEqual(
    messages.filter((m) => m.type === 'snapshot').map((m) => (m as Extract<TrainerToHost, { type: 'snapshot' }>).step),
    [5, 10],
  );
  assert.ok(messages.indexOf(ready) < messages.findIndex((m) => m.type === 'progress'));
  // After the loop, before the run is written: from then on a Stop no longer kills the trainer.
  const finishing = messages.find((m) => m.type === 'finishing') as Extract<TrainerToHost, { type: 'finishing' }>;
  assert.equal(finishing.step, 12);
  assert.ok(messages.indexOf(finishing) < messages.indexOf(done), 'finishing comes before done');
  // Sent as the last step is taken, before that step's progress: a Stop once N/N shows never kills a finished training.
  const lastProgress = messages.findIndex((m) => m.type === 'progress' && m.step === 12);
  assert.ok(messages.indexOf(finishing) < lastProgress, `finishing at ${messages.indexOf(finishing)}, last progress at ${lastProgress}`);
});

test('stop ends a long training early and leaves no run folder', async (t) => {
  const { child, next } = startTrainer();
  const runDir = path.join(work, 'stopped-run');
  child.send(start(runDir, 1_000_000));
  await next('progress');
  const asked = Date.now();
  child.send({ type: 'stop' } satisfies HostToTrainer);
  const stopped = (await next('stopped')) as Extract<TrainerToHost, { type: 'stopped' }>;
  const took = Date.now() - asked;
  child.disconnect();
  assert.ok(stopped.step > 0);
  // Latency is reported, not asserted (timing belongs to benchmarks).
  t.diagnostic(`stop answered after ${took} ms at step ${stopped.step}`);
  assert.ok(stopped.step < 1_000_000);
  assert.equal(existsSync(runDir), false);
});

test('an invalid spec is answered with an error that names the spec and the problem', async () => {
  const { child, next } = startTrainer();
  child.send(start(path.join(work, 'never'), 5, '{"name": "x", "input": {"dim": 2}, "model": {"layers": []}}'));
  const error = (await next('error')) as Extract<TrainerToHost, { type: 'error' }>;
  child.disconnect();
  assert.match(error.message, /ipc\.police\.json:\d+:\d+: the spec is not valid/);
});
