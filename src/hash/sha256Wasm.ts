/**
 * SHA-256 in WebAssembly on the calling thread, as a {@link Sha256}: the hash worker's implementation
 * (sha256Small.ts, our own 0.8 KB module) for code that hashes where it runs, such as a `createHash` option
 * that keeps SHA-256 on a page's main thread. `sha256.ts` loads it with a dynamic `import()`, so it is a
 * chunk of its own that a default transfer never loads.
 */
import type { Sha256 } from './sha256';
import { createSha256Small } from './sha256Small';

/** A fresh hasher (one WebAssembly instance each). */
export async function createSha256Wasm(): Promise<Sha256> {
  const h = createSha256Small();
  return {
    update: (data) => void h.update(data),
    digestHex: () => h.digest('hex'),
  };
}
