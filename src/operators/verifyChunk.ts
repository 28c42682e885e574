/**
 * The per-chunk integrity check: CRC-32 of the payload against the frame's checksum.
 */
import { HashMismatchError } from '../errors';
import { crc32, crc32Hex } from '../hash/crc32';
import type { Chunk } from '../types';
import { checkArgument } from '../configObject';

/**
 * Checks a chunk's CRC-32. Pure: returns the error instead of throwing it.
 *
 * ```
 * {index: 3, data, checksum: crc32(data)}   → undefined
 * {index: 3, data, checksum: other}         → HashMismatchError(3, hex(other), hex(crc32(data)), 'crc32')
 * {index: 3, data}                          → undefined (nothing to check)
 * ```
 *
 * ## Example
 * ```ts
 * import { verifyChunk } from 'tallow-rx';
 * const err = verifyChunk(frame);
 * if (err) requestRetransmit(err.index);
 * ```
 *
 * @see verifyHash
 * @param chunk A chunk, usually a decoded frame.
 * @return A `HashMismatchError` when `checksum` is set and differs, else `undefined`.
 */
export function verifyChunk(chunk: Chunk): HashMismatchError | undefined {
  checkArgument('verifyChunk', 'chunk', chunk, (chunk as Chunk | null)?.data instanceof Uint8Array, 'a Chunk (with data: a Uint8Array)');
  if (chunk.checksum === undefined) return undefined;
  const actual = crc32(chunk.data);
  return actual === chunk.checksum >>> 0 ? undefined : new HashMismatchError(chunk.index, crc32Hex(chunk.checksum), crc32Hex(actual), 'crc32');
}
