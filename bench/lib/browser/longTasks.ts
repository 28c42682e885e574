/**
 * Long tasks (PerformanceObserver `longtask`: main-thread tasks over 50 ms) summarised the way
 * Lighthouse reports them. Environment-neutral: the bench page imports it too.
 */

/** The threshold above which a task counts as long, and what it blocks beyond, ms. */
export const LONG_TASK_MS = 50;

/** Long tasks of one page during one run. */
export interface LongTaskSummary {
  /** How many. */
  readonly count: number;
  /** Total blocking time: the sum of each task's time beyond 50 ms, ms. */
  readonly tbtMs: number;
  /** The longest task, ms (0 when none). */
  readonly maxMs: number;
}

/**
 * Summarises task durations (ms). Tasks of 50 ms or less are ignored: the browser reports only
 * longer ones, and a caller that passes every task gets the same answer.
 *
 * ## Example
 * ```ts
 * summarizeLongTasks([60, 120, 30]); // { count: 2, tbtMs: 80, maxMs: 120 }
 * ```
 * @param durationsMs task durations, ms
 * @return count, total blocking time and the longest
 */
export function summarizeLongTasks(durationsMs: readonly number[]): LongTaskSummary {
  const long = durationsMs.filter((d) => d > LONG_TASK_MS);
  return {
    count: long.length,
    tbtMs: long.reduce((sum, d) => sum + (d - LONG_TASK_MS), 0),
    maxMs: long.reduce((max, d) => Math.max(max, d), 0),
  };
}
