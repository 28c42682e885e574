/**
 * Restores index order from chunks that arrive out of order, with bounded memory.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { InvalidConfigError, ReorderError } from '../errors';
import type { Chunk } from '../types';
import { subscribeChained } from './subscribeChained';

/** Options for {@link reorder}. */
export interface ReorderConfig {
  /** Index of the first chunk to emit. Default `0`. */
  readonly start?: number;
  /** Indexes `>= next + window` are refused (`ERR_REORDER_OVERFLOW`): the memory bound in chunks. Default 1024. */
  readonly window?: number;
  /** Most payload bytes held while waiting for a gap (`ERR_REORDER_OVERFLOW`). Default 64 MiB. */
  readonly maxBufferedBytes?: number;
  /** The total chunk count, once known. The first value counts; completes as soon as every chunk below it is out. Default: unknown. */
  readonly end?: Observable<number>;
  /** Milliseconds a head-of-line gap may last while chunks wait (`ERR_REORDER_TIMEOUT`). Default: no timeout. */
  readonly gapTimeoutMs?: number;
  /** Scheduler for `gapTimeoutMs`. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Called with the index of each dropped duplicate. A throw errors the output. Default: none. */
  readonly onDuplicate?: (index: number) => void;
  /**
   * A byte budget shared with other `reorder`s (the files of one session): a chunk is buffered only if the
   * budget grants its bytes too (`ERR_REORDER_OVERFLOW` otherwise), and the bytes go back as chunks leave the
   * buffer or the subscription ends. Default: none (only `maxBufferedBytes`).
   */
  readonly budget?: ReorderBudget;
}

/** Bytes that several reorder buffers share. */
export interface ReorderBudget {
  /** The bound, bytes (for messages). */
  readonly maxBytes: number;
  /** Grants `bytes`, or returns false when that would pass the bound. */
  take(bytes: number): boolean;
  /** Gives `bytes` back. */
  give(bytes: number): void;
}

/** A {@link ReorderBudget} of `maxBytes`. */
export function reorderBudget(maxBytes: number): ReorderBudget {
  let used = 0;
  return {
    maxBytes,
    take: (bytes) => (used + bytes > maxBytes ? false : ((used += bytes), true)),
    give: (bytes) => void (used = Math.max(0, used - bytes)),
  };
}

/** Default window, in chunks. */
export const DEFAULT_REORDER_WINDOW = 1024;
/** Default byte bound. */
export const DEFAULT_REORDER_MAX_BYTES = 64 * 1024 * 1024;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Emits chunks in index order, starting at `start`, from unordered arrival.
 * Out-of-order chunks wait in a buffer bounded by `window` and
 * `maxBufferedBytes`; duplicates are dropped and reported.
 *
 * ```
 * source: -2-0-1-3-|
 * result: ---0-B-3-|    B = 1 then 2 at the same instant
 * ```
 *
 * Errors (`ReorderError`): `ERR_REORDER_OVERFLOW` when an index is beyond the
 * window, the byte bound or `end`; `ERR_REORDER_GAP` (`details.missing`) when the
 * source completes with chunks still waiting or before `end`;
 * `ERR_REORDER_TIMEOUT` when a gap outlives `gapTimeoutMs`.
 *
 * ## Example
 * ```ts
 * import { decodeFrames, reorder } from 'tallow-rx';
 * messages$.pipe(decodeFrames({ transferId }), reorder({ end: totalChunks$, gapTimeoutMs: 10_000 }));
 * ```
 *
 * @param config See {@link ReorderConfig}.
 * @return An operator that reorders chunks.
 */
export function reorder(config: ReorderConfig = {}): OperatorFunction<Chunk, Chunk> {
  const { start = 0, window = DEFAULT_REORDER_WINDOW, maxBufferedBytes = DEFAULT_REORDER_MAX_BYTES, end, gapTimeoutMs, scheduler = asyncScheduler, onDuplicate, budget } = config;
  if (!isCount(start)) throw new InvalidConfigError(`start must be an integer >= 0, got ${start}`, { start });
  if (!isCount(window) || window < 1) throw new InvalidConfigError(`window must be an integer >= 1, got ${window}`, { window });
  if (!(maxBufferedBytes >= 0)) throw new InvalidConfigError(`maxBufferedBytes must be >= 0, got ${maxBufferedBytes}`, { maxBufferedBytes });
  if (gapTimeoutMs !== undefined && !(gapTimeoutMs > 0)) throw new InvalidConfigError(`gapTimeoutMs must be > 0, got ${gapTimeoutMs}`, { gapTimeoutMs });
  return (source) =>
    new Observable<Chunk>((subscriber) => {
      // Next index to emit.
      let next = start;
      // Chunks that arrived early, by index.
      let buffer: Map<number, Chunk> | null = new Map();
      // Payload bytes in `buffer`.
      let bufferedBytes = 0;
      // The total chunk count, once `end` told us.
      let total: number | undefined;
      // The running gap timer, if any.
      let timer: Subscription | undefined;

      const fail = (code: 'ERR_REORDER_GAP' | 'ERR_REORDER_OVERFLOW' | 'ERR_REORDER_TIMEOUT', message: string, details: Record<string, unknown>) =>
        subscriber.error(new ReorderError(code, message, { next, buffered: buffer?.size ?? 0, bufferedBytes, ...details }));
      /** (Re)arms the gap timer while chunks wait, disarms it otherwise. */
      const armTimer = () => {
        timer?.unsubscribe();
        timer = undefined;
        if (gapTimeoutMs === undefined || !buffer?.size) return;
        timer = scheduler.schedule(() => fail('ERR_REORDER_TIMEOUT', `chunk ${next} still missing after ${gapTimeoutMs} ms`, { missing: next, gapTimeoutMs }), gapTimeoutMs);
        subscriber.add(timer);
      };
      /** Completes once `end` is known and everything below it is out. */
      const checkComplete = () => {
        if (total !== undefined && next >= total) subscriber.complete();
      };
      /** Emits `chunk` and then every buffered chunk that follows it. */
      const release = (chunk: Chunk) => {
        next++;
        subscriber.next(chunk);
        while (buffer?.has(next) && !subscriber.closed) {
          const c = buffer.get(next)!;
          buffer.delete(next);
          bufferedBytes -= c.data.length;
          budget?.give(c.data.length);
          next++;
          subscriber.next(c);
        }
        if (!subscriber.closed) armTimer();
      };
      const accept = (chunk: Chunk) => {
        const { index } = chunk;
        if (total !== undefined && index >= total) {
          return fail('ERR_REORDER_OVERFLOW', `chunk ${index} is beyond the end (${total} chunks)`, { index, end: total });
        }
        if (index < next || buffer!.has(index)) return onDuplicate?.(index);
        if (index === next) return release(chunk);
        if (index >= next + window) {
          return fail('ERR_REORDER_OVERFLOW', `chunk ${index} is outside the window [${next}, ${next + window})`, { index, window });
        }
        if (bufferedBytes + chunk.data.length > maxBufferedBytes) {
          return fail('ERR_REORDER_OVERFLOW', `buffering chunk ${index} would exceed ${maxBufferedBytes} B`, { index, maxBufferedBytes });
        }
        if (budget && !budget.take(chunk.data.length)) {
          return fail('ERR_REORDER_OVERFLOW', `buffering chunk ${index} would exceed the shared ${budget.maxBytes} B`, { index, sharedMaxBytes: budget.maxBytes });
        }
        const wasEmpty = buffer!.size === 0;
        buffer!.set(index, chunk);
        bufferedBytes += chunk.data.length;
        if (wasEmpty) armTimer();
      };

      if (end) {
        subscribeChained(end, subscriber, {
          next: (n) => {
            if (total !== undefined || subscriber.closed) return;
            if (!isCount(n) || n < next) return fail('ERR_REORDER_OVERFLOW', `end ${n} is invalid or below the ${next} chunks already emitted`, { end: n });
            const beyond = [...buffer!.keys()].find((i) => i >= n);
            if (beyond !== undefined) return fail('ERR_REORDER_OVERFLOW', `chunk ${beyond} is beyond the end (${n} chunks)`, { index: beyond, end: n });
            total = n;
            checkComplete();
          },
          error: (err) => subscriber.error(err),
        });
      }
      if (subscriber.closed) return;
      subscribeChained(source, subscriber, {
        next: (chunk) => {
          try {
            accept(chunk);
          } catch (err) {
            return subscriber.error(err);
          }
          checkComplete();
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          if (buffer!.size || (total !== undefined && next < total)) {
            return fail('ERR_REORDER_GAP', `source completed while chunk ${next} is missing`, { missing: next, end: total });
          }
          subscriber.complete();
        },
      });
      return () => {
        budget?.give(bufferedBytes);
        bufferedBytes = 0;
        buffer?.clear();
        buffer = null;
        timer = undefined;
      };
    });
}
