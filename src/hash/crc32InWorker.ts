/**
 * Each chunk's CRC-32, computed off the main thread where the page has a hash worker, in order.
 */
import { asapScheduler, Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { subscribeChained } from '../operators/subscribeChained';
import type { Bytes, Chunk } from '../types';
import { crc32, hasNativeCrc32 } from './crc32';
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

/** A chunk waiting for its CRC-32. */
interface Pending<T> {
  readonly chunk: T;
  crc?: number;
}

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
      // The worker: `undefined` while it starts, `null` where none runs.
      let worker: Crc32Batcher | null | undefined = batcher;
      // Chunks in arrival order, from `head` on not yet emitted.
      let pending: Pending<T>[] = [];
      let head = 0;
      // Chunks not yet sent to the worker (from `gathered` on), and their bytes.
      let gathered = 0;
      let gatheredBytes = 0;
      // The flush queued for the end of this task, if any; and whether the source completed.
      let flushQueued: Subscription | undefined;
      let sourceDone = false;

      /** Emits the chunks whose CRC is known, oldest first; completes once all are out. */
      const drain = () => {
        while (head < pending.length && pending[head].crc !== undefined && !subscriber.closed) {
          const p = pending[head];
          pending[head++] = undefined as unknown as Pending<T>;
          subscriber.next(attach(p.chunk, p.crc!));
        }
        if (head === pending.length) {
          pending = [];
          head = gathered = 0;
        }
        if (sourceDone && !pending.length && !subscriber.closed) subscriber.complete();
      };
      /** Sends one batch of at most `batchBytes` (or one chunk) to the worker; computes it here when the worker is behind. */
      const post = (w: Crc32Batcher, batch: Pending<T>[]) => {
        const answer = w.crc32Batch(batch.map((p) => p.chunk.data));
        if (!answer) {
          for (const p of batch) p.crc = crc32(p.chunk.data);
          return drain();
        }
        answer.then(
          (values) => {
            if (subscriber.closed) return;
            batch.forEach((p, i) => (p.crc = values[i] >>> 0));
            drain();
          },
          (err) => subscriber.error(err),
        );
      };
      /** Sends the gathered chunks to the worker in batches (or computes them here where there is none). */
      const flush = () => {
        if (worker === undefined) return;
        gatheredBytes = 0;
        while (gathered < pending.length) {
          const first = gathered;
          for (let bytes = 0; gathered < pending.length && (gathered === first || bytes + pending[gathered].chunk.data.length <= batchBytes); gathered++) {
            bytes += pending[gathered].chunk.data.length;
          }
          const batch = pending.slice(first, gathered);
          if (worker) post(worker, batch);
          else for (const p of batch) p.crc = crc32(p.chunk.data);
        }
        if (!worker) drain();
      };
      const flushSoon = () => {
        // At the end of this task: `asapScheduler` is a microtask in browsers, and virtual under TestScheduler.run().
        flushQueued ??= asapScheduler.schedule(() => {
          flushQueued?.unsubscribe();
          flushQueued = undefined;
          if (!subscriber.closed) flush();
        });
      };

      start?.().then(
        (w) => {
          worker = w ?? null;
          if (!subscriber.closed) flush();
        },
        () => {
          worker = null;
          if (!subscriber.closed) flush();
        },
      );
      subscribeChained(source, subscriber, {
        next: (chunk) => {
          pending.push({ chunk });
          gatheredBytes += chunk.data.length;
          if (gatheredBytes >= batchBytes) flush();
          else flushSoon();
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          flush();
          drain();
        },
      });
      return () => {
        flushQueued?.unsubscribe();
        pending = [];
      };
    });
}
