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
import { hashWorkerRequests } from './hashWorkerClientInternals';
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
    // Set once the worker said `ready`; a failure after that fails what is waiting, and every later request.
    let started = false;
    // The requests to the worker, and the client that makes them.
    const { client, reply, fail } = hashWorkerRequests(worker);
    worker.addEventListener('message', ({ data: m }: { data: HashWorkerReply }) => {
      if (m.t === 'ready') {
        started = true;
        return resolve(client);
      }
      if (m.t === 'unavailable') {
        worker.terminate();
        return resolve(undefined);
      }
      reply(m);
    });
    worker.addEventListener('error', (event: { message?: string; preventDefault?: () => void }) => {
      event.preventDefault?.();
      worker.terminate();
      if (!started) return resolve(undefined);
      fail(event.message);
    });
  });
}
