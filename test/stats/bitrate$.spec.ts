import { describe, expect, it } from 'vitest';
import { bitrate$ } from '../../src/stats/bitrate$';
import { testScheduler } from '../helpers/marbles';
import { chromiumReport, fakePeer, ndcReport } from './fakePeer';
import { InvalidConfigError, TallowError } from '../../src/errors';

describe('bitrate$', () => {
  it('turns byte deltas over time into bits/s', () => {
    const ts = testScheduler();
    const sent = [0, 1000, 1000, 4000];
    ts.run(({ expectObservable }) => {
      const pc = fakePeer((n) => ndcReport(sent[n - 1], 0, n * 10));
      expectObservable(bitrate$(pc, { sampleIntervalMs: 100, scheduler: ts }), '350ms !').toBe('100ms a 99ms b 99ms c', {
        a: { intervalMs: 100, sendBps: 80_000, receiveBps: 800, payloadSendBps: undefined, payloadReceiveBps: undefined },
        b: { intervalMs: 100, sendBps: 0, receiveBps: 800, payloadSendBps: undefined, payloadReceiveBps: undefined },
        c: { intervalMs: 100, sendBps: 240_000, receiveBps: 800, payloadSendBps: undefined, payloadReceiveBps: undefined },
      });
    });
  });

  it('skips an interval whose counters went backwards, and reports payload rates where channels are reported', () => {
    const ts = testScheduler();
    const sent = [5000, 100, 1100];
    ts.run(({ expectObservable }) => {
      const pc = fakePeer((n) => chromiumReport({ bytesSent: sent[n - 1], rttS: 0, packetsSent: 1, discarded: 0, payload: n * 500 }));
      expectObservable(bitrate$(pc, { sampleIntervalMs: 1000, scheduler: ts }), '2500ms !').toBe('2000ms c', {
        c: { intervalMs: 1000, sendBps: 8000, receiveBps: 0, payloadSendBps: 4000, payloadReceiveBps: 0 },
      });
    });
  });
});

describe('bitrate$: a connection or config of the wrong type (an outside check)', () => {
  it('a null connection errors with ERR_STATS_UNSUPPORTED naming it (it errored with a TypeError)', () => {
    let error: unknown;
    bitrate$(null as never).subscribe({ error: (e: unknown) => (error = e) }).unsubscribe();
    expect(error).toBeInstanceOf(TallowError);
    expect(error).toMatchObject({ code: 'ERR_STATS_UNSUPPORTED', message: 'bitrate$: connection has no getStats(), got null', details: { field: 'connection', value: null } });
  });

  it('a null config is an InvalidConfigError naming config (it threw a TypeError)', () => {
    expect(() => bitrate$({} as never, null as never)).toThrow(InvalidConfigError);
    expect(() => bitrate$({} as never, null as never)).toThrow('bitrate$: config must be an object, got null');
  });
});
