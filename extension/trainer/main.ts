// Child-process entry: receives HostToTrainer messages over IPC and streams TrainerToHost events.
import { existsSync } from 'node:fs';
import { MessageChannel } from '../protocol/channel';
import type { HostToTrainer, StartTraining, TrainerToHost } from '../protocol/messages';
import { validateSpecText } from '../police/spec/parse';
import { finishRun, runRecord } from '../police/io/run-folder';
import { initBackend } from '../police/training/backend';
import { train, trainingWorkload } from '../police/training/train';

let running = false;
let stopRequested = false;

// The same typed channel as the host's end: a handler per HostToTrainer type, checked at compile time.
const channel = new MessageChannel<TrainerToHost, HostToTrainer>(
  (message) => process.send?.(message),
  {
    start: (message) => void start(message),
    stop: () => {
      stopRequested = true;
      if (!running) send({ type: 'stopped', step: 0 });
    },
  },
  (raw, reason) =>
    send({ type: 'log', level: 'warn', message: `trainer ignored a message (${reason}): ${JSON.stringify(raw)?.slice(0, 200)}` }),
);

function send(message: TrainerToHost): void {
  channel.send(message);
}

function describe(err: unknown): { message: string; detail?: string } {
  if (err instanceof Error) return { message: err.message, ...(err.stack ? { detail: err.stack } : {}) };
  return { message: String(err) };
}

async function start(request: StartTraining): Promise<void> {
  if (running) {
    send({ type: 'error', message: `${request.specPath}: a training is already running in this trainer process` });
    return;
  }
  running = true;
  stopRequested = false;
  try {
    const { spec, problems } = validateSpecText(request.specText, request.specPath, request.dataAccess);
    const errors = problems.filter((p) => p.severity === 'error');
    if (!spec || errors.length > 0) {
      const first = errors[0] ?? problems[0];
      const where = first ? `:${first.range.start.line + 1}:${first.range.start.character + 1}` : '';
      send({
        type: 'error',
        message: `${request.specPath}${where}: the spec is not valid (${errors.length} error${errors.length === 1 ? '' : 's'}): ${first?.message ?? 'no spec'}`,
        detail: problems.map((p) => `${p.range.start.line + 1}:${p.range.start.character + 1} ${p.severity}: ${p.message}`).join('\n'),
      });
      return;
    }
    if (existsSync(request.runDir)) {
      send({ type: 'error', message: `${request.specPath}: run folder ${request.runDir} already exists; runs are never overwritten` });
      return;
    }
    const threads = request.wasmThreads !== undefined ? { wasmThreads: request.wasmThreads } : {};
    const choice = await initBackend(request.backend, trainingWorkload(spec), threads);
    send({ type: 'ready', backend: choice.backend, reason: choice.reason });
    for (const note of choice.notes) send({ type: 'log', level: 'warn', message: note });
    const result = await train(spec, {
      ...(request.steps !== undefined ? { steps: request.steps } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      backend: request.backend,
      ...threads,
      progressIntervalMs: request.progressIntervalMs,
      ...(request.snapshotIntervalMs !== undefined ? { snapshotIntervalMs: request.snapshotIntervalMs } : {}),
      onProgress: (p) =>
        send({
          type: 'progress',
          step: p.step,
          totalSteps: p.totalSteps,
          loss: p.loss,
          logged: p.logged,
          health: p.health,
          elapsedMs: p.elapsedMs,
        }),
      onSnapshot: (step, network) => send({ type: 'snapshot', step, network }),
      shouldStop: () => stopRequested,
      // From here on the run is kept: the host must not kill us for a Stop while we certify and write.
      onLastStep: (step) => send({ type: 'finishing', step }),
      onLog: (level, message) => send({ type: 'log', level, message }),
    });
    if (result.stopped) {
      send({ type: 'stopped', step: result.stepsDone });
      return;
    }
    send({
      type: 'log',
      level: 'info',
      message: `${spec.name}: ${result.stepsDone} steps on ${result.backend}, certifying and writing ${request.runDir}`,
    });
    const certificate = await finishRun(spec, request.specText, result, request.runDir);
    const sideFlips = result.health.reduce((n, h) => n + h.sideFlips, 0);
    send({ type: 'done', runDir: request.runDir, certificate, record: runRecord(result), sideFlips });
  } catch (err) {
    const { message, detail } = describe(err);
    send({ type: 'error', message: `training ${request.specPath} failed: ${message}`, ...(detail ? { detail } : {}) });
  } finally {
    running = false;
  }
}

process.on('message', (message: unknown) => channel.receive(message));
// The host owns our lifetime: when the channel closes, leave.
process.on('disconnect', () => process.exit(0));
// A terminal's Ctrl+C reaches the whole process group: the parent turns it into 'stop' (or a kill), so a run being written is kept.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('uncaughtException', (err) => {
  send({ type: 'error', message: `trainer crashed: ${err.message}`, ...(err.stack ? { detail: err.stack } : {}) });
  process.exit(1);
});
