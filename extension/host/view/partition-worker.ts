// Worker thread: partition + surface sampling + data subsample, so the extension host never stalls.
import { parentPort } from 'node:worker_threads';
import type { FoldedNetwork } from '../../police/network';
import { cellInputMap, type Partition } from '../../police/partition';
import { MessageChannel } from '../../protocol/channel';
import type { HostToWorker, WorkerToHost } from '../../protocol/messages';
import { buildSurface } from './surface';
import { partitionOnPlane } from './partition-adapter';
import { subsampleData } from './data-sample';

/** The latest surface's partition, kept to answer the view's questions about its cells. */
let latest: { surfaceId: number; network: FoldedNetwork; partition: Partition } | undefined;

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
        const surface = buildSurface(job.request, partition, partitionMs, { surfaceId: job.id, partitionError: error });
        // Kept only when the view got the cells (it can hover one): a refused draw would hold tens of MB for nothing.
        latest = partition && surface.cells.count > 0 ? { surfaceId: job.id, network: job.request.network, partition } : undefined;
        return { type: 'surface', id: job.id, surface };
      }),
    cellMap: (job) => {
      // A newer surface replaced the one the view asked about: the view has it or will, and asks again there.
      if (!latest || latest.surfaceId !== job.surfaceId) return;
      guarded(job.id, () => {
        const { network, partition } = latest!;
        if (!Number.isInteger(job.cell) || job.cell < 0 || job.cell >= partition.cellCount) throw new Error(`no cell ${job.cell} in surface ${job.surfaceId}`);
        return { type: 'cellMap', id: job.id, surfaceId: job.surfaceId, cell: job.cell, map: cellInputMap(network, partition, job.cell) };
      });
    },
    data: (job) => guarded(job.id, () => ({ type: 'data', id: job.id, data: subsampleData(job.spec, job.maxPoints) })),
  },
  (raw, reason) => channel.send({ type: 'failure', id: -1, message: `view worker ignored a message (${reason}): ${JSON.stringify(raw)?.slice(0, 200)}` }),
);

parentPort?.on('message', (message: unknown) => channel.receive(message));
