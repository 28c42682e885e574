/**
 * The lane controller's measurement on reliable channels: the loss implied by the goodput, only on paths of
 * at least IMPLIED_LOSS_MIN_RTT_MS, judged on the lower of the sample's RTT and auto's probed RTT (a busy
 * CPU made a LAN read 6-9 ms and the controller opened a lane there).
 */
import { describe, expect, it } from 'vitest';
import type { TransferStats } from '../../src/index';
import { IMPLIED_LOSS_MIN_RTT_MS, measurementOf } from '../../src/transfer/SenderLanes';

const stats = (rttMs: number, bitsPerSecond: number) => ({ rtt: { current: rttMs }, throughput: { average: bitsPerSecond } }) as unknown as TransferStats;

describe('measurementOf (reliable channels)', () => {
  it.each([
    // rtt now, probed, implied loss > 0?
    [9, undefined, true],
    [9, 1, false],
    [40, 38, true],
    [IMPLIED_LOSS_MIN_RTT_MS - 1, undefined, false],
  ])('RTT %i ms now, probed %s ms: loss implied %s', (rttMs, probed, implied) => {
    const m = measurementOf(stats(rttMs, 8_000_000), 1, 'reliable', 1200, probed);
    expect(m.lossRate > 0).toBe(implied);
    expect(m.rttMs).toBe(rttMs);
  });
});
