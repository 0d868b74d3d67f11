// Spec validation for the extension host, run in a worker thread so no spec can block the host's event loop (no 'vscode' import: unit-testable).
import { Worker } from 'node:worker_threads';
import { MessageChannel, NoReplyError } from '../protocol/channel';
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

export class SpecValidator {
  private worker: Worker | undefined;
  private channel: MessageChannel<HostToValidator, ValidatorToHost> | undefined;
  /** Resolves once the current worker has loaded the engine (its start-up is not the spec's time). */
  private online: Promise<void> = Promise.resolve();
  /** Ends the validations in flight when one runs past the limit. */
  private readonly deadlines = new Set<NodeJS.Timeout>();
  private disposed = false;

  constructor(
    private readonly workerPath: string,
    private readonly onError: (message: string) => void = () => undefined,
    private readonly timeLimitMs = VALIDATION_TIME_LIMIT_MS,
  ) {}

  /** The spec's problems, and the resolved spec when valid and `withSpec` (copying it back costs the host time); never rejects. */
  async validate(text: string, specPath: string, options: ValidateOptions = {}, withSpec = true): Promise<ValidationResult> {
    if (this.disposed) return failure('POLICE is shutting down: the spec was not validated');
    let deadline: NodeJS.Timeout | undefined;
    let settled = false;
    try {
      const channel = this.ensureChannel();
      this.worker?.ref();
      const reply = channel.request('validate', { text, specPath, options, withSpec });
      void this.online.then(() => {
        if (settled) return;
        // The worker is stuck on this spec: end it, so later validations get a fresh one.
        deadline = setTimeout(
          () => this.restart(`validating ${specPath} took more than ${this.timeLimitMs / 1000} s and was stopped`),
          this.timeLimitMs,
        );
        this.deadlines.add(deadline);
      });
      return (await reply).result;
    } catch (error) {
      return failure(
        error instanceof NoReplyError
          ? error.message.replace(/^no reply to 'validate': /, '')
          : `POLICE could not validate ${specPath}: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      settled = true;
      if (deadline) {
        clearTimeout(deadline);
        this.deadlines.delete(deadline);
      }
      // An idle worker must not keep a process (a test, a closing host) alive.
      if (this.channel && this.channel.pendingRequests === 0) this.worker?.unref();
    }
  }

  dispose(): void {
    this.disposed = true;
    this.restart('POLICE is shutting down: the spec was not validated');
  }

  /** Ends the worker and answers everything it still owed with `reason`. */
  private restart(reason: string): void {
    const worker = this.worker;
    const channel = this.channel;
    this.worker = undefined;
    this.channel = undefined;
    for (const deadline of this.deadlines) clearTimeout(deadline);
    this.deadlines.clear();
    void worker?.terminate();
    channel?.close(reason);
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
      { validatorReady: () => ready() },
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
