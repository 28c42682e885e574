/**
 * The hash worker's body: SHA-256 (hash-wasm) and CRC-32 (crc32Js) off the page's main thread, speaking
 * {@link HashWorkerRequest}/{@link HashWorkerReply} (the table is in hashWorkerProtocol.ts).
 *
 * `serveHashRequests` takes the scope to listen on, so tests drive it with a fake one. The worker script is
 * this module bundled on its own (scripts/build-hash-worker.mjs → hashWorkerSource.ts) and started from a
 * Blob URL by hashWorkerClient.ts.
 */
import { createSHA256 } from 'hash-wasm';
import { crc32Js } from './crc32';
import type { HashWorkerReply, HashWorkerRequest } from './hashWorkerProtocol';

/** What the worker needs of its global scope (a DedicatedWorkerGlobalScope fits). */
export interface HashWorkerScope {
  postMessage(message: HashWorkerReply): void;
  addEventListener(type: 'message', listener: (event: { data: HashWorkerRequest }) => void): void;
}

/** hash-wasm's incremental hasher, the part used here. */
interface WasmHasher {
  init(): unknown;
  update(data: Uint8Array): unknown;
  digest(format: 'hex'): string;
}

/** Answers the page's requests on `scope` until the worker ends; says `ready` first. */
export function serveHashRequests(scope: HashWorkerScope, create: () => Promise<WasmHasher> = createSHA256): void {
  // Each open hasher's work so far: updates and the digest run in order on one promise chain.
  const open = new Map<number, Promise<WasmHasher>>();

  const fail = (id: number, err: unknown) => scope.postMessage({ t: 'error', id, message: err instanceof Error ? err.message : String(err) });
  /** Runs `step` after the hasher's earlier steps; a failure answers `error` once and drops the hasher. */
  const then = (id: number, step: (h: WasmHasher) => void) => {
    const chain = open.get(id);
    if (!chain) return fail(id, `hasher ${id} is not open`);
    open.set(
      id,
      chain.then((h) => {
        step(h);
        return h;
      }),
    );
    open.get(id)!.catch((err) => {
      if (open.delete(id)) fail(id, err);
    });
  };

  scope.addEventListener('message', ({ data: m }) => {
    switch (m.t) {
      case 'open':
        if (open.has(m.id)) return fail(m.id, `hasher ${m.id} is already open`);
        open.set(m.id, create().then((h) => (h.init(), h)));
        return;
      case 'update':
        return then(m.id, (h) => void h.update(m.data));
      case 'digest':
        return then(m.id, (h) => {
          open.delete(m.id);
          scope.postMessage({ t: 'digest', id: m.id, hex: h.digest('hex') });
        });
      case 'close':
        open.delete(m.id);
        return;
      case 'crc':
        return scope.postMessage({ t: 'crc', id: m.id, value: crc32Js(m.data, m.seed) });
      default:
        return fail((m as { id?: number }).id ?? -1, `unknown request ${JSON.stringify((m as { t?: unknown }).t)}`);
    }
  });
  scope.postMessage({ t: 'ready' });
}
