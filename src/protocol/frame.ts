/**
 * The binary data frame: one chunk per message. This file is the single place
 * that knows the layout; docs/protocol.md describes it byte by byte.
 *
 * ```
 * offset size field
 *  0     1   version        = FRAME_VERSION (1)
 *  1     1   type           = FrameType.Data (1)
 *  2     2   header length  = FRAME_HEADER_SIZE (32); larger values are reserved for extensions
 *  4     4   transfer id    (u32)
 *  8     4   chunk index    (u32)
 * 12     4   offset, high 21 bits (u32, <= 0x1fffff so offsets stay below 2^53)
 * 16     4   offset, low 32 bits  (u32)
 * 20     4   payload length (u32)
 * 24     4   CRC-32 of payload (IEEE)
 * 28     2   flags          (bit 0: retransmission)
 * 30     2   header check   low 16 bits of the CRC-32 of bytes 0..29
 * 32     …   payload
 * ```
 * All integers are big-endian (network order).
 */
import { FrameDecodeError } from '../errors';
import { crc32 } from '../hash/crc32';
import type { Bytes, Chunk } from '../types';

/** The wire-format version this library writes and accepts. */
export const FRAME_VERSION = 1;
/** Size of the fixed header in bytes. */
export const FRAME_HEADER_SIZE = 32;
/** Frame types. Only data frames travel on data channels; control messages are JSON on the control channel. */
export const FrameType = { Data: 1 } as const;
/** Flag bit: this frame is a retransmission (informational). */
export const FLAG_RETRANSMIT = 1;
/** The largest payload a frame may declare (1 GiB, Firefox's ceiling); anything larger is absurd. */
export const MAX_FRAME_PAYLOAD = 1 << 30;

/** A decoded data frame. `data` is a view into the received buffer (no copy). */
export interface DataFrame extends Chunk {
  readonly transferId: number;
  readonly checksum: number;
  readonly flags: number;
}

/** What `encodeFrame` needs besides the payload. */
export interface FrameHeaderInput {
  readonly transferId: number;
  readonly index: number;
  readonly offset: number;
  /** Defaults to the CRC-32 of `data`. Pass it to avoid recomputing on retransmission. */
  readonly checksum?: number;
  readonly flags?: number;
}

const U32 = 0x1_0000_0000;

const checkU32 = (name: string, v: number): void => {
  if (!Number.isInteger(v) || v < 0 || v >= U32) {
    throw new FrameDecodeError('ERR_FRAME_INPUT', `${name} must be an unsigned 32-bit integer, got ${v}`, { [name]: v });
  }
};

/**
 * Encodes one chunk as a frame. Validates every header field before allocating.
 * `alloc` supplies the frame's bytes (default: a fresh `Uint8Array`); every
 * byte of what it returns is overwritten, so it may hand out a reused buffer
 * (see `FramePool`).
 */
export function encodeFrame(header: FrameHeaderInput, data: Bytes, alloc?: (size: number) => Uint8Array): Uint8Array {
  checkU32('transferId', header.transferId);
  checkU32('index', header.index);
  if (!Number.isSafeInteger(header.offset) || header.offset < 0) {
    throw new FrameDecodeError('ERR_FRAME_INPUT', `offset must be a safe non-negative integer, got ${header.offset}`, {
      offset: header.offset,
    });
  }
  if (!(data instanceof Uint8Array)) {
    throw new FrameDecodeError('ERR_FRAME_INPUT', 'payload must be a Uint8Array');
  }
  if (data.length > MAX_FRAME_PAYLOAD) {
    throw new FrameDecodeError('ERR_FRAME_INPUT', `payload of ${data.length} B exceeds ${MAX_FRAME_PAYLOAD} B`, {
      length: data.length,
    });
  }
  const flags = header.flags ?? 0;
  const size = FRAME_HEADER_SIZE + data.length;
  const out = alloc ? alloc(size) : new Uint8Array(size);
  if (out.length !== size) throw new FrameDecodeError('ERR_FRAME_INPUT', `alloc returned ${out.length} B for a ${size} B frame`, { size, got: out.length });
  const v = new DataView(out.buffer, out.byteOffset, FRAME_HEADER_SIZE);
  v.setUint8(0, FRAME_VERSION);
  v.setUint8(1, FrameType.Data);
  v.setUint16(2, FRAME_HEADER_SIZE);
  v.setUint32(4, header.transferId);
  v.setUint32(8, header.index);
  v.setUint32(12, Math.floor(header.offset / U32));
  v.setUint32(16, header.offset % U32);
  v.setUint32(20, data.length);
  v.setUint32(24, header.checksum ?? crc32(data));
  v.setUint16(28, flags & 0xffff);
  v.setUint16(30, crc32(out.subarray(0, 30)) & 0xffff);
  out.set(data, FRAME_HEADER_SIZE);
  return out;
}

/** The chunk index of a frame this side encoded (header bytes 8-11), read without decoding it. */
export const frameIndexOf = (frame: Uint8Array): number => ((frame[8] << 24) | (frame[9] << 16) | (frame[10] << 8) | frame[11]) >>> 0;

/** True when a frame this side encoded carries the retransmission flag (header byte 29, bit 0). */
export const isRetransmission = (frame: Uint8Array): boolean => (frame[29] & FLAG_RETRANSMIT) !== 0;

/** Normalises what a channel delivers (ArrayBuffer, typed array, Node Buffer) to a Uint8Array view. */
export function toBytes(message: unknown): Uint8Array {
  if (message instanceof Uint8Array) return message;
  if (message instanceof ArrayBuffer) return new Uint8Array(message);
  if (ArrayBuffer.isView(message)) return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  throw new FrameDecodeError('ERR_FRAME_INPUT', `expected binary data, got ${typeof message}`, { type: typeof message });
}

/**
 * Decodes a frame. Throws `FrameDecodeError` for short input, a wrong version
 * or type, lengths that disagree with the buffer, absurd values, or a header
 * whose check does not match. Does not check the payload CRC: `verifyHash()`
 * and `repairChunks()` do, so a mismatch is reported with its index.
 */
export function decodeFrame(message: unknown): DataFrame {
  const bytes = toBytes(message);
  if (bytes.length < FRAME_HEADER_SIZE) {
    throw new FrameDecodeError('ERR_FRAME_TOO_SHORT', `frame of ${bytes.length} B is shorter than the ${FRAME_HEADER_SIZE} B header`, {
      length: bytes.length,
    });
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = v.getUint8(0);
  if (version !== FRAME_VERSION) {
    throw new FrameDecodeError('ERR_FRAME_VERSION', `unsupported frame version ${version}`, { version });
  }
  const type = v.getUint8(1);
  if (type !== FrameType.Data) {
    throw new FrameDecodeError('ERR_FRAME_TYPE', `unknown frame type ${type}`, { type });
  }
  const headerLength = v.getUint16(2);
  if (headerLength < FRAME_HEADER_SIZE || headerLength > bytes.length) {
    throw new FrameDecodeError('ERR_FRAME_LENGTH', `header length ${headerLength} is invalid for a ${bytes.length} B frame`, {
      headerLength,
      length: bytes.length,
    });
  }
  const offsetHigh = v.getUint32(12);
  if (offsetHigh > 0x1f_ffff) {
    throw new FrameDecodeError('ERR_FRAME_VALUE', `offset high word ${offsetHigh} exceeds 2^53`, { offsetHigh });
  }
  const length = v.getUint32(20);
  if (length !== bytes.length - headerLength) {
    throw new FrameDecodeError('ERR_FRAME_LENGTH', `declared payload ${length} B but frame carries ${bytes.length - headerLength} B`, {
      declared: length,
      actual: bytes.length - headerLength,
    });
  }
  const check = crc32(bytes.subarray(0, 30)) & 0xffff;
  if (v.getUint16(30) !== check) {
    throw new FrameDecodeError('ERR_FRAME_HEADER', 'header check does not match: the header is corrupted', { expected: check, actual: v.getUint16(30) });
  }
  return {
    transferId: v.getUint32(4),
    index: v.getUint32(8),
    offset: offsetHigh * U32 + v.getUint32(16),
    checksum: v.getUint32(24),
    flags: v.getUint16(28),
    data: bytes.subarray(headerLength),
  };
}
