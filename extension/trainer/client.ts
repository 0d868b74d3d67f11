// One training = one forked trainer process (dist/trainer.js) spoken to over typed IPC: the editor's and `police train`'s one client.
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tempRunDir } from '../police/io/run-files';
import { MessageChannel, type Handlers } from '../protocol/channel';
import { STOP_GRACE_MS } from '../protocol/messages';
import type {
  HostToTrainer,
  StartTraining,
  TrainerToHost,
  TrainingDone,
  TrainingFinishing,
  TrainingProgress,
  TrainingSnapshot,
} from '../protocol/messages';

/** How a training ended; exactly one per training. */
export type TrainingOutcome =
  | { kind: 'done'; done: TrainingDone }
  | { kind: 'stopped'; step: number; killed: boolean }
  | { kind: 'error'; message: string; detail?: string }
  | { kind: 'crashed'; message: string };

export interface TrainerEvents {
  /** Every well-formed message, before the typed callbacks below (the view consumes the raw stream). */
  message(message: TrainerToHost): void;
  ready(backend: string, reason?: string): void;
  progress(progress: TrainingProgress): void;
  snapshot(snapshot: TrainingSnapshot): void;
  /** Training is over; certifying and writing the run. A Stop from now on no longer kills the trainer. */
  finishing(finishing: TrainingFinishing): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  ended(outcome: TrainingOutcome): void;
}

/** How the trainer process is started and where its own prints go. */
export interface TrainerProcessOptions {
  /** Node options of the child (`--import tsx` when the trainer runs from source). */
  execArgv?: string[];
  /** The trainer's stdout/stderr text (tfjs notices, a Node crash trace); by default logged line by line. */
  output?: (stream: 'stdout' | 'stderr', text: string) => void;
}

export { STOP_GRACE_MS };
/** Milliseconds a finished trainer gets to exit by itself. */
const EXIT_GRACE_MS = 2000;

export class TrainerClient {
  private readonly child: ChildProcess;
  private readonly channel: MessageChannel<HostToTrainer, TrainerToHost>;
  private outcome: TrainingOutcome | undefined;
  private stopRequested = false;
  /** Killed on purpose (kill(), dispose()): the exit is a stop even while finishing. */
  private killRequested = false;
  private finishingRun = false;
  private killTimer: NodeJS.Timeout | undefined;
  private lastStep = 0;
  private stderrTail = '';
  /** Settles once the process is gone (or never started), with the outcome `ended` reported. */
  readonly exited: Promise<TrainingOutcome>;

  constructor(
    trainerScript: string,
    private readonly start: StartTraining,
    private readonly events: TrainerEvents,
    options: TrainerProcessOptions = {},
  ) {
    // stdio piped so a trainer's own prints (and a Node crash trace) reach the log.
    this.child = fork(trainerScript, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: options.execArgv ?? [] });
    const output = options.output ?? ((stream, text) => this.logLines(stream === 'stdout' ? 'info' : 'error', text));
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => output('stdout', text));
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-2000);
      output('stderr', text);
    });

    const handlers: Handlers<TrainerToHost> = {
      ready: (m) => this.events.ready(m.backend, m.reason),
      progress: (m) => {
        this.lastStep = m.step;
        this.events.progress(m);
      },
      snapshot: (m) => this.events.snapshot(m),
      finishing: (m) => {
        this.lastStep = m.step;
        this.finishingRun = true;
        // A Stop that crossed this message must not kill a finished training while it writes its run.
        if (!this.outcome) clearTimeout(this.killTimer);
        this.events.finishing(m);
      },
      log: (m) => this.events.log(m.level, m.message),
      done: (m) => this.finish({ kind: 'done', done: m }),
      stopped: (m) => this.finish({ kind: 'stopped', step: m.step, killed: false }),
      error: (m) => this.finish({ kind: 'error', message: m.message, detail: m.detail }),
    };
    this.channel = new MessageChannel<HostToTrainer, TrainerToHost>(
      (message) => {
        if (this.child.connected) this.child.send(message);
      },
      handlers,
      (raw, reason) => this.events.log('warn', `ignored a message from the trainer (${reason}): ${JSON.stringify(raw)}`),
    );
    this.child.on('message', (raw) => {
      // The view consumes the raw stream: every message the channel knows, before its typed handler runs.
      if (this.channel.recognizes(raw)) this.events.message(raw);
      this.channel.receive(raw);
    });

    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        clearTimeout(this.killTimer);
        this.removeTempRun();
        if (!this.outcome) {
          // Once finishing, a Stop was not acted on: an exit without 'done' is a crash, not a stop (unless it was killed on purpose).
          if (this.killRequested || (this.stopRequested && !this.finishingRun)) {
            this.finish({ kind: 'stopped', step: this.lastStep, killed: true });
          } else {
            const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
            const tail = this.stderrTail.trim().split('\n').slice(-1)[0];
            this.finish({ kind: 'crashed', message: `the trainer process ${how}${tail ? `: ${tail}` : ''}` });
          }
        }
        resolve(this.outcome!);
      });
      this.child.on('error', (err) => {
        if (!this.outcome) this.finish({ kind: 'crashed', message: `the trainer process could not run: ${err.message}` });
        // A process that never started emits no 'exit'.
        if (this.child.pid === undefined) resolve(this.outcome!);
      });
    });

    this.channel.send(this.start);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last step the trainer reported (progress or finishing). */
  get step(): number {
    return this.lastStep;
  }

  get runDir(): string {
    return this.start.runDir;
  }

  /** True once the training loop is over and the run is being certified and written. */
  get finishing(): boolean {
    return this.finishingRun && !this.outcome;
  }

  /**
   * Ask the trainer to stop; kill it if it has not said 'stopped' within STOP_GRACE_MS.
   * Once it is finishing, the run is kept: nothing is sent and the promise settles when it is written.
   */
  stop(): Promise<TrainingOutcome> {
    // A second Stop must not postpone the kill deadline set by the first.
    if (this.finishingRun || this.stopRequested || this.outcome || this.child.exitCode !== null || this.child.signalCode !== null)
      return this.exited;
    this.stopRequested = true;
    this.channel.send({ type: 'stop' });
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    return this.exited;
  }

  /** Kill at once, even a trainer writing its run (extension deactivation, a second Ctrl+C); the outcome is a stop. */
  kill(): Promise<TrainingOutcome> {
    this.stopRequested = true;
    this.killRequested = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    return this.exited;
  }

  dispose(): void {
    void this.kill();
  }

  private finish(outcome: TrainingOutcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    // The trainer has said its last word: let it exit, and make sure it does.
    clearTimeout(this.killTimer);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.killTimer = setTimeout(() => this.child.kill('SIGKILL'), outcome.kind === 'stopped' ? STOP_GRACE_MS : EXIT_GRACE_MS);
      if (this.child.connected) this.child.disconnect();
    }
    this.events.ended(outcome);
  }

  /** Whatever the trainer left half-written beside the run goes (a run renamed into place is whole and stays); never throws. */
  private removeTempRun(): void {
    if (this.child.pid === undefined || this.outcome?.kind === 'done') return;
    const temp = tempRunDir(this.start.runDir, this.child.pid);
    try {
      rmSync(temp, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      this.events.log('warn', `could not remove the unfinished ${temp}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private logLines(level: 'info' | 'error', text: string): void {
    for (const line of text.split('\n')) if (line.trim()) this.events.log(level, `[trainer ${this.child.pid}] ${line}`);
  }
}
