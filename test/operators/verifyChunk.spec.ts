import { describe, expect, it } from 'vitest';
import { HashMismatchError } from '../../src/errors';
import { crc32 } from '../../src/hash/crc32';
import { verifyChunk } from '../../src/operators/verifyChunk';
import { pattern } from '../helpers/marbles';

describe('verifyChunk', () => {
  const data = pattern(1000, 5);

  it('accepts a chunk whose checksum matches, and one without a checksum', () => {
    expect(verifyChunk({ index: 4, offset: 0, data, checksum: crc32(data) })).toBeUndefined();
    expect(verifyChunk({ index: 4, offset: 0, data })).toBeUndefined();
    expect(verifyChunk({ index: 0, offset: 0, data: new Uint8Array(0), checksum: 0 })).toBeUndefined();
  });

  it('returns a HashMismatchError with the index and both values in hex', () => {
    const flipped = data.slice();
    flipped[999] ^= 1;
    const err = verifyChunk({ index: 4, offset: 0, data: flipped, checksum: crc32(data) });
    expect(err).toBeInstanceOf(HashMismatchError);
    expect(err).toMatchObject({
      index: 4,
      algorithm: 'crc32',
      expected: crc32(data).toString(16).padStart(8, '0'),
      actual: crc32(flipped).toString(16).padStart(8, '0'),
      code: 'ERR_HASH_MISMATCH',
    });
  });

  it('treats the checksum as unsigned (a negative int32 of the same bits matches)', () => {
    expect(verifyChunk({ index: 0, offset: 0, data, checksum: crc32(data) | 0 })).toBeUndefined();
  });
});
