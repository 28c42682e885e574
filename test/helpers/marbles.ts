/** Shared marble helpers: rxjs-marbles configured for vitest, and a TestScheduler factory. */
import { configure } from 'rxjs-marbles';
import type { SchedulerAction, SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';

// rxjs-marbles has no vitest entry: configure it with vitest's deep equality.
export const { marbles } = configure({
  assertDeepEqual: (a: unknown, e: unknown) => expect(a).toStrictEqual(e),
  frameworkMatcher: true,
});

/** A TestScheduler whose assertions use vitest's deep equality. */
export const testScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toStrictEqual(expected));

/** `pattern` lives with the other test bytes (./bytes.ts); re-exported for the marble specs that import it from here. */
export { pattern } from './bytes';

/** Wraps a scheduler and counts the actions scheduled through it that were not unsubscribed yet. */
export const countingScheduler = (inner: SchedulerLike) => {
  let live = 0;
  const scheduler: SchedulerLike = {
    now: () => inner.now(),
    schedule: <T,>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T) => {
      const action = inner.schedule(work, delay, state);
      live++;
      action.add(() => live--);
      return action;
    },
  };
  return { scheduler, live: () => live };
};
