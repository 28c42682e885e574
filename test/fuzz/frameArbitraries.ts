/**
 * fast-check arbitraries for data frames: valid headers and payloads, hostile
 * mutations of encoded frames (bit flips, truncations, extensions, header
 * fields overwritten with extreme values), and the many shapes a channel
 * message can take (views at an offset inside a larger buffer, ArrayBuffer,
 * Node Buffer, DataView, other typed arrays).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { encodeFrame, FRAME_HEADER_SIZE, type DataFrame } from '../../src/protocol';
import { crc32 } from '../../src/hash/crc32';
import { MAX_FRAME_PAYLOAD, type FrameHeaderInput } from '../../src/protocol/frame';
import { pattern } from '../helpers/marbles';

export const U32_MAX = 0xffff_ffff;

/** u32 values, biased towards the edges. */
export const u32 = (): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(0, 1, 0x7fff_ffff, 0x8000_0000, U32_MAX - 1, U32_MAX), fc.integer({ min: 0, max: U32_MAX }));

/** Byte offsets a frame may carry: safe non-negative integers, biased towards the edges of the 21+32-bit split. */
export const frameOffset = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constantFrom(0, 1, U32_MAX, U32_MAX + 1, 2 ** 52, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER),
    fc.integer({ min: 0, max: 1 << 30 }),
    fc.maxSafeNat(),
  );

/** A valid frame header. */
export const frameHeader = (): fc.Arbitrary<FrameHeaderInput> =>
  fc.record(
    {
      transferId: u32(),
      index: u32(),
      offset: frameOffset(),
      checksum: u32(),
      flags: fc.integer({ min: 0, max: 0xffff }),
    },
    { requiredKeys: ['transferId', 'index', 'offset'] },
  );

/** Payloads: mostly small and random, sometimes up to Chrome's 256 KiB message size (patterned, cheap to generate). */
export const payload = (): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 256 * 1024 - FRAME_HEADER_SIZE }).map((n) => pattern(n, n)) },
  );

/**
 * Bytes 30..31 of the header: reserved (0) in the first layout, a check (low 16
 * bits of the CRC-32 of bytes 0..29) in the next. Detected from `encodeFrame`
 * so these tests follow whichever the codec writes.
 */
const HEADER_CHECKED = ((probe) => probe[30] !== 0 || probe[31] !== 0)(encodeFrame({ transferId: 0, index: 0, offset: 0 }, new Uint8Array(0)));

/** Rewrites bytes 30..31 the way `encodeFrame` would for the header as it now is (in place). */
export function sealHeader(bytes: Uint8Array): Uint8Array {
  if (bytes.length < FRAME_HEADER_SIZE) return bytes;
  const v = new DataView(bytes.buffer, bytes.byteOffset, FRAME_HEADER_SIZE);
  v.setUint16(30, HEADER_CHECKED ? crc32(bytes.subarray(0, 30)) & 0xffff : 0);
  return bytes;
}

/** A header field: byte offset and width. */
export interface HeaderField {
  readonly name: string;
  readonly at: number;
  readonly width: 1 | 2 | 4;
}

export const HEADER_FIELDS: readonly HeaderField[] = [
  { name: 'version', at: 0, width: 1 },
  { name: 'type', at: 1, width: 1 },
  { name: 'headerLength', at: 2, width: 2 },
  { name: 'transferId', at: 4, width: 4 },
  { name: 'index', at: 8, width: 4 },
  { name: 'offsetHigh', at: 12, width: 4 },
  { name: 'offsetLow', at: 16, width: 4 },
  { name: 'payloadLength', at: 20, width: 4 },
  { name: 'crc32', at: 24, width: 4 },
  { name: 'flags', at: 28, width: 2 },
  { name: 'reserved', at: 30, width: 2 },
];

/** Extreme values worth writing into a field: zero, one, all ones, the header size, the limits of the offset split, huge lengths. */
const EXTREMES = [
  0, 1, 2, 31, 32, 33, 0xff, 0x100, 0x7fff, 0xffff, 0x1_0000, 0x1f_ffff, 0x20_0000, MAX_FRAME_PAYLOAD - 1, MAX_FRAME_PAYLOAD,
  MAX_FRAME_PAYLOAD + 1, 0x7fff_ffff, 0x8000_0000, U32_MAX - 1, U32_MAX,
];

/** One way to damage a message. Positions are taken modulo the current length. */
export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'truncate'; readonly to: number }
  | { readonly kind: 'extend'; readonly bytes: Uint8Array }
  | { readonly kind: 'field'; readonly field: HeaderField; readonly value: number; readonly relative: boolean }
  /** Makes the header check agree again, so damage to the other fields reaches the deeper checks. */
  | { readonly kind: 'seal' };

export const mutation = (): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('truncate' as const), to: fc.nat() }),
    fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
    fc.record({
      kind: fc.constant('field' as const),
      field: fc.constantFrom(...HEADER_FIELDS),
      value: fc.oneof(fc.constantFrom(...EXTREMES), fc.integer({ min: 0, max: U32_MAX })),
      // Relative: write (real length + value - 2), so lengths one off either side come up often.
      relative: fc.boolean(),
    }),
    fc.constant({ kind: 'seal' as const }),
  );

/** Applies `m` to a copy of `bytes`. */
export function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'flip': {
      if (!bytes.length) return bytes;
      const out = bytes.slice();
      out[m.at % out.length] ^= 1 << m.bit;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, m.to % (bytes.length + 1));
    case 'extend': {
      const out = new Uint8Array(bytes.length + m.bytes.length);
      out.set(bytes);
      out.set(m.bytes, bytes.length);
      return out;
    }
    case 'seal':
      return sealHeader(bytes.slice());
    case 'field': {
      const { at, width } = m.field;
      if (bytes.length < at + width) return bytes;
      const out = bytes.slice();
      const v = new DataView(out.buffer);
      const max = width === 4 ? U32_MAX : width === 2 ? 0xffff : 0xff;
      const raw = m.relative ? bytes.length + (m.value % 5) - 2 : m.value;
      const value = ((raw % (max + 1)) + (max + 1)) % (max + 1);
      if (width === 1) v.setUint8(at, value);
      else if (width === 2) v.setUint16(at, value);
      else v.setUint32(at, value);
      return out;
    }
  }
}

/** A valid frame, then 0..5 mutations. */
export const mutatedFrame = (): fc.Arbitrary<{ header: FrameHeaderInput; data: Uint8Array; mutations: Mutation[]; bytes: Uint8Array }> =>
  fc.record({ header: frameHeader(), data: payload(), mutations: fc.array(mutation(), { maxLength: 5 }) }).map(({ header, data, mutations }) => ({
    header,
    data,
    mutations,
    bytes: mutations.reduce(mutate, encodeFrame(header, data)),
  }));

/** Random bytes that often start like a frame (version 1, type 1, header length 32), so they get past the first checks. */
export const frameLikeBytes = (): fc.Arbitrary<Uint8Array> =>
  fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 200 })).map(([prefix, tail]) => {
    if (!prefix || tail.length < 4) return tail;
    const out = tail.slice();
    out[0] = 1;
    out[1] = 1;
    out[2] = 0;
    out[3] = 32;
    return out;
  });

/** How the bytes are handed over, as a channel or a caller might. */
export type Wrapping = 'uint8array' | 'offset-view' | 'arraybuffer' | 'buffer' | 'dataview' | 'int16array';
export const wrapping = (): fc.Arbitrary<{ kind: Wrapping; before: number; after: number }> =>
  fc.record({
    kind: fc.constantFrom<Wrapping>('uint8array', 'offset-view', 'arraybuffer', 'buffer', 'dataview', 'int16array'),
    before: fc.integer({ min: 0, max: 40 }),
    after: fc.integer({ min: 0, max: 40 }),
  });

/** A message carrying `bytes`, and the Uint8Array view of exactly those bytes inside it. */
export function wrap(bytes: Uint8Array, w: { kind: Wrapping; before: number; after: number }): { message: unknown; view: Uint8Array } {
  // Junk around the message in the same ArrayBuffer: a decoder that reads past its view would see it.
  const padded = (before: number, after: number) => {
    const buf = new Uint8Array(before + bytes.length + after).fill(0xa5);
    buf.set(bytes, before);
    return buf.subarray(before, before + bytes.length);
  };
  switch (w.kind) {
    case 'uint8array': {
      const view = bytes.slice();
      return { message: view, view };
    }
    case 'offset-view': {
      const view = padded(w.before, w.after);
      return { message: view, view };
    }
    case 'arraybuffer': {
      const view = bytes.slice();
      return { message: view.buffer, view };
    }
    case 'buffer': {
      const view = padded(w.before, w.after);
      return { message: Buffer.from(view.buffer, view.byteOffset, view.byteLength), view };
    }
    case 'dataview': {
      const view = padded(w.before, w.after);
      return { message: new DataView(view.buffer, view.byteOffset, view.byteLength), view };
    }
    case 'int16array': {
      // An Int16Array needs an even offset and length: pad the message itself to an even length.
      const even = bytes.length % 2 ? bytes.length + 1 : bytes.length;
      const buf = new Uint8Array(w.before * 2 + even + w.after * 2).fill(0xa5);
      buf.set(bytes, w.before * 2);
      if (even !== bytes.length) buf[w.before * 2 + bytes.length] = 0;
      const view = buf.subarray(w.before * 2, w.before * 2 + even);
      return { message: new Int16Array(buf.buffer, w.before * 2, even / 2), view };
    }
  }
}

/**
 * Checks a decoded frame against the bytes it came from: every field in range,
 * consistent with the header, and the payload a view of exactly the tail of the
 * input (same ArrayBuffer, no copy, nothing read past the input).
 */
export function expectFrameOf(frame: DataFrame, view: Uint8Array): void {
  const dv = new DataView(view.buffer, view.byteOffset, view.byteLength);
  const headerLength = dv.getUint16(2);
  expect(view.length).toBeGreaterThanOrEqual(FRAME_HEADER_SIZE);
  expect(headerLength).toBeGreaterThanOrEqual(FRAME_HEADER_SIZE);
  expect(frame.data).toBeInstanceOf(Uint8Array);
  expect(frame.data.buffer).toBe(view.buffer);
  expect(frame.data.byteOffset).toBe(view.byteOffset + headerLength);
  expect(frame.data.byteOffset + frame.data.byteLength).toBe(view.byteOffset + view.byteLength);
  expect(frame.data.length).toBe(dv.getUint32(20));
  expect(frame.data.length).toBeLessThanOrEqual(MAX_FRAME_PAYLOAD);
  for (const k of ['transferId', 'index', 'checksum'] as const) {
    expect(Number.isInteger(frame[k]) && frame[k] >= 0 && frame[k] <= U32_MAX, `${k} = ${frame[k]}`).toBe(true);
  }
  expect(frame.transferId).toBe(dv.getUint32(4));
  expect(frame.index).toBe(dv.getUint32(8));
  expect(Number.isSafeInteger(frame.offset) && frame.offset >= 0, `offset = ${frame.offset}`).toBe(true);
  expect(frame.offset).toBe(dv.getUint32(12) * 0x1_0000_0000 + dv.getUint32(16));
  expect(frame.flags).toBe(dv.getUint16(28));
  expect(dv.getUint8(0)).toBe(1);
  expect(dv.getUint8(1)).toBe(1);
}
