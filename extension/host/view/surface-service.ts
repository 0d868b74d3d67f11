// Runs surface/partition jobs in a worker thread: one at a time, latest request wins, at most `rateHz` per second.
import { Worker } from 'node:worker_threads';
import type { ResolvedSpec } from '../../police/spec';
import type { ViewShowData, ViewSurface } from '../../protocol/messages';
import type { SurfaceRequest } from './surface';
import type { HostToWorker, WorkerToHost } from './worker-protocol';

export interface SurfaceServiceEvents {
  onSurface(surface: ViewSurface): void;
  onData(data: ViewShowData): void;
  onError(message: string): void;
}

export class SurfaceService {
  private worker: Worker | undefined;
  private nextId = 1;
  private busy = false;
  private surfaceJobId = 0;
  private pending: SurfaceRequest | undefined;
  private lastStart = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly workerPath: string,
    private readonly events: SurfaceServiceEvents,
    public rateHz: number,
  ) {}

  /** Ask for a surface; intermediate requests made while one runs are dropped for the newest. */
  requestSurface(request: SurfaceRequest, immediate = false): void {
    this.pending = request;
    if (immediate) this.lastStart = 0;
    this.pump();
  }

  requestData(spec: ResolvedSpec, maxPoints: number): void {
    this.post({ type: 'data', id: this.nextId++, spec, maxPoints });
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private pump(): void {
    if (this.disposed || this.busy || !this.pending || this.timer) return;
    const minGap = 1000 / Math.max(0.1, this.rateHz);
    const wait = this.lastStart + minGap - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const request = this.pending;
    this.pending = undefined;
    this.busy = true;
    this.lastStart = Date.now();
    this.surfaceJobId = this.nextId++;
    this.post({ type: 'surface', id: this.surfaceJobId, request });
  }

  private post(job: HostToWorker): void {
    if (this.disposed) return;
    try {
      this.ensureWorker().postMessage(job);
    } catch (error) {
      // A missing or broken worker bundle must not take the extension host down.
      if (job.type === 'surface') this.busy = false;
      this.events.onError(`view worker ${this.workerPath} could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerPath);
    worker.on('message', (message: WorkerToHost) => this.onMessage(message));
    worker.on('error', (error) => {
      this.events.onError(`view worker ${this.workerPath} failed: ${error.message}`);
      this.worker = undefined;
      this.busy = false;
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.busy = false;
    });
    this.worker = worker;
    return worker;
  }

  private onMessage(message: WorkerToHost): void {
    switch (message.type) {
      case 'surface':
        this.busy = false;
        this.events.onSurface(message.surface);
        this.pump();
        break;
      case 'data':
        this.events.onData(message.data);
        break;
      case 'failure':
        if (message.id === this.surfaceJobId) this.busy = false;
        this.events.onError(message.message);
        this.pump();
        break;
    }
  }
}
