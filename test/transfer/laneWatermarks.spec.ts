/**
 * `laneWatermark` (a channel's watermark in time: its share of the goodput × a few RTTs, between `minBytes`
 * and the byte watermark) as a table, and `LaneWatermarks`, which keeps the latest measurement for `highOf`.
 */
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { LANE_MIN_HIGH_BYTES, laneWatermark, LaneWatermarks } from '../../src/transfer/laneWatermarks';
import { FakeChannel } from '../helpers/fakeChannel';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('laneWatermark', () => {
  it.each([
    // rate (B/s), RTT (ms), high → watermark: rate × max(100 ms, 4 × RTT), within [64 KiB, high]
    { why: 'internet, 8 lanes at 0.5 MB/s each: 4 × 40 ms', rate: 500_000, rttMs: 40, high: MiB, want: 80_000 },
    { why: 'wifi, a fast lane: 100 ms floor', rate: 2_000_000, rttMs: 8, high: MiB, want: 200_000 },
    { why: 'poor, a slow lane: 64 KiB floor', rate: 70_000, rttMs: 150, high: MiB, want: LANE_MIN_HIGH_BYTES },
    { why: 'a fast long path: capped at high', rate: 20_000_000, rttMs: 100, high: MiB, want: MiB },
    { why: 'a rate of 0: the floor', rate: 0, rttMs: 40, high: MiB, want: LANE_MIN_HIGH_BYTES },
    { why: 'high below the floor: high', rate: 0, rttMs: 40, high: 32 * KiB, want: 32 * KiB },
    { why: 'no rate (NaN): high', rate: Number.NaN, rttMs: 40, high: MiB, want: MiB },
    { why: 'a negative RTT: high', rate: 500_000, rttMs: -1, high: MiB, want: MiB },
  ])('$why', ({ rate, rttMs, high, want }) => {
    expect(laneWatermark({ channelBytesPerSecond: rate, rttMs, highBytes: high })).toBe(want);
  });

  it('takes its queue length, floor in ms and floor in bytes as options', () => {
    expect(laneWatermark({ channelBytesPerSecond: 500_000, rttMs: 40, highBytes: MiB }, { queueRtts: 2, minQueueMs: 0, minBytes: 0 })).toBe(40_000);
    expect(laneWatermark({ channelBytesPerSecond: 500_000, rttMs: 10, highBytes: MiB }, { minQueueMs: 300 })).toBe(150_000);
  });

  it('rejects a bad option with InvalidConfigError', () => {
    expect(() => laneWatermark({ channelBytesPerSecond: 1, rttMs: 1, highBytes: 1 }, { queueRtts: -1 })).toThrow(InvalidConfigError);
    expect(() => laneWatermark({ channelBytesPerSecond: 1, rttMs: 1, highBytes: 1 }, { minBytes: Number.NaN })).toThrow(InvalidConfigError);
  });
});

describe('LaneWatermarks', () => {
  it('gives minBytes before the first measurement, then each channel its lane share over the channels on that lane', () => {
    const given = [new FakeChannel('tallow-0'), new FakeChannel('tallow-1')];
    const lane = new FakeChannel('tallow-lane-1-0');
    const w = new LaneWatermarks(MiB, (ch) => (ch === lane ? 1 : 2));
    expect(w.highOf(given[0])).toBe(LANE_MIN_HIGH_BYTES);
    // 8 MB/s over 4 lanes, 50 ms: 2 MB/s a lane; the given lane's two channels 1 MB/s each.
    w.update(8_000_000, 50, 4);
    expect(w.highOf(lane)).toBe(400_000);
    expect(w.highOf(given[1])).toBe(200_000);
    // A measurement without goodput changes nothing.
    w.update(0, 50, 4);
    expect(w.highOf(lane)).toBe(400_000);
  });

  it("`unmeasured` sets the watermark before the first measurement, within minBytes and high (the given connections' slow start)", () => {
    const ch = new FakeChannel('tallow-0');
    let drained = 0;
    const w = new LaneWatermarks(MiB, () => 1, { minQueueMs: 250, unmeasured: () => 2 * drained });
    expect(w.highOf(ch)).toBe(LANE_MIN_HIGH_BYTES); // nothing drained yet: the floor
    drained = 100 * KiB;
    expect(w.highOf(ch)).toBe(200 * KiB);
    drained = 4 * MiB;
    expect(w.highOf(ch)).toBe(MiB); // never above high
    // Once measured, the rate decides: 20 kB/s × 250 ms is under the floor.
    w.update(20_000, 20, 1);
    expect(w.highOf(ch)).toBe(LANE_MIN_HIGH_BYTES);
  });

  it('takes an RTT of 0 (a path too short to read): minQueueMs sets the queue', () => {
    const w = new LaneWatermarks(MiB, () => 1, { minQueueMs: 250 });
    w.update(400_000, 0, 1);
    expect(w.highOf(new FakeChannel('tallow-0'))).toBe(100_000);
  });
});

