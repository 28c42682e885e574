/**
 * Each chunk's CRC-32, computed off the main thread where the page has a hash worker, in order.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { subscribeChained } from '../operators/subscribeChained';
import type { Bytes, Chunk } from '../types';
import { crc32, hasNativeCrc32 } from './crc32';
import { crc32Run } from './crc32InWorkerInternals';
import { pageHashWorker } from './pageHashWorker';
import { POOL_BUFFER_BYTES } from './TransferPool';

/** What computes a batch of CRC-32s elsewhere (the page's hash worker client fits). */
export interface Crc32Batcher {
  /** The CRC-32 of each part, or `undefined` when it is busy (the caller computes them itself). */
  crc32Batch(parts: readonly Bytes[]): Promise<readonly number[]> | undefined;
}

/** True for a hasher that can also take CRC batches (the page's worker hasher: one hand-off for both hashes). */
export const isCrcBatcher = <T extends object>(x: T): x is T & Crc32Batcher => typeof (x as Partial<Crc32Batcher>).crc32Batch === 'function';

/** Options for {@link crc32InWorker}. */
export interface Crc32InWorkerConfig<T extends Chunk, R> {
  /** Makes the output from a chunk and the CRC-32 of its `data`. Required. */
  readonly attach: (chunk: T, crc: number) => R;
  /**
   * Where the CRCs are computed: a promise of the worker, or of `undefined` where none runs (CRC-32 then runs
   * here, synchronously). Default: the page's hash worker in a browser; none where CRC-32 is native (Node),
   * which keeps Node's path synchronous (and so runnable under `TestScheduler`).
   */
  readonly worker?: () => Promise<Crc32Batcher | undefined>;
  /**
   * A batcher to use from the start instead of `worker` (no start-up wait): a sender's hasher in the hash
   * worker, whose `crc32Batch` also hashes the chunks. Default: none.
   */
  readonly batcher?: Crc32Batcher;
  /** The most payload bytes gathered into one request to the worker. Default {@link POOL_BUFFER_BYTES} (1 MiB). */
  readonly batchBytes?: number;
}

/** The default worker: the page's, where CRC-32 is not native and a Worker can run. */
const defaultWorker = (): (() => Promise<Crc32Batcher | undefined>) | undefined =>
  hasNativeCrc32() || typeof Worker !== 'function' ? undefined : pageHashWorker;

/**
 * Computes each chunk's CRC-32 and emits `attach(chunk, crc)`, in the order the chunks came.
 *
 * Without a worker (Node, or a page where none can start) the CRC is computed at once, synchronously. With
 * one, the chunks that arrive in one task (or up to `batchBytes`) go to it as one request, copied into a
 * pooled buffer (the caller keeps its own bytes); each comes out once its batch's answer is back, so the
 * page's main thread only copies. When the worker is behind (its batcher says `undefined`: every pooled
 * buffer is out), the batch is computed here at once, so the page neither waits nor allocates. A failing
 * worker errors the output (`HashWorkerError`).
 *
 * ```
 * source: -a-b-------c--|
 * worker:      (ab)       (c)       one request per task
 * result: ------a'b'------c'|       x' = attach(x, crc32(x.data))
 * ```
 *
 * @param config See {@link Crc32InWorkerConfig}.
 * @return An operator from chunks to `attach`'s results.
 */
export function crc32InWorker<T extends Chunk, R>(config: Crc32InWorkerConfig<T, R>): OperatorFunction<T, R> {
  const { attach, batchBytes = POOL_BUFFER_BYTES, batcher } = config;
  const start = batcher ? undefined : (config.worker ?? defaultWorker());
  if (!start && !batcher) {
    return (source) =>
      new Observable<R>((subscriber) => {
        subscribeChained(source, subscriber, { next: (c) => subscriber.next(attach(c, crc32(c.data))), error: (e) => subscriber.error(e), complete: () => subscriber.complete() });
      });
  }
  return (source) =>
    new Observable<R>((subscriber) => {
      // This subscription's worker, chunks waiting for their CRC and batches.
      const run = crc32Run(subscriber, attach, batchBytes, batcher);
      start?.().then(
        (w) => run.started(w),
        () => run.started(undefined),
      );
      subscribeChained(source, subscriber, {
        next: (chunk) => run.accept(chunk),
        error: (err) => subscriber.error(err),
        complete: () => run.complete(),
      });
      return () => run.teardown();
    });
}
