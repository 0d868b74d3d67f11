// Request/reply on the typed channel: each reply settles its own request, whatever the order; failures, timeouts and a
// closed channel reject instead of leaving a promise hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, NoReplyError } from '../../extension/protocol/channel';
import type { ReplyFailure } from '../../extension/protocol/messages';

interface Square {
  type: 'square';
  messageId: number;
  x: number;
  delayMs: number;
}
interface Note {
  type: 'note';
  text: string;
}
interface Squared {
  type: 'square';
  inReplyTo: number;
  y: number;
}
type AskerToAnswerer = Square | Note;
type AnswererToAsker = Squared | ReplyFailure;

/** Two ends joined by an asynchronous pipe, as a worker or a webview would be. */
function pair(options: { answerWrongType?: boolean } = {}) {
  const notes: string[] = [];
  const invalid: string[] = [];
  const answerer: MessageChannel<AnswererToAsker, AskerToAnswerer> = new MessageChannel<AnswererToAsker, AskerToAnswerer>(
    (message) => setTimeout(() => asker.receive(options.answerWrongType ? { ...message, type: 'note' } : message), 0),
    {
      square: async ({ x, delayMs }) => {
        if (!Number.isFinite(x)) throw new Error(`cannot square ${x}`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return { y: x * x };
      },
      note: (m) => void notes.push(m.text),
    },
  );
  const asker: MessageChannel<AskerToAnswerer, AnswererToAsker> = new MessageChannel<AskerToAnswerer, AnswererToAsker>(
    (message) => setTimeout(() => answerer.receive(message), 0),
    {},
    (_raw, reason) => invalid.push(reason),
  );
  return { asker, notes, invalid };
}

test('each reply settles its own request, even when a later request is answered first', async () => {
  const { asker } = pair();
  const slow = asker.request('square', { x: 3, delayMs: 30 });
  const fast = asker.request('square', { x: 4, delayMs: 0 });
  const order: number[] = [];
  await Promise.all([slow.then((r) => order.push(r.y)), fast.then((r) => order.push(r.y))]);
  assert.deepEqual(order, [16, 9]);
  assert.equal(asker.pendingRequests, 0);
});

test('a handler that throws rejects the asker with its message; plain messages still reach their handler', async () => {
  const { asker, notes } = pair();
  await assert.rejects(asker.request('square', { x: Number.NaN, delayMs: 0 }), /cannot square NaN/);
  asker.send({ type: 'note', text: 'hello' });
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(notes, ['hello']);
});

test('a request rejects after its timeout, and its late reply is dropped without complaint', async () => {
  const { asker, invalid } = pair();
  await assert.rejects(asker.request('square', { x: 2, delayMs: 50 }, { timeoutMs: 5 }), /no reply to 'square' within 5 ms/);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(asker.pendingRequests, 0);
  assert.deepEqual(invalid, []);
});

test('closing the channel rejects what is in flight and every later request', async () => {
  const { asker } = pair();
  const inFlight = asker.request('square', { x: 2, delayMs: 20 });
  asker.close('the worker is gone');
  await assert.rejects(inFlight, (error: Error) => error instanceof NoReplyError && /the worker is gone/.test(error.message));
  await assert.rejects(asker.request('square', { x: 2, delayMs: 0 }), NoReplyError);
});

test('rejectPending fails the requests in flight but keeps the channel for a restarted peer', async () => {
  const { asker } = pair();
  const lost = asker.request('square', { x: 2, delayMs: 20 });
  asker.rejectPending('the worker exited');
  await assert.rejects(lost, /the worker exited/);
  assert.equal((await asker.request('square', { x: 5, delayMs: 0 })).y, 25);
});

test('a reply of another type than its request rejects it', async () => {
  const { asker } = pair({ answerWrongType: true });
  await assert.rejects(asker.request('square', { x: 2, delayMs: 0 }), /a 'note' reply to a 'square' request/);
});

test('a post that throws (a worker that cannot start) rejects the request at once', async () => {
  const broken = new MessageChannel<AskerToAnswerer, AnswererToAsker>(() => {
    throw new Error('no worker bundle');
  }, {});
  await assert.rejects(broken.request('square', { x: 1, delayMs: 0 }), /no worker bundle/);
  assert.equal(broken.pendingRequests, 0);
});

test('recognizes: known types and replies, nothing else', () => {
  const { asker } = pair();
  assert.equal(asker.recognizes({ type: 'square', inReplyTo: 1, y: 1 }), true);
  assert.equal(asker.recognizes({ type: 'note', text: '' }), false, 'the asker has no handler for notes');
  assert.equal(asker.recognizes({ type: 'toString' }), false);
  assert.equal(asker.recognizes('square'), false);
});
