/**
 * A settled promise look-alike whose callbacks run at once. The virtual peer
 * connection's `createOffer`, `setRemoteDescription` and friends return it, so
 * signalling inside `TestScheduler.run()` moves (a real `Promise` settles only
 * after the synchronous flush, which is too late). `await` works as usual;
 * `from(result)` and `.then` chains stay synchronous.
 */
export class SyncPromise<T> implements PromiseLike<T> {
  private constructor(
    private readonly ok: boolean,
    private readonly value: unknown,
  ) {}

  /** A fulfilled result. */
  static resolve<T>(value: T): SyncPromise<T> {
    return new SyncPromise<T>(true, value);
  }

  /** A rejected result. */
  static reject<T = never>(reason: unknown): SyncPromise<T> {
    return new SyncPromise<T>(false, reason);
  }

  /** Runs `fn` now: its value fulfils, what it throws rejects. */
  static try<T>(fn: () => T): SyncPromise<T> {
    try {
      return SyncPromise.resolve(fn());
    } catch (err) {
      return SyncPromise.reject<T>(err);
    }
  }

  then<R1 = T, R2 = never>(onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null, onRejected?: ((reason: any) => R2 | PromiseLike<R2>) | null): SyncPromise<R1 | R2> {
    const handler = this.ok ? onFulfilled : onRejected;
    if (!handler) return this as unknown as SyncPromise<R1 | R2>;
    return SyncPromise.try(() => handler(this.value as T)).flat();
  }

  catch<R = never>(onRejected?: ((reason: any) => R | PromiseLike<R>) | null): SyncPromise<T | R> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): SyncPromise<T> {
    onFinally?.();
    return this;
  }

  /** Adopts a thenable value (the result of a handler that returned one). */
  private flat<U>(this: SyncPromise<U | PromiseLike<U>>): SyncPromise<U> {
    const v = this.value as PromiseLike<U> | undefined;
    if (!this.ok || typeof (v as any)?.then !== 'function') return this as SyncPromise<U>;
    if (v instanceof SyncPromise) return v.flat();
    let settled: SyncPromise<U> | undefined;
    v!.then(
      (x) => void (settled = SyncPromise.resolve(x)),
      (e) => void (settled = SyncPromise.reject(e)),
    );
    // A real promise settles later; hand it on as the value, so `await` still waits for it.
    return settled ?? (this as SyncPromise<U>);
  }
}
