/**
 * `streamFile`: a WHATWG ReadableStream of known size as `sendFile`'s input (README, "Send and receive").
 * Streams read asynchronously (promises), so this runs over a virtual link in real time, not under TestScheduler.
 */
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, receiveFile, sendFile, SourceReadError, streamFile } from '../../src/index';
import { createVirtualLink } from '../../src/testing';
import { deterministicBytes, firstDifference } from '../helpers/bytes';
import { sha256Hex } from '../helpers/sha256';
import { thrownBy } from '../helpers/thrown';

/** A stream that hands out `bytes` in pieces of `piece` bytes. */
const streamOf = (bytes: Uint8Array, piece: number): ReadableStream<Uint8Array> => {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull: (controller) => {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, (at += piece)));
    },
  });
};

describe('streamFile', () => {
  it('sends a ReadableStream of known size, byte for byte', async () => {
    const bytes = deterministicBytes(300_000);
    const link = createVirtualLink({ delayMs: 1 });
    const received = lastValueFrom(receiveFile(link.b));
    const sent = await lastValueFrom(sendFile(link.a, streamFile(streamOf(bytes, 10_000), { size: bytes.length, name: 'piped.bin' })));
    const done = await received;
    expect(sent).toMatchObject({ type: 'completed', sha256: sha256Hex(bytes) });
    expect(done).toMatchObject({ type: 'completed', manifest: { name: 'piped.bin', size: bytes.length } });
    if (done.type !== 'completed') throw new Error('not completed');
    expect(firstDifference(new Uint8Array(await (done.result as Blob).arrayBuffer()), bytes)).toBe(-1);
    link.close();
  });

  /** The outcome of sending a stream of `actual` bytes declared as `declared`, on both sides. */
  const outcome = async (actual: number, declared: number, piece: number) => {
    const bytes = deterministicBytes(actual);
    const link = createVirtualLink({ delayMs: 1 });
    const settled = (o: Promise<{ type: string }>) => o.then((e) => e.type, (e: Error) => e);
    const received = settled(lastValueFrom(receiveFile(link.b)));
    const sent = await settled(lastValueFrom(sendFile(link.a, streamFile(streamOf(bytes, piece), { size: declared, name: 's.bin' }))));
    const got = await received;
    link.close();
    return { sent, got };
  };

  it.each([
    ['in a piece that crosses the size', 200_000, 150_000, 7_000],
    ['in a piece after exactly the size', 150_001, 150_000, 50_000],
  ])('a stream longer than its size fails with SourceReadError, %s (it was cut and reported completed)', async (_, actual, declared, piece) => {
    const { sent, got } = await outcome(actual, declared, piece);
    expect(sent).toBeInstanceOf(SourceReadError);
    expect(sent).toMatchObject({ message: expect.stringContaining('s.bin went past its 150000 B (it grew'), details: { code: 'ESIZE', size: 150_000 } });
    expect(got).not.toBe('completed');
  });

  it('a stream shorter than its size fails with SourceReadError (it shrank)', async () => {
    const { sent, got } = await outcome(100_000, 150_000, 7_000);
    expect(sent).toBeInstanceOf(SourceReadError);
    expect((sent as Error).message).toContain('ended after 100000 of its 150000 B (it shrank');
    expect(got).not.toBe('completed');
  });

  it('is read once, from the start: it cannot resume', () => {
    const desc = streamFile(streamOf(new Uint8Array(10), 5), { size: 10 });
    expect(desc.seekable).toBe(false);
    expect(() => desc.read({ start: 5 })).toThrow(InvalidConfigError);
    desc.read({});
    expect(() => desc.read({})).toThrow(InvalidConfigError);
  });
});

describe('streamFile: meta that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming meta (it threw a TypeError)', () => {
    const error = thrownBy(() => streamFile(undefined as never, null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'streamFile: meta must be an object, got null', details: { field: 'meta', value: null } });
  });
});
