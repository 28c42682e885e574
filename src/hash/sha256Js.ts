/**
 * @noble/hashes' SHA-256 (pure JS) as a {@link Sha256}: the browser's main-thread fallback.
 *
 * It runs where neither a Blob worker nor WebAssembly may (a Content-Security-Policy without `blob:` for
 * workers and without `'wasm-unsafe-eval'`), and it is small (5 KB, 2.7 KB gzipped). It is about half as fast
 * as the worker's WebAssembly (sha256Small.ts; 115 against 230 MiB/s in Node, bench/sha256Speed.ts). `sha256.ts` loads it with a
 * dynamic `import()`, so it is a chunk of its own that Node never loads.
 */
import { sha256 } from '@noble/hashes/sha2';
import type { Sha256 } from './sha256';

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** A fresh pure-JS SHA-256 hasher. */
export function createSha256Js(): Sha256 {
  const h = sha256.create();
  return {
    update: (data) => void h.update(data),
    digestHex: () => hex(h.digest()),
  };
}
