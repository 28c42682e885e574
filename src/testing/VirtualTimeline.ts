/**
 * A timed event queue on an RxJS scheduler that keeps at most one scheduler
 * action pending: a network of many lanes schedules thousands of segment
 * events, and `TestScheduler` sorts its whole action list on every schedule.
 * Internal to `createVirtualNetwork`.
 */
import type { SchedulerLike, Subscription } from 'rxjs';
import { heapPop, heapPush } from './timeHeap';

/** Float tolerance when comparing virtual times, in ms. */
const TIME_EPSILON = 1e-6;

interface TimedEvent {
  readonly at: number;
  /** Tie-break: events due at the same time run in the order they were added. */
  readonly order: number;
  readonly run: () => void;
}

export class VirtualTimeline {
  /** A binary min-heap on (`at`, `order`). */
  readonly #heap: TimedEvent[] = [];
  /** Next tie-break number. */
  #order = 0;
  /** The pending scheduler action, and its due time. */
  #action: Subscription | undefined;
  #actionAt = NaN;

  constructor(readonly scheduler: SchedulerLike) {}

  now(): number {
    return this.scheduler.now();
  }

  /** Runs `run` at virtual time `at` (at once on the next run if `at` has passed). */
  at(at: number, run: () => void): void {
    heapPush(this.#heap, { at, order: this.#order++, run });
    this.#schedule();
  }

  /** Drops every pending event. */
  dispose(): void {
    this.#heap.length = 0;
    this.#action?.unsubscribe();
    this.#action = undefined;
  }

  #schedule(): void {
    const first = this.#heap[0];
    if (!first) return;
    if (this.#action && this.#actionAt <= first.at) return;
    this.#action?.unsubscribe();
    this.#actionAt = first.at;
    this.#action = this.scheduler.schedule(() => this.#runDue(), Math.max(0, first.at - this.scheduler.now()));
  }

  #runDue(): void {
    this.#action = undefined;
    const limit = this.scheduler.now() + TIME_EPSILON;
    while (this.#heap.length && this.#heap[0].at <= limit) heapPop(this.#heap).run();
    this.#schedule();
  }
}
