/**
 * Incremental SHA-256 that works everywhere.
 *
 * - Node: `node:crypto` (OpenSSL, SHA-NI where present; about 1.4 GB/s here), synchronous.
 * - Browsers: our own incremental SHA-256 in WebAssembly (sha256Small.ts; WebCrypto has no incremental
 *   digest) in the page's hash worker (pageHashWorker.ts), off the main thread; its digest is a promise. Where no worker can
 *   start (no `Worker`, a CSP without `blob:` for workers or without `'wasm-unsafe-eval'`), @noble/hashes'
 *   pure-JS SHA-256 on the main thread (sha256Js.ts). Either needs an asynchronous load, so
 *   `createSha256()` returns a promise there.
 */
import type { Bytes } from '../types';
import { pageHashWorker } from './pageHashWorker';

/** An incremental hash. `digest()` may be called once. */
export interface Sha256 {
  update(data: Bytes): void;
  /** Lowercase hex, as `sha256sum` prints it; a promise where the hashing runs in a worker. */
  digestHex(): string | Promise<string>;
  /** An independent hasher in the same state, where the implementation can fork (node:crypto can). */
  copy?(): Sha256;
}

/** Creates a hasher; synchronous in Node, asynchronous where WASM must load. */
export type Sha256Factory = () => Sha256 | Promise<Sha256>;

// Pure (no effect beyond its value): a bundle that does not use it drops it.
const nodeCrypto: any = /* @__PURE__ */ (() => {
  const get = (globalThis as any).process?.getBuiltinModule as ((id: string) => any) | undefined;
  if (typeof get !== 'function') return undefined;
  try {
    return get('node:crypto');
  } catch {
    return undefined;
  }
})();

/** True when the synchronous native implementation is available. */
export const hasNativeSha256 = (): boolean => Boolean(nodeCrypto?.createHash);

const wrapNode = (h: any): Sha256 => ({
  update: (data) => void h.update(data),
  digestHex: () => h.digest('hex') as string,
  copy: () => wrapNode(h.copy()),
});
const fromNode = (): Sha256 => wrapNode(nodeCrypto.createHash('sha256'));

// A chunk of its own: the worker's WebAssembly SHA-256 on this thread (see sha256Wasm.ts).
const fromWasm = async (): Promise<Sha256> => (await import('./sha256Wasm')).createSha256Wasm();

// A chunk of its own with @noble/hashes' pure-JS SHA-256 (see sha256Js.ts).
const fromJs = async (): Promise<Sha256> => (await import('./sha256Js')).createSha256Js();

/** In the page's hash worker where one runs, else pure JS on this thread. */
const fromWorkerOrJs = async (): Promise<Sha256> => (await pageHashWorker())?.createSha256() ?? fromJs();

/** The default factory: native where it exists (Node), a worker in browsers, pure JS otherwise. */
export const createSha256: Sha256Factory = () => (hasNativeSha256() ? fromNode() : fromWorkerOrJs());

/** The pure-JS implementation, exported so tests can compare it in Node. */
export const createSha256InJs: () => Promise<Sha256> = fromJs;

/** The WebAssembly implementation on this thread, exported so tests can compare the paths in Node. */
export const createSha256Wasm: () => Promise<Sha256> = fromWasm;

/** SHA-256 of a whole buffer, as hex (a convenience for tests and small payloads). */
export async function sha256Hex(data: Bytes): Promise<string> {
  const h = await createSha256();
  h.update(data);
  return await h.digestHex();
}
