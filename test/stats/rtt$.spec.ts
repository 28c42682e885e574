import { describe, it } from 'vitest';
import { rtt$ } from '../../src/stats/rtt$';
import { testScheduler } from '../helpers/marbles';
import { chromiumReport, fakePeer, ndcReport } from './fakePeer';

describe('rtt$', () => {
  it('emits node-datachannel RTTs as they are (ms)', () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const pc = fakePeer((n) => ndcReport(0, [3, 5, 4][n - 1] ?? 0));
      expectObservable(rtt$(pc, { sampleIntervalMs: 10, scheduler: ts }), '25ms !').toBe('a 9ms b 9ms c', { a: 3, b: 5, c: 4 });
    });
  });

  it('converts Chromium seconds to ms and skips polls without an RTT', () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const pc = fakePeer((n) =>
        n === 2 ? new Map([['t', { type: 'transport', bytesSent: 1, bytesReceived: 1 }]]) : chromiumReport({ bytesSent: 1, rttS: n * 0.01, packetsSent: 1, discarded: 0, payload: 1 }),
      );
      expectObservable(rtt$(pc, { sampleIntervalMs: 10, scheduler: ts }), '25ms !').toBe('a 19ms c', { a: 10, c: 30 });
    });
  });
});
