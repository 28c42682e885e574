import { map, mergeMap, Observable, of, Subject, take, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, InvalidConfigError } from '../../src/errors';
import { leastBuffered } from '../../src/operators/leastBuffered';
import type { Routed } from '../../src/types';
import { FakeChannel } from '../helpers/fakeChannel';
import { pattern, testScheduler } from '../helpers/marbles';

const frames = { a: pattern(10, 1), b: pattern(10, 2), c: pattern(10, 3), d: pattern(5, 4), e: pattern(1, 5) };
const three = () => [new FakeChannel('c1'), new FakeChannel('c2'), new FakeChannel('c3')];
const label = map((r: Routed) => r.channel.label);
/** Sends each routed frame, so `bufferedAmount` grows as it would downstream of `sendToChannels()`. */
const send = tap((r: Routed) => r.channel.send(r.frame));

describe('leastBuffered', () => {
  it('picks the open channel with the least buffered (the JSDoc diagram)', () => {
    const c1 = new FakeChannel('c1');
    const c2 = new FakeChannel('c2');
    const c3 = new FakeChannel('c3', { bufferedAmount: 30 });
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-d-e-|', frames);
      expectObservable(source.pipe(leastBuffered([c1, c2, c3]), send, label)).toBe('-1-2-1-2-2-|', { 1: 'c1', 2: 'c2' });
    });
    expect([c1.bufferedAmount, c2.bufferedAmount, c3.bufferedAmount]).toEqual([20, 16, 30]);
  });

  it('breaks ties in round-robin order after the last channel used', () => {
    const got: string[] = [];
    of(frames.a, frames.b, frames.c, frames.a)
      .pipe(leastBuffered(three()))
      .subscribe((r) => got.push(r.channel.label));
    expect(got).toEqual(['c1', 'c2', 'c3', 'c1']);
  });

  it('handles empty', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Uint8Array>('|');
      expectObservable(source.pipe(leastBuffered(three()))).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('handles never', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Uint8Array>('-');
      expectObservable(source.pipe(leastBuffered(three()))).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('passes errors through', () => {
    const [c1, c2, c3] = three();
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#', frames, new Error('boom'));
      expectObservable(source.pipe(leastBuffered([c1, c2, c3]))).toBe('-1-#', { 1: { channel: c1, frame: frames.a } }, new Error('boom'));
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('allows early unsubscription', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-d-|', frames);
      expectObservable(source.pipe(leastBuffered(three()), label), '^----!').toBe('-x-y-', { x: 'c1', y: 'c2' });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('does not break unsubscription chains', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-d-|', frames);
      const result = source.pipe(
        mergeMap((x) => of(x)),
        leastBuffered(three()),
        mergeMap((x) => of(x)),
        label,
      );
      expectObservable(result, '^----!').toBe('-x-y-', { x: 'c1', y: 'c2' });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('stops a synchronous source when unsubscribed', () => {
    const seen: number[] = [];
    const infinite = new Observable<Uint8Array>((subscriber) => {
      for (let i = 0; !subscriber.closed; i++) {
        seen.push(i);
        subscriber.next(pattern(4, i));
      }
    });
    infinite.pipe(leastBuffered(three()), take(2)).subscribe();
    expect(seen).toEqual([0, 1]);
  });

  it('prefers a channel below high over paused ones, and uses connecting channels only when none is open', () => {
    const c1 = new FakeChannel('c1', { bufferedAmount: 5000 });
    const c2 = new FakeChannel('c2', { readyState: 'connecting' });
    const c3 = new FakeChannel('c3', { bufferedAmount: 90 });
    const got: string[] = [];
    of(frames.a).pipe(leastBuffered([c1, c2, c3], { high: 100 })).subscribe((r) => got.push(r.channel.label));
    c1.close();
    c3.close();
    of(frames.b).pipe(leastBuffered([c1, c2, c3])).subscribe((r) => got.push(r.channel.label));
    expect(got).toEqual(['c3', 'c2']);
  });

  it('drops closed channels and errors with ChannelClosedError when none is left', () => {
    const [c1, c2, c3] = three();
    const source = new Subject<Uint8Array>();
    const got: string[] = [];
    let error: unknown;
    source.pipe(leastBuffered([c1, c2, c3])).subscribe({ next: (r) => got.push(r.channel.label), error: (e) => (error = e) });
    c1.close();
    source.next(frames.a);
    c2.close();
    source.next(frames.b);
    c3.close();
    source.next(frames.c);
    expect(got).toEqual(['c2', 'c3']);
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).details).toEqual({ labels: ['c1', 'c2', 'c3'], frameSize: 10 });
  });

  it('rejects an empty channel list at call time', () => {
    expect(() => leastBuffered([])).toThrow(InvalidConfigError);
    expect(() => leastBuffered(three(), { high: Infinity })).toThrow(InvalidConfigError);
  });
});
