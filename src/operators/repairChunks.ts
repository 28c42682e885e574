/**
 * Re-requests chunks that arrive corrupted or never arrive, and passes the good
 * ones through unchanged (in arrival order, duplicates included: `reorder()`
 * drops those).
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { InvalidConfigError } from '../errors';
import { crc32 } from '../hash/crc32';
import type { Chunk } from '../types';
import { RepairRun } from './repairChunksInternals';
import { subscribeChained } from './subscribeChained';
import { configObject } from '../configObject';

export { STALL_SCAN_MS } from './repairChunksInternals';

/** Options for {@link repairChunks}. */
export interface RepairChunksConfig<T extends Chunk = Chunk> {
  /** Called with the chunk indexes to re-request (at most 4096 per call). Required. */
  readonly nack: (indexes: number[]) => void;
  /**
   * Also re-request chunks that are missing below the highest index seen (or
   * below `end`) for longer than `nackDelayMs`. Turn it on for unreliable
   * channels; reliable channels only ever need corrupted chunks re-requested.
   * Default `false`.
   */
  readonly detectGaps?: boolean;
  /** How long an index may be missing before the first NACK, and the spacing between NACKs of one index, in ms. Default `100`. */
  readonly nackDelayMs?: number;
  /**
   * The total chunk count, once known: indexes below it that never arrived are
   * missing too. Once `end` is known, missing chunks are NACKed even without
   * `detectGaps` (after `endNackDelayMs`): a frame whose header was corrupted is
   * dropped without an index, and only this brings it back.
   */
  readonly end?: Observable<number>;
  /**
   * Without `detectGaps`: how long the link must stay quiet (no chunk arriving), with chunks still missing
   * after `end` is known, before they are NACKed, ms. Reliable channels still deliver what is queued, so a
   * busy link is never a gap. On a slow link the quiet needed is longer: twice what the largest chunk seen
   * takes at the rate chunks have been arriving. Default `500`.
   */
  readonly endNackDelayMs?: number;
  /**
   * Without `detectGaps`: also re-request a chunk that is missing below the highest index seen for this long,
   * ms, and again every this long while it is missing. Reliable channels deliver everything in the end, but a
   * channel can stall without closing (an association in retransmission back-off, on one of several lanes),
   * and a reliable session's window then waits for it. Default: off.
   */
  readonly stallNackDelayMs?: number;
  /** Gap scans look at most this many indexes past the first missing one (the reorder window). Default `1024`. */
  readonly window?: number;
  /** The first index of this transfer session. Default `0`. */
  readonly start?: number;
  /** Re-requests per chunk for corruption before failing with `HashMismatchError`. Default `3`. */
  readonly maxCorruptRetries?: number;
  /** Called for every corrupted chunk that is dropped. */
  readonly onCorrupt?: (index: number) => void;
  /**
   * The CRC-32 a chunk's `data` has, to compare with its `checksum`. Pass it when it was computed earlier
   * (receiveFile has the page's hash worker compute it). Default: `crc32(chunk.data)`, here.
   */
  readonly checksumOf?: (chunk: T) => number;
  /**
   * With `detectGaps`: the channel a chunk arrived on (any value that tells channels apart). Each channel's
   * send queue drains at its own pace (an SCTP stream scheduler serves them in turn), so one can run seconds
   * behind another: an index then counts as missing only once every channel that delivered something in the
   * last `max(1 s, 4 × nackDelayMs)` has delivered a later one (a lost last chunk: once every channel has
   * been quiet that long). Without it, a later index on any channel
   * will do (an outside check: two channels over a 1 MB/s virtual link, one 0.7 s behind the other, drew a
   * NACK for almost every chunk of the slower one). Default: none.
   */
  readonly channelOf?: (chunk: T) => unknown;
  /** Drives the gap timer. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Drops chunks whose CRC-32 does not match and NACKs them; with `detectGaps`,
 * NACKs indexes that stay missing.
 *
 * ```
 * source:  --0--1x--3--------|     (1x: chunk 1 corrupted, 2 lost)
 * repair:  --0------3--------|
 * nack:         [1]     [2]        (2 after nackDelayMs)
 * ```
 *
 * ## Example
 * ```ts
 * import { merge } from 'rxjs';
 * import { decodeFrames, fromChannelMessages, repairChunks, reorder } from 'tallow-rx';
 * merge(...channels.map((c) => fromChannelMessages(c))).pipe(
 *   decodeFrames({ transferId }),
 *   repairChunks({ nack: (chunks) => control.send({ t: 'nack', id: transferId, chunks }), detectGaps: true }),
 *   reorder(),
 * );
 * ```
 * @param config see {@link RepairChunksConfig}
 * @return an operator that passes intact chunks through
 */
export function repairChunks<T extends Chunk>(config: RepairChunksConfig<T>): OperatorFunction<T, T> {
  config = configObject('repairChunks', config);
  const nackDelayMs = config.nackDelayMs ?? 100;
  const endNackDelayMs = config.endNackDelayMs ?? 500;
  const windowSize = config.window ?? 1024;
  const maxRetries = config.maxCorruptRetries ?? 3;
  if (typeof config.nack !== 'function') throw new InvalidConfigError('repairChunks needs a nack function');
  if (!(nackDelayMs > 0)) throw new InvalidConfigError(`nackDelayMs must be > 0, got ${nackDelayMs}`, { nackDelayMs });
  const stallMs = config.stallNackDelayMs;
  if (stallMs !== undefined && !(stallMs > 0)) throw new InvalidConfigError(`stallNackDelayMs must be > 0, got ${stallMs}`, { stallNackDelayMs: stallMs });
  if (!(maxRetries >= 0)) throw new InvalidConfigError(`maxCorruptRetries must be >= 0, got ${maxRetries}`, { maxRetries });
  const scheduler = config.scheduler ?? asyncScheduler;
  const checksumOf = config.checksumOf ?? ((chunk: T) => crc32(chunk.data));
  const settings = { config, nackDelayMs, endNackDelayMs, windowSize, maxRetries, stallMs, scheduler, checksumOf };
  return (source) =>
    new Observable<T>((subscriber) => {
      // This subscription's received and missing indexes, and its gap timer.
      const run = new RepairRun(subscriber, settings);
      if (config.end) subscribeChained(config.end, subscriber, {
        next: (n) => run.setEnd(n),
        error: (err) => subscriber.error(err),
      });
      subscribeChained(source, subscriber, {
        next: (chunk) => run.accept(chunk),
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => run.teardown();
    });
}
