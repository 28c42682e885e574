/**
 * CRC-32 (IEEE 802.3, the one zlib and `cksum -o 3` use) of a byte range.
 *
 * In Node (>= 20.15) this is zlib's native `crc32`, several GB/s. Elsewhere a
 * slicing-by-8 table implementation runs in plain JS. Both give the same value.
 */
import type { Bytes } from '../types';

type NativeCrc = (data: Uint8Array, value?: number) => number;

// Pure (no effect beyond its value): a bundle that does not use it drops it.
const native: NativeCrc | undefined = /* @__PURE__ */ (() => {
  const proc = (globalThis as any).process;
  const get = proc?.getBuiltinModule as ((id: string) => any) | undefined;
  if (typeof get !== 'function') return undefined;
  try {
    const fn = get('node:zlib')?.crc32;
    return typeof fn === 'function' ? (fn as NativeCrc) : undefined;
  } catch {
    return undefined;
  }
})();

/** True where CRC-32 is zlib's native one (Node), which is fast enough to stay on the calling thread. */
export const hasNativeCrc32 = (): boolean => native !== undefined;

let tables: Uint32Array[] | undefined;

/** Builds the 8 lookup tables of slicing-by-8 once, on first use. */
const buildTables = (): Uint32Array[] => {
  const t: Uint32Array[] = [];
  for (let k = 0; k < 8; k++) t.push(new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let b = 0; b < 8; b++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[0][n];
    for (let k = 1; k < 8; k++) {
      c = t[0][c & 0xff] ^ (c >>> 8);
      t[k][n] = c >>> 0;
    }
  }
  return t;
};

/** Pure-JS CRC-32, exported for tests that compare it with the native one. */
export function crc32Js(data: Bytes, seed = 0): number {
  const t = (tables ??= buildTables());
  const [t0, t1, t2, t3, t4, t5, t6, t7] = t;
  let crc = ~seed >>> 0;
  let i = 0;
  const n = data.length;
  for (; i + 8 <= n; i += 8) {
    const a = (crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    crc =
      t7[a & 0xff] ^
      t6[(a >>> 8) & 0xff] ^
      t5[(a >>> 16) & 0xff] ^
      t4[a >>> 24] ^
      t3[data[i + 4]] ^
      t2[data[i + 5]] ^
      t1[data[i + 6]] ^
      t0[data[i + 7]];
  }
  for (; i < n; i++) crc = t0[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** CRC-32 of `data`, continuing from `seed` (the CRC of the preceding bytes). */
export function crc32(data: Bytes, seed = 0): number {
  return native ? native(data, seed) >>> 0 : crc32Js(data, seed);
}

/** An 8-digit lowercase hex rendering of a CRC-32 value. */
export const crc32Hex = (value: number): string => (value >>> 0).toString(16).padStart(8, '0');
