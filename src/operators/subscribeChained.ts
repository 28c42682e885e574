/**
 * Subscribes an observer to an inner source so that unsubscribing `downstream`
 * closes the inner subscriber, even while the source is still emitting
 * synchronously inside its own `subscribe` call.
 */
import { Observable, type Observer, type Subscriber, type Subscription } from 'rxjs';

/**
 * Subscribes `observer` to `source` through a subscriber that is added to
 * `downstream` before the source runs. A `next` handler that throws errors the
 * inner subscription with what it threw: the source is torn down and
 * `observer.error` gets it, as in RxJS's own operators. (A plain `subscribe`
 * would report it as an unhandled error, thrown from a timer: a crash in Node.)
 *
 * With the plain `const sub = source.subscribe(…)` pattern, `sub` exists only
 * after a synchronous source has finished, so `take(3)` downstream of an
 * infinite synchronous source would loop forever. Here the source receives a
 * subscriber that is already chained to `downstream`, so it sees `closed` the
 * moment downstream unsubscribes. (RxJS's own operators get this from the
 * internal `operate`; this is the public-API equivalent.)
 *
 * @param source The observable to subscribe to.
 * @param downstream The subscription whose teardown must stop `source`.
 * @param observer The handlers.
 * @return The inner subscription (already added to `downstream`).
 */
export function subscribeChained<T>(source: Observable<T>, downstream: Subscription, observer: Partial<Observer<T>>): Subscription {
  let inner: Subscriber<T> | undefined;
  const next = observer.next;
  return new Observable<T>((subscriber) => {
    inner = subscriber;
    downstream.add(subscriber);
    return source.subscribe(subscriber);
  }).subscribe({
    next: next
      ? (value) => {
          try {
            next(value);
          } catch (err) {
            inner!.error(err);
          }
        }
      : undefined,
    error: observer.error,
    complete: observer.complete,
  });
}
