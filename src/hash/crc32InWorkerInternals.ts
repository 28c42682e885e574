/**
 * The per-subscription engine of `crc32InWorker`: the chunks waiting for their CRC-32, the batches gathered
 * for the worker, and the flush at the end of a task. `crc32InWorker` resolves its options and calls
 * {@link crc32Run} once per subscription, so every subscriber gets fresh state (closure locals).
 */
import { asapScheduler, type Subscriber, type Subscription } from 'rxjs';
import type { Chunk } from '../types';
import { crc32 } from './crc32';
import type { Crc32Batcher } from './crc32InWorker';

/** A chunk waiting for its CRC-32. */
interface Pending<T> {
  readonly chunk: T;
  crc?: number;
}

/**
 * Sends one batch of at most `batchBytes` (or one chunk) to the worker `w`, and calls `drain` once its CRCs
 * are set: at once when the worker is behind (they are computed here), else when its answer is back (unless
 * `subscriber` closed meanwhile; a failure errors it).
 */
const post = <T extends Chunk>(w: Crc32Batcher, batch: Pending<T>[], subscriber: Subscriber<unknown>, drain: () => void) => {
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

/** One subscription of `crc32InWorker` (with a worker, or one starting): its state in closure locals, and its steps. */
export function crc32Run<T extends Chunk, R>(subscriber: Subscriber<R>, attach: (chunk: T, crc: number) => R, batchBytes: number, batcher: Crc32Batcher | undefined) {
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
      if (worker) post(worker, batch, subscriber, drain);
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
  return {
    /** The worker started (`undefined`: none runs, or it failed to start): the chunks gathered meanwhile go. */
    started: (w: Crc32Batcher | undefined) => {
      worker = w ?? null;
      if (!subscriber.closed) flush();
    },
    /** A chunk from the source: gathered, and flushed now (a full batch) or at the end of the task. */
    accept: (chunk: T) => {
      pending.push({ chunk });
      gatheredBytes += chunk.data.length;
      if (gatheredBytes >= batchBytes) flush();
      else flushSoon();
    },
    /** The source completed: what is gathered goes, and the output completes once every CRC is out. */
    complete: () => {
      sourceDone = true;
      flush();
      drain();
    },
    teardown: () => {
      flushQueued?.unsubscribe();
      pending = [];
    },
  };
}
