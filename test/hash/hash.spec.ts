import { crc32 as zlibCrc } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Hex, crc32Js } from '../../src/hash/crc32';
import { createSha256, createSha256InJs, createSha256Wasm, hasNativeSha256, sha256Hex } from '../../src/hash/sha256';
import { pattern } from '../helpers/bytes';
import { sha256Hex as nodeSha256Hex } from '../helpers/sha256';

describe('crc32', () => {
  it('matches the known check value and zlib', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32Hex(crc32(check))).toBe('cbf43926');
    expect(crc32Js(check)).toBe(0xcbf43926);
    for (const n of [0, 1, 7, 8, 9, 1000, 65_537]) {
      const d = pattern(n, n);
      expect(crc32Js(d)).toBe(zlibCrc(d));
      expect(crc32(d)).toBe(zlibCrc(d));
    }
  });
  it('continues from a seed', () => {
    const d = pattern(5000);
    expect(crc32Js(d.subarray(1234), crc32Js(d.subarray(0, 1234)))).toBe(crc32(d));
  });
});

describe('sha256', () => {
  it('native, WASM and pure-JS paths agree with node:crypto', async () => {
    expect(hasNativeSha256()).toBe(true);
    const d = pattern(300_000);
    const want = nodeSha256Hex(d);
    expect(await sha256Hex(d)).toBe(want);
    const w = await createSha256Wasm();
    w.update(d.subarray(0, 1000));
    w.update(d.subarray(1000));
    expect(w.digestHex()).toBe(want);
    const j = await createSha256InJs();
    j.update(d.subarray(0, 77));
    j.update(d.subarray(77));
    expect(j.digestHex()).toBe(want);
    const n = await createSha256();
    n.update(new Uint8Array(0));
    expect(n.digestHex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
