import { describe, expect, it } from 'vitest';
import { addEvent, advance, emptyInterval, emptyWindow, windowSignals, windowStats, type StatsWindow, type WindowSettings } from '../../src/stats/statsWindow';
import type { StatsInput } from '../../src/stats/statsTypes';

const settings: WindowSettings = { sampleIntervalMs: 1000, windowSize: 60, trendSamples: 5, bufferFullBytes: 512 * 1024 };

/** Closes one sample per entry of `samples` (events, close time). */
const run = (samples: [StatsInput[], number][], s: WindowSettings = settings, start = 0): StatsWindow =>
  samples.reduce((w, [events, at]) => advance(w, events.reduce(addEvent, emptyInterval()), at, s), emptyWindow(start));

const rtt = (ms: number): StatsInput => ({ kind: 'rtt', ms });
const progress = (bytes: number): StatsInput => ({ kind: 'progress', bytes });

describe('statsWindow', () => {
  it('jitter is the mean |difference| of successive RTTs, within and across samples', () => {
    const w = run([
      [[rtt(10), rtt(14), rtt(12)], 1000], // |4|, |2|
      [[], 2000],
      [[rtt(20)], 3000], // |8| across two samples
    ]);
    expect(windowSignals(w, settings).jitterMs).toBeCloseTo(14 / 3, 12);
    expect(windowStats(w, settings, false).rtt).toEqual({ source: 'transport', current: 20, avg: 14, min: 10, max: 20 });
  });

  it('a zero-length final sample repeats the previous rate instead of reporting 0', () => {
    const w = run([
      [[progress(1000)], 1000],
      [[], 1000],
    ]);
    const s = windowStats(w, settings, true);
    expect(s.intervalMs).toBe(0);
    expect(s.throughput.current).toBe(8000);
    expect(s.throughput).toMatchObject({ peak: 8000, min: 8000, average: 8000 });
  });

  it('counts full buffers over the recent samples, with the latest level per label carried forward', () => {
    const buf = (label: string, bytes: number): StatsInput => ({ kind: 'buffer', label, bytes });
    const w = run([
      [[buf('a', 600_000), buf('b', 0)], 1000], // 1 of 2 full
      [[buf('b', 700_000)], 2000], // a carried at 600 000: 2 of 2
      [[buf('a', 524_288)], 3000], // at the threshold counts as full: 2 of 2
    ]);
    expect(windowSignals(w, settings).bufferFullShare).toBeCloseTo(5 / 6, 12);
    expect(windowSignals(w, { ...settings, trendSamples: 1 }).bufferFullShare).toBe(1);
    expect(windowSignals(run([[[progress(1)], 1000]]), settings).bufferFullShare).toBeUndefined();
  });

  it('receiver growth is the backlog change per second across the recent samples', () => {
    const q = (queuedBytes: number): StatsInput => ({ kind: 'receiver', queuedBytes });
    const w = run([
      [[q(1000)], 1000],
      [[], 2000],
      [[q(5000)], 3000],
    ]);
    expect(windowSignals(w, settings)).toMatchObject({ receiverGrowthBps: 2000, receiverQueuedBytes: 5000 });
    expect(windowSignals(run([[[q(10)], 1000]]), settings).receiverGrowthBps).toBeUndefined();
  });

  it('trend figures use the last trendSamples samples; the RTT minimum uses the whole window', () => {
    const w = run(
      [
        [[progress(1000), rtt(5), { kind: 'cpu', busy: 1 }], 1000],
        [[progress(2000), rtt(30), { kind: 'cpu', busy: 0.2 }], 2000],
        [[progress(2000), rtt(40), { kind: 'cpu', busy: 0.4 }], 3000],
      ],
      { ...settings, trendSamples: 2 },
    );
    const s = windowSignals(w, { ...settings, trendSamples: 2 });
    expect(s).toMatchObject({ samples: 3, throughputBps: 16_000, throughputCv: 0, rttMs: 35, rttMinMs: 5 });
    expect(s.cpuBusy).toBeCloseTo(0.3, 12);
  });

  it('percent and ETA: unknown without a total, 100 % and 0 s when done, capped at 100 %', () => {
    const total = (bytes: number): StatsInput => ({ kind: 'total', bytes });
    expect(windowStats(run([[[progress(10)], 1000]]), settings, false)).toMatchObject({ percent: undefined, etaSeconds: undefined });
    expect(windowStats(run([[[total(0)], 1000]]), settings, true)).toMatchObject({ percent: 100, etaSeconds: 0, bottleneck: 'none' });
    expect(windowStats(run([[[total(10), progress(20)], 1000]]), settings, true)).toMatchObject({ percent: 100, etaSeconds: 0 });
    // stalled: ETA unknown rather than infinite
    expect(windowStats(run([[[total(10)], 1000]]), settings, false)).toMatchObject({ percent: 0, etaSeconds: undefined });
  });

  it('done: bytesDone follows the latest absolute done (a held prefix counts), throughput the progress events', () => {
    const total = (bytes: number): StatsInput => ({ kind: 'total', bytes });
    const done = (bytes: number): StatsInput => ({ kind: 'done', bytes });
    // 3 000 of 4 000 held: the first second moves 500 and the second the last 500.
    const w1 = run([[[total(4000), done(3000), progress(500), done(3500)], 1000]]);
    expect(windowStats(w1, settings, false)).toMatchObject({ bytesDone: 3500, percent: 87.5, etaSeconds: 1, throughput: { current: 4000 } });
    // Once done was given, progress alone does not move bytesDone (the receiver counts arrivals as progress
    // before they are persisted, which done reports): the window waits for the next done.
    const w2 = advance(w1, [progress(500)].reduce(addEvent, emptyInterval()), 2000, settings);
    expect(w2.bytesDone).toBe(3500);
    const w3 = advance(w2, [done(4000)].reduce(addEvent, emptyInterval()), 2500, settings);
    expect(windowStats(w3, settings, true)).toMatchObject({ bytesDone: 4000, percent: 100, etaSeconds: 0 });
    // A malformed done is ignored like any other event.
    expect(run([[[done(-1), progress(7)], 1000]]).bytesDone).toBe(7);
  });

  it('the window keeps windowSize samples and never mutates its input', () => {
    const one = run([[[progress(1)], 1000]]);
    const frozen = JSON.stringify(one);
    const two = advance(one, addEvent(emptyInterval(), progress(2)), 2000, { ...settings, windowSize: 1 });
    expect(JSON.stringify(one)).toBe(frozen);
    expect(two.samples.map((r) => r.bytes)).toEqual([2]);
    expect(two.bytesDone).toBe(3);
  });
});
