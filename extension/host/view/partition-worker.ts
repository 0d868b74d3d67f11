// Worker thread: partition + surface sampling + data subsample, so the extension host never stalls.
import { parentPort } from 'node:worker_threads';
import { assertNever } from '../../protocol/messages';
import { buildSurface } from './surface';
import { partitionOnPlane } from './partition-adapter';
import { subsampleData } from './data-sample';
import type { HostToWorker, WorkerToHost } from './worker-protocol';

function reply(message: WorkerToHost): void {
  parentPort?.postMessage(message);
}

parentPort?.on('message', (job: HostToWorker) => {
  try {
    switch (job.type) {
      case 'surface': {
        const started = performance.now();
        const { cells, drawable, error } = partitionOnPlane(job.request.network, job.request.plane, job.request.window);
        const partitionMs = performance.now() - started;
        reply({ type: 'surface', id: job.id, surface: buildSurface(job.request, cells, partitionMs, error, drawable) });
        break;
      }
      case 'data':
        reply({ type: 'data', id: job.id, data: subsampleData(job.spec, job.maxPoints) });
        break;
      default:
        assertNever(job);
    }
  } catch (error) {
    reply({ type: 'failure', id: job.id, message: error instanceof Error ? error.message : String(error) });
  }
});
