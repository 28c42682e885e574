/**
 * Per-thread CPU of this process on Linux, from /proc/self/task/<tid>/schedstat:
 * time each thread ran, and time it waited in the run queue for a CPU. A
 * thread that waits longer than it runs is starved of CPU, so the figures
 * show whether a benchmark is bound by CPU and whose CPU it is.
 *
 * Threads are grouped by name: `JS` (the main thread), `RTC worker` and
 * `juice poll` (libdatachannel and libjuice), `node` (V8's platform workers:
 * GC and compilation), and so on. Elsewhere than Linux every figure is empty.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Seconds one group of threads ran and waited for a CPU. */
export interface ThreadTime {
  readonly run: number;
  readonly wait: number;
}

interface Reading {
  readonly name: string;
  readonly run: number;
  readonly wait: number;
}

/** Every thread's schedstat now, keyed by thread id. Empty where /proc is missing. */
function readThreads(): Map<string, Reading> {
  const out = new Map<string, Reading>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const [run, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      const name = tid === String(process.pid) ? 'JS' : readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      out.set(tid, { name, run, wait });
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return out;
}

/**
 * Starts measuring. Call `sample()` now and then while the work runs, so that
 * threads which end before `stop()` (a closed peer connection's) are counted
 * up to their last sample; `stop()` takes a final sample and returns the
 * seconds per thread name since the start.
 *
 * ## Example
 * ```ts
 * const cpu = threadCpu();
 * const timer = setInterval(() => cpu.sample(), 50);
 * await work();
 * clearInterval(timer);
 * console.log(cpu.stop()); // { JS: { run: 0.7, wait: 1.2 }, 'RTC worker': { … }, … }
 * ```
 * @return the sampler
 */
export function threadCpu(): { sample(): void; stop(): Record<string, ThreadTime> } {
  const start = readThreads();
  // Latest reading per thread seen since the start.
  const latest = new Map(start);
  const sample = () => {
    for (const [tid, reading] of readThreads()) latest.set(tid, reading);
  };
  return {
    sample,
    stop: () => {
      sample();
      const groups: Record<string, { run: number; wait: number }> = {};
      for (const [tid, now] of latest) {
        const seen = start.get(tid);
        // A thread id reused by a new thread counts from zero.
        const before = seen && seen.name === now.name && seen.run <= now.run ? seen : undefined;
        const g = (groups[now.name] ??= { run: 0, wait: 0 });
        g.run += (now.run - (before?.run ?? 0)) / 1e9;
        g.wait += (now.wait - (before?.wait ?? 0)) / 1e9;
      }
      return groups;
    },
  };
}
