// Worker thread: partition + surface sampling + data subsample, so the extension host never stalls.
import { parentPort } from 'node:worker_threads';
import type { FoldedNetwork } from '../../police/network/network';
import { cellInputMap, type Partition } from '../../police/partition/partition';
import { MessageChannel } from '../../protocol/channel';
import type { HostToWorker, WorkerToHost } from '../../protocol/messages';
import { buildSurface } from './surface';
import { partitionOnPlane } from './partition-adapter';
import { subsampleData } from './data-sample';

/**
 * The partitions of the last two surfaces whose cells went to the view, newest last: an ask about the surface on
 * screen can arrive after the next surface's job (the worker runs one message at a time).
 */
const kept: { surfaceId: number; network: FoldedNetwork; partition: Partition }[] = [];
const KEPT_SURFACES = 2;

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
        if (partition && surface.cells.count > 0) kept.push({ surfaceId: job.id, network: job.request.network, partition });
        if (kept.length > KEPT_SURFACES) kept.shift();
        return { type: 'surface', id: job.id, surface };
      }),
    cellMap: (job) =>
      guarded(job.id, () => {
        const { surfaceId, cell } = job;
        const held = kept.find((entry) => entry.surfaceId === surfaceId);
        // A surface replaced twice since: the view is about to show a newer one and will ask there.
        if (!held) return { type: 'cellMap', id: job.id, surfaceId, cell, map: null };
        if (!Number.isInteger(cell) || cell < 0 || cell >= held.partition.cellCount)
          throw new Error(`no cell ${cell} in surface ${surfaceId}`);
        return { type: 'cellMap', id: job.id, surfaceId, cell, map: cellInputMap(held.network, held.partition, cell) };
      }),
    data: (job) => guarded(job.id, () => ({ type: 'data', id: job.id, data: subsampleData(job.spec, job.maxPoints) })),
  },
  (raw, reason) =>
    channel.send({ type: 'failure', id: -1, message: `view worker ignored a message (${reason}): ${JSON.stringify(raw)?.slice(0, 200)}` }),
);

parentPort?.on('message', (message: unknown) => channel.receive(message));
