import { describe, expect, it } from 'vitest';
import { FrameDecodeError } from '../../src/errors';
import { crc32 } from '../../src/hash/crc32';
import { decodeFrame, encodeFrame, FLAG_RETRANSMIT, FRAME_HEADER_SIZE, FRAME_VERSION, frameIndexOf, isRetransmission, MAX_FRAME_PAYLOAD } from '../../src/protocol/frame';
import { pattern } from '../helpers/marbles';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FrameDecodeError);
    return (e as FrameDecodeError).code;
  }
  throw new Error('expected a throw');
};

describe('encodeFrame / decodeFrame', () => {
  it('frameIndexOf and isRetransmission read the header as decodeFrame does, also from a view at an offset', () => {
    for (const [index, flags] of [[0, 0], [7, FLAG_RETRANSMIT], [0x8000_0001, 0], [0xffff_ffff, FLAG_RETRANSMIT]]) {
      const frame = encodeFrame({ transferId: 3, index, offset: 0, flags }, pattern(5, 1));
      const holder = new Uint8Array(frame.length + 9);
      holder.set(frame, 9);
      for (const f of [frame, holder.subarray(9)]) {
        expect(frameIndexOf(f)).toBe(decodeFrame(f).index);
        expect(isRetransmission(f)).toBe(flags === FLAG_RETRANSMIT);
      }
    }
  });

  it('round-trips every header field and the payload', () => {
    const data = pattern(1000, 3);
    const f = encodeFrame({ transferId: 0xdeadbeef, index: 42, offset: 2 ** 40 + 5, flags: 1 }, data);
    expect(f.length).toBe(FRAME_HEADER_SIZE + 1000);
    expect(f[0]).toBe(FRAME_VERSION);
    const d = decodeFrame(f);
    expect(d).toMatchObject({ transferId: 0xdeadbeef, index: 42, offset: 2 ** 40 + 5, flags: 1, checksum: crc32(data) });
    expect(Array.from(d.data)).toEqual(Array.from(data));
  });

  it('accepts an empty payload, an ArrayBuffer and a Node Buffer', () => {
    const f = encodeFrame({ transferId: 1, index: 0, offset: 0 }, new Uint8Array(0));
    expect(decodeFrame(f.slice().buffer).data.length).toBe(0);
    expect(decodeFrame(Buffer.from(f)).index).toBe(0);
  });

  it('decodes a frame that sits at an offset inside a larger buffer', () => {
    const f = encodeFrame({ transferId: 7, index: 9, offset: 100 }, pattern(10));
    const big = new Uint8Array(f.length + 13);
    big.set(f, 13);
    expect(decodeFrame(big.subarray(13)).offset).toBe(100);
  });

  it('rejects malformed input with typed errors', () => {
    const good = encodeFrame({ transferId: 1, index: 2, offset: 3 }, pattern(8));
    const mut = (at: number, v: number) => {
      const c = good.slice();
      c[at] = v;
      return c;
    };
    expect(codeOf(() => decodeFrame(good.subarray(0, 31)))).toBe('ERR_FRAME_TOO_SHORT');
    expect(codeOf(() => decodeFrame(mut(0, 2)))).toBe('ERR_FRAME_VERSION');
    expect(codeOf(() => decodeFrame(mut(1, 9)))).toBe('ERR_FRAME_TYPE');
    expect(codeOf(() => decodeFrame(mut(3, 200)))).toBe('ERR_FRAME_LENGTH');
    expect(codeOf(() => decodeFrame(mut(3, 8)))).toBe('ERR_FRAME_LENGTH');
    expect(codeOf(() => decodeFrame(mut(23, 9)))).toBe('ERR_FRAME_LENGTH');
    expect(codeOf(() => decodeFrame(good.subarray(0, good.length - 1)))).toBe('ERR_FRAME_LENGTH');
    expect(codeOf(() => decodeFrame(mut(12, 0xff)))).toBe('ERR_FRAME_VALUE');
    expect(codeOf(() => decodeFrame(mut(31, good[31] ^ 1)))).toBe('ERR_FRAME_HEADER');
    // A flipped bit in the transfer id, index, offset or flags is caught by the header check.
    for (const at of [4, 9, 14, 19, 25, 28]) expect(codeOf(() => decodeFrame(mut(at, good[at] ^ 0x10)))).toBe('ERR_FRAME_HEADER');
    expect(codeOf(() => decodeFrame('hello'))).toBe('ERR_FRAME_INPUT');
    expect(codeOf(() => decodeFrame(null))).toBe('ERR_FRAME_INPUT');
  });

  it('validates the header before allocating', () => {
    expect(codeOf(() => encodeFrame({ transferId: -1, index: 0, offset: 0 }, pattern(1)))).toBe('ERR_FRAME_INPUT');
    expect(codeOf(() => encodeFrame({ transferId: 0, index: 2 ** 32, offset: 0 }, pattern(1)))).toBe('ERR_FRAME_INPUT');
    expect(codeOf(() => encodeFrame({ transferId: 0, index: 0, offset: 0.5 }, pattern(1)))).toBe('ERR_FRAME_INPUT');
    expect(codeOf(() => encodeFrame({ transferId: 0, index: 0, offset: 0 }, [1, 2] as any))).toBe('ERR_FRAME_INPUT');
    expect(MAX_FRAME_PAYLOAD).toBe(2 ** 30);
  });
});
