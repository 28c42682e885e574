/**
 * The timers both sides of a transfer share, on the transfer's scheduler: the idle watchdog and a
 * repeating tick (pings). Each is one scheduled action that reschedules itself, so a long transfer
 * holds one action per timer, never a growing list.
 */
import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

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
  return scheduler.schedule(function (this: SchedulerAction<unknown>) {
    const quiet = quietFor();
    if (quiet >= timeoutMs) return onIdle();
    this.schedule(undefined, Math.min(timeoutMs - quiet, 1000));
  }, Math.min(timeoutMs, 1000));
}

/** Calls `tick` every `periodMs` (first after one period) for as long as it returns true. */
export function repeatEvery(scheduler: SchedulerLike, periodMs: number, tick: () => boolean): Subscription {
  return scheduler.schedule(function (this: SchedulerAction<unknown>) {
    if (tick()) this.schedule(undefined, periodMs);
  }, periodMs);
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
