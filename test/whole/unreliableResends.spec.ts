/**
 * Unreliable mode over two channels whose queues drain at different paces, in virtual time (an outside check
 * of 7 Dec 2026: 1 MB/s, 25 ms, 5 % loss on the data channels; one channel ran about 0.7 s behind the other,
 * and the receiver NACKed almost every chunk of the slower one: 74 of 162 chunks sent twice or more for 8
 * messages lost, `retransmittedBytes` five times the bytes lost, and the stats' loss rate at 0.5-1.0). The
 * receiver now judges a gap per channel: an index is missing once every channel still delivering has
 * delivered a later one.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, type TransferEvent, type TransferStats } from '../../src/index';
import { createVirtualLink, type VirtualLink } from '../../src/testing';
import { pattern } from '../helpers/marbles';

const MiB = 1 << 20;

function run(seed: number, channels: number) {
  const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
  const sent: TransferEvent[] = [];
  const received: TransferEvent[] = [];
  let link!: VirtualLink;
  ts.run(() => {
    link = createVirtualLink({ scheduler: ts, bandwidth: 1_000_000, delayMs: 25, lossRate: 0.05, seed, faultFilter: (c) => c.label !== 'tallow-control' });
    receiveFile(link.b, { scheduler: ts }).subscribe({ next: (e) => received.push(e) });
    sendFile(link.a, pattern(6 * MiB), { scheduler: ts, transferId: 1, reliability: 'unreliable', channels }).subscribe({ next: (e) => sent.push(e) });
  });
  const dropped = link.a.channels.filter((c) => c.label !== 'tallow-control').reduce((n, c) => n + c.stats.bytesDropped, 0);
  const completed = sent.find((e): e is Extract<TransferEvent, { type: 'completed' }> => e.type === 'completed');
  const stats = sent.filter((e): e is Extract<TransferEvent, { type: 'stats' }> => e.type === 'stats').map((e) => e.stats as TransferStats);
  return { dropped, completed, stats, receivedCompleted: received.some((e) => e.type === 'completed') };
}

describe('unreliable mode: resends follow the losses, not a slower channel', () => {
  it.each([1, 3, 4, 5])('seed %i, two channels: both complete; the bytes resent at most the bytes lost plus two chunks; loss rate under 0.3', (seed) => {
    const r = run(seed, 2);
    expect(r.completed).toBeDefined();
    expect(r.receivedCompleted).toBe(true);
    expect(r.dropped).toBeGreaterThan(0);
    expect(r.completed!.retransmittedBytes).toBeLessThanOrEqual(r.dropped + 2 * 64 * 1024);
    for (const s of r.stats) expect(s.lossRate ?? 0).toBeLessThan(0.3);
    // Resends show as loss in some sample (counted against new chunks alone, the end's repairs read 0).
    expect(Math.max(...r.stats.map((s) => s.lossRate ?? 0))).toBeGreaterThan(0);
  });
});
