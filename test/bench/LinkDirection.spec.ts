/**
 * The emulator's per-direction model, without sockets or timers: every figure
 * is exact or a binomial/normal bound on seeded draws, so nothing here is timed.
 */
import { describe, expect, it } from 'vitest';
import { LinkDirection, type Verdict } from '../../bench/emulator/LinkDirection';
import { resolveDirection, symmetricLink } from '../../bench/emulator/linkConfig';

const releaseOf = (v: Verdict): number => {
  if ('drop' in v) throw new Error(`dropped (${v.drop})`);
  return v.release;
};

describe('resolveDirection', () => {
  it('fills defaults: a perfect, unlimited link', () => {
    expect(resolveDirection()).toEqual({
      delayMs: 0,
      jitterMs: 0,
      jitterDistribution: 'uniform',
      jitterCorrelationMs: 10,
      lossRate: 0,
      reorder: 0,
      reorderGapMs: 1,
      rateBps: Infinity,
      queueBytes: Infinity,
      burstBytes: 3000,
      overheadBytes: 28,
    });
  });

  it('defaults the queue to 50 ms at the rate, at least 64 KiB', () => {
    expect(resolveDirection({ rateBps: 100e6 }).queueBytes).toBe(625_000);
    expect(resolveDirection({ rateBps: 1e6 }).queueBytes).toBe(65_536);
  });

  it.each([
    [{ lossRate: 1.5 }, /lossRate/],
    [{ reorder: -0.1 }, /reorder/],
    [{ delayMs: -1 }, /delayMs/],
    [{ rateBps: 0 }, /rateBps/],
    [{ jitterDistribution: 'pareto' as 'normal' }, /jitterDistribution/],
  ])('rejects %o', (config, message) => {
    expect(() => resolveDirection(config)).toThrow(message);
  });

  it('symmetricLink splits the RTT and converts Mbit/s', () => {
    const link = symmetricLink({ rateMbps: 20, rttMs: 40, lossRate: 0.01, jitterMs: 3, seed: 7 });
    expect(link.aToB).toEqual(link.bToA);
    expect(link.aToB).toMatchObject({ delayMs: 20, rateBps: 20e6, lossRate: 0.01, jitterMs: 3 });
    expect(link.seed).toBe(7);
  });
});

describe('LinkDirection', () => {
  it('with no settings releases every datagram at once', () => {
    const d = new LinkDirection();
    expect(d.admit(1200, 5)).toEqual({ release: 5, reordered: false });
    expect(d.counters).toMatchObject({ datagramsIn: 1, bytesIn: 1200, lostRandom: 0, lostQueue: 0 });
  });

  it('adds the one-way delay', () => {
    const d = new LinkDirection({ delayMs: 20 });
    expect(releaseOf(d.admit(100, 3))).toBe(23);
  });

  const delaysAtRate = (config: ConstructorParameters<typeof LinkDirection>[0], seed: number, count = 20_000, spacingMs = 0.1) => {
    const d = new LinkDirection(config, seed);
    let last = -Infinity;
    let monotone = true;
    const delays: number[] = [];
    for (let i = 0; i < count; i++) {
      const now = i * spacingMs;
      const r = releaseOf(d.admit(1200, now));
      if (r < last) monotone = false;
      last = r;
      delays.push(r - now);
    }
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    return { monotone, delays, mean, min: Math.min(...delays), max: Math.max(...delays), reordered: d.counters.reordered };
  };

  it('keeps releases monotone under (correlated) jitter when reordering is off, and keeps the mean delay', () => {
    // 20 000 datagrams 0.1 ms apart (12 MB/s) over 2 s = 200 correlation times.
    const r = delaysAtRate({ delayMs: 10, jitterMs: 5 }, 42);
    expect(r.monotone).toBe(true);
    expect(r.reordered).toBe(0);
    expect(r.min).toBeLessThan(7.5);
    expect(r.max).toBeGreaterThan(12.5);
    expect(r.max).toBeLessThanOrEqual(15 + 1e-9);
    expect(Math.abs(r.mean - 10)).toBeLessThan(1.5);
  });

  it('with independent draws (correlation 0) the monotone rule turns jitter into extra delay', () => {
    const r = delaysAtRate({ delayMs: 10, jitterMs: 5, jitterCorrelationMs: 0 }, 42);
    expect(r.monotone).toBe(true);
    // Each release is nearly the running maximum of recent draws: close to delay + jitter.
    expect(r.mean).toBeGreaterThan(13);
  });

  it('reorders only the share it is told to, by holding datagrams back', () => {
    const d = new LinkDirection({ delayMs: 10, reorder: 0.05, reorderGapMs: 3 }, 9);
    const releases = Array.from({ length: 20_000 }, (_, i) => releaseOf(d.admit(1200, i * 0.1)));
    let overtaken = 0;
    for (let i = 1; i < releases.length; i++) if (releases[i] < releases[i - 1]) overtaken++;
    // 20 000 × 0.05 = 1000 held, σ ≈ 31.
    expect(d.counters.reordered).toBeGreaterThan(1000 - 160);
    expect(d.counters.reordered).toBeLessThan(1000 + 160);
    expect(overtaken).toBeGreaterThan(0);
    expect(overtaken).toBeLessThanOrEqual(d.counters.reordered);
  });

  it('loses about the configured share (binomial bound), reproducibly per seed', () => {
    const run = (seed: number) => {
      const d = new LinkDirection({ lossRate: 0.02 }, seed);
      for (let i = 0; i < 100_000; i++) d.admit(1000, i);
      return d.counters.lostRandom;
    };
    const lost = run(3);
    // mean 2000, σ ≈ 44: ±5σ
    expect(lost).toBeGreaterThan(2000 - 221);
    expect(lost).toBeLessThan(2000 + 221);
    expect(run(3)).toBe(lost);
    expect(run(4)).not.toBe(lost);
  });

  it('draws normal jitter with σ = jitterMs', () => {
    const d = new LinkDirection({ delayMs: 100, jitterMs: 4, jitterDistribution: 'normal', jitterCorrelationMs: 0 }, 5);
    // 50 ms apart, well beyond the largest draw: the monotone rule never steps in.
    const delays = Array.from({ length: 20_000 }, (_, i) => releaseOf(d.admit(100, i * 50)) - i * 50);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    const sd = Math.sqrt(delays.reduce((a, b) => a + (b - mean) ** 2, 0) / delays.length);
    expect(mean).toBeGreaterThan(99.8);
    expect(mean).toBeLessThan(100.2);
    expect(sd).toBeGreaterThan(3.8);
    expect(sd).toBeLessThan(4.2);
  });

  it('spaces back-to-back datagrams by their wire time at the bottleneck rate', () => {
    // 8 Mbit/s = 1 byte per µs; 1000 B payload + 28 B overhead = 1.028 ms each; burst 0.
    const d = new LinkDirection({ rateBps: 8e6, burstBytes: 0, queueBytes: 1e9 });
    const releases = Array.from({ length: 100 }, () => releaseOf(d.admit(1000, 0)));
    releases.forEach((r, i) => expect(r).toBeCloseTo((i + 1) * 1.028, 9));
    expect(d.queuedBytes(0)).toBeCloseTo(100 * 1028, 6);
    expect(d.queuedBytes(50)).toBeCloseTo(100 * 1028 - 50_000, 6);
  });

  it('lets an idle link pass a burst, then paces', () => {
    const d = new LinkDirection({ rateBps: 8e6, burstBytes: 2056, queueBytes: 1e9 });
    // two datagrams fit in the bucket and leave at once, the third waits one wire time.
    expect(releaseOf(d.admit(1000, 100))).toBeCloseTo(100, 9);
    expect(releaseOf(d.admit(1000, 100))).toBeCloseTo(100, 9);
    expect(releaseOf(d.admit(1000, 100))).toBeCloseTo(101.028, 9);
  });

  it('tail-drops what does not fit in the queue, and the queue drains at the rate', () => {
    const d = new LinkDirection({ rateBps: 8e6, burstBytes: 0, queueBytes: 10 * 1028 });
    const verdicts = Array.from({ length: 15 }, () => d.admit(1000, 0));
    expect(verdicts.filter((v) => 'drop' in v)).toHaveLength(5);
    expect(d.counters.lostQueue).toBe(5);
    expect(d.counters.maxQueueBytes).toBeCloseTo(10 * 1028, 6);
    // after 5 wire times, 5 slots are free again
    const later = Array.from({ length: 6 }, () => d.admit(1000, 5 * 1.028 + 1e-9));
    expect(later.filter((v) => 'drop' in v)).toHaveLength(1);
  });

  it('queueing delay is real: release = queue wait + delay', () => {
    const d = new LinkDirection({ rateBps: 8e6, burstBytes: 0, queueBytes: 1e9, delayMs: 20 });
    for (let i = 0; i < 49; i++) d.admit(1000, 0);
    expect(releaseOf(d.admit(1000, 0))).toBeCloseTo(50 * 1.028 + 20, 9);
  });

  it('sums each datagram\'s time at the bottleneck (queueWaitMs: queue wait and its own wire time, not the delay)', () => {
    const d = new LinkDirection({ rateBps: 8e6, burstBytes: 0, queueBytes: 1e9, delayMs: 20 });
    // Ten back to back: the k-th waits k wire times (1.028 ms each) for the k before it, and its own.
    for (let i = 0; i < 10; i++) d.admit(1000, 0);
    expect(d.counters.queueWaitMs).toBeCloseTo(1.028 * ((10 * 11) / 2), 9);
    // An idle link adds no wait.
    const idle = new LinkDirection({ rateBps: 8e6, burstBytes: 0, delayMs: 20 });
    for (let i = 0; i < 10; i++) idle.admit(1000, i * 10);
    expect(idle.counters.queueWaitMs).toBeCloseTo(10 * 1.028, 9);
  });

  it('configure() changes settings from then on', () => {
    const d = new LinkDirection({ delayMs: 5 });
    expect(releaseOf(d.admit(10, 0))).toBe(5);
    d.configure({ delayMs: 50 });
    expect(releaseOf(d.admit(10, 1))).toBe(51);
  });
});
