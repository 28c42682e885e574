/**
 * The shared bottleneck of a virtual network: one forwarding rate, one
 * drop-tail queue and random loss after it. It only does arithmetic on
 * departure times (a FIFO at a fixed rate needs no events of its own); the
 * lanes' associations schedule what follows. Internal to `createVirtualNetwork`.
 *
 * ```
 * offer(size) at t:  queued bytes > queueBytes - size ?  → queue drop
 *                    else departs at max(t, last departure) + size / rate
 *                    random loss (lossRate) after the queue → lost, the queue still paid for it
 * ```
 */
import type { ResolvedVirtualNetworkConfig } from './VirtualNetworkConfig';

/** Counters of the bottleneck, over every lane. */
export interface VirtualBottleneckStats {
  /** Segments offered to the bottleneck (retransmissions included). */
  segmentsOffered: number;
  /** Payload bytes forwarded through the queue (lost-after-queue ones included). */
  bytesForwarded: number;
  /** Segments dropped because the queue was full (drop-tail). */
  queueDrops: number;
  /** Segments lost at random after the queue (`lossRate`). */
  randomLosses: number;
  /** Bytes in the queue now, the segment being forwarded included. */
  queuedBytes: number;
  /** The most bytes the queue held at once. */
  maxQueuedBytes: number;
  /** Delay a segment offered now would wait in the queue, ms (`queuedBytes / rate`). */
  queueDelayMs: number;
}

/** What became of an offered segment. */
export type BottleneckFate =
  /** Forwarded; it leaves the queue at `departAt` and may still be lost after it (`lost`). */
  | { readonly kind: 'forwarded'; readonly departAt: number; readonly lost: boolean }
  /** Dropped at the tail of a full queue; `departAt` is when it would have left. */
  | { readonly kind: 'queue-drop'; readonly departAt: number };

export class VirtualBottleneck {
  /** Counters; `queuedBytes` and `queueDelayMs` are brought up to date by `stats()`. */
  readonly #stats: VirtualBottleneckStats = { segmentsOffered: 0, bytesForwarded: 0, queueDrops: 0, randomLosses: 0, queuedBytes: 0, maxQueuedBytes: 0, queueDelayMs: 0 };
  /** Segments in the queue as (departure time, size), oldest first from `head`. */
  #queue: { departAt: number; size: number }[] = [];
  #head = 0;
  /** When the newest queued segment leaves. */
  #lastDepartAt = -Infinity;

  constructor(private readonly config: ResolvedVirtualNetworkConfig) {}

  /** Offers a segment of `size` bytes at time `now` and returns its fate (one random draw, always). */
  offer(size: number, now: number): BottleneckFate {
    const { rateBytesPerSecond, queueBytes, lossRate, random } = this.config;
    const u = random();
    this.#stats.segmentsOffered++;
    const queued = this.#drainTo(now);
    const departAt = Math.max(now, this.#lastDepartAt) + (size * 1000) / rateBytesPerSecond;
    if (queued + size > queueBytes) {
      this.#stats.queueDrops++;
      return { kind: 'queue-drop', departAt };
    }
    this.#queue.push({ departAt, size });
    this.#lastDepartAt = departAt;
    this.#stats.queuedBytes = queued + size;
    this.#stats.maxQueuedBytes = Math.max(this.#stats.maxQueuedBytes, queued + size);
    this.#stats.bytesForwarded += size;
    const lost = u < lossRate;
    if (lost) this.#stats.randomLosses++;
    return { kind: 'forwarded', departAt, lost };
  }

  /** A snapshot of the counters at time `now`. */
  stats(now: number): VirtualBottleneckStats {
    const queuedBytes = this.#drainTo(now);
    return { ...this.#stats, queuedBytes, queueDelayMs: (queuedBytes * 1000) / this.config.rateBytesPerSecond };
  }

  /** Removes the segments that left by `now` and returns the bytes still queued. */
  #drainTo(now: number): number {
    let queued = this.#stats.queuedBytes;
    while (this.#head < this.#queue.length && this.#queue[this.#head].departAt <= now) queued -= this.#queue[this.#head++].size;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#stats.queuedBytes = queued;
    return queued;
  }
}
