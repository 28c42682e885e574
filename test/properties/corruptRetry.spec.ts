/**
 * Promise: a corrupted chunk is re-requested and the transfer still succeeds;
 * only when its re-requests are exhausted does the transfer fail, with
 * `HashMismatchError` naming the chunk, on the receiver, and the same code on
 * the sender. Deterministic: a wrapper flips a payload bit of chosen copies of
 * one chunk (header intact), over a clean virtual link, in virtual time.
 */
import { describe, expect, it } from 'vitest';
import { HashMismatchError, receiveFile, sendFile, TallowError } from '../../src/index';
import type { Reliability } from '../../src/protocol/control';
import { createVirtualLink } from '../../src/testing';
import { deterministicBytes } from '../helpers/bytes';
import { sha256Hex } from '../helpers/sha256';
import { corruptingPeer } from './corruptingPeer';
import { memoryTarget } from './memoryTarget';
import { find, inVirtualTime, record, type Recorded } from './virtualClock';

const CHUNK = 16 * 1024;
const SIZE = 20 * CHUNK + 7;
const VICTIM = 5;

const file = (() => {
  const bytes = deterministicBytes(SIZE, 99);
  return { bytes, sha256: sha256Hex(bytes) };
})();

/**
 * Sends the file with `corruptCopies` copies of chunk VICTIM corrupted, and the receiver allowing
 * `maxCorruptRetries`, in virtual time: both sides must end within 60 s of it (the idle timeouts: 5 s for the
 * receiver, 30 s for the sender).
 */
const run = (corruptCopies: number, maxCorruptRetries: number, reliability: Reliability, channels = 1) =>
  inVirtualTime((clock) => {
    const { scheduler } = clock;
    const link = createVirtualLink({ delayMs: 1, scheduler });
    const wrapper = corruptingPeer(link.a, VICTIM, corruptCopies);
    const target = memoryTarget();
    const receiver = record(receiveFile(link.b, { target, maxCorruptRetries, idleTimeoutMs: 5000, scheduler }));
    const sender = record(sendFile(wrapper.peer, file.bytes, { name: 'victim.bin', channels, lanes: 1, reliability, minChunk: CHUNK, maxChunk: CHUNK, scheduler }));
    expect(clock.runUntil(() => receiver.ended && sender.ended, 60_000), 'both sides end within the virtual deadline').toBe(true);
    link.close();
    const outcome = (r: Recorded) => ({ completed: find(r.events, 'completed'), error: r.error });
    return { receiver: outcome(receiver), sender: outcome(sender), wrapper, target };
  });

describe('a corrupted chunk is re-requested', () => {
  it.each([
    { corruptCopies: 1, maxCorruptRetries: 1, reliability: 'reliable' as const, channels: 1 },
    { corruptCopies: 2, maxCorruptRetries: 2, reliability: 'reliable' as const, channels: 1 },
    { corruptCopies: 3, maxCorruptRetries: 3, reliability: 'unreliable' as const, channels: 3 },
  ])('$corruptCopies corrupted copies, maxCorruptRetries $maxCorruptRetries, $reliability, $channels channel(s): succeeds with the right bytes', ({ corruptCopies, maxCorruptRetries, reliability, channels }) => {
    const { receiver, sender, wrapper, target } = run(corruptCopies, maxCorruptRetries, reliability, channels);
    expect(receiver.error).toBeUndefined();
    expect(sender.error).toBeUndefined();
    expect(wrapper.corrupted).toBe(corruptCopies);
    // One clean copy after the corrupted ones: the receiver asked for each one again.
    expect(wrapper.copies).toBeGreaterThanOrEqual(corruptCopies + 1);
    expect(receiver.completed!.sha256).toBe(file.sha256);
    expect(sender.completed!.sha256).toBe(file.sha256);
    expect(sha256Hex(receiver.completed!.result as Uint8Array)).toBe(file.sha256);
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
  ])('every copy corrupted, maxCorruptRetries $maxCorruptRetries, $reliability: HashMismatchError for chunk 5 on the receiver, ERR_HASH_MISMATCH on the sender', ({ maxCorruptRetries, reliability }) => {
    const { receiver, sender, wrapper, target } = run(Infinity, maxCorruptRetries, reliability);
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
