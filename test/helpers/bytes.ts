/**
 * Test bytes that come out the same on every run, so a failing case replays and either end of a
 * transfer can work out what it should have received.
 */
import { mulberry32 } from '../../src/testing/mulberry32';

/**
 * `size` pseudo-random bytes from `mulberry32(seed)`: one draw per 4-byte word, then one per
 * leftover byte. Looks like real file content (all 256 values, no short period), so a dropped,
 * repeated or misplaced chunk changes the SHA-256.
 */
export const deterministicBytes = (size: number, seed = 1): Uint8Array<ArrayBuffer> => {
  const random = mulberry32(seed);
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, size >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = (random() * 0x1_0000_0000) >>> 0;
  for (let i = words.length * 4; i < size; i++) out[i] = (random() * 256) | 0;
  return out;
};

/**
 * Index of the first differing byte, or -1 when equal (lengths included). Compare large buffers with
 * this, not `toEqual`: vitest's deep equality walks a 300 KB Uint8Array element by element for seconds.
 */
export const firstDifference = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
};

/** Bytes `(i + seed) mod 251`: short, readable buffers for operator specs (251 is prime, so a misplaced byte is visible). */
export const pattern = (n: number, seed = 0): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i + seed) % 251;
  return out;
};
