/**
 * The worked example of docs/testing.md, verbatim: a user marble-tests their own
 * backpressure strategy against a virtual link. Keep the two in sync.
 */
import { concatMap, defer, fromEvent, map, mergeMap, Observable, of, take, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createVirtualLink } from '../../src/testing';
import type { DataChannelLike } from '../../src/types';
import { testScheduler } from '../helpers/marbles';

/** The strategy under test: send each chunk, waiting for `bufferedamountlow` while above `highWater`. Emits bytes sent. */
function sendWithBackpressure(channel: DataChannelLike, highWater: number): OperatorFunction<Uint8Array, number> {
  channel.bufferedAmountLowThreshold = highWater;
  return (source) =>
    source.pipe(
      concatMap((chunk) => {
        const room = channel.bufferedAmount <= highWater ? of(null) : fromEvent(channel, 'bufferedamountlow').pipe(take(1));
        return room.pipe(
          map(() => {
            channel.send(chunk);
            return chunk.length;
          }),
        );
      }),
    );
}

/** Emits once the channel is open, even if `open` fired before the subscription (check the state first). */
const whenOpen = (channel: DataChannelLike): Observable<unknown> =>
  defer(() => (channel.readyState === 'open' ? of(null) : fromEvent(channel, 'open').pipe(take(1))));

describe('worked example: marble-testing a backpressure strategy', () => {
  it('sends while there is room, waits for bufferedamountlow otherwise; arrivals follow bandwidth and delay', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      // 1000 B/s and 10 ms one way: a 100 B chunk drains in 100 ms and lands 10 ms later.
      const link = createVirtualLink({ scheduler, bandwidth: 1000, delayMs: 10 });
      const [local, remote] = link.createChannel('data');
      const chunk = new Uint8Array(100);
      const chunks = cold('(abcd|)', { a: chunk, b: chunk, c: chunk, d: chunk });

      const sent = whenOpen(local).pipe(mergeMap(() => chunks.pipe(sendWithBackpressure(local, 150))));
      const arrived = fromEvent<MessageEvent>(remote, 'message').pipe(map((e) => e.data.byteLength));

      // a, b go at once (buffer 200); c waits for the drop to 100 at 100 ms; d for the next at 200 ms.
      expectObservable(sent).toBe('(ab) 96ms c 99ms (d|)', { a: 100, b: 100, c: 100, d: 100 });
      expectObservable(arrived, '^ 1s !').toBe('110ms a 99ms b 99ms c 99ms d', { a: 100, b: 100, c: 100, d: 100 });
      expectSubscriptions(chunks.subscriptions).toBe('(^!)'); // the cold source completes at once; concatMap holds c and d
    });
  });

  it('unsubscribing early stops sending and removes the bufferedamountlow listener', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const link = createVirtualLink({ scheduler, bandwidth: 1000, delayMs: 10 });
      const [local, remote] = link.createChannel('data');
      const chunk = new Uint8Array(100);
      const sent = whenOpen(local).pipe(
        mergeMap(() => cold('(abcd|)', { a: chunk, b: chunk, c: chunk, d: chunk }).pipe(sendWithBackpressure(local, 150))),
      );
      expectObservable(sent, '^ 50ms !').toBe('(ab)', { a: 100, b: 100 });
      expectObservable(fromEvent(remote, 'message').pipe(map(() => 'm')), '^ 1s !').toBe('110ms m 99ms m');
      scheduler.schedule(() => expect(local.stats.messagesSent).toBe(2), 500);
    });
  });

  // With room for every chunk the strategy never waits, so take(3) unsubscribes synchronously.
  // (When it must wait, concatMap buffers a push source without bound: real sources are pull-driven, see Demand.)
  it('a synchronous infinite source stops when the strategy is unsubscribed', () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      const link = createVirtualLink({ scheduler });
      const [local] = link.createChannel('data');
      let produced = 0;
      const endless = new Observable<Uint8Array>((subscriber) => {
        while (!subscriber.closed) {
          produced++;
          subscriber.next(new Uint8Array(10));
        }
      });
      local.onopen = () => endless.pipe(sendWithBackpressure(local, 1000), take(3)).subscribe();
      scheduler.schedule(() => {
        expect(produced).toBeLessThan(1000);
        expect(local.stats.messagesSent).toBe(3);
      }, 100);
    });
  });
});
