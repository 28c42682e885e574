/**
 * hash-wasm's incremental SHA-256 as a {@link Sha256}.
 *
 * This module imports `createSHA256` by name so that a bundler keeps SHA-256 alone (18 KB, 7 KB gzipped)
 * instead of every hash-wasm algorithm (216 KB, 81 KB gzipped): `sha256.ts` loads it with a dynamic
 * `import()`, so it is a chunk of its own that Node never loads.
 */
import { createSHA256 } from 'hash-wasm';
import type { Sha256 } from './sha256';

/** A fresh hash-wasm SHA-256 hasher (one WASM instance each). */
export async function createSha256Wasm(): Promise<Sha256> {
  const h = await createSHA256();
  h.init();
  return {
    update: (data) => void h.update(data),
    digestHex: () => h.digest('hex'),
  };
}
