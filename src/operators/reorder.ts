/**
 * Restores index order from chunks that arrive out of order, with bounded memory.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { InvalidConfigError } from '../errors';
import type { Chunk } from '../types';
import { isCount, reorderRun, type ReorderSettings } from './reorderInternals';
import { subscribeChained } from './subscribeChained';
import { configObject } from '../configObject';

/** Options for {@link reorder}. */
export interface ReorderConfig {
  /** Index of the first chunk to emit. Default `0`. */
  readonly start?: number;
  /** Indexes `>= next + window` are refused (`ERR_REORDER_OVERFLOW`): the memory bound in chunks. Default 1024. */
  readonly window?: number;
  /** Most payload bytes held while waiting for a gap (`ERR_REORDER_OVERFLOW`), each chunk with `chunkOverheadBytes`. Default 64 MiB. */
  readonly maxBufferedBytes?: number;
  /**
   * Bytes each held chunk counts besides its payload, against `maxBufferedBytes` and `budget`: what holding a
   * chunk costs beyond its bytes (its objects, a map entry, the message it is a view of), so that many tiny chunks
   * cannot hold far more memory than the bound says. `receiveFile` uses 1024. Default 0.
   */
  readonly chunkOverheadBytes?: number;
  /**
   * The total chunk count, once known. The first value counts; completes as soon as every chunk below it is out.
   * A source that completes first waits for it: the total decides between completion and `ERR_REORDER_GAP`.
   * Default: unknown.
   */
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
 * source completes with chunks still waiting or below `end`'s total (told then or later);
 * `ERR_REORDER_TIMEOUT` when a gap, or the wait for `end` after the source completed, outlives `gapTimeoutMs`.
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
  config = configObject('reorder', config);
  const { start = 0, window = DEFAULT_REORDER_WINDOW, maxBufferedBytes = DEFAULT_REORDER_MAX_BYTES, end, gapTimeoutMs, scheduler = asyncScheduler, onDuplicate, budget, chunkOverheadBytes = 0 } = config;
  if (!isCount(start)) throw new InvalidConfigError(`start must be an integer >= 0, got ${start}`, { start });
  if (!isCount(window) || window < 1) throw new InvalidConfigError(`window must be an integer >= 1, got ${window}`, { window });
  if (!(maxBufferedBytes >= 0)) throw new InvalidConfigError(`maxBufferedBytes must be >= 0, got ${maxBufferedBytes}`, { maxBufferedBytes });
  if (gapTimeoutMs !== undefined && !(gapTimeoutMs > 0)) throw new InvalidConfigError(`gapTimeoutMs must be > 0, got ${gapTimeoutMs}`, { gapTimeoutMs });
  if (!isCount(chunkOverheadBytes)) throw new InvalidConfigError(`chunkOverheadBytes must be an integer >= 0, got ${chunkOverheadBytes}`, { chunkOverheadBytes });
  const settings: ReorderSettings = { start, window, maxBufferedBytes, gapTimeoutMs, scheduler, onDuplicate, budget, chunkOverheadBytes };
  return (source) =>
    new Observable<Chunk>((subscriber) => {
      // This subscription's buffer, gap timer and end.
      const run = reorderRun(subscriber, settings);
      // True while `end` may still tell the total.
      let endPending = !!end;
      if (end) {
        subscribeChained(end, subscriber, {
          next: (n) => run.setEnd(n),
          error: (err) => subscriber.error(err),
          complete: () => {
            endPending = false;
            run.endComplete();
          },
        });
      }
      if (subscriber.closed) return;
      subscribeChained(source, subscriber, {
        next: (chunk) => {
          try {
            run.accept(chunk);
          } catch (err) {
            return subscriber.error(err);
          }
          run.checkComplete();
        },
        error: (err) => subscriber.error(err),
        complete: () => run.complete(endPending),
      });
      return () => run.teardown();
    });
}
