import { describe, expect, it } from 'vitest';
import type { TransferStats } from '../../src/index';
import { createHysteresis, createPeopleStats, createRateMeter, qualityWord, summaryText } from '../../examples/web/peopleStats';

const MB = 1e6;
const sample = (t: number, bytesDone: number, over: Partial<TransferStats> = {}): TransferStats => ({
  timestamp: t,
  elapsedMs: t,
  intervalMs: 250,
  final: false,
  // A receiver that verifies in bursts reports huge per-sample throughput; the people figures ignore it.
  throughput: { current: 450e6, average: 0, peak: 450e6, min: 0 },
  bytesDone,
  bytesTotal: 100 * MB,
  percent: bytesDone / MB,
  rtt: {},
  buffers: {},
  bottleneck: 'none',
  quality: 90,
  recommendation: { action: 'none', reason: 'fine' },
  signals: { samples: 8, throughputBps: 0 },
  ...over,
});

describe('createRateMeter', () => {
  it('is a moving rate over the window, not the burst of one sample', () => {
    const meter = createRateMeter(2000);
    expect(meter.add(0, 0)).toBeUndefined();
    // Bursts: nothing for 750 ms, then 30 MB at once; 10 MB/s on average.
    expect(meter.add(250, 0)).toBeUndefined();
    expect(meter.add(750, 0)).toBe(0);
    expect(meter.add(1000, 10 * MB)).toBe(10 * MB);
    expect(meter.add(2000, 20 * MB)).toBe(10 * MB);
    // The window slides: the points before 1000 ms drop out.
    expect(meter.add(3000, 40 * MB)).toBe(15 * MB);
    expect(meter.peak).toBe(15 * MB);
  });
});

describe('createHysteresis', () => {
  it('shows a value only after it held for N samples, and keeps it through short flickers', () => {
    const h = createHysteresis<string>(3);
    expect(['a', 'a', 'a', 'b', 'a', 'b', 'b', 'b'].map((v) => h.next(v))).toEqual([undefined, undefined, 'a', 'a', 'a', 'a', 'a', 'b']);
  });
});

describe('createPeopleStats', () => {
  it('one line with percent, MB/s and time left from the bytes counted; average from accept', () => {
    // Accepted at 10 s; the subscription started long before (the library's average would count that wait).
    const people = createPeopleStats({ startedAtMs: 10_000 });
    people.sample(sample(10_000, 0));
    people.sample(sample(10_500, 5 * MB));
    const v = people.sample(sample(11_000, 10 * MB));
    expect(v.line).toBe('10.0 % · 10.0 MB/s · about 9 s left');
    expect(v.average).toBe('10.0 MB/s');
    expect(v.quality).toEqual({ word: 'Excellent', level: 'good' });
  });

  it('recommends only what held for the hold count (8 samples by default)', () => {
    const people = createPeopleStats({ startedAtMs: 0, holdSamples: 2 });
    const wifi = { action: 'switch-profile', profile: 'wifi', reason: 'RTT' } as const;
    expect(people.sample(sample(250, 0, { recommendation: wifi })).recommendation).toBe('—');
    expect(people.sample(sample(500, 0, { recommendation: { action: 'none', reason: 'fine' } })).recommendation).toBe('—');
    expect(people.sample(sample(750, 0, { recommendation: { action: 'none', reason: 'fine' } })).recommendation).toBe('No change: fine');
    expect(people.sample(sample(1000, 0, { recommendation: wifi })).recommendation).toBe('No change: fine');
  });

  it('says "Measuring…" for the first samples and "time left unknown" while stalled', () => {
    const people = createPeopleStats({ startedAtMs: 0 });
    expect(people.sample(sample(0, 0, { signals: { samples: 1, throughputBps: 0 } })).quality.word).toBe('Measuring…');
    const v = people.sample(sample(1000, 0));
    expect(v.line).toBe('0.0 % · 0.00 MB/s · time left unknown');
  });
});

describe('qualityWord', () => {
  it.each([
    [95, 'Excellent'],
    [70, 'Good'],
    [40, 'Fair'],
    [10, 'Poor'],
  ])('%d → %s', (score, word) => expect(qualityWord(score, 10).word).toBe(word));
});

describe('summaryText', () => {
  it('says how it ended instead of the live numbers', () => {
    expect(summaryText({ outcome: 'completed', bytes: 20 * MB, total: 20 * MB, seconds: 2, files: { completed: 3, total: 3 } })).toBe('Done: 3 files, 20.0 MB in 2.0 s (10.0 MB/s on average).');
    expect(summaryText({ outcome: 'completed', bytes: 8, total: 8, seconds: 0.1, files: { completed: 1, total: 1 } })).toBe('Done: 8 B in 0.1 s.');
    expect(summaryText({ outcome: 'cancelled', bytes: 5 * MB, total: 20 * MB, seconds: 1, files: { completed: 0, total: 1 } })).toBe('Stopped after 5.0 MB of 20.0 MB.');
    expect(summaryText({ outcome: 'peer-left', bytes: 5 * MB, total: 20 * MB, files: { completed: 1, total: 2 } })).toBe('The other device left after 1 of 2 files, 5.0 MB of 20.0 MB.');
  });
});
