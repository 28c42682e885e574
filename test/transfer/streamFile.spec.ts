/**
 * `streamFile`: a WHATWG ReadableStream of known size as `sendFile`'s input (README, "Send and receive").
 * Streams read asynchronously (promises), so this runs over a virtual link in real time, not under TestScheduler.
 */
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, receiveFile, sendFile, streamFile } from '../../src/index';
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
