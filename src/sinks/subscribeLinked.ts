/**
 * Subscribes an operator's inner observer so that the source sees the
 * downstream close, even during a synchronous `subscribe` (internal).
 *
 * `const sub = source.subscribe({ next, error, complete })` inside
 * `new Observable(subscriber => …)` leaves the source's subscriber open until
 * `subscribe` returns, so a synchronous source whose downstream completed or
 * errored (`take(1)`, a limit error) keeps looping: forever if it is infinite.
 * RxJS's own operators avoid this with an internal `OperatorSubscriber` that is
 * a child of the downstream subscriber. This does the same with the public API:
 * an object that is both an `Observer` and a `Subscription` is used as the
 * source's subscriber as is, and it is added to `downstream` before subscribing.
 */
import { Subscription, type Observable, type Observer } from 'rxjs';

/** The source's subscriber: forwards to `observer` until stopped, and closes with `downstream`. */
class LinkedObserver<T> extends Subscription implements Observer<T> {
  /** True after error or complete: later notifications are dropped. */
  private stopped = false;
  constructor(private readonly observer: Observer<T>) {
    super();
  }
  next(value: T): void {
    if (!this.stopped && !this.closed) this.observer.next(value);
  }
  error(err: unknown): void {
    if (this.stopped || this.closed) return;
    this.stopped = true;
    try {
      this.observer.error(err);
    } finally {
      this.unsubscribe();
    }
  }
  complete(): void {
    if (this.stopped || this.closed) return;
    this.stopped = true;
    try {
      this.observer.complete();
    } finally {
      this.unsubscribe();
    }
  }
}

/**
 * Subscribes `observer` to `source` as a child of `downstream`: unsubscribing
 * `downstream` (or the returned subscription) closes the source's subscriber
 * at once, so a synchronous source stops.
 */
export function subscribeLinked<T>(source: Observable<T>, downstream: Subscription, observer: Observer<T>): Subscription {
  const linked = new LinkedObserver(observer);
  downstream.add(linked);
  source.subscribe(linked);
  return linked;
}
