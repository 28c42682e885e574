import { map, mergeMap, Observable, of, Subject, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, InvalidConfigError } from '../../src/errors';
import { roundRobin } from '../../src/operators/roundRobin';
import type { Routed } from '../../src/types';
import { FakeChannel } from '../helpers/fakeChannel';
import { pattern, testScheduler } from '../helpers/marbles';

const HIGH = 100;
const frames = { a: pattern(10, 1), b: pattern(10, 2), c: pattern(10, 3), d: pattern(10, 4), e: pattern(10, 5), f: pattern(10, 6) };
const three = () => [new FakeChannel('c1'), new FakeChannel('c2'), new FakeChannel('c3')];
/** "c2:b" for the frame `b` routed to `c2`. */
const label = map((r: Routed) => `${r.channel.label}:${Object.entries(frames).find(([, f]) => f === r.frame)?.[0]}`);

describe('roundRobin', () => {
  it('routes each frame to the next channel, and tags the frame unchanged', () => {
    const [c1, c2, c3] = three();
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-|', frames);
      expectObservable(source.pipe(roundRobin([c1, c2, c3], { high: HIGH }))).toBe('-1-2-3-4-|', {
        1: { channel: c1, frame: frames.a },
        2: { channel: c2, frame: frames.b },
        3: { channel: c3, frame: frames.c },
        4: { channel: c1, frame: frames.d },
      });
      expectSubscriptions(source.subscriptions).toBe('^--------!');
    });
  });

  it('handles empty', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Uint8Array>('|');
      expectObservable(source.pipe(roundRobin(three()))).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('handles never', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Uint8Array>('-');
      expectObservable(source.pipe(roundRobin(three()))).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('passes errors through', () => {
    const [c1, c2, c3] = three();
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#', frames, new Error('boom'));
      expectObservable(source.pipe(roundRobin([c1, c2, c3]))).toBe('-1-#', { 1: { channel: c1, frame: frames.a } }, new Error('boom'));
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('allows early unsubscription', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-d-|', frames);
      expectObservable(source.pipe(roundRobin(three()), label), '^----!').toBe('-x-y-', { x: 'c1:a', y: 'c2:b' });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('does not break unsubscription chains', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-d-|', frames);
      const result = source.pipe(
        mergeMap((x) => of(x)),
        roundRobin(three()),
        mergeMap((x) => of(x)),
        label,
      );
      expectObservable(result, '^----!').toBe('-x-y-', { x: 'c1:a', y: 'c2:b' });
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
    const got: string[] = [];
    infinite.pipe(roundRobin(three()), take(3)).subscribe((r) => got.push(r.channel.label));
    expect(seen).toEqual([0, 1, 2]);
    expect(got).toEqual(['c1', 'c2', 'c3']);
  });

  it('keeps rotating in order over 3 channels', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('abcdef|', frames);
      expectObservable(source.pipe(roundRobin(three(), { high: HIGH }), label)).toBe('123456|', {
        1: 'c1:a',
        2: 'c2:b',
        3: 'c3:c',
        4: 'c1:d',
        5: 'c2:e',
        6: 'c3:f',
      });
    });
  });

  it('skips a paused channel instead of waiting for it, and uses it again once it drains', () => {
    const [c1, c2, c3] = three();
    c2.setBufferedAmount(HIGH + 1);
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('ab-c-d-(ef|)', frames);
      cold('----x').subscribe(() => c2.setBufferedAmount(HIGH)); // exactly `high` is not paused
      expectObservable(source.pipe(roundRobin([c1, c2, c3], { high: HIGH }), label)).toBe('xy-z-u-(vw|)', {
        x: 'c1:a',
        y: 'c3:b',
        z: 'c1:c',
        u: 'c2:d',
        v: 'c3:e',
        w: 'c1:f',
      });
    });
  });

  it('highOf gives each channel its own watermark (never above high): a channel over its own is skipped', () => {
    const [c1, c2, c3] = three();
    c1.setBufferedAmount(30); // over its own 20, under high
    c3.setBufferedAmount(HIGH); // its own watermark of 500 counts as high: not paused
    const own = new Map([[c1, 20], [c2, 20], [c3, 500]]);
    const got: string[] = [];
    of(frames.a, frames.b, frames.c)
      .pipe(roundRobin([c1, c2, c3], { high: HIGH, highOf: (ch) => own.get(ch as FakeChannel)! }))
      .subscribe((r) => got.push(r.channel.label));
    // a: c1 (30 > its 20) is skipped → c2; b: c3 (100 <= min(high, 500)); c: c1 is skipped again → c2.
    expect(got).toEqual(['c2', 'c3', 'c2']);
  });

  it('a reserved channel takes frames only while no other channel is open or connecting', () => {
    const [c1, c2, c3] = three();
    c2.setBufferedAmount(HIGH + 1); // paused: frames still go to the open, unreserved ones
    const got: string[] = [];
    const frames$ = new Subject<Uint8Array>();
    frames$.pipe(roundRobin([c1, c2, c3], { high: HIGH, reserved: (ch) => ch === c1 })).subscribe((r) => got.push(r.channel.label));
    frames$.next(frames.a);
    frames$.next(frames.b);
    c2.setBufferedAmount(0);
    frames$.next(frames.c);
    frames$.next(frames.d);
    c2.readyState = 'closed';
    c3.readyState = 'closed';
    frames$.next(frames.e);
    // a, b: c3 (c2 paused, c1 reserved); c: c2 (rotation after c3); d: c3; e: c1, the only one left.
    expect(got).toEqual(['c3', 'c3', 'c2', 'c3', 'c1']);
  });

  it('routes to the least-buffered open channel when every open channel is paused', () => {
    const c1 = new FakeChannel('c1', { bufferedAmount: 500 });
    const c2 = new FakeChannel('c2', { bufferedAmount: 300 });
    const c3 = new FakeChannel('c3', { bufferedAmount: 300 });
    const c4 = new FakeChannel('c4', { readyState: 'connecting' });
    const got: string[] = [];
    of(frames.a, frames.b, frames.c)
      .pipe(roundRobin([c1, c2, c3, c4], { high: HIGH }))
      .subscribe((r) => got.push(r.channel.label));
    // Ties go in round-robin order after the last channel used.
    expect(got).toEqual(['c2', 'c3', 'c2']);
  });

  it('skips connecting channels until they open', () => {
    const c1 = new FakeChannel('c1');
    const c2 = new FakeChannel('c2', { readyState: 'connecting' });
    const source = new Subject<Uint8Array>();
    const got: string[] = [];
    source.pipe(roundRobin([c1, c2], { high: HIGH })).subscribe((r) => got.push(r.channel.label));
    source.next(frames.a);
    source.next(frames.b);
    c2.open();
    source.next(frames.c);
    source.next(frames.d);
    expect(got).toEqual(['c1', 'c1', 'c2', 'c1']);
  });

  it('routes to a connecting channel when none is open (backpressure holds the frames)', () => {
    const c1 = new FakeChannel('c1', { readyState: 'connecting' });
    const got: string[] = [];
    let error: unknown;
    of(frames.a).pipe(roundRobin([c1])).subscribe({ next: (r) => got.push(r.channel.label), error: (e) => (error = e) });
    expect(got).toEqual(['c1']);
    expect(error).toBeUndefined();
  });

  it('removes a closing or closed channel for good', () => {
    const [c1, c2, c3] = three();
    const source = new Subject<Uint8Array>();
    const got: string[] = [];
    source.pipe(roundRobin([c1, c2, c3], { high: HIGH })).subscribe((r) => got.push(r.channel.label));
    source.next(frames.a); // c1
    c2.close();
    source.next(frames.b); // c3: c2 is skipped
    c2.readyState = 'open'; // a closed channel never comes back, even if it claims to
    c3.readyState = 'closing';
    source.next(frames.c);
    source.next(frames.d);
    c3.readyState = 'open';
    source.next(frames.e);
    expect(got).toEqual(['c1', 'c3', 'c1', 'c1', 'c1']);
  });

  it('errors with ChannelClosedError when every channel is closed', () => {
    const [c1, c2, c3] = three();
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b-c-|', frames);
      cold('--x').subscribe(() => [c1, c2, c3].forEach((c) => c.close()));
      expectObservable(source.pipe(roundRobin([c1, c2, c3]), label)).toBe(
        '-x--#',
        { x: 'c1:a' },
        new ChannelClosedError('roundRobin: every channel is closed', { labels: ['c1', 'c2', 'c3'], frameSize: 10 }),
      );
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('errors when the only channels left are closed, even if some were connecting', () => {
    const c1 = new FakeChannel('c1', { readyState: 'closed' });
    const c2 = new FakeChannel('c2', { readyState: 'closing' });
    let error: unknown;
    of(frames.a)
      .pipe(roundRobin([c1, c2]))
      .subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).code).toBe('ERR_CHANNEL_CLOSED');
  });

  it('keeps separate state per subscription', () => {
    const channels = three();
    const op = roundRobin(channels);
    const first: string[] = [];
    const second: string[] = [];
    of(frames.a, frames.b).pipe(op).subscribe((r) => first.push(r.channel.label));
    of(frames.a, frames.b).pipe(op).subscribe((r) => second.push(r.channel.label));
    expect(first).toEqual(['c1', 'c2']);
    expect(second).toEqual(['c1', 'c2']);
  });

  it('rejects an empty channel list and a bad high at call time', () => {
    expect(() => roundRobin([])).toThrow(InvalidConfigError);
    expect(() => roundRobin(three(), { high: -1 })).toThrow(InvalidConfigError);
    expect(() => roundRobin(three(), { high: Number.NaN })).toThrow(InvalidConfigError);
  });
});
