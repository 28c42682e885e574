/**
 * Runs whole transfers in virtual time with a deadline: `inVirtualTime(body)`
 * calls `body` inside `TestScheduler.run()` with a {@link VirtualClock}, whose
 * `runUntil` flushes the scheduler one due time at a time until a condition holds or a
 * virtual deadline passes. Nothing waits on the wall clock, so a loaded
 * machine cannot change an outcome, and a transfer that never ends is caught
 * at the deadline instead of flushing forever (a repeating timer would keep
 * `run()`'s own flush going without end).
 *
 * Pass `clock.scheduler` as `scheduler` to `createVirtualLink`, `sendFile` and
 * `receiveFile`, and keep every step synchronous (docs/testing.md, "Whole
 * transfers in virtual time").
 */
import { Subscription, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { TransferEvent } from '../../src/index';

/** The handle `inVirtualTime` gives its body. */
export interface VirtualClock {
  /** The scheduler that every part of the transfer must use. */
  readonly scheduler: TestScheduler;
  /** Virtual time now, ms. */
  now(): number;
  /**
   * Flushes until `done()` holds or virtual time reaches `deadline` (absolute, ms), whichever comes first.
   * Returns `done()`. Stops early, with `false`, when nothing is scheduled any more: nothing can change then.
   */
  runUntil(done: () => boolean, deadline: number): boolean;
  /** Flushes every action due up to virtual time `time` (absolute, ms). */
  runTo(time: number): void;
  /** Scheduled actions not yet run (timers still alive). */
  pending(): number;
}

/** A TestScheduler for runs that make no marble assertions. */
const newScheduler = () =>
  new TestScheduler(() => {
    throw new Error('inVirtualTime: no marble assertions here');
  });

/**
 * Calls `body` inside `TestScheduler.run()` and returns what it returns. Virtual time moves only when `body`
 * calls `runUntil` or `runTo`; when `body` returns, `run()`'s final flush stops where the clock stopped.
 */
export function inVirtualTime<T>(body: (clock: VirtualClock) => T): T {
  const scheduler = newScheduler();
  // The furthest virtual time flushed so far; run()'s final flush must not pass it.
  let horizon = 0;
  return scheduler.run(({ flush }) => {
    const flushTo = (t: number) => {
      horizon = Math.max(horizon, t);
      scheduler.maxFrames = horizon;
      flush();
    };
    const pending = () => scheduler.actions.filter((a) => !a.closed).length;
    // `delay` of a queued VirtualAction is its due time (absolute); the queue is sorted by it.
    const nextDue = () => scheduler.actions[0].delay;
    const clock: VirtualClock = {
      scheduler,
      now: () => scheduler.now(),
      runUntil: (done, deadline) => {
        flushTo(horizon);
        // One due time at a time, so it stops at the very action that made `done()` hold.
        while (!done() && horizon < deadline && pending() > 0) flushTo(Math.min(deadline, nextDue()));
        return done();
      },
      runTo: flushTo,
      pending,
    };
    try {
      return body(clock);
    } finally {
      scheduler.maxFrames = horizon;
    }
  });
}

/** What one side of a transfer did so far: its events, whether its stream ended, and its error, if any. */
export interface Recorded {
  readonly events: TransferEvent[];
  ended: boolean;
  error?: unknown;
  subscription: Subscription;
}

/** Subscribes to a transfer's events and records them; `onEvent` sees each one as it comes. */
export function record(source: Observable<TransferEvent>, onEvent: (e: TransferEvent) => void = () => undefined): Recorded {
  const r: Recorded = { events: [], ended: false, subscription: Subscription.EMPTY };
  r.subscription = source.subscribe({
    next: (e) => {
      r.events.push(e);
      onEvent(e);
    },
    error: (error) => {
      r.error = error;
      r.ended = true;
    },
    complete: () => (r.ended = true),
  });
  return r;
}

/** The first event of `type` in `events`. */
export const find = <T extends TransferEvent['type']>(events: readonly TransferEvent[], type: T) =>
  events.find((e) => e.type === type) as Extract<TransferEvent, { type: T }> | undefined;
