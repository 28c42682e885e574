/**
 * Limit: out-of-order chunks held while a gap waits (`maxBufferedChunks`, the
 * reorder window, and `maxBufferedBytes`). A hostile sender that jumps far
 * ahead is cut off with ReorderError ERR_REORDER_OVERFLOW as soon as it leaves
 * the window, and the receiver never holds more than the bounds.
 */
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, LimitExceededError, receiveFile, ReorderError, sendFile } from '../../src/index';
import { createVirtualLink } from '../../src/testing';
import { HostileSender, manifestOf, outcomeOf, sha256Hex, watch } from './hostileSender';
import { closeAfter } from './tmpDirs';

const CHUNK = 4096;

/** A receiver and a hostile sender past the handshake, for a file of `chunks` chunks. */
const setup = async (chunks: number, limits: { maxBufferedChunks?: number; maxBufferedBytes?: number } = {}, window?: number) => {
  const s = closeAfter(new HostileSender());
  const m = manifestOf({ size: chunks * CHUNK, chunk: { min: CHUNK, max: CHUNK }, ...(window ? { window } : {}) });
  const r = watch(receiveFile(s.link.b, limits));
  await s.handshake(m);
  const send = (index: number) => s.frame(m.id, index, index * CHUNK, new Uint8Array(CHUNK).fill(index & 0xff));
  return { s, m, r, send };
};

/** Sends chunks 1..n-1, then 0, then `done` with the whole file's digest, and waits for the receiver to end. */
const lastFirst = async ({ s, m, r, send }: Awaited<ReturnType<typeof setup>>, n: number) => {
  for (let i = 1; i < n; i++) send(i);
  send(0);
  const all = new Uint8Array(n * CHUNK);
  for (let i = 0; i < n; i++) all.fill(i, i * CHUNK, (i + 1) * CHUNK);
  s.send({ t: 'done', id: m.id, i: 0, chunks: n, bytes: all.length, sha256: sha256Hex(all) });
  await r.settled;
};

const overflowOf = (err: unknown) => {
  expect(err).toBeInstanceOf(ReorderError);
  expect((err as ReorderError).code).toBe('ERR_REORDER_OVERFLOW');
  return (err as ReorderError).details as { buffered: number; bufferedBytes: number; index?: number };
};

describe('limit: out-of-order chunks held (maxBufferedChunks / maxBufferedBytes)', () => {
  it('chunk index 10^6 first, default limits: ERR_REORDER_OVERFLOW at once, nothing held, the sender is told', async () => {
    const { s, m, r } = await setup(2_000_000);
    s.frame(m.id, 1_000_000, 1_000_000 * CHUNK, new Uint8Array(CHUNK));
    await r.settled;
    const d = overflowOf(r.error());
    expect(d.index).toBe(1_000_000);
    expect(d.buffered).toBe(0);
    expect(d.bufferedBytes).toBe(0);
    const error = await s.next('error');
    expect(error.code).toBe('ERR_REORDER_OVERFLOW');
  });

  it('the largest index (2^32 - 1) first: ERR_REORDER_OVERFLOW, not a hang or an allocation', async () => {
    const { s, m, r } = await setup(16);
    s.frame(m.id, 0xffff_ffff, 0, new Uint8Array(CHUNK));
    await r.settled;
    expect(overflowOf(r.error()).buffered).toBe(0);
  });

  it('maxBufferedChunks 8: chunks 1..7 wait, chunk 8 overflows; at most 7 chunks were ever held', async () => {
    // An offer whose window allows 8 chunks in flight (7 × 4 KiB / chunk.min + 1): the reorder window is then 8.
    const { r, send } = await setup(64, { maxBufferedChunks: 8 }, 7 * CHUNK);
    for (let i = 1; i <= 8; i++) send(i);
    await r.settled;
    const d = overflowOf(r.error());
    expect(d.index).toBe(8);
    expect(d.buffered).toBe(7);
    expect(d.bufferedBytes).toBe(7 * CHUNK);
  });

  it('maxBufferedChunks 8: chunks 1..7 then 0 drain in order and the transfer goes on (control case)', async () => {
    const run = await setup(8, { maxBufferedChunks: 8 }, 7 * CHUNK);
    await lastFirst(run, 8);
    expect(outcomeOf(run.r)).toBe('completed');
  });

  it("the reorder window grows to what the offer's window lets the sender have in flight: 64 KiB in 4 KiB chunks (17) with maxBufferedChunks 8 holds chunks 1..16", async () => {
    // Before, a sender inside its window (window / chunk.min > maxBufferedChunks) failed mid-transfer with
    // ERR_REORDER_OVERFLOW (found by an outside check: 64 MiB window, 16 KiB chunks, package to package).
    const run = await setup(17, { maxBufferedChunks: 8 }, 16 * CHUNK);
    await lastFirst(run, 17);
    expect(outcomeOf(run.r)).toBe('completed');
  });

  it('an offer whose window / chunk.min + 1 exceeds 65,536 chunk indexes is refused at once (LimitExceededError), not mid-transfer', async () => {
    // Our sender refuses such options at subscription now (below): a hand-driven sender offers them.
    const s = closeAfter(new HostileSender());
    const r = watch(receiveFile(s.link.b));
    await s.offer(manifestOf({ size: 4096, window: 64 * 1024 * 1024, chunk: { min: 1024, max: 65_536 } }));
    await r.settled;
    expect(r.error()).toBeInstanceOf(LimitExceededError);
    expect((r.error() as LimitExceededError).details).toMatchObject({ value: 65_537, max: 65_536 });
  });

  it("our sender refuses those options at subscription with InvalidConfigError (an outside check: minChunk 256 was rejected by the receiver, as TransferRejectedError)", () => {
    const link = closeAfter(createVirtualLink());
    for (const [options, field] of [[{ window: 64 * 1024 * 1024, minChunk: 1024 }, 'minChunk'], [{ profile: 'lan', minChunk: 256 }, 'minChunk'], [{ profile: 'lan', maxChunk: 200 }, 'maxChunk']] as const) {
      let error: unknown;
      sendFile(link.a, new Uint8Array(4096), options).subscribe({ error: (e) => (error = e) }).unsubscribe();
      expect(error, JSON.stringify(options)).toBeInstanceOf(InvalidConfigError);
      expect((error as InvalidConfigError).details).toMatchObject({ field });
    }
  });

  it('maxBufferedBytes 12,000: two 4 KiB chunks wait (each counted with 1 KiB for holding it: 10,240 B), the third overflows', async () => {
    const { r, send } = await setup(64, { maxBufferedBytes: 12_000 });
    for (let i = 1; i <= 3; i++) send(i);
    await r.settled;
    const d = overflowOf(r.error());
    expect(d.index).toBe(3);
    expect(d.bufferedBytes).toBe(2 * CHUNK);
    expect(d.bufferedBytes + 2 * 1024).toBeLessThanOrEqual(12_000);
  });
});
