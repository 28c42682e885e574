/**
 * Small measuring tools shared by benchmarks: medians, MB/s, RSS peaks, GC.
 */
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** Median of a non-empty list. */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** MB/s (10^6 bytes per second) for `bytes` moved in `ms` milliseconds. */
export const mbPerSecond = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

/** Wall and process CPU time of one synchronous-or-not run, in ms. CPU time counts every thread (GC helpers too). */
export interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Starts a stopwatch; call the returned function to read it. */
export const stopwatch = (): (() => Timing) => {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
  };
};

/** Runs a full garbage collection when node was started with --expose-gc (as `npm run bench` is). */
export const collectGarbage = (): void => {
  (globalThis as { gc?: () => void }).gc?.();
};

/**
 * Tracks the highest RSS seen. The pipelines under test are mostly
 * synchronous, so a timer would never fire: call `sample()` from inside them
 * (it is cheap, a few microseconds) every few chunks.
 */
export class RssPeak {
  /** Highest RSS sampled so far, in bytes. */
  peak = 0;

  constructor() {
    this.sample();
  }

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
  }
}

/** What the table header says about the machine. */
export interface MachineInfo {
  readonly cpu: string;
  readonly nproc: number;
  readonly node: string;
  readonly memory: string;
  /** 1-minute load average when the run started: above `nproc` means the figures are contended. */
  readonly load: number;
}

/** CPU model from /proc/cpuinfo, core count, Node version and RAM. */
export function machineInfo(): MachineInfo {
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: keep 'unknown'.
  }
  return { cpu, nproc: availableParallelism(), node: process.version, memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`, load: loadavg()[0] };
}

/** `256 MiB`, `1.5 GiB`, `812 KiB`. */
export const formatBytes = (n: number): string =>
  n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : n >= MiB ? `${Math.round(n / MiB)} MiB` : n >= KiB ? `${Math.round(n / KiB)} KiB` : `${n} B`;
