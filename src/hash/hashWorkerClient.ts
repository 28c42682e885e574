/**
 * The page's side of the hash worker: starts it, hands it hashers and bytes, and gets digests back.
 *
 * One worker serves every hasher of the page. It starts from a Blob URL made of the bundled worker script
 * (hashWorkerSource.ts, a lazily imported chunk), so it works in any bundler's output without a separate
 * file to serve; a page whose Content-Security-Policy has `worker-src` (or `script-src`) without `blob:`
 * cannot start it, and {@link startHashWorker} then says `undefined`: callers hash on the main thread.
 *
 * Bytes go to the worker copied into 1 MiB pooled buffers that are transferred there and back
 * (BatchingSha256.ts, TransferPool.ts): one memcpy, no allocation and one message per MiB; the caller keeps
 * its own buffer, which a sink or a frame may still be using. Chunks whose CRC-32 is wanted travel the same
 * way, a batch per buffer (crc32InWorker.ts), and come back with their CRCs. A sender's chunks travel once for
 * both: its hasher's `crc32Batch` hashes them into the SHA-256 and answers their CRCs.
 */
import type { Bytes } from '../types';
import { HashWorkerError } from './HashWorkerError';
import { BatchingSha256 } from './BatchingSha256';
import { MAX_CRC_BUFFERS_OUT, POOL_BUFFER_BYTES, SMALL_POOL_BUFFER_BYTES, TransferPool } from './TransferPool';
import type { HashWorkerReply, HashWorkerRequest } from './hashWorkerProtocol';
import type { Sha256 } from './sha256';

/** What the client needs of a Worker (the DOM's `Worker` fits). */
export interface WorkerLike {
  postMessage(message: HashWorkerRequest, transfer?: Transferable[]): void;
  addEventListener(type: 'message' | 'error', listener: (event: any) => void): void;
  terminate(): void;
}

/** A started worker and its hashers. */
export interface HashWorkerClient {
  /**
   * A SHA-256 hasher in the worker; `digestHex()` answers with a promise. Its `crc32Batch(parts)` hands `parts`
   * over once for both hashes: they update the hasher (after everything given to `update` before) and come
   * back with their CRC-32s. It always takes a buffer (a fresh one when every pooled one is out), never
   * `undefined`: the bytes must reach the hasher.
   */
  createSha256(): Sha256 & { digestHex(): Promise<string>; crc32Batch(parts: readonly Bytes[]): Promise<readonly number[]> };
  /**
   * CRC-32 of each of `parts`, computed in the worker: the parts are copied back to back into one pooled
   * buffer (256 KiB or 1 MiB, whichever fits; a fresh one beyond), which travels there and back.
   * `undefined` when {@link MAX_CRC_BUFFERS_OUT} buffers of that size are out already (the worker is behind):
   * the caller computes those CRCs itself.
   */
  crc32Batch(parts: readonly Bytes[]): Promise<readonly number[]> | undefined;
  /** Requests sent so far, by kind (for tests and the benchmark). */
  readonly sent: Readonly<Record<HashWorkerRequest['t'], number>>;
  /** Pooled 1 MiB buffers allocated and reused (for tests and the benchmark). */
  readonly buffers: Readonly<{ allocated: number; reused: number }>;
  /** The same for the 256 KiB buffers of single-chunk CRC requests. */
  readonly smallBuffers: Readonly<{ allocated: number; reused: number }>;
}

/**
 * Starts a worker with `spawn` and resolves once it said `ready`; `undefined` when it cannot start
 * (`spawn` throws, the worker fails before `ready`, or it says `unavailable`), after which nothing is left
 * running.
 */
export function startHashWorker(spawn: () => WorkerLike): Promise<HashWorkerClient | undefined> {
  let worker: WorkerLike;
  try {
    worker = spawn();
  } catch {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    // Answers awaited, by request id.
    const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: unknown) => void }>();
    // Set once the worker said `ready`; a failure after that fails what is waiting, and every later request.
    let started = false;
    let broken: HashWorkerError | undefined;
    // Errors the worker reported for a hasher (a failed update) before its digest was asked for.
    const early = new Map<number, HashWorkerError>();
    // Request ids, shared by hashers and CRC requests.
    let nextId = 0;
    const sent = { open: 0, update: 0, digest: 0, close: 0, crc: 0 };

    const post = (m: HashWorkerRequest, transfer?: Transferable[]) => {
      sent[m.t]++;
      worker.postMessage(m, transfer);
    };
    const ask = <T,>(id: number, m: HashWorkerRequest, transfer?: Transferable[]) =>
      new Promise<T>((res, rej) => {
        if (broken) return rej(broken);
        waiting.set(id, { resolve: res, reject: rej });
        post(m, transfer);
      });
    // Buffers for `update` hand-offs, back from the worker once hashed.
    const pool = new TransferPool();
    // Buffers for CRC requests of one chunk (a receiver's, one frame per task): a quarter of the size, so a
    // missed reuse allocates (and zero-fills) less.
    const small = new TransferPool(SMALL_POOL_BUFFER_BYTES);
    const poolFor = (bytes: number) => (bytes === SMALL_POOL_BUFFER_BYTES ? small : bytes === POOL_BUFFER_BYTES ? pool : undefined);
    /**
     * Copies `parts` back to back into a buffer and asks for their CRC-32s (and, with `sha`, to hash them into
     * that hasher): a pooled buffer where they fit, `undefined` when `maxOut` of that size are out; a fresh one beyond.
     */
    const askCrc = (parts: readonly Bytes[], maxOut: number, sha?: number) => {
      const lengths = parts.map((p) => p.length);
      const total = lengths.reduce((a, b) => a + b, 0);
      const buffer = total <= SMALL_POOL_BUFFER_BYTES ? small.tryTake(maxOut) : total <= POOL_BUFFER_BYTES ? pool.tryTake(maxOut) : new ArrayBuffer(total);
      if (!buffer) return undefined;
      const id = ++nextId;
      const data = new Uint8Array(buffer, 0, total);
      for (let i = 0, at = 0; i < parts.length; at += lengths[i++]) data.set(parts[i], at);
      return ask<readonly number[]>(id, { t: 'crc', id, data, lengths, ...(sha === undefined ? {} : { sha }) }, [buffer]);
    };
    const ctx = {
      pool,
      post,
      ask: (m: HashWorkerRequest) => ask<string>(m.id, m),
      // No limit on buffers out: these bytes must reach the hasher.
      crc: (parts: readonly Bytes[], sha: number) => askCrc(parts, Infinity, sha)!,
      broken: () => broken !== undefined,
    };
    // Tells the worker to drop a hasher its owner let go of without a digest (a cancelled transfer).
    const unused = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<number>((id) => broken || post({ t: 'close', id })) : undefined;

    const client: HashWorkerClient = {
      sent,
      buffers: pool.counts,
      smallBuffers: small.counts,
      createSha256() {
        const id = ++nextId;
        post({ t: 'open', id });
        const batching = new BatchingSha256(id, ctx);
        const hasher = {
          update: (data: Bytes) => batching.update(data),
          crc32Batch: (parts: readonly Bytes[]) => batching.crc32Batch(parts),
          digestHex() {
            unused?.unregister(hasher);
            const failed = early.get(id);
            early.delete(id);
            return failed ? Promise.reject(failed) : batching.digestHex();
          },
        };
        unused?.register(hasher, id, hasher);
        return hasher;
      },
      crc32Batch: (parts) => askCrc(parts, MAX_CRC_BUFFERS_OUT),
    };

    worker.addEventListener('message', ({ data: m }: { data: HashWorkerReply }) => {
      if (m.t === 'ready') {
        started = true;
        return resolve(client);
      }
      if (m.t === 'unavailable') {
        worker.terminate();
        return resolve(undefined);
      }
      if (m.t === 'buffer') return poolFor(m.buffer.byteLength)?.give(m.buffer);
      if (m.t === 'crc') poolFor(m.buffer.byteLength)?.give(m.buffer);
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      const error = m.t === 'error' ? new HashWorkerError(`hash worker: ${m.message}`, { id: m.id }) : undefined;
      if (!w) return void (error && early.set(m.id, error));
      if (error) w.reject(error);
      else if (m.t !== 'error') w.resolve(m.t === 'digest' ? m.hex : m.values);
    });
    worker.addEventListener('error', (event: { message?: string; preventDefault?: () => void }) => {
      event.preventDefault?.();
      worker.terminate();
      if (!started) return resolve(undefined);
      broken = new HashWorkerError(`hash worker failed: ${event.message ?? 'unknown error'}`);
      for (const w of waiting.values()) w.reject(broken);
      waiting.clear();
    });
  });
}
