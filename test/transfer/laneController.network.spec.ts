/**
 * The lane controller over the virtual network (createVirtualNetwork) in virtual time. Each lane carries
 * a stand-in data pump (test/testing/lanePump.ts: one reliable channel kept full), not the real transfer;
 * the in-band lanes of issue 13 run the real transfer through the same controller. Every run is 40 s of
 * virtual time and takes well under a second.
 */
import { describe, expect, it } from 'vitest';
import { runLanes } from '../testing/laneControllerRig';

/** 10 Mbit/s bottleneck, 100 ms RTT, 64 KiB queue (52 ms), 1 % random loss: one lane is capped near 146-170 kB/s. */
const lossy = { rateBytesPerSecond: 1_250_000, queueBytes: 65_536, delayMs: 50, lossRate: 0.01 };
const durationMs = 40_000;

describe('laneController over a virtual bottleneck', () => {
  it('adds lanes on a lossy link, staggered, and goodput rises toward the link rate', () => {
    const one = runLanes({ network: lossy, durationMs, controller: false });
    const run = runLanes({ network: lossy, durationMs });
    expect(one.finalGoodputBytesPerSecond).toBeLessThan(0.2 * lossy.rateBytesPerSecond);
    expect(run.lanes).toBeGreaterThanOrEqual(6);
    expect(run.changes.every((c) => c.action === 'add' && c.reason === 'loss-bound')).toBe(true);
    // Staggered: at most one change per interval (8 RTTs, 800 ms at least).
    const gaps = run.changes.slice(1).map((c, i) => c.atMs - run.changes[i].atMs);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(800);
    expect(run.finalGoodputBytesPerSecond).toBeGreaterThan(0.85 * lossy.rateBytesPerSecond);
    expect(run.finalGoodputBytesPerSecond).toBeGreaterThan(5 * one.finalGoodputBytesPerSecond);
  });

  it('adds no lane on a clean link, where one lane fills it', () => {
    const run = runLanes({ network: { ...lossy, lossRate: 0 }, durationMs });
    expect(run.changes).toEqual([]);
    expect(run.lanes).toBe(1);
    expect(run.finalGoodputBytesPerSecond).toBeGreaterThan(0.85 * lossy.rateBytesPerSecond);
  });

  it('keeps queue drops far below 16 unpaced lanes started together, at about the same goodput', () => {
    const unpaced = runLanes({ network: lossy, durationMs, lanes: 16, controller: false });
    const paced = runLanes({ network: lossy, durationMs });
    expect(unpaced.stats.queueDrops).toBeGreaterThan(500);
    expect(paced.stats.queueDrops).toBeLessThan(unpaced.stats.queueDrops / 3);
    expect(paced.finalGoodputBytesPerSecond).toBeGreaterThan(0.9 * unpaced.finalGoodputBytesPerSecond);
  });

  it('sheds lanes when they keep the queue standing, and goodput stays at the link rate', () => {
    // 0.3 % loss and a 256 KiB queue (205 ms): 16 lanes keep a standing queue; about 7 fill the link.
    const network = { ...lossy, lossRate: 0.003, queueBytes: 262_144 };
    const run = runLanes({ network, durationMs, lanes: 16 });
    const kept = runLanes({ network, durationMs, lanes: 16, controller: false });
    expect(run.changes.length).toBeGreaterThanOrEqual(4);
    expect(run.changes.every((c) => c.action === 'shed' && c.reason === 'queue-filling')).toBe(true);
    expect(run.lanes).toBeLessThanOrEqual(12);
    expect(run.finalGoodputBytesPerSecond).toBeGreaterThan(0.9 * network.rateBytesPerSecond);
    // The standing queue shrank: over the last quarter the lanes' mean RTT is well below that of the 16 kept lanes.
    const meanRtt = (r: typeof run): number => {
      const last = r.measurements.slice((r.measurements.length * 3) / 4);
      return last.reduce((sum, m) => sum + m.rttMs, 0) / last.length;
    };
    expect(meanRtt(run)).toBeLessThan(0.75 * meanRtt(kept));
  });
});
