/**
 * Fuzzing `decodeFrame` (src/protocol/frame.ts) with hostile input: arbitrary
 * bytes and values, and valid frames damaged by bit flips, truncations,
 * extensions and header fields overwritten with extreme values. Whatever comes
 * in, it returns a frame whose payload is a view of the input (no allocation
 * beyond the input, nothing read past it) or throws `FrameDecodeError`, within
 * the per-case budget. Replay a failure with FC_SEED / FC_PATH (see ./fc.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecodeError } from '../../src/index';
import { decodeFrame, encodeFrame, FRAME_HEADER_SIZE } from '../../src/protocol';
import { crc32 } from '../../src/hash/crc32';
import { MAX_FRAME_PAYLOAD } from '../../src/protocol/frame';
import { attempt, expectTyped, fcParams } from './fc';
import {
  expectFrameOf,
  frameHeader,
  frameLikeBytes,
  mutatedFrame,
  payload,
  sealHeader,
  U32_MAX,
  wrap,
  wrapping,
} from './frameArbitraries';

/** The property every input must satisfy: a frame that is a view of the input, or a FrameDecodeError. */
const decodesOrRejects = (message: unknown, view?: Uint8Array): void => {
  const out = attempt(() => decodeFrame(message));
  if (!out.ok) return expectTyped(out.error, FrameDecodeError);
  expect(view, 'only binary input may decode').toBeDefined();
  expectFrameOf(out.value, view!);
};

describe('decodeFrame under hostile input', () => {
  it('arbitrary bytes, in every message shape, decode to a view of the input or throw FrameDecodeError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), frameLikeBytes()), wrapping(), (bytes, w) => {
        const { message, view } = wrap(bytes, w);
        decodesOrRejects(message, view);
      }),
      fcParams(),
    );
  });

  it('arbitrary non-binary values throw FrameDecodeError (ERR_FRAME_INPUT)', () => {
    const values = fc.oneof(
      fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withTypedArray: false }),
      fc.string(),
      fc.constantFrom(undefined, null, 0, NaN, Infinity, true, Symbol('x'), () => 1, new Blob(['x']), [1, 2, 3], { data: new Uint8Array(40) }),
    );
    fc.assert(
      fc.property(values, (value) => {
        const out = attempt(() => decodeFrame(value));
        expect(out.ok).toBe(false);
        if (!out.ok) {
          expectTyped(out.error, FrameDecodeError);
          expect((out.error as FrameDecodeError).code).toBe('ERR_FRAME_INPUT');
        }
      }),
      fcParams(),
    );
  });

  it('mutated valid frames (bit flips, truncations, extensions, extreme header fields) decode to a view or throw FrameDecodeError', () => {
    fc.assert(
      fc.property(mutatedFrame(), wrapping(), ({ bytes }, w) => {
        const { message, view } = wrap(bytes, w);
        decodesOrRejects(message, view);
      }),
      fcParams(),
    );
  });

  it('a huge or wrong declared payload length is rejected (ERR_FRAME_LENGTH) without touching memory past the input', () => {
    const declared = fc.oneof(
      fc.constantFrom(MAX_FRAME_PAYLOAD, MAX_FRAME_PAYLOAD + 1, 0x7fff_ffff, 0x8000_0000, U32_MAX),
      fc.integer({ min: 0, max: U32_MAX }),
    );
    fc.assert(
      fc.property(frameHeader(), fc.uint8Array({ maxLength: 300 }), declared, (header, data, length) => {
        fc.pre(length !== data.length);
        const bytes = encodeFrame(header, data);
        new DataView(bytes.buffer).setUint32(20, length);
        sealHeader(bytes);
        const out = attempt(() => decodeFrame(bytes));
        expect(out.ok).toBe(false);
        if (!out.ok) {
          expectTyped(out.error, FrameDecodeError);
          expect((out.error as FrameDecodeError).code).toBe('ERR_FRAME_LENGTH');
        }
      }),
      fcParams(),
    );
  });

  it('a header length beyond the input, or below 32, is rejected; a consistent longer header (extension) decodes', () => {
    fc.assert(
      fc.property(frameHeader(), fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffff }), (header, data, headerLength) => {
        const bytes = encodeFrame(header, data);
        const dv = new DataView(bytes.buffer);
        dv.setUint16(2, headerLength);
        // Keep the declared payload consistent with the new header length when it can be.
        const consistent = headerLength >= FRAME_HEADER_SIZE && headerLength <= bytes.length;
        if (consistent) dv.setUint32(20, bytes.length - headerLength);
        sealHeader(bytes);
        const out = attempt(() => decodeFrame(bytes));
        if (consistent) {
          expect(out.ok).toBe(true);
          if (out.ok) expectFrameOf(out.value, bytes);
        } else {
          expect(out.ok).toBe(false);
          if (!out.ok) expect((out.error as FrameDecodeError).code).toBe('ERR_FRAME_LENGTH');
        }
      }),
      fcParams(),
    );
  });
});

describe('decodeFrame(encodeFrame(x)) round-trips', () => {
  it('every header field and the payload, in every message shape', () => {
    fc.assert(
      fc.property(frameHeader(), payload(), wrapping(), (header, data, w) => {
        // An Int16Array cannot hold an odd number of bytes: that shape would add a pad byte and break the length.
        fc.pre(w.kind !== 'int16array' || data.length % 2 === 0);
        const { message, view } = wrap(encodeFrame(header, data), w);
        const out = attempt(() => decodeFrame(message));
        expect(out.ok).toBe(true);
        if (!out.ok) return;
        const f = out.value;
        expectFrameOf(f, view);
        expect(f.transferId).toBe(header.transferId);
        expect(f.index).toBe(header.index);
        expect(f.offset).toBe(header.offset);
        expect(f.flags).toBe(header.flags ?? 0);
        expect(f.checksum).toBe(header.checksum ?? crc32(data));
        expect(Buffer.from(f.data).equals(Buffer.from(data))).toBe(true);
      }),
      fcParams(),
    );
  });
});
