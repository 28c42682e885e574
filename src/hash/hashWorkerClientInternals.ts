/**
 * The requests of the page's side of the hash worker: ids, the answers awaited, the pooled buffers, the
 * hashers, and the worker's failure. `startHashWorker` (hashWorkerClient.ts) spawns the worker, waits for its
 * `ready` and calls {@link hashWorkerRequests} once per worker, so every worker gets fresh state (closure locals).
 */
import type { Bytes } from '../types';
import { HashWorkerError } from './HashWorkerError';
import { BatchingSha256, type BatchingSha256Context } from './BatchingSha256';
import { MAX_CRC_BUFFERS_OUT, POOL_BUFFER_BYTES, SMALL_POOL_BUFFER_BYTES, TransferPool } from './TransferPool';
import type { HashWorkerClient, WorkerLike } from './hashWorkerClient';
import type { HashWorkerReply, HashWorkerRequest } from './hashWorkerProtocol';

/** A reply that answers a request or gives a buffer back (not `ready` or `unavailable`, which only start-up reads). */
export type HashWorkerAnswer = Exclude<HashWorkerReply, { readonly t: 'ready' | 'unavailable' }>;

/**
 * Hasher `id` in the worker (opened already), on `ctx`. Its digest rejects with the error in `early` that the
 * worker reported for it before the digest was asked for, if any; `unused` tells the worker to drop it when
 * its owner lets it go without a digest.
 */
const workerSha256 = (id: number, ctx: BatchingSha256Context, early: Map<number, HashWorkerError>, unused: FinalizationRegistry<number> | undefined) => {
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
};

/**
 * The answers awaited from one worker, by request id: `ask` posts a request with `post` and resolves with its
 * answer, which `take` hands out; `fail` is the worker's failure after `ready`, which fails what is waiting and
 * every later request.
 */
function awaitedAnswers(post: (m: HashWorkerRequest, transfer?: Transferable[]) => void) {
  // Answers awaited, by request id.
  const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: unknown) => void }>();
  // Set once the worker failed after `ready`.
  let broken: HashWorkerError | undefined;
  return {
    ask: <T,>(id: number, m: HashWorkerRequest, transfer?: Transferable[]) =>
      new Promise<T>((res, rej) => {
        if (broken) return rej(broken);
        waiting.set(id, { resolve: res, reject: rej });
        post(m, transfer);
      }),
    /** The answer awaited for request `id`, if any, off the list. */
    take: (id: number) => {
      const w = waiting.get(id);
      waiting.delete(id);
      return w;
    },
    broken: () => broken !== undefined,
    /** The worker failed after `ready` (`message` says how). */
    fail: (message: string | undefined) => {
      broken = new HashWorkerError(`hash worker failed: ${message ?? 'unknown error'}`);
      for (const w of waiting.values()) w.reject(broken);
      waiting.clear();
    },
  };
}

/**
 * The requests to one worker and the client that makes them: `reply` takes the worker's answers, `fail` its
 * failure after `ready` (what is waiting fails, and so does every later request).
 */
export function hashWorkerRequests(worker: WorkerLike) {
  // Errors the worker reported for a hasher (a failed update) before its digest was asked for.
  const early = new Map<number, HashWorkerError>();
  // Request ids, shared by hashers and CRC requests.
  let nextId = 0;
  const sent = { open: 0, update: 0, digest: 0, close: 0, crc: 0 };

  const post = (m: HashWorkerRequest, transfer?: Transferable[]) => {
    sent[m.t]++;
    worker.postMessage(m, transfer);
  };
  // The answers awaited, and the worker's failure.
  const answers = awaitedAnswers(post);
  const { ask } = answers;
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
  const ctx: BatchingSha256Context = {
    pool,
    post,
    ask: (m: HashWorkerRequest) => ask<string>(m.id, m),
    // No limit on buffers out: these bytes must reach the hasher.
    crc: (parts: readonly Bytes[], sha: number) => askCrc(parts, Infinity, sha)!,
    broken: answers.broken,
  };
  // Tells the worker to drop a hasher its owner let go of without a digest (a cancelled transfer).
  const unused = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<number>((id) => answers.broken() || post({ t: 'close', id })) : undefined;

  const client: HashWorkerClient = {
    sent,
    buffers: pool.counts,
    smallBuffers: small.counts,
    createSha256() {
      const id = ++nextId;
      post({ t: 'open', id });
      return workerSha256(id, ctx, early, unused);
    },
    crc32Batch: (parts) => askCrc(parts, MAX_CRC_BUFFERS_OUT),
  };
  return {
    client,
    /** A pooled buffer back, or the answer (a digest, CRC-32s or an error) to a request. */
    reply: (m: HashWorkerAnswer) => {
      if (m.t === 'buffer') return poolFor(m.buffer.byteLength)?.give(m.buffer);
      if (m.t === 'crc') poolFor(m.buffer.byteLength)?.give(m.buffer);
      const w = answers.take(m.id);
      const error = m.t === 'error' ? new HashWorkerError(`hash worker: ${m.message}`, { id: m.id }) : undefined;
      if (!w) return void (error && early.set(m.id, error));
      if (error) w.reject(error);
      else if (m.t !== 'error') w.resolve(m.t === 'digest' ? m.hex : m.values);
    },
    fail: answers.fail,
  };
}
