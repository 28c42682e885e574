import { describe, expect, it } from 'vitest';
import { loss$ } from '../../src/stats/loss$';
import { testScheduler } from '../helpers/marbles';
import { chromiumReport, fakePeer, ndcReport } from './fakePeer';
import { InvalidConfigError, TallowError } from '../../src/errors';

describe('loss$', () => {
  it('emits per-interval Chromium discard rates from deltas, starting at the second poll', () => {
    const ts = testScheduler();
    // cumulative (packetsSent, discarded): (1000, 1000) → (1900, 1100) → (2900, 1100)
    const counters = [
      [1000, 1000],
      [1900, 1100],
      [2900, 1100],
    ];
    ts.run(({ expectObservable }) => {
      const pc = fakePeer((n) => chromiumReport({ bytesSent: n, rttS: 0, packetsSent: counters[n - 1][0], discarded: counters[n - 1][1], payload: n }));
      // 100 of 1000 attempts, then 0 of 1000: never the cumulative 1100 / 4000
      expectObservable(loss$(pc, { sampleIntervalMs: 10, scheduler: ts }), '25ms !').toBe('10ms a 9ms b', { a: 0.1, b: 0 });
    });
  });

  it('emits undefined on node-datachannel, which has no loss counter', () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const pc = fakePeer((n) => ndcReport(n * 1000, 1));
      expectObservable(loss$(pc, { sampleIntervalMs: 10, scheduler: ts }), '25ms !').toBe('10ms a 9ms a', { a: undefined });
    });
  });
});

describe('loss$: a connection or config of the wrong type (an outside check)', () => {
  it('a null connection errors with ERR_STATS_UNSUPPORTED naming it (it errored with a TypeError)', () => {
    let error: unknown;
    loss$(null as never).subscribe({ error: (e: unknown) => (error = e) }).unsubscribe();
    expect(error).toBeInstanceOf(TallowError);
    expect(error).toMatchObject({ code: 'ERR_STATS_UNSUPPORTED', message: 'loss$: connection has no getStats(), got null', details: { field: 'connection', value: null } });
  });

  it('a null config is an InvalidConfigError naming config (it threw a TypeError)', () => {
    expect(() => loss$({} as never, null as never)).toThrow(InvalidConfigError);
    expect(() => loss$({} as never, null as never)).toThrow('loss$: config must be an object, got null');
  });
});
