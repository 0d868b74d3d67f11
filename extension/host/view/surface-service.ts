// Runs surface/partition jobs in a worker thread: one at a time, latest request wins, at most `rateHz` per second.
import { Worker } from 'node:worker_threads';
import type { ResolvedSpec } from '../../police/spec/types';
import { MessageChannel, NoReplyError } from '../../protocol/channel';
import type { CellInputMap, HostToWorker, SurfaceRequest, ViewShowData, ViewSurface, WorkerToHost } from '../../protocol/messages';
import { Disposable, toDisposable } from '../dispose';

export interface SurfaceServiceEvents {
  onSurface(surface: ViewSurface): void;
  onData(data: ViewShowData): void;
  onError(message: string): void;
}

export class SurfaceService extends Disposable {
  private worker: Worker | undefined;
  private busy = false;
  private pending: SurfaceRequest | undefined;
  /** No surface job starts before this time (ms since the epoch): the worker rests after each job. */
  private restUntil = 0;
  /** The pending request skips the rest (a new spec or plane: the user waits for it). */
  private skipRest = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  // Every job is a request: its reply (or failure) settles the promise the job's caller holds.
  private readonly channel = new MessageChannel<HostToWorker, WorkerToHost>(
    (job) => this.ensureWorker().postMessage(job),
    {},
    (raw, reason) => this.events.onError(`view worker sent an unexpected message (${reason}): ${JSON.stringify(raw)?.slice(0, 200)}`),
  );

  constructor(
    private readonly workerPath: string,
    private readonly events: SurfaceServiceEvents,
    public rateHz: number,
  ) {
    super();
    this._register(
      toDisposable(() => {
        clearTimeout(this.timer);
        this.channel.close('the view is closed');
        void this.worker?.terminate();
        this.worker = undefined;
      }),
    );
  }

  /** Start the worker thread now (when the panel opens) so its start-up overlaps the webview's; resolves when it runs. */
  start(): Promise<void> {
    if (this.isDisposed) return Promise.resolve();
    const worker = this.startWorker();
    if (!worker) return Promise.resolve();
    return new Promise((resolve) => {
      worker.once('online', () => resolve());
      worker.once('exit', () => resolve());
    });
  }

  /** Ask for a surface; intermediate requests made while one runs are dropped for the newest. */
  requestSurface(request: SurfaceRequest, immediate = false): void {
    this.pending = request;
    if (immediate) {
      this.skipRest = true;
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pump();
  }

  /**
   * Which cell of surface `surfaceId` holds plane point (u, v), and its input-space map: cell −1 and map null when
   * the point is outside the window or the worker no longer holds that surface; rejects when the worker is gone.
   */
  async requestCell(surfaceId: number, u: number, v: number): Promise<{ cell: number; map: CellInputMap | null }> {
    if (!this.startWorker()) throw new Error('the view worker is not running');
    const { cell, map } = await this.channel.request('locate', { surfaceId, u, v });
    return { cell, map };
  }

  requestData(spec: ResolvedSpec, maxPoints: number): void {
    if (this.isDisposed || !this.startWorker()) return;
    this.channel.request('data', { spec, maxPoints }).then(
      (reply) => this.events.onData(reply.data),
      (error: Error) => this.reportJobFailure(error),
    );
  }

  private pump(): void {
    if (this.isDisposed || this.busy || !this.pending || this.timer) return;
    const wait = this.skipRest ? 0 : this.restUntil - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      return;
    }
    if (!this.startWorker()) return;
    const request = this.pending;
    this.pending = undefined;
    this.skipRest = false;
    this.busy = true;
    // The job's own start, not a field an immediate request may reset meanwhile (that left a rest of decades: a stall).
    const started = Date.now();
    this.channel
      .request('surface', { request })
      .then(
        (reply) => this.events.onSurface(reply.surface),
        (error: Error) => this.reportJobFailure(error),
      )
      .finally(() => {
        // The worker rests as long as its job took (at most half a core for live refreshes), and keeps to rateHz.
        const took = Date.now() - started;
        this.restUntil = started + Math.max(1000 / Math.max(0.1, this.rateHz), 2 * took);
        this.busy = false;
        this.pump();
      });
  }

  private reportJobFailure(error: Error): void {
    // A job lost with its worker was reported as the worker's failure (or the view closed): one message, not one per job.
    if (!this.isDisposed && !(error instanceof NoReplyError)) this.events.onError(error.message);
  }

  /** The running worker, started if needed; undefined (and the error reported) when it cannot start. */
  private startWorker(): Worker | undefined {
    if (this.isDisposed) return undefined;
    try {
      return this.ensureWorker();
    } catch (error) {
      // A missing or broken worker bundle must not take the extension host down.
      this.events.onError(`view worker ${this.workerPath} could not start: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerPath);
    worker.on('message', (message: unknown) => this.channel.receive(message));
    // Jobs in flight die with their worker; a newer worker (started after an error) holds newer jobs.
    const lost = (reason: string) => {
      if (this.worker !== worker && this.worker !== undefined) return;
      this.worker = undefined;
      this.channel.rejectPending(reason);
    };
    worker.on('error', (error) => {
      this.events.onError(`view worker ${this.workerPath} failed: ${error.message}`);
      lost(`the view worker failed: ${error.message}`);
    });
    worker.on('exit', (code) => lost(`the view worker exited (code ${code})`));
    this.worker = worker;
    return worker;
  }
}
