/**
 * Promise: a corrupted chunk is re-requested and the transfer still succeeds;
 * only when its re-requests are exhausted does the transfer fail, with
 * `HashMismatchError` naming the chunk, on the receiver, and the same code on
 * the sender. Deterministic: a wrapper flips a payload bit of chosen copies of
 * one chunk (header intact), over a clean virtual link.
 */
import { createHash } from 'node:crypto';
import type { Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { HashMismatchError, receiveFile, sendFile, TallowError, type Reliability, type TransferEvent } from '../../src/index';
import { createVirtualLink, mulberry32, type VirtualLink } from '../../src/testing';
import { corruptingPeer } from './corruptingPeer';
import { memoryTarget } from './memoryTarget';

const CHUNK = 16 * 1024;
const SIZE = 20 * CHUNK + 7;
const VICTIM = 5;
type Completed = Extract<TransferEvent, { type: 'completed' }>;

const file = (() => {
  const random = mulberry32(99);
  const bytes = new Uint8Array(SIZE).map(() => (random() * 256) | 0);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
})();

let links: VirtualLink[] = [];
let subs: Subscription[] = [];
afterEach(() => {
  for (const s of subs) s.unsubscribe();
  for (const l of links) l.close();
  links = [];
  subs = [];
});

/** Subscribes and resolves with how the stream ended: its `completed` event, or its error. */
const settle = (source: import('rxjs').Observable<TransferEvent>) =>
  new Promise<{ completed?: Completed; error?: unknown }>((resolve) => {
    let completed: Completed | undefined;
    subs.push(
      source.subscribe({
        next: (e) => e.type === 'completed' && (completed = e),
        error: (error) => resolve({ error }),
        complete: () => resolve({ completed }),
      }),
    );
  });

/** Sends the file with `corruptCopies` copies of chunk VICTIM corrupted, and the receiver allowing `maxCorruptRetries`. */
const run = async (corruptCopies: number, maxCorruptRetries: number, reliability: Reliability, channels = 1) => {
  const link = createVirtualLink({ delay: 1 });
  links.push(link);
  const wrapper = corruptingPeer(link.a, VICTIM, corruptCopies);
  const target = memoryTarget();
  const received = settle(receiveFile(link.b, { target, maxCorruptRetries, idleTimeout: 5000 }));
  const sent = settle(sendFile(wrapper.peer, file.bytes, { name: 'victim.bin', channels, lanes: 1, reliability, minChunk: CHUNK, maxChunk: CHUNK }));
  const [receiver, sender] = await Promise.all([received, sent]);
  return { receiver, sender, wrapper, target, link };
};

describe('a corrupted chunk is re-requested', () => {
  it.each([
    { corruptCopies: 1, maxCorruptRetries: 1, reliability: 'reliable' as const, channels: 1 },
    { corruptCopies: 2, maxCorruptRetries: 2, reliability: 'reliable' as const, channels: 1 },
    { corruptCopies: 3, maxCorruptRetries: 3, reliability: 'unreliable' as const, channels: 3 },
  ])('$corruptCopies corrupted copies, maxCorruptRetries $maxCorruptRetries, $reliability, $channels channel(s): succeeds with the right bytes', async ({ corruptCopies, maxCorruptRetries, reliability, channels }) => {
    const { receiver, sender, wrapper, target } = await run(corruptCopies, maxCorruptRetries, reliability, channels);
    expect(receiver.error).toBeUndefined();
    expect(sender.error).toBeUndefined();
    expect(wrapper.corrupted).toBe(corruptCopies);
    // One clean copy after the corrupted ones: the receiver asked for each one again.
    expect(wrapper.copies).toBeGreaterThanOrEqual(corruptCopies + 1);
    expect(receiver.completed!.sha256).toBe(file.sha256);
    expect(sender.completed!.sha256).toBe(file.sha256);
    expect(createHash('sha256').update(receiver.completed!.result as Uint8Array).digest('hex')).toBe(file.sha256);
    expect(sender.completed!.retransmittedBytes).toBeGreaterThanOrEqual(corruptCopies * CHUNK);
    expect(target.finishes).toBe(1);
    expect(target.aborts).toEqual([]);
  });
});

describe('only when the re-requests are exhausted does it fail, with HashMismatchError', () => {
  it.each([
    { maxCorruptRetries: 2, reliability: 'reliable' as const },
    { maxCorruptRetries: 0, reliability: 'reliable' as const },
    { maxCorruptRetries: 2, reliability: 'unreliable' as const },
  ])('every copy corrupted, maxCorruptRetries $maxCorruptRetries, $reliability: HashMismatchError for chunk 5 on the receiver, ERR_HASH_MISMATCH on the sender', async ({ maxCorruptRetries, reliability }) => {
    const { receiver, sender, wrapper, target } = await run(Infinity, maxCorruptRetries, reliability);
    const err = receiver.error as HashMismatchError;
    expect(err).toBeInstanceOf(HashMismatchError);
    expect(err.code).toBe('ERR_HASH_MISMATCH');
    expect(err.index).toBe(VICTIM);
    expect(err.algorithm).toBe('crc32');
    expect(err.details).toMatchObject({ index: VICTIM, algorithm: 'crc32' });
    expect(err.expected).not.toBe(err.actual);
    // The sender hears the receiver's error: same code, the chunk named in the message.
    const told = sender.error as TallowError;
    expect(told).toBeInstanceOf(TallowError);
    expect(told.code).toBe('ERR_HASH_MISMATCH');
    expect(told.message).toContain(`chunk ${VICTIM} crc32 mismatch`);
    expect(told.details).toMatchObject({ remote: true });
    expect(sender.completed).toBeUndefined();
    // The first copy and one per re-request, all corrupted; the last one exhausted the retries.
    if (reliability === 'reliable') expect(wrapper.copies).toBe(maxCorruptRetries + 1);
    else expect(wrapper.copies).toBeGreaterThanOrEqual(maxCorruptRetries + 1);
    expect(wrapper.corrupted).toBe(wrapper.copies);
    // Nothing from the victim on was written, and the target was aborted, never finished.
    expect(target.persisted).toBe(VICTIM * CHUNK);
    expect(target.finishes).toBe(0);
    expect(target.aborts).toEqual([err]);
  });
});
