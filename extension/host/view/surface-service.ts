// Runs surface/partition jobs in a worker thread: one at a time, latest request wins, at most `rateHz` per second.
import { Worker } from 'node:worker_threads';
import type { ResolvedSpec } from '../../police/spec/types';
import { MessageChannel } from '../../protocol/channel';
import type { HostToWorker, SurfaceRequest, ViewCellMap, ViewShowData, ViewSurface, WorkerToHost } from '../../protocol/messages';

export interface SurfaceServiceEvents {
  onSurface(surface: ViewSurface): void;
  onCellMap(answer: ViewCellMap): void;
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
  private readonly channel = new MessageChannel<HostToWorker, WorkerToHost>(
    (job) => this.ensureWorker().postMessage(job),
    {
      surface: (message) => {
        this.busy = false;
        this.events.onSurface(message.surface);
        this.pump();
      },
      data: (message) => this.events.onData(message.data),
      cellMap: ({ surfaceId, cell, map }) => this.events.onCellMap({ type: 'cellMap', surfaceId, cell, map }),
      failure: (message) => {
        if (message.id === this.surfaceJobId) this.busy = false;
        this.events.onError(message.message);
        this.pump();
      },
    },
    (raw, reason) => this.events.onError(`view worker sent an unexpected message (${reason}): ${JSON.stringify(raw)?.slice(0, 200)}`),
  );

  constructor(
    private readonly workerPath: string,
    private readonly events: SurfaceServiceEvents,
    public rateHz: number,
  ) {}

  /** Start the worker thread now (when the panel opens) so its start-up overlaps the webview's; resolves when it runs. */
  start(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    let worker: Worker;
    try {
      worker = this.ensureWorker();
    } catch (error) {
      this.reportStartFailure(error);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      worker.once('online', () => resolve());
      worker.once('exit', () => resolve());
    });
  }

  /** Ask for a surface; intermediate requests made while one runs are dropped for the newest. */
  requestSurface(request: SurfaceRequest, immediate = false): void {
    this.pending = request;
    if (immediate) this.lastStart = 0;
    this.pump();
  }

  /** Ask for one cell's input-space map in surface `surfaceId` (answered only while that surface is the latest). */
  requestCellMap(surfaceId: number, cell: number): void {
    this.post({ type: 'cellMap', id: this.nextId++, surfaceId, cell });
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
      this.channel.send(job);
    } catch (error) {
      // A missing or broken worker bundle must not take the extension host down.
      if (job.type === 'surface') this.busy = false;
      this.reportStartFailure(error);
    }
  }

  private reportStartFailure(error: unknown): void {
    this.events.onError(`view worker ${this.workerPath} could not start: ${error instanceof Error ? error.message : String(error)}`);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerPath);
    worker.on('message', (message: unknown) => this.channel.receive(message));
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
}
