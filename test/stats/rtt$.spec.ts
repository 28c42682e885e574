import { describe, expect, it } from 'vitest';
import { rtt$ } from '../../src/stats/rtt$';
import { testScheduler } from '../helpers/marbles';
import { chromiumReport, fakePeer, ndcReport } from './fakePeer';
import { InvalidConfigError, TallowError } from '../../src/errors';

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

describe('rtt$: a connection or config of the wrong type (an outside check)', () => {
  it('a null connection errors with ERR_STATS_UNSUPPORTED naming it (it errored with a TypeError)', () => {
    let error: unknown;
    rtt$(null as never).subscribe({ error: (e: unknown) => (error = e) }).unsubscribe();
    expect(error).toBeInstanceOf(TallowError);
    expect(error).toMatchObject({ code: 'ERR_STATS_UNSUPPORTED', message: 'rtt$: connection has no getStats(), got null', details: { field: 'connection', value: null } });
  });

  it('a null config is an InvalidConfigError naming config (it threw a TypeError)', () => {
    expect(() => rtt$({} as never, null as never)).toThrow(InvalidConfigError);
    expect(() => rtt$({} as never, null as never)).toThrow('rtt$: config must be an object, got null');
  });
});
