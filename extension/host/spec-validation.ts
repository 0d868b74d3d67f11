// Spec validation for the extension host, run in a worker thread so no spec can block the host's event loop (no 'vscode' import: unit-testable).
import { Worker } from 'node:worker_threads';
import { MessageChannel } from '../protocol/channel';
import type { HostToValidator, ValidatorToHost } from '../protocol/messages';
import type { ValidateOptions, ValidationResult } from '../police/spec/parse';
import type { Problem } from '../police/spec/problems';

/** A validation still running after this long is abandoned (its worker ended and replaced): the spec is reported, not waited for. */
export const VALIDATION_TIME_LIMIT_MS = 10_000;

function failure(message: string): ValidationResult {
  const problem: Problem = {
    message,
    severity: 'error',
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    offset: 0,
    length: 0,
    code: 'internal',
  };
  return { problems: [problem] };
}

interface Pending {
  resolve: (result: ValidationResult) => void;
  timer?: NodeJS.Timeout;
  specPath: string;
}

export class SpecValidator {
  private worker: Worker | undefined;
  /** Resolves once the current worker has started (loading the engine is not the spec's time). */
  private online: Promise<void> = Promise.resolve();
  private channel: MessageChannel<HostToValidator, ValidatorToHost> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private disposed = false;

  constructor(
    private readonly workerPath: string,
    private readonly onError: (message: string) => void = () => undefined,
    private readonly timeLimitMs = VALIDATION_TIME_LIMIT_MS,
  ) {}

  /** The spec's problems, and the resolved spec when valid and `withSpec` (copying it back costs the host time); never rejects. */
  validate(text: string, specPath: string, options: ValidateOptions = {}, withSpec = true): Promise<ValidationResult> {
    if (this.disposed) return Promise.resolve(failure('POLICE is shutting down: the spec was not validated'));
    const id = this.nextId++;
    return new Promise((resolve) => {
      const pending: Pending = { resolve, specPath };
      this.pending.set(id, pending);
      try {
        this.ensureChannel().send({ type: 'validate', id, text, specPath, options, withSpec });
        this.worker?.ref();
      } catch (error) {
        this.settle(id, failure(`POLICE could not validate ${specPath}: ${error instanceof Error ? error.message : String(error)}`));
        return;
      }
      void this.online.then(() => {
        if (!this.pending.has(id)) return;
        // The worker is stuck on this spec: end it, so later validations get a fresh one.
        pending.timer = setTimeout(
          () => this.restart(`validating ${specPath} took more than ${this.timeLimitMs / 1000} s and was stopped`),
          this.timeLimitMs,
        );
      });
    });
  }

  dispose(): void {
    this.disposed = true;
    this.restart('POLICE is shutting down: the spec was not validated');
  }

  private settle(id: number, result: ValidationResult): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending.delete(id);
    // An idle worker must not keep a process (a test, a closing host) alive.
    if (this.pending.size === 0) this.worker?.unref();
    pending.resolve(result);
  }

  /** Ends the worker and answers everything it still owed with `reason`. */
  private restart(reason: string): void {
    const worker = this.worker;
    this.worker = undefined;
    this.channel = undefined;
    void worker?.terminate();
    for (const id of [...this.pending.keys()]) this.settle(id, failure(reason));
  }

  private ensureChannel(): MessageChannel<HostToValidator, ValidatorToHost> {
    if (this.worker && this.channel) return this.channel;
    const worker = new Worker(this.workerPath);
    let ready: () => void = () => undefined;
    this.online = new Promise((resolve) => {
      ready = resolve;
      worker.once('exit', () => resolve());
    });
    const channel = new MessageChannel<HostToValidator, ValidatorToHost>(
      (message) => worker.postMessage(message),
      {
        validatorReady: () => ready(),
        validated: (m) => this.settle(m.id, m.result),
        validationFailed: (m) => {
          if (m.id < 0) this.onError(m.message);
          else this.settle(m.id, failure(`POLICE could not validate this spec: ${m.message}`));
        },
      },
      (_raw, reason) => this.onError(`ignored a message from the validation worker (${reason})`),
    );
    worker.on('message', (message: unknown) => channel.receive(message));
    worker.on('error', (error) => {
      this.onError(`the validation worker failed: ${error.message}`);
      if (this.worker === worker) this.restart(`POLICE could not validate this spec: ${error.message}`);
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.restart('the validation worker stopped');
    });
    this.worker = worker;
    this.channel = channel;
    return channel;
  }
}
