import { describe, it } from 'vitest';
import { loss$ } from '../../src/stats/loss$';
import { testScheduler } from '../helpers/marbles';
import { chromiumReport, fakePeer, ndcReport } from './fakePeer';

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
