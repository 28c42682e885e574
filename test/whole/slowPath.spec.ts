/**
 * A path far slower than the profile, with several data channels, in virtual time. Until 7 Dec 2026 every data
 * channel of the connections the app gave queued up to the profile's `high` (1 MiB): at 20 kB/s that is almost a
 * minute per channel. A chunk held for one channel waited behind its queue while later chunks went out on the
 * others, the receiver saw no new byte in order for 30 s and failed with `IdleTimeoutError` (reliable, 20 kB/s, 2
 * or 3 channels, after 2-3 MB); in unreliable mode a lost chunk's copy waited behind the whole file queued at the
 * start. Now each channel's watermark is in time (250 ms of its share of the goodput, 64 KiB at least), with a
 * slow start (twice what the channel has drained) until the first ack measures the goodput, and a NACK for a chunk
 * whose first copy is still waiting for a channel is postponed rather than answered with a duplicate.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, type SendOptions } from '../../src/index';
import { createVirtualLink, type VirtualDataChannel } from '../../src/testing';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import { pattern } from '../helpers/marbles';

const KiB = 1024;
const MiB = 1024 * KiB;
const isData = (ch: VirtualDataChannel): boolean => ch.label.startsWith('tallow-') && ch.label !== CONTROL_LABEL;

interface Outcome {
  readonly ends: string[];
  /** When both sides ended, ms of virtual time. */
  readonly endedAt: number;
  /** The most bytes queued on the sender's data channels together, in the first second and after. */
  readonly queuedFirstSecond: number;
  readonly queuedLater: number;
  readonly retransmitted: number;
  /** Data messages the link dropped. */
  readonly dropped: number;
}

/** Sends `size` bytes over a `bandwidth` B/s link (10 ms one way), sampling the sender's channel queues every 100 ms. */
function run(size: number, bandwidth: number, lossRate: number, options: SendOptions, seed = 1): Outcome {
  const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  const ends: string[] = [];
  let endedAt = 0;
  let queuedFirstSecond = 0;
  let queuedLater = 0;
  let retransmitted = 0;
  let dropped = 0;
  ts.run(() => {
    const link = createVirtualLink({ scheduler: ts, bandwidth, delayMs: 10, lossRate, seed });
    const end = (what: string) => {
      ends.push(what);
      endedAt = ts.now();
    };
    const sample = (): void => {
      const queued = link.a.channels.filter(isData).reduce((n, ch) => n + ch.bufferedAmount, 0);
      if (ts.now() <= 1000) queuedFirstSecond = Math.max(queuedFirstSecond, queued);
      else queuedLater = Math.max(queuedLater, queued);
      if (ends.length < 2) ts.schedule(sample, 100);
    };
    ts.schedule(sample, 0);
    receiveFile(link.b, { scheduler: ts }).subscribe({ error: (e: { code: string }) => end(`receiver ${e.code}`), complete: () => end('receiver') });
    sendFile(link.a, pattern(size), { scheduler: ts, ...options }).subscribe({
      next: (e) => e.type === 'completed' && (retransmitted = e.retransmittedBytes ?? 0),
      error: (e: { code: string }) => end(`sender ${e.code}`),
      complete: () => end('sender'),
    });
    ts.schedule(() => (dropped = link.stats().aToB.messagesDropped), 1e7);
  });
  return { ends: ends.sort(), endedAt, queuedFirstSecond, queuedLater, retransmitted, dropped };
}

describe('a path far slower than the profile, with several data channels (virtual time)', () => {
  it.each([
    { kBps: 20, channels: 2, mb: 4 },
    { kBps: 20, channels: 3, mb: 4 },
    { kBps: 40, channels: 3, mb: 6 },
    { kBps: 10, channels: 3, mb: 2 },
  ])('reliable, $kBps kB/s, $channels channels, $mb MB: completes at the link rate', ({ kBps, channels, mb }) => {
    const o = run(mb * 1e6, kBps * 1000, 0, { channels });
    expect(o.ends).toEqual(['receiver', 'sender']);
    // The link's time for the bytes, plus at most 5 %: no stall on the way.
    expect(o.endedAt).toBeLessThan(((mb * 1e6) / (kBps * 1000)) * 1000 * 1.05);
    // After the first ack measured the rate: each channel holds its 64 KiB floor and the frame that crossed it.
    expect(o.queuedLater).toBeLessThanOrEqual(channels * (64 * KiB + 256 * KiB));
  });

  it.each([
    { kBps: 20, channels: 2, mb: 2, loss: 0.05, seed: 1 },
    { kBps: 20, channels: 3, mb: 2, loss: 0.05, seed: 2 },
    { kBps: 20, channels: 3, mb: 2, loss: 0.1, seed: 3 },
    { kBps: 50, channels: 3, mb: 4, loss: 0.1, seed: 1 },
    { kBps: 30, channels: 4, mb: 3, loss: 0.05, seed: 1 },
  ])('unreliable, $kBps kB/s, $loss loss, $channels channels, $mb MB (seed $seed): every lost chunk comes back in time', ({ kBps, channels, mb, loss, seed }) => {
    const o = run(mb * 1e6, kBps * 1000, loss, { channels, reliability: 'unreliable' }, seed);
    expect(o.ends).toEqual(['receiver', 'sender']);
    expect([o.dropped > 0, o.retransmitted > 0]).toEqual([true, true]);
    // Resends cost link time: within 1.5 × the link's time for the bytes.
    expect(o.endedAt).toBeLessThan(((mb * 1e6) / (kBps * 1000)) * 1000 * 1.5);
  });

  it('slow start: in the first second at 20 kB/s the channels hold a few hundred KiB, not 1 MiB each', () => {
    const o = run(2e6, 20_000, 0, { channels: 3 });
    expect(o.ends).toEqual(['receiver', 'sender']);
    expect(o.queuedFirstSecond).toBeLessThanOrEqual(3 * (64 * KiB + 256 * KiB));
  });

  it('an app that sets `high` keeps its byte watermark', () => {
    const o = run(3e6, 20_000, 0, { channels: 1, high: 2 * MiB, low: 256 * KiB });
    expect(o.ends).toEqual(['receiver', 'sender']);
    expect(o.queuedFirstSecond).toBeGreaterThan(MiB);
  });

  it('a fast path still fills each channel to the profile\'s 1 MiB', () => {
    const o = run(64 * MiB, 50 * MiB, 0, { channels: 2, profile: 'lan' });
    expect(o.ends).toEqual(['receiver', 'sender']);
    expect(o.queuedFirstSecond).toBeGreaterThan(1.5 * MiB);
  });
});
