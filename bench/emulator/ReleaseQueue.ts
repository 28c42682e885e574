/**
 * Holds items until their release time and hands them out from a
 * high-resolution scheduling loop, recording how late each release was.
 *
 * Node's timers have 1 ms granularity and usually fire 1 ms or more late, so
 * the loop sleeps with `setTimeout` only while the next release is more than
 * `spinMs` away (waking `spinMs` early), and polls with `setImmediate` (I/O
 * still runs between polls) for the last stretch. Every due item is released in
 * the same turn (batching). Nothing is ever released before its time.
 *
 * ```
 * push(t=5) push(t=2) ........ t=2 ─► release  ........ t=5 ─► release
 * ```
 */

/** One held item. */
interface Entry<T> {
  readonly time: number;
  /** Insertion order: equal times leave in FIFO order. */
  readonly seq: number;
  readonly item: T;
}

/** Release lateness, ms (release turn − due time), over every item released. */
export interface LatenessStats {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Options of {@link ReleaseQueue}. */
export interface ReleaseQueueConfig {
  /** Poll with setImmediate when the next release is closer than this, ms. Default 1.5. */
  readonly spinMs?: number;
  /** Clock, ms. Default `performance.now`. */
  readonly now?: () => number;
}

/** Lateness histogram resolution: 10 µs buckets up to 100 ms, the rest in the last bucket. */
const BUCKET_MS = 0.01;
const BUCKETS = 10_000;

/** A min-heap on release time, drained by a self-arming timer loop. */
export class ReleaseQueue<T> {
  private readonly heap: Entry<T>[] = [];
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timeout fires (ms), or Infinity. */
  private timerAt = Infinity;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private closed = false;
  private readonly spinMs: number;
  private readonly now: () => number;
  private readonly histogram = new Uint32Array(BUCKETS);
  private lateCount = 0;
  private lateSum = 0;
  private lateMax = 0;

  constructor(
    private readonly release: (item: T) => void,
    config: ReleaseQueueConfig = {},
  ) {
    this.spinMs = config.spinMs ?? 1.5;
    this.now = config.now ?? (() => performance.now());
  }

  /** Items waiting. */
  get size(): number {
    return this.heap.length;
  }

  /** Holds `item` until `time` (ms on the queue's clock). */
  push(time: number, item: T): void {
    if (this.closed) return;
    const heap = this.heap;
    heap.push({ time, seq: this.seq++, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
    if (i === 0) this.arm();
  }

  /** Lateness of the releases so far. */
  lateness(): LatenessStats {
    const pct = (q: number): number => {
      if (!this.lateCount) return 0;
      const rank = Math.ceil(q * this.lateCount);
      let seen = 0;
      for (let b = 0; b < BUCKETS; b++) {
        seen += this.histogram[b];
        if (seen >= rank) return (b + 1) * BUCKET_MS;
      }
      return this.lateMax;
    };
    return { count: this.lateCount, meanMs: this.lateCount ? this.lateSum / this.lateCount : 0, p50Ms: pct(0.5), p99Ms: pct(0.99), maxMs: this.lateMax };
  }

  /** Drops everything held and stops the loop. */
  close(): void {
    this.closed = true;
    this.heap.length = 0;
    this.disarm();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.timerAt = Infinity;
  }

  /** Makes sure the loop wakes in time for the head of the heap. */
  private arm(): void {
    if (this.closed || !this.heap.length || this.immediate !== undefined) return;
    const due = this.heap[0].time;
    const wait = due - this.now();
    if (wait <= this.spinMs) {
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.timerAt = Infinity;
      }
      this.immediate = setImmediate(this.pump);
      return;
    }
    const wakeAt = due - this.spinMs;
    if (this.timer !== undefined && this.timerAt <= wakeAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = wakeAt;
    this.timer = setTimeout(this.pump, Math.max(1, Math.floor(wait - this.spinMs)));
  }

  private readonly pump = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.immediate = undefined;
    const heap = this.heap;
    const now = this.now();
    while (heap.length && heap[0].time <= now && !this.closed) {
      const top = this.pop();
      const late = now - top.time;
      this.lateCount++;
      this.lateSum += late;
      if (late > this.lateMax) this.lateMax = late;
      this.histogram[Math.min(BUCKETS - 1, Math.floor(late / BUCKET_MS))]++;
      this.release(top.item);
    }
    this.arm();
  };

  private pop(): Entry<T> {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}

const before = <T>(a: Entry<T>, b: Entry<T>): boolean => a.time < b.time || (a.time === b.time && a.seq < b.seq);
