/**
 * The hash worker's body: SHA-256 (sha256Small: our own 0.8 KB WebAssembly module) and CRC-32 (crc32Js) off the page's main thread, speaking
 * {@link HashWorkerRequest}/{@link HashWorkerReply} (the table is in hashWorkerProtocol.ts).
 *
 * `serveHashRequests` takes the scope to listen on, so tests drive it with a fake one. The worker script is
 * this module bundled on its own (scripts/build-hash-worker.mjs → hashWorkerSource.ts) and started from a
 * Blob URL by hashWorkerClient.ts.
 */
import { crc32Js } from './crc32';
import type { HashWorkerReply, HashWorkerRequest } from './hashWorkerProtocol';
import { createSha256Small } from './sha256Small';

/** What the worker needs of its global scope (a DedicatedWorkerGlobalScope fits). */
export interface HashWorkerScope {
  postMessage(message: HashWorkerReply, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: { data: HashWorkerRequest }) => void): void;
}

/** An incremental hasher as the worker uses it (sha256Small's, or hash-wasm's in tests that compare). */
interface WasmHasher {
  init(): unknown;
  update(data: Uint8Array): unknown;
  digest(format: 'hex'): string;
}

/** An open hasher: its work so far, and whether it failed (answered `error`). */
interface Entry {
  chain: Promise<WasmHasher>;
  failed: boolean;
}

/** Answers the page's requests on `scope` until the worker ends; says `ready` (or `unavailable`) first. */
export function serveHashRequests(scope: HashWorkerScope, create: () => Promise<WasmHasher> = async () => createSha256Small()): void {
  // Open hashers by id. The table's state changes as each request arrives; the hashing itself runs on
  // each hasher's promise chain, in order, once its WASM instance has loaded.
  const open = new Map<number, Entry>();

  const fail = (id: number, err: unknown) => scope.postMessage({ t: 'error', id, message: err instanceof Error ? err.message : String(err) });
  /** Runs `work` after the hasher's earlier steps; its first failure answers `error` and closes it. */
  const step = (id: number, entry: Entry, work: (h: WasmHasher) => void) => {
    entry.chain = entry.chain.then((h) => (work(h), h));
    entry.chain.catch((err) => {
      if (entry.failed) return;
      entry.failed = true;
      if (open.get(id) === entry) open.delete(id);
      fail(id, err);
    });
  };
  /** The open hasher `id`, or an `error` answer. */
  const opened = (id: number): Entry | undefined => open.get(id) ?? void fail(id, `hasher ${id} is not open`);

  /** Hands a request's buffer back to the page (transferred), for its next bytes. */
  const giveBack = (data: Uint8Array) => scope.postMessage({ t: 'buffer', buffer: data.buffer as ArrayBuffer }, [data.buffer as ArrayBuffer]);

  /** CRC-32 of each piece of a `crc` request; the buffer goes back with the answer (or after the error). */
  const crcOf = (m: Extract<HashWorkerRequest, { t: 'crc' }>) => {
    const buffer = m.data.buffer as ArrayBuffer;
    const total = m.lengths.reduce((sum, n) => (Number.isInteger(n) && n >= 0 ? sum + n : NaN), 0);
    if (total !== m.data.length) {
      giveBack(m.data);
      return fail(m.id, `crc pieces [${m.lengths.join(', ')}] do not add up to the ${m.data.length} B sent`);
    }
    const values: number[] = [];
    for (let i = 0, at = 0; i < m.lengths.length; at += m.lengths[i++]) values.push(crc32Js(m.data.subarray(at, at + m.lengths[i])));
    scope.postMessage({ t: 'crc', id: m.id, values, buffer }, [buffer]);
  };

  /** A `crc` request that also updates hasher `sha` with its bytes: the update first, in the hasher's order. */
  const hashThenCrc = (m: Extract<HashWorkerRequest, { t: 'crc' }>, sha: number) => {
    const entry = opened(sha);
    if (!entry) return giveBack(m.data), fail(m.id, `hasher ${sha} is not open`);
    step(sha, entry, (h) => void h.update(m.data));
    entry.chain.then(
      () => crcOf(m),
      (err) => (giveBack(m.data), fail(m.id, err)),
    );
  };

  scope.addEventListener('message', ({ data: m }) => {
    let entry: Entry | undefined;
    switch (m.t) {
      case 'open':
        if (open.has(m.id)) return fail(m.id, `hasher ${m.id} is already open`);
        open.set(m.id, (entry = { chain: create(), failed: false }));
        return step(m.id, entry, (h) => void h.init());
      case 'update': {
        const back = () => giveBack(m.data);
        if (!(entry = opened(m.id))) return back();
        step(m.id, entry, (h) => void h.update(m.data));
        // After the hashing, failed or not: the page copies its next bytes into this buffer.
        entry.chain.then(back, back);
        return;
      }
      case 'digest':
        if (!(entry = opened(m.id))) return;
        open.delete(m.id);
        return step(m.id, entry, (h) => scope.postMessage({ t: 'digest', id: m.id, hex: h.digest('hex') }));
      case 'close':
        open.delete(m.id);
        return;
      case 'crc':
        return m.sha === undefined ? crcOf(m) : hashThenCrc(m, m.sha);
      default:
        return fail((m as { id?: number }).id ?? -1, `unknown request ${JSON.stringify((m as { t?: unknown }).t)}`);
    }
  });
  // `ready` once WebAssembly may run here (a CSP without 'wasm-unsafe-eval' forbids it, in the worker too).
  create().then(
    () => scope.postMessage({ t: 'ready' }),
    (err) => scope.postMessage({ t: 'unavailable', message: err instanceof Error ? err.message : String(err) }),
  );
}
