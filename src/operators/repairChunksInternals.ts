/**
 * The per-subscription engine of `repairChunks`: which indexes arrived, which are missing and since when,
 * and the gap timer that NACKs them. `repairChunks` validates its options and makes one {@link RepairRun}
 * per subscription, so every subscriber gets fresh state.
 */
import type { SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { HashMismatchError } from '../errors';
import { crc32Hex } from '../hash/crc32';
import { MAX_NACK_ENTRIES } from '../protocol/control';
import type { Chunk } from '../types';
import type { RepairChunksConfig } from './repairChunks';

/** With only `stallNackDelayMs` armed, gaps are scanned at least this often, ms: a stall NACK comes at most this late. */
export const STALL_SCAN_MS = 1000;

/** The options `repairChunks` resolved, shared by all its subscriptions. */
export interface RepairSettings<T extends Chunk> {
  /** The caller's options (`nack`, `detectGaps`, `start`, `onCorrupt`). */
  readonly config: RepairChunksConfig<T>;
  readonly nackDelayMs: number;
  readonly endNackDelayMs: number;
  readonly windowSize: number;
  readonly maxRetries: number;
  readonly stallMs: number | undefined;
  readonly scheduler: SchedulerLike;
  readonly checksumOf: (chunk: T) => number;
}

/** One subscription of `repairChunks`: its state, and the named steps that pass chunks and NACK the missing. */
export class RepairRun<T extends Chunk> {
  // Lowest index not yet received intact.
  private base: number;
  // Intact indexes received at or above `base`.
  private received = new Set<number>();
  // Highest index received intact, -1 before any.
  private maxSeen: number;
  // Total chunk count once known.
  private end: number | undefined;
  // Corruption count per index.
  private readonly corrupt = new Map<number, number>();
  // When each missing index was first seen missing / last NACKed.
  private readonly missingSince = new Map<number, number>();
  private readonly lastNack = new Map<number, number>();
  // The gap timer, while one is armed.
  private timer: Subscription | undefined;
  // When the last intact chunk arrived: without detectGaps (reliable channels) everything in flight still
  // arrives, so a chunk counts as missing only once the link has been quiet for endNackDelayMs.
  private lastArrival: number;
  // With channelOf: each channel's highest index, when a chunk last arrived on it, and the time between its
  // last two arrivals.
  private readonly channels = new Map<unknown, { max: number; at: number; gap?: number }>();
  // The time between the last two intact arrivals on any channel (for the first: since subscription, which on a
  // slow link is about a chunk's time to cross).
  private linkGap = 0;
  // The largest chunk that arrived, bytes, and the rate chunks arrive at, bytes per ms (a running average).
  private largest = 0;
  private rate = 0;

  constructor(
    private readonly subscriber: Subscriber<T>,
    private readonly s: RepairSettings<T>,
  ) {
    this.base = s.config.start ?? 0;
    this.maxSeen = this.base - 1;
    this.lastArrival = s.scheduler.now();
  }

  /** A chunk from the source: a corrupted one is NACKed (or fails the stream), an intact one passes. */
  accept(chunk: T): void {
    if (chunk.checksum !== undefined) {
      const actual = this.s.checksumOf(chunk) >>> 0;
      if (actual !== chunk.checksum >>> 0) return this.rejectCorrupt(chunk, chunk.checksum, actual);
    }
    const now = this.s.scheduler.now();
    this.linkGap = now - this.lastArrival;
    this.lastArrival = now;
    this.measure(chunk.data.length);
    this.arrivedOn(chunk);
    if (chunk.index >= this.base && !this.received.has(chunk.index)) {
      this.received.add(chunk.index);
      if (chunk.index > this.maxSeen) this.maxSeen = chunk.index;
      this.advance();
    }
    this.subscriber.next(chunk);
    this.arm();
  }

  /** The total chunk count is known. */
  setEnd(n: number): void {
    this.end = n;
    // The end's shorter delay replaces a stall scan armed before it.
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.arm();
  }

  /** Cancels the gap timer and drops the bookkeeping. */
  teardown(): void {
    this.timer?.unsubscribe();
    this.received = new Set();
    this.missingSince.clear();
    this.lastNack.clear();
    this.corrupt.clear();
  }

  /** Drops a corrupted chunk and re-requests it, or fails with `HashMismatchError` past `maxCorruptRetries`. */
  private rejectCorrupt(chunk: T, expected: number, actual: number): void {
    const { config } = this.s;
    const n = (this.corrupt.get(chunk.index) ?? 0) + 1;
    this.corrupt.set(chunk.index, n);
    config.onCorrupt?.(chunk.index);
    if (n > this.s.maxRetries) {
      this.subscriber.error(new HashMismatchError(chunk.index, crc32Hex(expected), crc32Hex(actual), 'crc32'));
      return;
    }
    config.nack([chunk.index]);
  }

  /** The largest chunk and the arrival rate, from an intact chunk that came `linkGap` ms after the one before. */
  private measure(bytes: number): void {
    this.largest = Math.max(this.largest, bytes);
    if (this.linkGap <= 0) return;
    const r = bytes / this.linkGap;
    this.rate = this.rate ? (this.rate + r) / 2 : r;
  }

  /**
   * How long the link must be quiet before a missing chunk counts as lost (reliable channels, `end` known):
   * `endNackDelayMs`, or on a slow link twice what the largest chunk seen takes at the rate chunks arrive (at
   * 50 kB/s a 37 KB last chunk takes 0.76 s to cross, and after 0.5 s of nothing it was NACKed and sent twice).
   */
  private quietMs(wait: number): number {
    return this.rate ? Math.max(wait, (2 * this.largest) / this.rate) : wait;
  }

  private arrivedOn(chunk: T): void {
    const key = this.s.config.channelOf?.(chunk);
    if (key === undefined) return;
    const c = this.channels.get(key);
    if (!c) return void this.channels.set(key, { max: chunk.index, at: this.lastArrival });
    c.max = Math.max(c.max, chunk.index);
    c.gap = this.lastArrival - c.at;
    c.at = this.lastArrival;
  }

  /**
   * Every channel still delivering has delivered an index above `i`; always true without `channelOf`. A channel
   * is still delivering while no more than max(1 s, 4 × nackDelayMs) passed since its last chunk, or on a slow
   * path twice its pace: the time between its last two chunks, or the link's time between two chunks × the
   * channels when that is shorter (a channel that fell behind is judged by the link's pace). At 10 kB/s a 64 KiB
   * chunk takes 6.5 s, and every channel seemed quiet a second after each one: chunks still queued were NACKed
   * and sent twice. Past the last index any channel delivered (a lost tail, after `end` is known), that is once
   * every channel has gone quiet; before any chunk came, once nothing came for max(1 s, 4 × nackDelayMs).
   */
  private passed(i: number, now: number): boolean {
    const activeMs = Math.max(1000, 4 * this.s.nackDelayMs);
    if (!this.s.config.channelOf) return true;
    if (!this.channels.size) return now - this.lastArrival >= activeMs;
    for (const c of this.channels.values()) {
      const paceMs = Math.min(c.gap ?? Infinity, this.channels.size * this.linkGap);
      if (c.max < i && now - c.at <= Math.max(activeMs, 2 * paceMs)) return false;
    }
    return true;
  }

  private advance(): void {
    while (this.received.has(this.base)) {
      this.received.delete(this.base);
      this.missingSince.delete(this.base);
      this.lastNack.delete(this.base);
      this.base++;
    }
  }

  // Gap scanning runs with detectGaps, or (slower) once the end is known; or, with stallMs, for stalled chunks.
  private ending(): boolean {
    return !!this.s.config.detectGaps || this.end !== undefined;
  }

  private gapping(): boolean {
    return this.ending() || this.s.stallMs !== undefined;
  }

  private delay(): number {
    return this.s.config.detectGaps ? this.s.nackDelayMs : this.s.endNackDelayMs;
  }

  // How often the gap timer scans: half the delay, or for the stall rule alone at least every STALL_SCAN_MS.
  private period(): number {
    return this.ending() ? this.delay() / 2 : Math.min(this.s.stallMs! / 2, STALL_SCAN_MS);
  }

  // Without detectGaps: a chunk missing below the highest index seen for stallMs (a stalled channel).
  private stalled(i: number, since: number, now: number): boolean {
    const { config, stallMs } = this.s;
    return !config.detectGaps && stallMs !== undefined && i <= this.maxSeen && now - since >= stallMs && now - (this.lastNack.get(i) ?? -Infinity) >= stallMs;
  }

  /** The gap timer fired: NACKs the indexes missing long enough, then arms the next scan. */
  private scan(): void {
    this.timer = undefined;
    const now = this.s.scheduler.now();
    const wait = this.delay();
    const quiet = this.s.config.detectGaps || now - this.lastArrival >= this.quietMs(wait);
    const limit = Math.min(this.end ?? this.maxSeen + 1, this.base + this.s.windowSize);
    const due: number[] = [];
    for (let i = this.base; i < limit && due.length < MAX_NACK_ENTRIES; i++) {
      if (this.received.has(i)) continue;
      const since = this.missingSince.get(i);
      if (since === undefined) {
        // Behind a later index on every channel still delivering: missing from now on.
        if (!this.s.config.detectGaps || this.passed(i, now)) this.missingSince.set(i, now);
        continue;
      }
      const byGap = this.ending() && quiet && now - since >= wait && now - (this.lastNack.get(i) ?? -Infinity) >= wait;
      if (byGap || this.stalled(i, since, now)) {
        this.lastNack.set(i, now);
        due.push(i);
      }
    }
    if (due.length) this.s.config.nack(due);
    this.arm();
  }

  /** Arms the gap timer while scanning is on and some index below the end (or the highest seen) is missing. */
  private arm(): void {
    if (!this.gapping() || this.timer || this.subscriber.closed) return;
    const limit = this.end ?? this.maxSeen + 1;
    if (this.base < limit) {
      const scan = () => this.scan();
      // Like RxJS's executeSchedule: a fired timer unsubscribes, which also detaches it from the subscriber.
      this.timer = this.s.scheduler.schedule(function () {
        scan();
        this.unsubscribe();
      }, this.period());
      this.subscriber.add(this.timer);
    }
  }
}
