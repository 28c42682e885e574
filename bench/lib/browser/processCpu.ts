/**
 * CPU time of Chromium's processes, from /proc (Linux): every descendant of a root process (the
 * Chromium runner, which launched the browser), grouped by Chromium's `--type=` switch. Readings
 * are `utime + stime` of /proc/<pid>/stat, so they count every thread of each process.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** One process: its group and the CPU it used so far, seconds. */
export interface ProcessReading {
  readonly group: string;
  readonly cpuSeconds: number;
}

/**
 * The group of a Chromium process from its command line: `browser`, `renderer`, `network`
 * (the network-service utility process, which carries WebRTC's sockets), `gpu`, `zygote`,
 * `utility`, or `other` (not Chromium: the shell wrapper).
 */
export function processGroup(cmdline: readonly string[]): string {
  const exe = cmdline[0] ?? '';
  if (!/chrom/i.test(exe)) return 'other';
  const type = cmdline.find((a) => a.startsWith('--type='))?.slice('--type='.length);
  if (!type) return 'browser';
  if (type === 'utility') return cmdline.some((a) => a.includes('network.mojom.NetworkService')) ? 'network' : 'utility';
  if (type === 'gpu-process') return 'gpu';
  return type;
}

/**
 * The arguments of /proc/<pid>/cmdline. Chromium's child processes rewrite their title, which
 * leaves one space-separated string instead of NUL-separated arguments; both are accepted.
 */
export function splitCmdline(text: string): string[] {
  const args = text.split('\0').filter(Boolean);
  return args.length === 1 ? args[0].split(' ').filter(Boolean) : args;
}

/** `utime + stime` in ticks and the parent pid, from the text of /proc/<pid>/stat. */
export function parseStat(text: string): { ppid: number; ticks: number } {
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** Every descendant of `rootPid` now (the root excluded), keyed by pid. Empty where /proc is missing. */
export function readProcessTree(rootPid: number): Map<number, ProcessReading> {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return new Map();
  }
  for (const p of pids) {
    try {
      stats.set(Number(p), parseStat(readFileSync(`/proc/${p}/stat`, 'utf8')));
    } catch {
      // Gone between listing and reading.
    }
  }
  const out = new Map<number, ProcessReading>();
  const isDescendant = (pid: number): boolean => {
    for (let p = stats.get(pid)?.ppid, hops = 0; p !== undefined && p > 1 && hops < 64; p = stats.get(p)?.ppid, hops++) if (p === rootPid) return true;
    return false;
  };
  for (const [pid, s] of stats) {
    if (!isDescendant(pid)) continue;
    let cmdline: string[];
    try {
      cmdline = splitCmdline(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      continue;
    }
    out.set(pid, { group: processGroup(cmdline), cpuSeconds: s.ticks / TICKS_PER_SECOND });
  }
  return out;
}

/**
 * CPU seconds per group between two readings. A process seen only in `after` counts from zero;
 * one that ended before `after` is lost (Chromium keeps its processes for the whole bench).
 */
export function cpuBetween(before: ReadonlyMap<number, ProcessReading>, after: ReadonlyMap<number, ProcessReading>): Record<string, number> {
  const groups: Record<string, number> = {};
  for (const [pid, r] of after) {
    const b = before.get(pid);
    const used = r.cpuSeconds - (b && b.group === r.group && b.cpuSeconds <= r.cpuSeconds ? b.cpuSeconds : 0);
    groups[r.group] = (groups[r.group] ?? 0) + used;
  }
  return groups;
}

/** CPU seconds used so far by each thread of the given processes, keyed by `pid/tid`, with `group:thread name`. */
export function readThreads(processes: ReadonlyMap<number, ProcessReading>): Map<string, { name: string; cpuSeconds: number }> {
  const out = new Map<string, { name: string; cpuSeconds: number }>();
  for (const [pid, p] of processes) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        const { ticks } = parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
        out.set(`${pid}/${tid}`, { name: `${p.group}:${threadKind(comm)}`, cpuSeconds: ticks / TICKS_PER_SECOND });
      } catch {
        // The thread ended between listing and reading.
      }
    }
  }
  return out;
}

/** A thread's name without the numbers Chromium appends to pools ("ThreadPoolForeg", "DedicatedWorker thread"). */
export const threadKind = (comm: string): string => comm.replace(/[\s_-]*\d+$/, '') || comm;

/**
 * CPU seconds per thread kind between two {@link readThreads} readings, the `top` heaviest, as
 * "renderer:CrRendererMain 3.1, renderer:DedicatedWorker thread 1.2, …" (threads that started in between count from zero).
 */
export function threadsBetween(before: ReadonlyMap<string, { name: string; cpuSeconds: number }>, after: ReadonlyMap<string, { name: string; cpuSeconds: number }>, top = 10): string {
  const byName = new Map<string, number>();
  for (const [key, t] of after) {
    const used = t.cpuSeconds - Math.min(t.cpuSeconds, before.get(key)?.cpuSeconds ?? 0);
    byName.set(t.name, (byName.get(t.name) ?? 0) + used);
  }
  return [...byName]
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([n, s]) => `${n} ${s.toFixed(1)}`)
    .join(', ');
}
