// One small typed message channel, used on both ends of host↔webview (and any postMessage-like pipe).

/** A message of a discriminated union, tagged by `type`. */
export interface Tagged {
  type: string;
}

/** One handler per message type: leaving one out is a compile error, so every channel is exhaustive. */
export type Handlers<In extends Tagged> = { [K in In['type']]: (message: Extract<In, { type: K }>) => void };

export class MessageChannel<Out extends Tagged, In extends Tagged> {
  constructor(
    private readonly post: (message: Out) => void,
    private readonly handlers: Handlers<In>,
    private readonly onInvalid: (raw: unknown, reason: string) => void = () => undefined,
  ) {}

  send(message: Out): void {
    this.post(message);
  }

  /** Route a raw incoming value to its handler; anything without a known `type` goes to onInvalid. */
  receive(raw: unknown): void {
    if (typeof raw !== 'object' || raw === null || typeof (raw as Tagged).type !== 'string') {
      this.onInvalid(raw, 'not a tagged message');
      return;
    }
    const type = (raw as Tagged).type as In['type'];
    const table = this.handlers as unknown as Record<string, ((m: In) => void) | undefined>;
    const handler = Object.prototype.hasOwnProperty.call(table, type) ? table[type] : undefined;
    if (!handler) {
      this.onInvalid(raw, `unknown message type '${type}'`);
      return;
    }
    handler(raw as In);
  }
}
