// The one Disposable base: each owned thing is disposed exactly once, newest first, whatever the calling order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Disposable, MutableDisposable, disposeAll, toDisposable, type IDisposable } from '../../extension/host/dispose';

class Owner extends Disposable {
  own<T extends IDisposable>(value: T): T {
    return this._register(value);
  }
  get disposedYet(): boolean {
    return this.isDisposed;
  }
}

function counter(log: string[], name: string): IDisposable {
  return { dispose: () => log.push(name) };
}

test('dispose twice disposes each owned thing once, newest first', () => {
  const log: string[] = [];
  const owner = new Owner();
  owner.own(counter(log, 'first'));
  owner.own(counter(log, 'second'));
  assert.equal(owner.disposedYet, false);
  owner.dispose();
  owner.dispose();
  assert.deepEqual(log, ['second', 'first']);
  assert.equal(owner.disposedYet, true);
});

test('registering after dispose disposes the newcomer at once', () => {
  const log: string[] = [];
  const owner = new Owner();
  owner.dispose();
  const late = owner.own(counter(log, 'late'));
  assert.deepEqual(log, ['late']);
  owner.dispose();
  assert.deepEqual(log, ['late'], 'not disposed a second time');
  assert.ok(late);
});

test('a teardown that re-enters dispose (a panel firing its own onDidDispose) runs once', () => {
  const log: string[] = [];
  const owner = new Owner();
  owner.own(counter(log, 'listener target'));
  // Like a webview panel: disposing it fires onDidDispose, whose listener disposes the owner again.
  owner.own({
    dispose: () => {
      log.push('panel');
      owner.dispose();
    },
  });
  owner.own(counter(log, 'worker'));
  owner.dispose();
  assert.deepEqual(log, ['worker', 'panel', 'listener target']);
});

test('one failing teardown does not keep the others alive; its error still surfaces', () => {
  const log: string[] = [];
  const owner = new Owner();
  owner.own(counter(log, 'a'));
  owner.own({
    dispose: () => {
      throw new Error('boom');
    },
  });
  owner.own(counter(log, 'c'));
  assert.throws(() => owner.dispose(), /boom/);
  assert.deepEqual(log, ['c', 'a']);
  const two = [toDisposable(() => assert.fail('x')), toDisposable(() => assert.fail('y'))];
  assert.throws(() => disposeAll(two), AggregateError);
  assert.equal(two.length, 0);
});

test('toDisposable runs its callback once', () => {
  let calls = 0;
  const d = toDisposable(() => calls++);
  d.dispose();
  d.dispose();
  assert.equal(calls, 1);
});

test('MutableDisposable disposes the value it replaces, and anything set after it is disposed', () => {
  const log: string[] = [];
  const slot = new MutableDisposable<IDisposable>();
  const a = counter(log, 'a');
  slot.value = a;
  slot.value = a;
  assert.deepEqual(log, []);
  slot.value = counter(log, 'b');
  assert.deepEqual(log, ['a']);
  slot.dispose();
  assert.deepEqual(log, ['a', 'b']);
  slot.value = counter(log, 'c');
  assert.deepEqual(log, ['a', 'b', 'c']);
  assert.equal(slot.value, undefined);
});
