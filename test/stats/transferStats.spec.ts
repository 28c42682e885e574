import { map, merge, mergeMap, Observable, of, Subject, takeUntil, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { transferStats, type TransferStatsConfig } from '../../src/stats/transferStats';
import type { StatsInput, TransferStats } from '../../src/stats/statsTypes';
import { testScheduler } from '../helpers/marbles';
import { thrownBy } from '../helpers/thrown';

/** A readable slice of a sample. */
const brief = (s: TransferStats) => ({ done: s.bytesDone, final: s.final, bps: Math.round(s.throughput.current) });

/** transferStats on the test scheduler with a 10 ms sample interval, projected by `project`. */
const stats = <R>(ts: ReturnType<typeof testScheduler>, project: (s: TransferStats) => R, config: TransferStatsConfig = {}): OperatorFunction<StatsInput, R> =>
  (source) => source.pipe(transferStats({ sampleIntervalMs: 10, scheduler: ts, ...config }), map(project));

const E = {
  T: { kind: 'total', bytes: 1000 },
  a: { kind: 'progress', bytes: 100 },
  r: { kind: 'rtt', ms: 10 },
  b: { kind: 'progress', bytes: 300 },
  s: { kind: 'rtt', ms: 14 },
  c: { kind: 'progress', bytes: 90 },
  u: { kind: 'rtt', ms: 12 },
} as const satisfies Record<string, StatsInput>;

describe('transferStats', () => {
  it('emits one sample per interval and a final one on completion, with the scripted values', () => {
    const ts = testScheduler();
    const got: TransferStats[] = [];
    ts.run(({ cold, expectObservable }) => {
      // T at 0, (ar) at 1, a at 5, (bs) at 12, c at 21, u at 22, complete at 23
      const source = cold('T(ar)a 6ms (bs) 5ms cu|', E);
      source.pipe(transferStats({ sampleIntervalMs: 10, scheduler: ts })).subscribe((s) => got.push(s));
      expectObservable(source.pipe(stats(ts, brief))).toBe('10ms x 9ms y 2ms (z|)', {
        x: { done: 200, final: false, bps: 160_000 },
        y: { done: 500, final: false, bps: 240_000 },
        // 90 B in the 3 ms tail is too short alone: merged with the previous 300 B / 10 ms
        z: { done: 590, final: true, bps: 240_000 },
      });
    });
    const [x, y, z] = got;
    expect(x).toMatchObject({ timestamp: 10, elapsedMs: 10, intervalMs: 10, bytesTotal: 1000, percent: 20, etaSeconds: 0.04 });
    expect(x.throughput).toEqual({ current: 160_000, average: 160_000, peak: 160_000, min: 160_000 });
    expect(x.rtt).toEqual({ source: 'transport', current: 10, avg: 10, min: 10, max: 10 });
    expect(x.jitterMs).toBeUndefined();
    expect(x.bottleneck).toBe('unknown');

    expect(y).toMatchObject({ timestamp: 20, percent: 50, etaSeconds: 0.02, jitterMs: 4 });
    expect(y.throughput).toEqual({ current: 240_000, average: 200_000, peak: 240_000, min: 160_000 });
    expect(y.rtt).toEqual({ source: 'transport', current: 14, avg: 12, min: 10, max: 14 });

    expect(z).toMatchObject({ timestamp: 23, intervalMs: 3, percent: 59, jitterMs: 3 });
    expect(z.throughput.average).toBeCloseTo((590 * 8000) / 23, 6);
    // peak and min ignore the short final sample
    expect(z.throughput.peak).toBe(240_000);
    expect(z.throughput.min).toBe(160_000);
    expect(z.etaSeconds).toBeCloseTo((410 * 8) / ((590 * 8000) / 23), 9);
    expect(z.rtt).toEqual({ source: 'transport', current: 12, avg: 12, min: 10, max: 14 });
  });

  it('keeps the latest buffer per label, channels, chunk size, receiver backlog and cpu', () => {
    const ts = testScheduler();
    const got: TransferStats[] = [];
    ts.run(({ cold }) => {
      cold('abc 7ms de|', {
        a: { kind: 'buffer', label: 'data-0', bytes: 100 },
        b: { kind: 'buffer', label: 'data-1', bytes: 200 },
        c: { kind: 'channels', channels: 2, lanes: 1 },
        d: { kind: 'buffer', label: 'data-0', bytes: 5 },
        e: { kind: 'cpu', busy: 0.5 },
      } satisfies Record<string, StatsInput>)
        .pipe(transferStats({ sampleIntervalMs: 10, scheduler: ts }))
        .subscribe((s) => got.push(s));
      cold('-a-b-c-d|', {
        a: { kind: 'chunk-size', bytes: 65536 },
        b: { kind: 'receiver', queuedBytes: 4096 },
        c: { kind: 'cpu', busy: 0.2 },
        d: { kind: 'cpu', busy: 0.4 },
      } satisfies Record<string, StatsInput>)
        .pipe(transferStats({ sampleIntervalMs: 10, scheduler: ts }))
        .subscribe((s) => got.push(s));
    });
    expect(got[0]).toMatchObject({ final: true, timestamp: 8, chunkSize: 65536, receiverQueuedBytes: 4096 });
    expect(got[0].cpuBusy).toBeCloseTo(0.3, 12);
    expect(got[1]).toMatchObject({ timestamp: 10, buffers: { 'data-0': 100, 'data-1': 200 }, channels: 2, lanes: 1 });
    expect(got[2]).toMatchObject({ timestamp: 12, final: true, buffers: { 'data-0': 5, 'data-1': 200 }, cpuBusy: 0.5 });
  });

  it('reports loss per interval: the latest reported rate within the window, never a running total', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const source = hot('-ab 8ms c 19ms -', {
        a: { kind: 'loss', rate: 0.02 },
        b: { kind: 'loss', rate: 0.04 },
        c: { kind: 'loss', rate: 0 },
      } satisfies Record<string, StatsInput>);
      expectObservable(source.pipe(stats(ts, (s) => s.lossRate, { windowSize: 2 })), '45ms !').toBe('10ms w 9ms x 9ms y 9ms z', {
        w: 0.03, // mean of the rates reported in the sample
        x: 0, // the next interval reported 0: no accumulation
        y: 0, // nothing new: the latest rate in the window
        z: undefined, // with windowSize 2, no rate left in the window
      });
    });
  });

  it('averages over the last windowSize samples only', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const p = (bytes: number): StatsInput => ({ kind: 'progress', bytes });
      const source = hot('-a 9ms b 9ms c 9ms -', { a: p(100), b: p(200), c: p(600) });
      expectObservable(source.pipe(stats(ts, (s) => s.throughput, { windowSize: 2 })), '35ms !').toBe('10ms x 9ms y 9ms z', {
        x: { current: 80_000, average: 80_000, peak: 80_000, min: 80_000 },
        y: { current: 160_000, average: 120_000, peak: 160_000, min: 80_000 },
        z: { current: 480_000, average: 320_000, peak: 480_000, min: 160_000 },
      });
    });
  });

  it('judges a blocked, flat transfer as backpressure and suggests larger chunks', () => {
    const ts = testScheduler();
    const got: TransferStats[] = [];
    ts.run(({ hot }) => {
      const e: Record<string, StatsInput> = {
        c: { kind: 'chunk-size', bytes: 16_384 },
        n: { kind: 'channels', channels: 2, lanes: 1 },
        f: { kind: 'buffer', label: 'a', bytes: 1_000_000 },
        g: { kind: 'buffer', label: 'b', bytes: 900_000 },
        p: { kind: 'progress', bytes: 10_000 },
        r: { kind: 'rtt', ms: 2 },
      };
      // setup at 0, progress and RTT at 1, 11, 21, 31
      const sub = merge(hot('(cnfg)', e), hot('-(pr) 6ms (pr) 6ms (pr) 6ms (pr)', e))
        .pipe(transferStats({ sampleIntervalMs: 10, scheduler: ts }))
        .subscribe((s) => got.push(s));
      ts.schedule(() => sub.unsubscribe(), 35);
    });
    expect(got.map((s) => s.bottleneck)).toEqual(['unknown', 'backpressure', 'backpressure']);
    expect(got[2].recommendation.action).toBe('larger-chunks');
    expect(got[2].signals).toMatchObject({ samples: 3, bufferFullShare: 1, throughputCv: 0, rttMs: 2 });
    expect(got[2].quality).toBe(100);
  });

  it('ignores malformed events', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const bad = [
        { kind: 'progress', bytes: -5 },
        { kind: 'progress', bytes: NaN },
        { kind: 'rtt', ms: Infinity },
        { kind: 'loss', rate: 2 },
        { kind: 'cpu', busy: -1 },
        { kind: 'nonsense' },
        null,
      ] as unknown as StatsInput[];
      const source = cold<StatsInput>('(abcdefgh|)', { a: bad[0], b: bad[1], c: bad[2], d: bad[3], e: bad[4], f: bad[5], g: bad[6], h: { kind: 'progress', bytes: 1 } });
      expectObservable(source.pipe(stats(ts, (s) => [s.bytesDone, s.rtt, s.lossRate, s.cpuBusy]))).toBe('(x|)', { x: [1, {}, undefined, undefined] });
    });
  });

  describe('lifecycle', () => {
    it('empty source: one final, empty sample at once, then completes', () => {
      const ts = testScheduler();
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold<StatsInput>('|').pipe(stats(ts, (s) => [s.final, s.bytesDone, s.intervalMs, s.throughput.current, s.etaSeconds]))).toBe('(x|)', {
          x: [true, 0, 0, 0, undefined],
        });
      });
    });

    it('never source: a sample every interval, forever', () => {
      const ts = testScheduler();
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold<StatsInput>('-').pipe(stats(ts, brief)), '45ms !').toBe('10ms x 9ms x 9ms x 9ms x', { x: { done: 0, final: false, bps: 0 } });
      });
      expect(ts.actions.length).toBe(0);
    });

    it('error: forwarded at once without a partial sample, timer and source subscription torn down', () => {
      const ts = testScheduler();
      ts.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-a 12ms #', { a: { kind: 'progress', bytes: 10 } as StatsInput }, new Error('boom'));
        expectObservable(source.pipe(stats(ts, brief))).toBe('10ms x 3ms #', { x: { done: 10, final: false, bps: 8000 } }, new Error('boom'));
        expectSubscriptions(source.subscriptions).toBe('^ 13ms !');
      });
      expect(ts.actions.length).toBe(0);
    });

    it('early unsubscribe stops the timer and unsubscribes the source', () => {
      const ts = testScheduler();
      ts.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-a 30ms -', { a: { kind: 'progress', bytes: 10 } as StatsInput });
        expectObservable(source.pipe(stats(ts, brief)), '^ 14ms !').toBe('10ms x', { x: { done: 10, final: false, bps: 8000 } });
        expectSubscriptions(source.subscriptions).toBe('^ 14ms !');
      });
      expect(ts.actions.length).toBe(0);
    });

    it('unsubscription chains through mergeMap on both sides', () => {
      const ts = testScheduler();
      ts.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-a 30ms -', { a: { kind: 'progress', bytes: 10 } as StatsInput });
        const result = source.pipe(
          mergeMap((x) => of(x)),
          transferStats({ sampleIntervalMs: 10, scheduler: ts }),
          mergeMap((x) => of(brief(x))),
        );
        expectObservable(result, '^ 24ms !').toBe('10ms x 9ms y', { x: { done: 10, final: false, bps: 8000 }, y: { done: 10, final: false, bps: 0 } });
        expectSubscriptions(source.subscriptions).toBe('^ 24ms !');
      });
    });

    it('a synchronous infinite source stops when downstream unsubscribes', () => {
      const ts = testScheduler();
      const stop = new Subject<void>();
      let emitted = 0;
      const infinite = new Observable<StatsInput>((subscriber) => {
        for (let i = 0; !subscriber.closed; i++) {
          emitted++;
          subscriber.next({ kind: 'progress', bytes: 1 });
          if (i === 1000) stop.next();
        }
      });
      const got: TransferStats[] = [];
      ts.run(() => {
        infinite.pipe(transferStats({ sampleIntervalMs: 10, scheduler: ts }), takeUntil(stop)).subscribe((s) => got.push(s));
      });
      expect(emitted).toBe(1001);
      expect(got).toEqual([]);
      expect(ts.actions.length).toBe(0);
    });

    it('a synchronous finite source is counted in full in the final sample', () => {
      const ts = testScheduler();
      const got: TransferStats[] = [];
      ts.run(() => {
        of(...Array.from({ length: 10_000 }, (): StatsInput => ({ kind: 'progress', bytes: 3 })))
          .pipe(transferStats({ sampleIntervalMs: 10, scheduler: ts }))
          .subscribe((s) => got.push(s));
      });
      expect(got.map((s) => [s.bytesDone, s.final])).toEqual([[30_000, true]]);
    });

    it('each subscription has its own state', () => {
      const ts = testScheduler();
      ts.run(({ cold, expectObservable }) => {
        const s$ = cold('-a-|', { a: { kind: 'progress', bytes: 7 } as StatsInput }).pipe(stats(ts, (s) => s.bytesDone));
        expectObservable(s$).toBe('---(x|)', { x: 7 });
        expectObservable(s$).toBe('---(x|)', { x: 7 });
      });
    });
  });

  it('rejects bad options with InvalidConfigError', () => {
    for (const bad of [{ sampleIntervalMs: 0 }, { sampleIntervalMs: NaN }, { windowSize: 0 }, { windowSize: 1.5 }, { trendSamples: 0 }, { bufferFullBytes: -1 }, { windowBytes: 0 }]) {
      expect(() => transferStats(bad)).toThrow(InvalidConfigError);
    }
  });
});

describe('transferStats: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => transferStats(null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'transferStats: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
