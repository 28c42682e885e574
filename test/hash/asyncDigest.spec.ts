/**
 * A hasher whose digest comes later (as the browser's hash worker gives it) through a whole transfer, in
 * virtual time: `digestHex()` answers with a thenable that settles `DIGEST_DELAY_MS` later on the test's
 * scheduler. The sender must hold its `done` until its digest is known, the receiver must compare once its
 * own is, and both must report the right SHA-256. (With a synchronous-only sender, `done` would carry the
 * thenable itself and the transfer would fail.)
 */
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc } from 'node:zlib';
import type { SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, type TransferEvent } from '../../src/index';
import type { Sha256 } from '../../src/hash/sha256';
import { READ_AHEAD_BYTES } from '../../src/transfer/FileSender';
import { createVirtualLink } from '../../src/testing';
import { find, inVirtualTime, record } from '../properties/virtualClock';
import { pattern } from '../helpers/bytes';

const DIGEST_DELAY_MS = 40;

/** node:crypto's SHA-256 with a digest that settles later on `scheduler`; counts digests given. */
function laterDigests(scheduler: SchedulerLike) {
  const given: number[] = [];
  const create = (): Sha256 => {
    const h = createHash('sha256');
    return {
      update: (d) => void h.update(d),
      digestHex: () => {
        const hex = h.digest('hex');
        const thenable = {
          // rxjs's `from` chains a `.then(null, report)` on what this returns: nothing to do for that one.
          then(resolve?: ((v: string) => void) | null) {
            if (!resolve) return thenable;
            scheduler.schedule(() => {
              given.push(scheduler.now());
              resolve(hex);
            }, DIGEST_DELAY_MS);
            return thenable;
          },
        };
        return thenable as unknown as Promise<string>;
      },
    };
  };
  return { create, given };
}

describe('a digest that comes later (a hash worker)', () => {
  it.each([1, 300_000, 2_000_000])('%i bytes: both sides wait for their digests and agree on the SHA-256', (size) => {
    const bytes = pattern(size, 3);
    const want = createHash('sha256').update(bytes).digest('hex');
    const { r, s, sender, receiver, doneAt } = inVirtualTime((clock) => {
      const { scheduler } = clock;
      const link = createVirtualLink({ scheduler, delayMs: 2 });
      const sender = laterDigests(scheduler);
      const receiver = laterDigests(scheduler);
      // When the sender's `done` left: it must not be before the sender's digest settled.
      let doneAt = -1;
      const control = link.a.createDataChannel.bind(link.a);
      link.a.createDataChannel = (label: string, init?: RTCDataChannelInit) => {
        const ch = control(label, init);
        const send = ch.send.bind(ch);
        ch.send = (data: any) => {
          if (typeof data === 'string' && data.includes('"t":"done"')) doneAt = scheduler.now();
          send(data);
        };
        return ch;
      };
      const r = record(receiveFile(link.b, { scheduler, createHash: receiver.create }));
      const s = record(sendFile(link.a, bytes, { name: 'later.bin', scheduler, createHash: sender.create }));
      clock.runUntil(() => r.ended && s.ended, 60_000);
      return { r, s, sender, receiver, doneAt };
    });
    expect(r.error ?? s.error).toBeUndefined();
    const got = find(r.events, 'completed') as Extract<TransferEvent, { type: 'completed' }> | undefined;
    const confirmed = find(s.events, 'completed') as Extract<TransferEvent, { type: 'completed' }> | undefined;
    expect([got?.sha256, confirmed?.sha256]).toEqual([want, want]);
    expect(sender.given).toHaveLength(1);
    expect(receiver.given).toHaveLength(1);
    expect(doneAt).toBeGreaterThanOrEqual(sender.given[0]);
  });
});

/**
 * A sender's hasher that also takes the chunks' CRC-32 (as the page's hash-worker hasher does): `crc32Batch`
 * hashes the parts into the SHA-256 and answers their CRCs `DIGEST_DELAY_MS` later on `scheduler`. Records
 * what reached it which way.
 */
function bothHashes(scheduler: SchedulerLike) {
  const h = createHash('sha256');
  // Bytes handed over and not yet answered: now, and the most at any time.
  const seen = { updated: 0, batched: 0, batches: 0, out: 0, maxOut: 0 };
  const later = <T,>(value: T, bytes = 0) => {
    const thenable = {
      then(resolve?: ((v: T) => void) | null) {
        if (resolve)
          scheduler.schedule(() => {
            seen.out -= bytes;
            resolve(value);
          }, DIGEST_DELAY_MS);
        return thenable;
      },
    };
    return thenable as unknown as Promise<T>;
  };
  const hasher = {
    update: (d: Uint8Array) => {
      seen.updated += d.length;
      h.update(d);
    },
    crc32Batch: (parts: readonly Uint8Array[]) => {
      seen.batches++;
      const bytes = parts.reduce((n, p) => n + p.length, 0);
      parts.forEach((p) => ((seen.batched += p.length), h.update(p)));
      seen.maxOut = Math.max(seen.maxOut, (seen.out += bytes));
      return later(parts.map((p) => zlibCrc(p)), bytes);
    },
    digestHex: () => later(h.digest('hex')),
  };
  return { create: (): Sha256 => hasher, seen };
}

/** One `sendFile` of `bytes` over a virtual link in virtual time, the sender hashing with {@link bothHashes}. */
function sendWithBothHashes(bytes: Uint8Array, deadlineMs: number) {
  return inVirtualTime((clock) => {
    const { scheduler } = clock;
    const link = createVirtualLink({ scheduler, delayMs: 2 });
    const sender = bothHashes(scheduler);
    const r = record(receiveFile(link.b, { scheduler }));
    const s = record(sendFile(link.a, bytes, { name: 'both.bin', scheduler, createHash: sender.create }));
    clock.runUntil(() => r.ended && s.ended, deadlineMs);
    return { r, s, seen: sender.seen };
  });
}

describe('a sender hasher that takes the CRC batches too (the hash worker)', () => {
  it('the sender reads at most READ_AHEAD_BYTES (8 MiB) ahead of the CRC answers, not its whole window', () => {
    const bytes = pattern(20_000_000, 6);
    const { r, s, seen } = sendWithBothHashes(bytes, 120_000);
    expect(r.error ?? s.error).toBeUndefined();
    expect(seen.batched).toBe(bytes.length);
    expect(seen.maxOut).toBeGreaterThan(0);
    expect(seen.maxOut).toBeLessThanOrEqual(READ_AHEAD_BYTES);
  });

  it.each([1, 300_000, 2_000_000])('%i bytes: each byte reaches it once, through crc32Batch; the CRCs frame the chunks; both agree on the SHA-256', (size) => {
    const bytes = pattern(size, 5);
    const want = createHash('sha256').update(bytes).digest('hex');
    const { r, s, seen } = sendWithBothHashes(bytes, 60_000);
    expect(r.error ?? s.error).toBeUndefined();
    expect(seen.updated).toBe(0);
    expect(seen.batched).toBe(size);
    expect(seen.batches).toBeGreaterThan(0);
    const got = find(r.events, 'completed') as Extract<TransferEvent, { type: 'completed' }> | undefined;
    const confirmed = find(s.events, 'completed') as Extract<TransferEvent, { type: 'completed' }> | undefined;
    expect([got?.sha256, confirmed?.sha256]).toEqual([want, want]);
  });
});
