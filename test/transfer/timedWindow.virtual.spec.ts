/**
 * On a `poor` path the sender holds its bytes in flight to TIMED_WINDOW_SECONDS of goodput (at least
 * TIMED_WINDOW_MIN_BYTES, at most the offer's window), in virtual time: what it hands to the channels ahead of
 * the receiver's acks (`progress.sent − progress.bytes`) stays within that, a faster path gets more, and an
 * app's own `window` is kept as it is.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, type SendOptions } from '../../src/index';
import { createVirtualLink } from '../../src/testing';
import { TIMED_WINDOW_MIN_BYTES } from '../../src/transfer/SenderSession';
import { pattern } from '../helpers/marbles';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Sends `size` bytes over a link of `bandwidth` B/s (75 ms one way); the most sent ahead of the acks, and the outcome. */
function run(size: number, bandwidth: number, options: SendOptions) {
  const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  let ahead = 0;
  const ends: string[] = [];
  ts.run(() => {
    const link = createVirtualLink({ scheduler: ts, delayMs: 75, bandwidth });
    receiveFile(link.b, { scheduler: ts }).subscribe({ next: (e) => e.type === 'completed' && ends.push('receiver'), error: (e) => ends.push(`receiver ${e.code}`) });
    // A channel queue larger than any window here, so that the window is what holds the sender back.
    sendFile(link.a, pattern(size), { scheduler: ts, channels: 1, high: 12 * MiB, low: MiB, ...options }).subscribe({
      next: (e) => {
        if (e.type === 'progress' && e.sent !== undefined) ahead = Math.max(ahead, e.sent - e.bytes);
        if (e.type === 'completed') ends.push('sender');
      },
      error: (e) => ends.push(`sender ${e.code}`),
    });
  });
  return { ahead, ends };
}

describe('a window in time on a poor path', () => {
  it('at 100 kB/s (4 s of goodput is under the floor) the sender is never more than 2 MiB ahead of the acks; the file arrives', () => {
    const { ahead, ends } = run(6 * MiB, 100_000, { profile: 'poor' });
    expect(ends.sort()).toEqual(['receiver', 'sender']);
    expect(ahead).toBeGreaterThan(TIMED_WINDOW_MIN_BYTES / 2);
    expect(ahead).toBeLessThanOrEqual(TIMED_WINDOW_MIN_BYTES + 64 * KiB);
  });

  it('at 1.5 MB/s the window follows the goodput past the floor (up to 4 s of it), within the offer\'s 8 MiB', () => {
    const { ahead, ends } = run(24 * MiB, 1_500_000, { profile: 'poor' });
    expect(ends.sort()).toEqual(['receiver', 'sender']);
    expect(ahead).toBeGreaterThan(TIMED_WINDOW_MIN_BYTES + 512 * KiB);
    expect(ahead).toBeLessThanOrEqual(8 * MiB + 64 * KiB);
  });

  it('an app that sets `window` gets that window, not the timed one', () => {
    const { ahead, ends } = run(6 * MiB, 100_000, { profile: 'poor', window: 4 * MiB });
    expect(ends.sort()).toEqual(['receiver', 'sender']);
    expect(ahead).toBeGreaterThan(TIMED_WINDOW_MIN_BYTES + 512 * KiB);
    expect(ahead).toBeLessThanOrEqual(4 * MiB + 64 * KiB);
  });

  it('another profile keeps the offer\'s window (internet: 8 MiB)', () => {
    const { ahead } = run(12 * MiB, 100_000, { profile: 'internet' });
    expect(ahead).toBeGreaterThan(4 * MiB);
  });
});
