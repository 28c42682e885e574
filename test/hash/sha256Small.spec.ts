/**
 * sha256Small: our own WebAssembly SHA-256 (src/hash/sha256.wat, assembled into sha256WasmBytes.ts), the
 * hash worker's implementation. Checked against FIPS 180-4's examples and node:crypto, across block and
 * input-buffer boundaries and any split of the input; the generated module must match the .wat.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSha256Small } from '../../src/hash/sha256Small';

const root = resolve(__dirname, '../..');
const ascii = (s: string) => new TextEncoder().encode(s);
const nodeHex = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

/** Deterministic bytes (xorshift), so a failure reproduces. */
function bytes(n: number, seed = n + 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

const hexOf = (d: Uint8Array, pieces: readonly number[] = [d.length]) => {
  const h = createSha256Small();
  let at = 0;
  for (const n of pieces) h.update(d.subarray(at, (at += n)));
  h.update(d.subarray(at));
  return h.digest('hex');
};

describe('sha256Small', () => {
  it("gives FIPS 180-4's example digests", () => {
    expect(hexOf(ascii(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hexOf(ascii('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hexOf(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    const million = new Uint8Array(1_000_000).fill(0x61);
    expect(hexOf(million, [1, 63, 64, 999_000])).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('agrees with node:crypto at every length around a block, its padding and the 64 KiB input buffer', () => {
    const lengths = [1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 65_471, 65_535, 65_536, 65_537, 131_073, 300_001];
    for (const n of lengths) {
      const d = bytes(n);
      expect(hexOf(d), `${n} bytes`).toBe(nodeHex(d));
    }
  });

  it('gives the same digest for any split of the input', () => {
    const d = bytes(200_000, 7);
    const want = nodeHex(d);
    const splits = [[0, 0, 1], [63, 1, 64], [65_535, 2, 65_535], [3, 70_000, 5, 100_000], Array.from({ length: 500 }, (_, i) => i % 97)];
    for (const pieces of splits) expect(hexOf(d, pieces), `pieces ${pieces.slice(0, 5).join(',')}`).toBe(want);
  });

  it('starts again after init(), and one hasher does not disturb another', () => {
    const a = createSha256Small();
    const b = createSha256Small();
    a.update(bytes(1000));
    b.update(ascii('abc'));
    a.init().update(ascii('abc'));
    expect(a.digest('hex')).toBe(b.digest('hex'));
  });

  it('is built from src/hash/sha256.wat as committed (run scripts/build-sha256-wasm.mjs after changing it)', async () => {
    const script = '../../scripts/build-sha256-wasm.mjs';
    const { sha256WasmModule } = (await import(script)) as { sha256WasmModule: () => Promise<string> };
    const committed = await readFile(resolve(root, 'src/hash/sha256WasmBytes.ts'), 'utf8');
    expect(committed === (await sha256WasmModule()), 'src/hash/sha256WasmBytes.ts is stale: node scripts/build-sha256-wasm.mjs').toBe(true);
  });
});
