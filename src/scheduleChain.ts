/**
 * A repeating timer on any scheduler that holds one action at a time. `this.schedule()` inside an action
 * reuses the action on RxJS's async schedulers, but on a `VirtualTimeScheduler` (`TestScheduler`) each call
 * makes a new action and adds it to the one before: a timer that fires every second for 220 s of virtual time
 * built a chain that overflowed the stack when the transfer was torn down (an outside check), and held every
 * past action in memory. Here each step is a fresh action that is unsubscribed once it has run.
 */
import { Subscription, type SchedulerLike } from 'rxjs';

/**
 * Runs `step` after `delayMs`, then again after whatever delay it returns, until it returns `undefined` or
 * the returned Subscription is unsubscribed.
 *
 * ```
 * scheduleChain(scheduler, 1000, () => (tick(), 1000));   // every second, for good
 * ```
 */
export function scheduleChain(scheduler: SchedulerLike, delayMs: number, step: () => number | undefined | void): Subscription {
  const chain = new Subscription();
  const arm = (ms: number) => {
    const action = scheduler.schedule(() => {
      chain.remove(action);
      action.unsubscribe();
      const next = step();
      if (typeof next === 'number' && !chain.closed) arm(next);
    }, ms);
    // An action that ran synchronously (a scheduler that runs at once) is closed already.
    if (!action.closed) chain.add(action);
  };
  arm(delayMs);
  return chain;
}
