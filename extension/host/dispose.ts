// One owner for every teardown (after microsoft/vscode-hexeditor's src/dispose.ts): register once, disposed once, newest first.

/** Anything with a dispose(); vscode.Disposable, a Worker wrapper, or a toDisposable() callback. */
export interface IDisposable {
  dispose(): unknown;
}

/** A disposable that runs `fn` once. */
export function toDisposable(fn: () => void): IDisposable {
  let done = false;
  return {
    dispose: () => {
      if (done) return;
      done = true;
      fn();
    },
  };
}

/** Disposes and empties `disposables`, newest first; one that throws does not keep the others alive (the first error is rethrown after). */
export function disposeAll(disposables: IDisposable[]): void {
  const errors: unknown[] = [];
  while (disposables.length) {
    const item = disposables.pop();
    try {
      item?.dispose();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} disposables failed to dispose`);
}

/**
 * Base of every class that owns disposables. dispose() runs once: a second call, or one re-entering through a
 * listener the teardown itself fires (a webview panel's onDidDispose), does nothing.
 */
export abstract class Disposable implements IDisposable {
  private disposed = false;
  private readonly owned: IDisposable[] = [];

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeAll(this.owned);
  }

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  /** Own `value`: disposed with this object, or at once when this object is already disposed. */
  protected _register<T extends IDisposable>(value: T): T {
    if (this.disposed) value.dispose();
    else this.owned.push(value);
    return value;
  }
}

/** Holds at most one disposable; setting a new one disposes the old (a watcher rebuilt when a setting changes). */
export class MutableDisposable<T extends IDisposable> implements IDisposable {
  private current: T | undefined;
  private disposed = false;

  get value(): T | undefined {
    return this.current;
  }

  set value(value: T | undefined) {
    if (this.disposed) {
      value?.dispose();
      return;
    }
    if (value === this.current) return;
    const old = this.current;
    this.current = value;
    old?.dispose();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const old = this.current;
    this.current = undefined;
    old?.dispose();
  }
}
