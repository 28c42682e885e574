/**
 * The timers both sides of a transfer share, on the transfer's scheduler: the idle watchdog and a
 * repeating tick (pings). Each holds one scheduled action at a time ({@link scheduleChain}), so a long
 * transfer holds one action per timer, never a growing list, in virtual time too.
 */
import { Subscription, type SchedulerLike } from 'rxjs';
import { scheduleChain } from '../scheduleChain';

/** Options for {@link idleWatchdog}. */
export interface IdleWatchdogConfig {
  /** Fail after this long without progress, ms. */
  readonly timeoutMs: number;
  /** How long since the last progress, ms (0 while idleness does not count, e.g. before data flows). */
  readonly quietFor: () => number;
  /** Called once when `quietFor()` reaches `timeoutMs`. */
  readonly onIdle: () => void;
}

/** Checks `quietFor()` at least every second (and exactly at the deadline) until idle or unsubscribed. */
export function idleWatchdog(scheduler: SchedulerLike, { timeoutMs, quietFor, onIdle }: IdleWatchdogConfig): Subscription {
  return scheduleChain(scheduler, Math.min(timeoutMs, 1000), () => {
    const quiet = quietFor();
    if (quiet >= timeoutMs) return onIdle();
    // At least 1 ms: a hair short of the deadline (float rounding: 29999.99999999998 of 30000 ms) would
    // otherwise re-arm at the same instant for good (an outside check: a virtual transfer stopped its clock at
    // 135 s and spun; before the one-action timers it ran out of memory).
    return Math.max(1, Math.min(timeoutMs - quiet, 1000));
  });
}

/** Calls `tick` every `periodMs` (first after one period) for as long as it returns true. */
export function repeatEvery(scheduler: SchedulerLike, periodMs: number, tick: () => boolean): Subscription {
  return scheduleChain(scheduler, periodMs, () => (tick() ? periodMs : undefined));
}

/** One-shot timers that forget themselves once fired: `later(ms, fn)`; `unsubscribe()` cancels the rest. */
export class Timers extends Subscription {
  constructor(private readonly scheduler: SchedulerLike) {
    super();
  }

  later(ms: number, fn: () => void): void {
    const t = this.scheduler.schedule(() => {
      this.remove(t);
      fn();
    }, ms);
    this.add(t);
  }
}
