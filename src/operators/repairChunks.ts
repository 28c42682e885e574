/**
 * Re-requests chunks that arrive corrupted or never arrive, and passes the good
 * ones through unchanged (in arrival order, duplicates included: `reorder()`
 * drops those).
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { HashMismatchError, InvalidConfigError } from '../errors';
import { crc32, crc32Hex } from '../hash/crc32';
import { MAX_NACK_ENTRIES } from '../protocol/control';
import type { Chunk } from '../types';
import { subscribeChained } from './subscribeChained';

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
   * busy link is never a gap. Default `500`.
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
  /** Drives the gap timer. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** With only `stallNackDelayMs` armed, gaps are scanned at least this often, ms: a stall NACK comes at most this late. */
export const STALL_SCAN_MS = 1000;

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
  return (source) =>
    new Observable<T>((subscriber) => {
      // Lowest index not yet received intact.
      let base = config.start ?? 0;
      // Intact indexes received at or above `base`.
      let received = new Set<number>();
      // Highest index received intact, -1 before any.
      let maxSeen = base - 1;
      // Total chunk count once known.
      let end: number | undefined;
      // Corruption count per index.
      const corrupt = new Map<number, number>();
      // When each missing index was first seen missing / last NACKed.
      const missingSince = new Map<number, number>();
      const lastNack = new Map<number, number>();
      // The gap timer, while one is armed.
      let timer: Subscription | undefined;

      const advance = () => {
        while (received.has(base)) {
          received.delete(base);
          missingSince.delete(base);
          lastNack.delete(base);
          base++;
        }
      };

      // When the last intact chunk arrived: without detectGaps (reliable channels) everything in flight still
      // arrives, so a chunk counts as missing only once the link has been quiet for endNackDelayMs.
      let lastArrival = scheduler.now();
      // Gap scanning runs with detectGaps, or (slower) once the end is known; or, with stallMs, for stalled chunks.
      const ending = () => config.detectGaps || end !== undefined;
      const gapping = () => ending() || stallMs !== undefined;
      const delay = () => (config.detectGaps ? nackDelayMs : endNackDelayMs);
      // How often the gap timer scans: half the delay, or for the stall rule alone at least every STALL_SCAN_MS.
      const period = () => (ending() ? delay() / 2 : Math.min(stallMs! / 2, STALL_SCAN_MS));
      // Without detectGaps: a chunk missing below the highest index seen for stallMs (a stalled channel).
      const stalled = (i: number, since: number, now: number) =>
        !config.detectGaps && stallMs !== undefined && i <= maxSeen && now - since >= stallMs && now - (lastNack.get(i) ?? -Infinity) >= stallMs;

      const scan = () => {
        timer = undefined;
        const now = scheduler.now();
        const wait = delay();
        const quiet = config.detectGaps || now - lastArrival >= wait;
        const limit = Math.min(end ?? maxSeen + 1, base + windowSize);
        const due: number[] = [];
        for (let i = base; i < limit && due.length < MAX_NACK_ENTRIES; i++) {
          if (received.has(i)) continue;
          const since = missingSince.get(i);
          if (since === undefined) {
            missingSince.set(i, now);
            continue;
          }
          const byGap = ending() && quiet && now - since >= wait && now - (lastNack.get(i) ?? -Infinity) >= wait;
          if (byGap || stalled(i, since, now)) {
            lastNack.set(i, now);
            due.push(i);
          }
        }
        if (due.length) config.nack(due);
        arm();
      };

      const arm = () => {
        if (!gapping() || timer || subscriber.closed) return;
        const limit = end ?? maxSeen + 1;
        if (base < limit) {
          // Like RxJS's executeSchedule: a fired timer unsubscribes, which also detaches it from the subscriber.
          timer = scheduler.schedule(function () {
            scan();
            this.unsubscribe();
          }, period());
          subscriber.add(timer);
        }
      };

      if (config.end) subscribeChained(config.end, subscriber, {
        next: (n) => {
          end = n;
          // The end's shorter delay replaces a stall scan armed before it.
          timer?.unsubscribe();
          timer = undefined;
          arm();
        },
        error: (err) => subscriber.error(err),
      });

      subscribeChained(source, subscriber, {
        next: (chunk) => {
          if (chunk.checksum !== undefined) {
            const actual = checksumOf(chunk) >>> 0;
            if (actual !== chunk.checksum >>> 0) {
              const n = (corrupt.get(chunk.index) ?? 0) + 1;
              corrupt.set(chunk.index, n);
              config.onCorrupt?.(chunk.index);
              if (n > maxRetries) {
                subscriber.error(new HashMismatchError(chunk.index, crc32Hex(chunk.checksum), crc32Hex(actual), 'crc32'));
                return;
              }
              config.nack([chunk.index]);
              return;
            }
          }
          lastArrival = scheduler.now();
          if (chunk.index >= base && !received.has(chunk.index)) {
            received.add(chunk.index);
            if (chunk.index > maxSeen) maxSeen = chunk.index;
            advance();
          }
          subscriber.next(chunk);
          arm();
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });

      return () => {
        timer?.unsubscribe();
        received = new Set();
        missingSince.clear();
        lastNack.clear();
        corrupt.clear();
      };
    });
}
