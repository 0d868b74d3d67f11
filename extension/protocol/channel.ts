// One small typed message channel, used on both ends of host↔trainer, host↔worker and host↔webview.
// Plain messages go one way; a request (a message with `messageId`) gets one reply (`inReplyTo`, the same `type`).
import type { Reply, ReplyFailure, Request } from './messages';

export type { Reply, ReplyFailure, Request };

/** A message of a discriminated union, tagged by `type`. */
export interface Tagged {
  type: string;
}

/** The requests among `U` (members with a messageId). */
export type RequestsOf<U extends Tagged> = Extract<U, Request>;
/** The messages among `U` that nobody asked for: neither replies nor requests. */
export type PlainOf<U extends Tagged> = Exclude<U, Request | Reply>;
/** What a request of type K carries besides its envelope. */
export type RequestBody<Out extends Tagged, K extends RequestsOf<Out>['type']> = Omit<Extract<Out, { type: K }>, 'type' | 'messageId'>;
/** The reply in `In` to a request of type K. */
export type ReplyTo<In extends Tagged, K extends string> = Exclude<Extract<In, { type: K; inReplyTo: number }>, ReplyFailure>;
/** What a reply carries besides its envelope: what an answering handler returns. */
export type ReplyBody<R> = Omit<R, 'type' | 'inReplyTo'>;

/**
 * One handler per incoming type (leaving one out is a compile error, so every channel is exhaustive): a plain message's
 * handler returns nothing, a request's handler returns its reply's body (or a promise of it); a throw or rejection
 * goes back as a ReplyFailure. `Out` is what this end sends, where the replies live.
 */
export type Handlers<In extends Tagged, Out extends Tagged = never> = {
  [K in Exclude<In, Reply>['type']]: Extract<In, { type: K }> extends Request
    ? (message: Extract<In, { type: K }>) => ReplyBody<ReplyTo<Out, K>> | Promise<ReplyBody<ReplyTo<Out, K>>>
    : (message: Extract<In, { type: K }>) => void;
};

export interface RequestOptions {
  /** Reject when no reply has come after this many milliseconds (none by default: a closed channel rejects). */
  timeoutMs?: number;
}

/** A request that will never be answered: the channel closed or the other end went away (not a failure of the job). */
export class NoReplyError extends Error {
  override name = 'NoReplyError';
}

interface Pending {
  type: string;
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer?: ReturnType<typeof setTimeout>;
}

export class MessageChannel<Out extends Tagged, In extends Tagged> {
  private nextMessageId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedBecause: string | undefined;

  constructor(
    private readonly post: (message: Out) => void,
    private readonly handlers: Handlers<In, Out>,
    private readonly onInvalid: (raw: unknown, reason: string) => void = () => undefined,
  ) {}

  /** Post a message that expects no answer. */
  send(message: PlainOf<Out>): void {
    if (this.closedBecause === undefined) this.post(message);
  }

  /** Post request `type` and resolve with its reply; rejects on a ReplyFailure, a timeout, or the channel closing. */
  request<K extends RequestsOf<Out>['type']>(type: K, body: RequestBody<Out, K>, options: RequestOptions = {}): Promise<ReplyTo<In, K>> {
    if (this.closedBecause !== undefined) return Promise.reject(new NoReplyError(`cannot ask '${type}': ${this.closedBecause}`));
    const messageId = this.nextMessageId++;
    return new Promise<ReplyTo<In, K>>((resolve, reject) => {
      const entry: Pending = { type, resolve: (reply) => resolve(reply as ReplyTo<In, K>), reject };
      if (options.timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.pending.delete(messageId);
          reject(new Error(`no reply to '${type}' within ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      }
      this.pending.set(messageId, entry);
      try {
        this.post({ ...body, type, messageId } as unknown as Out);
      } catch (error) {
        this.settle(messageId);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Requests not answered yet. */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /** Reject every request in flight (the other end died) but keep the channel usable, e.g. for a restarted worker. */
  rejectPending(reason: string): void {
    for (const [messageId, entry] of [...this.pending]) {
      this.settle(messageId);
      entry.reject(new NoReplyError(`no reply to '${entry.type}': ${reason}`));
    }
  }

  /** Reject every request in flight and refuse all later ones; later sends are dropped. */
  close(reason: string): void {
    if (this.closedBecause !== undefined) return;
    this.closedBecause = reason;
    this.rejectPending(reason);
  }

  /** True when `raw` is a message this end knows: a type it has a handler for, or a reply. */
  recognizes(raw: unknown): raw is In {
    if (typeof raw !== 'object' || raw === null || typeof (raw as Tagged).type !== 'string') return false;
    return typeof (raw as Reply).inReplyTo === 'number' || Object.prototype.hasOwnProperty.call(this.handlers, (raw as Tagged).type);
  }

  /** Route a raw incoming value: a reply to its request's promise, anything else to its handler; the rest to onInvalid. */
  receive(raw: unknown): void {
    if (typeof raw !== 'object' || raw === null || typeof (raw as Tagged).type !== 'string') {
      this.onInvalid(raw, 'not a tagged message');
      return;
    }
    const type = (raw as Tagged).type;
    if (typeof (raw as Reply).inReplyTo === 'number') {
      this.receiveReply(raw as Reply);
      return;
    }
    const table = this.handlers as unknown as Record<string, ((m: In) => unknown) | undefined>;
    const handler = Object.prototype.hasOwnProperty.call(table, type) ? table[type] : undefined;
    if (!handler) {
      this.onInvalid(raw, `unknown message type '${type}'`);
      return;
    }
    const messageId = (raw as Partial<Request>).messageId;
    if (typeof messageId !== 'number') {
      handler(raw as In);
      return;
    }
    // A request: its handler's value (or error) goes back to the asker.
    const answer = (body: unknown) => this.postReply({ ...(body as object), type, inReplyTo: messageId });
    const fail = (error: unknown) =>
      this.postReply({ type: 'failure', inReplyTo: messageId, message: error instanceof Error ? error.message : String(error) });
    let result: unknown;
    try {
      result = handler(raw as In);
    } catch (error) {
      fail(error);
      return;
    }
    if (result instanceof Promise) result.then(answer, fail);
    else answer(result);
  }

  private receiveReply(reply: Reply): void {
    const entry = this.pending.get(reply.inReplyTo);
    // No one waits: a reply after its timeout, or to a request rejected when the other end restarted.
    if (!entry) return;
    this.settle(reply.inReplyTo);
    if (reply.type === 'failure') entry.reject(new Error((reply as ReplyFailure).message));
    else if (reply.type !== entry.type) entry.reject(new Error(`a '${reply.type}' reply to a '${entry.type}' request`));
    else entry.resolve(reply);
  }

  private settle(messageId: number): void {
    clearTimeout(this.pending.get(messageId)?.timer);
    this.pending.delete(messageId);
  }

  private postReply(reply: Reply | ReplyFailure): void {
    if (this.closedBecause === undefined) this.post(reply as unknown as Out);
  }
}
