// Worker thread: partition + surface sampling + data subsample, so the extension host never stalls.
import { parentPort } from 'node:worker_threads';
import { MessageChannel } from '../../protocol/channel';
import type { HostToWorker, WorkerToHost } from '../../protocol/messages';
import { buildSurface } from './surface';
import { partitionOnPlane } from './partition-adapter';
import { subsampleData } from './data-sample';

/** Runs one job; a failure goes back to the host with the job's id instead of killing the thread. */
function guarded(id: number, work: () => WorkerToHost): void {
  try {
    channel.send(work());
  } catch (error) {
    channel.send({ type: 'failure', id, message: error instanceof Error ? error.message : String(error) });
  }
}

const channel = new MessageChannel<WorkerToHost, HostToWorker>(
  (message) => parentPort?.postMessage(message),
  {
    surface: (job) =>
      guarded(job.id, () => {
        const started = performance.now();
        const { partition, error } = partitionOnPlane(job.request.network, job.request.plane, job.request.window);
        const partitionMs = performance.now() - started;
        return { type: 'surface', id: job.id, surface: buildSurface(job.request, partition, partitionMs, error) };
      }),
    data: (job) => guarded(job.id, () => ({ type: 'data', id: job.id, data: subsampleData(job.spec, job.maxPoints) })),
  },
  (raw, reason) => channel.send({ type: 'failure', id: -1, message: `view worker ignored a message (${reason}): ${JSON.stringify(raw)?.slice(0, 200)}` }),
);

parentPort?.on('message', (message: unknown) => channel.receive(message));
