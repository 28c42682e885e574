import { of, toArray, lastValueFrom, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { DEFAULT_FRAME_POOL_CAPACITY, FramePool } from '../../src/flow/FramePool';
import { encodeFrames } from '../../src/operators/encodeFrames';
import { decodeFrame, encodeFrame, FRAME_HEADER_SIZE } from '../../src/protocol/frame';
import { sendToChannels } from '../../src/sinks/sendToChannels';
import type { Chunk } from '../../src/types';
import { FakeChannel } from '../helpers/fakeChannel';
import { pattern } from '../helpers/marbles';

describe('FramePool', () => {
  it('hands out views of exactly the size asked, over buffers of bufferSize', () => {
    const pool = new FramePool({ bufferSize: 64 });
    const a = pool.take(40);
    expect(a.length).toBe(40);
    expect(a.buffer.byteLength).toBe(64);
    expect(pool.allocations).toBe(1);
  });

  it('reuses a buffer once it was given back, and only then', () => {
    const pool = new FramePool({ bufferSize: 64 });
    const a = pool.take(64);
    const b = pool.take(10);
    expect(b.buffer).not.toBe(a.buffer);
    pool.give(a);
    expect(pool.size).toBe(1);
    const c = pool.take(20);
    expect(c.buffer).toBe(a.buffer);
    expect(pool.allocations).toBe(2);
  });

  it('ignores frames it did not lend, and a second give of the same frame', () => {
    const pool = new FramePool({ bufferSize: 64 });
    pool.give(new Uint8Array(64));
    expect(pool.size).toBe(0);
    const a = pool.take(8);
    pool.give(a);
    pool.give(a);
    expect(pool.size).toBe(1);
    // Two takes after the double give must not share a buffer.
    const x = pool.take(8);
    const y = pool.take(8);
    expect(x.buffer).not.toBe(y.buffer);
  });

  it('keeps at most `capacity` free buffers', () => {
    const pool = new FramePool({ bufferSize: 16, capacity: 2 });
    const lent = [pool.take(16), pool.take(16), pool.take(16), pool.take(16)];
    for (const f of lent) pool.give(f);
    expect(pool.size).toBe(2);
    expect(new FramePool({ bufferSize: 1 }).capacity).toBe(DEFAULT_FRAME_POOL_CAPACITY);
  });

  it('serves a frame larger than bufferSize from a fresh buffer it never takes back', () => {
    const pool = new FramePool({ bufferSize: 16 });
    const big = pool.take(17);
    expect(big.length).toBe(17);
    expect(pool.allocations).toBe(0);
    pool.give(big);
    expect(pool.size).toBe(0);
  });

  it.each([{ bufferSize: 0 }, { bufferSize: 1.5 }, { bufferSize: 8, capacity: -1 }, { bufferSize: 8, capacity: 0.5 }, undefined as any])(
    'rejects %j with InvalidConfigError',
    (config) => {
      expect(() => new FramePool(config)).toThrow(InvalidConfigError);
    },
  );
});

describe('encodeFrame with an allocator', () => {
  it('overwrites every byte of a dirty reused buffer: the frame equals a fresh encoding', () => {
    const data = pattern(100, 3);
    const dirty = new Uint8Array(FRAME_HEADER_SIZE + 100).fill(0xee);
    const frame = encodeFrame({ transferId: 9, index: 4, offset: 400 }, data, () => dirty);
    expect(frame).toBe(dirty);
    expect(frame).toEqual(encodeFrame({ transferId: 9, index: 4, offset: 400 }, data));
  });

  it('refuses an allocator that returns the wrong size', () => {
    expect(() => encodeFrame({ transferId: 1, index: 0, offset: 0 }, pattern(10, 1), () => new Uint8Array(5))).toThrow(/alloc returned 5 B/);
  });
});

describe('encodeFrames({ pool }) → sendToChannels({ pool })', () => {
  /** A channel that copies what it is sent, as real channels do. */
  const copying = () => {
    const ch = new FakeChannel('c', { accumulates: false });
    const copies: Uint8Array[] = [];
    ch.send = (m: unknown) => void copies.push((m as Uint8Array).slice());
    return { ch, copies };
  };
  const chunks: Chunk[] = Array.from({ length: 6 }, (_, i) => ({ index: i, offset: i * 100, data: pattern(100, i + 1) }));

  it('sends the same bytes as without a pool, through one recycled buffer', async () => {
    const pool = new FramePool({ bufferSize: FRAME_HEADER_SIZE + 100 });
    const { ch, copies } = copying();
    await lastValueFrom(of(...chunks).pipe(encodeFrames({ transferId: 5, pool }), map((frame) => ({ channel: ch, frame })), sendToChannels({ pool }), toArray()));
    expect(copies.map((f) => decodeFrame(f).index)).toEqual([0, 1, 2, 3, 4, 5]);
    copies.forEach((f, i) => expect(f).toEqual(encodeFrame({ transferId: 5, index: i, offset: i * 100 }, chunks[i].data)));
    expect(pool.allocations).toBe(1);
    expect(pool.size).toBe(1);
  });

  it('does not take back a frame whose send failed', async () => {
    const pool = new FramePool({ bufferSize: FRAME_HEADER_SIZE + 100 });
    const ch = new FakeChannel('c');
    ch.sendError = new Error('boom');
    await expect(
      lastValueFrom(of(chunks[0]).pipe(encodeFrames({ transferId: 5, pool }), map((frame) => ({ channel: ch, frame })), sendToChannels({ pool }))),
    ).rejects.toThrow(/boom/);
    expect(pool.size).toBe(0);
  });
});
