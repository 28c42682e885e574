/**
 * README, "Send and receive": the sender's `cancel` travels behind the data already handed to the channels, so a
 * receiver that gets all of it first still completes. An outside check unsubscribed the sender once the
 * receiver reported 100 % (every byte verified and persisted, `done` in): the `cancel` came 1-5 ms later, while
 * the receiver was still computing the whole-file SHA-256, and it failed with `ERR_CANCELLED` in 11 of 16 runs,
 * leaving the file as a part file. A file whose every byte and `done` are in now counts as finishing, as one
 * whose target is placing it did. Real time over a virtual link, with a receiver's digest that takes 40 ms so
 * the `cancel` lands inside it every time.
 */
import { createHash } from 'node:crypto';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, type Sha256Factory } from '../../src/index';
import { createVirtualLink } from '../../src/testing';
import { deterministicBytes } from '../helpers/bytes';
import { sha256Hex } from '../helpers/sha256';

/** node:crypto's SHA-256 whose digest answers after `ms`. */
const slowDigest = (ms: number): Sha256Factory => () => {
  const h = createHash('sha256');
  return {
    update: (data: Uint8Array) => void h.update(data),
    digestHex: () => new Promise((resolve) => setTimeout(() => resolve(h.digest('hex')), ms)),
  };
};

describe('the sender unsubscribes once the receiver holds every byte', () => {
  it.each([40, 0])('the receiver completes anyway (its digest takes %s ms)', async (digestMs) => {
    const bytes = deterministicBytes(600_000);
    const link = createVirtualLink({ delayMs: 2 });
    let cancelSent = false;
    const received = new Promise<string>((resolve) => {
      const events = receiveFile(link.b, { createHash: slowDigest(digestMs) });
      events.subscribe({
        next: (e) => {
          if (e.type === 'progress' && e.percent >= 100 && !cancelSent) {
            cancelSent = true;
            sending.unsubscribe();
          }
        },
        error: (e: Error) => resolve(`${e.name}: ${e.message}`),
        complete: () => resolve('completed'),
      });
    });
    const sending = sendFile(link.a, bytes, { name: 'all.bin', channels: 1 }).subscribe({ error: () => undefined });
    expect(await received).toBe('completed');
    expect(cancelSent).toBe(true);
    link.close();
  });

  it('a receiver still missing bytes when the cancel comes fails with ERR_CANCELLED (the rule is not "ignore cancel")', async () => {
    const link = createVirtualLink({ delayMs: 2, bandwidth: 1_000_000 });
    const received = lastValueFrom(receiveFile(link.b)).then(() => 'completed', (e: { code?: string }) => e.code);
    const sending = sendFile(link.a, deterministicBytes(4_000_000), { channels: 1 }).subscribe({ error: () => undefined });
    setTimeout(() => sending.unsubscribe(), 300);
    expect(await received).toBe('ERR_CANCELLED');
    link.close();
  });

  it('sanity: the slow digest is a real SHA-256', async () => {
    const h = await slowDigest(1)();
    h.update(new Uint8Array([1, 2, 3]));
    expect(await h.digestHex()).toBe(sha256Hex(new Uint8Array([1, 2, 3])));
  });
});
