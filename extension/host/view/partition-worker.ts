// Worker thread: partition + surface sampling + data subsample, so the extension host never stalls.
import { parentPort } from 'node:worker_threads';
import type { FoldedNetwork } from '../../police/network/network';
import { cellAt, cellInputMap, type Partition } from '../../police/partition/partition';
import { MessageChannel } from '../../protocol/channel';
import type { HostToWorker, WorkerToHost } from '../../protocol/messages';
import { buildSurface } from './surface';
import { partitionOnPlane } from './partition-adapter';
import { subsampleData } from './data-sample';

/**
 * The partitions of the last two surfaces, newest last: a hover on the surface on screen can arrive after the next
 * surface's job (the worker runs one message at a time).
 */
const kept: { surfaceId: number; network: FoldedNetwork; partition: Partition }[] = [];
const KEPT_SURFACES = 2;
/** Names each surface's partition for later point-location asks. */
let surfaceCount = 0;

// Every job is a request: its handler's value is the reply; a throw goes back as a ReplyFailure, the thread lives on.
const channel = new MessageChannel<WorkerToHost, HostToWorker>(
  (message) => parentPort?.postMessage(message),
  {
    surface: (job) => {
      const started = performance.now();
      const { partition, error } = partitionOnPlane(
        job.request.network,
        job.request.plane,
        job.request.window,
        job.request.partitionTimeLimitMs,
      );
      const partitionMs = performance.now() - started;
      const surfaceId = ++surfaceCount;
      const surface = buildSurface(job.request, partition, partitionMs, { surfaceId, partitionError: error });
      // Kept only when the view got the cells (it can hover one): a partition it cannot draw would be held for nothing.
      if (partition && surface.cells.count > 0) kept.push({ surfaceId, network: job.request.network, partition });
      if (kept.length > KEPT_SURFACES) kept.shift();
      return { surface };
    },
    locate: ({ surfaceId, u, v }) => {
      const held = kept.find((entry) => entry.surfaceId === surfaceId);
      // A surface replaced twice since: the view is about to show a newer one and will ask there.
      const cell = held && Number.isFinite(u) && Number.isFinite(v) ? cellAt(held.partition, [u, v]) : -1;
      return { cell, map: held && cell >= 0 ? cellInputMap(held.network, held.partition, cell) : null };
    },
    data: async (job) => ({ data: await subsampleData(job.spec, job.maxPoints) }),
  },
  (raw, reason) => console.warn(`view worker ignored a message (${reason}): ${JSON.stringify(raw)?.slice(0, 200)}`),
);

parentPort?.on('message', (message: unknown) => channel.receive(message));
