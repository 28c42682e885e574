import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, TallowError } from '../../src/errors';
import { statsSamples } from '../../src/stats/statsSamples';
import { testScheduler } from '../helpers/marbles';
import { fakePeer, ndcReport } from './fakePeer';

/** bytes and RTT per poll, to keep marbles readable. */
const brief = map((s: { timestamp: number; bytesSent: number; rttMs?: number }) => [s.timestamp, s.bytesSent, s.rttMs]);

describe('statsSamples', () => {
  it('polls at once and then every interval, stamping samples with scheduler time', () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const pc = fakePeer((n) => ndcReport(n * 1000, n));
      expectObservable(statsSamples(pc, { sampleIntervalMs: 10, scheduler: ts }).pipe(brief), '35ms !').toBe('a 9ms b 9ms c 9ms d', {
        a: [0, 1000, 1],
        b: [10, 2000, 2],
        c: [20, 3000, 3],
        d: [30, 4000, 4],
      });
    });
  });

  it('skips a failed poll and carries on at the next tick', () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const pc = fakePeer((n) => (n === 2 ? { reject: new Error('busy') } : n === 3 ? { throw: new Error('sync') } : ndcReport(n, 0)));
      expectObservable(statsSamples(pc, { sampleIntervalMs: 10, scheduler: ts }).pipe(brief), '35ms !').toBe('a 29ms d', { a: [0, 1, 0], d: [30, 4, 0] });
    });
  });

  it('errors with ERR_STATS_FAILED after failAfter consecutive failures, the last one as cause', () => {
    const ts = testScheduler();
    const cause = new Error('gone');
    const got: unknown[] = [];
    ts.run(({ expectObservable }) => {
      const peer = () => fakePeer((n) => (n === 1 ? ndcReport(1, 0) : { reject: cause }));
      statsSamples(peer(), { sampleIntervalMs: 10, failAfter: 3, scheduler: ts }).subscribe({ error: (e) => got.push(e) });
      expectObservable(statsSamples(peer(), { sampleIntervalMs: 10, failAfter: 3, scheduler: ts }).pipe(map(() => 's'))).toBe(
        's 29ms #',
        undefined,
        expect.any(TallowError),
      );
    });
    expect(got[0]).toBeInstanceOf(TallowError);
    expect(got[0]).toMatchObject({ code: 'ERR_STATS_FAILED', details: { failures: 3 }, cause });
  });

  it('resets the failure count after a success', () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const pc = fakePeer((n) => (n % 2 === 0 ? { reject: new Error('flaky') } : ndcReport(n, 0)));
      expectObservable(statsSamples(pc, { sampleIntervalMs: 10, failAfter: 2, scheduler: ts }).pipe(map((s) => s.bytesSent)), '55ms !').toBe(
        'a 19ms c 19ms e',
        { a: 1, c: 3, e: 5 },
      );
    });
  });

  it('does not pile up polls while one is pending', () => {
    const ts = testScheduler();
    const pc = fakePeer((n) => (n === 1 ? 'pending' : ndcReport(n, 0)));
    ts.run(({ expectObservable }) => {
      ts.schedule(() => pc.resolve(ndcReport(99, 0)), 25);
      expectObservable(statsSamples(pc, { sampleIntervalMs: 10, scheduler: ts }).pipe(map((s) => s.bytesSent)), '35ms !').toBe('25ms a 4ms b', { a: 99, b: 2 });
    });
    expect(pc.calls).toBe(2);
  });

  it('emits nothing for empty reports (before connecting)', () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const pc = fakePeer((n) => (n < 3 ? new Map() : ndcReport(n, 0)));
      expectObservable(statsSamples(pc, { sampleIntervalMs: 10, scheduler: ts }).pipe(map((s) => s.bytesSent)), '25ms !').toBe('20ms c', { c: 3 });
    });
  });

  it("completes at the first tick after connectionState becomes 'closed'", () => {
    const ts = testScheduler();
    const pc = fakePeer((n) => ndcReport(n, 0));
    ts.run(({ expectObservable }) => {
      ts.schedule(() => (pc.connectionState = 'closed'), 15);
      expectObservable(statsSamples(pc, { sampleIntervalMs: 10, scheduler: ts }).pipe(map((s) => s.bytesSent))).toBe('a 9ms b 9ms |', { a: 1, b: 2 });
    });
    expect(pc.calls).toBe(2);
  });

  it('stops polling on unsubscribe, and ignores an answer that arrives after it', () => {
    const ts = testScheduler();
    const pc = fakePeer((n) => (n === 3 ? 'pending' : ndcReport(n, 0)));
    const got: number[] = [];
    ts.run(() => {
      const sub = statsSamples(pc, { sampleIntervalMs: 10, scheduler: ts }).subscribe((s) => got.push(s.bytesSent));
      ts.schedule(() => sub.unsubscribe(), 25);
      ts.schedule(() => pc.resolve(ndcReport(77, 0)), 40);
    });
    expect(got).toEqual([1, 2]);
    expect(pc.calls).toBe(3);
  });

  it('errors at once with ERR_STATS_UNSUPPORTED when the connection has no getStats', () => {
    const ts = testScheduler();
    const pc = fakePeer(() => new Map());
    delete (pc as any).getStats;
    ts.run(({ expectObservable }) => {
      expectObservable(statsSamples(pc, { scheduler: ts })).toBe('#', undefined, expect.objectContaining({ code: 'ERR_STATS_UNSUPPORTED' }));
    });
  });

  it('rejects bad options with InvalidConfigError', () => {
    const pc = fakePeer(() => new Map());
    expect(() => statsSamples(pc, { sampleIntervalMs: 0 })).toThrow(InvalidConfigError);
    expect(() => statsSamples(pc, { sampleIntervalMs: Infinity })).toThrow(InvalidConfigError);
    expect(() => statsSamples(pc, { failAfter: 0 })).toThrow(InvalidConfigError);
  });

  it('works with real Promises and the async scheduler', async () => {
    let n = 0;
    const pc = { ...fakePeer(() => new Map()), getStats: () => Promise.resolve(ndcReport(++n * 10, 1)) };
    const got = await new Promise<number[]>((resolve, reject) => {
      const out: number[] = [];
      const sub = statsSamples(pc, { sampleIntervalMs: 5 }).subscribe({
        next: (s) => {
          out.push(s.bytesSent);
          if (out.length === 3) {
            sub?.unsubscribe();
            resolve(out);
          }
        },
        error: reject,
      });
    });
    expect(got).toEqual([10, 20, 30]);
  });
});

describe('statsSamples: a connection or config of the wrong type (an outside check)', () => {
  it('a null connection errors with ERR_STATS_UNSUPPORTED naming it (it errored with a TypeError)', () => {
    let error: unknown;
    statsSamples(null as never).subscribe({ error: (e: unknown) => (error = e) }).unsubscribe();
    expect(error).toBeInstanceOf(TallowError);
    expect(error).toMatchObject({ code: 'ERR_STATS_UNSUPPORTED', message: 'statsSamples: connection has no getStats(), got null', details: { field: 'connection', value: null } });
  });

  it('a null config is an InvalidConfigError naming config (it threw a TypeError)', () => {
    expect(() => statsSamples({} as never, null as never)).toThrow(InvalidConfigError);
    expect(() => statsSamples({} as never, null as never)).toThrow('statsSamples: config must be an object, got null');
  });
});
