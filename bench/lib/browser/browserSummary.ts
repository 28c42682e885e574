/**
 * Pure helpers of the browser benchmark: per-system medians over runs, the Markdown table that
 * docs/benchmarks.md shows, the rows of `npm run bench`'s table, and the issue's targets.
 */
import { median } from '../measure';
import type { BenchResult } from '../types';
import type { RunRecord } from './browserRunner';
import { LONG_TASK_MS } from './longTasks';

/** Long tasks of one page over the runs of one system. */
export interface LongTaskFigures {
  /** Median count per run. */
  readonly count: number;
  /** Median total blocking time per run, ms. */
  readonly tbtMs: number;
  /** The longest task of any run, ms. */
  readonly maxMs: number;
}

/** The figures of one system over all its runs. */
export interface SystemSummary {
  readonly name: string;
  /** `raw` rows are the ratio baseline; `tallow`, `simple-peer`, `peerjs` as in BrowserSystem. */
  readonly kind: string;
  readonly runs: number;
  /** Median, lowest and highest throughput, Mbit/s (10^6 bit/s). */
  readonly mbps: number;
  readonly minMbps: number;
  readonly maxMbps: number;
  readonly seconds: number;
  readonly sender: LongTaskFigures;
  readonly receiver: LongTaskFigures;
  /** Median main-thread task time per run, s (receiver absent for the node-datachannel receiver). */
  readonly mainThread: { readonly sender: number; readonly receiver?: number };
  /** Median CPU per run of all Chromium processes, and per process type, s. */
  readonly chromiumCpu: number;
  readonly chromiumCpuBy: Readonly<Record<string, number>>;
  /** Median CPU per run of the runner process (node-datachannel receiver, PeerServer), s. */
  readonly runnerCpu: number;
  readonly detail?: string;
  readonly error?: string;
}

const longTaskFigures = (xs: ReadonlyArray<{ count: number; tbtMs: number; maxMs: number }>): LongTaskFigures => ({
  count: median(xs.map((x) => x.count)),
  tbtMs: median(xs.map((x) => x.tbtMs)),
  maxMs: Math.max(0, ...xs.map((x) => x.maxMs)),
});

/**
 * Medians of one system's runs. With no runs, every figure is NaN and `error` says why.
 *
 * ## Example
 * ```ts
 * summarizeRuns('raw RTCDataChannel', 'raw', records, undefined).mbps; // median Mbit/s
 * ```
 */
export function summarizeRuns(name: string, kind: string, runs: readonly RunRecord[], error?: string): SystemSummary {
  const mbps = runs.map((r) => (r.bytes * 8) / r.seconds / 1e6);
  const groups = [...new Set(runs.flatMap((r) => Object.keys(r.chromiumCpu)))];
  const total = (r: RunRecord) => Object.values(r.chromiumCpu).reduce((s, x) => s + x, 0);
  const nan = runs.length ? undefined : NaN;
  return {
    name,
    kind,
    runs: runs.length,
    mbps: nan ?? median(mbps),
    minMbps: nan ?? Math.min(...mbps),
    maxMbps: nan ?? Math.max(...mbps),
    seconds: nan ?? median(runs.map((r) => r.seconds)),
    sender: runs.length ? longTaskFigures(runs.map((r) => r.longTasks.sender)) : { count: NaN, tbtMs: NaN, maxMs: NaN },
    receiver: runs.length ? longTaskFigures(runs.map((r) => r.longTasks.receiver)) : { count: NaN, tbtMs: NaN, maxMs: NaN },
    mainThread: {
      sender: nan ?? median(runs.map((r) => r.mainThreadSeconds.sender)),
      receiver: runs.some((r) => r.mainThreadSeconds.receiver !== undefined) ? median(runs.map((r) => r.mainThreadSeconds.receiver ?? 0)) : undefined,
    },
    chromiumCpu: nan ?? median(runs.map(total)),
    chromiumCpuBy: Object.fromEntries(groups.map((g) => [g, median(runs.map((r) => r.chromiumCpu[g] ?? 0))])),
    runnerCpu: nan ?? median(runs.map((r) => r.runnerCpuSeconds)),
    detail: runs.at(-1)?.detail,
    error,
  };
}

/** The raw baseline of a set of summaries: the first `raw` row that has runs. */
const baseline = (summaries: readonly SystemSummary[]): SystemSummary | undefined => summaries.find((s) => s.kind === 'raw' && s.runs > 0);

const fmtTasks = (t: LongTaskFigures): string => (Number.isNaN(t.count) ? '-' : `${t.count} / ${t.tbtMs.toFixed(0)} / ${t.maxMs.toFixed(0)}`);

/** CPU groups worth naming in the table, biggest first (those with at least 0.05 s). */
const cpuParts = (s: SystemSummary): string =>
  Object.entries(s.chromiumCpuBy)
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([g, v]) => `${g} ${v.toFixed(1)}`)
    .join(', ');

/**
 * The browser table of docs/benchmarks.md: one row per system.
 *
 * | system | Mbit/s (runs) | × raw | long tasks send: n / TBT ms / max ms | … receive | main thread s send / recv | Chromium CPU s/run |
 */
export function formatBrowserTable(summaries: readonly SystemSummary[]): string {
  const raw = baseline(summaries);
  const header = ['system', 'Mbit/s (min-max)', '× raw', 'long tasks, sending page: n / TBT ms / longest ms', 'long tasks, receiving page', 'main thread s (send / recv)', 'Chromium CPU s per run (by process)', 'ran as'];
  const rows = summaries.map((s) =>
    s.runs === 0
      ? [s.name, `FAILED: ${s.error ?? 'no run'}`, '-', '-', '-', '-', '-', '-']
      : [
          s.name,
          `${s.mbps.toFixed(0)} (${s.minMbps.toFixed(0)}-${s.maxMbps.toFixed(0)})`,
          raw ? `${(s.mbps / raw.mbps).toFixed(2)}×` : '-',
          fmtTasks(s.sender),
          s.mainThread.receiver === undefined ? 'node' : fmtTasks(s.receiver),
          `${s.mainThread.sender.toFixed(1)} / ${s.mainThread.receiver === undefined ? 'node' : s.mainThread.receiver.toFixed(1)}`,
          `${s.chromiumCpu.toFixed(1)} (${cpuParts(s)})${s.mainThread.receiver === undefined ? `; node receiver ${s.runnerCpu.toFixed(1)}` : ''}`,
          s.detail ?? '-',
        ],
  );
  const cell = (c: string) => c.replace(/\|/g, '\\|');
  const line = (r: string[]) => `| ${r.map(cell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

/** One checked target. */
export interface TargetCheck {
  readonly what: string;
  readonly met: boolean;
  readonly measured: string;
}

/**
 * The issue's targets, for every page-to-page tallow-rx row: ≥ 0.9× raw, ≥ 1.2× PeerJS and
 * ≥ 1.2× simple-peer (ratios of medians within one run), and no long task over 50 ms on
 * either page. Rows that did not run are skipped.
 */
export function checkTargets(summaries: readonly SystemSummary[]): TargetCheck[] {
  const raw = baseline(summaries);
  const peerjs = summaries.find((s) => s.kind === 'peerjs' && s.runs > 0);
  const simple = summaries.find((s) => s.kind === 'simple-peer' && s.runs > 0);
  const out: TargetCheck[] = [];
  for (const s of summaries) {
    if (s.kind !== 'tallow' || s.runs === 0 || s.mainThread.receiver === undefined) continue;
    const ratio = (other: SystemSummary | undefined, target: number, label: string) => {
      if (other) out.push({ what: `${s.name} ≥ ${target}× ${label}`, met: s.mbps / other.mbps >= target, measured: `${(s.mbps / other.mbps).toFixed(2)}×` });
    };
    ratio(raw, 0.9, 'raw');
    ratio(peerjs, 1.2, 'PeerJS');
    ratio(simple, 1.2, 'simple-peer');
    const longest = Math.max(s.sender.maxMs, s.receiver.maxMs);
    out.push({
      what: `${s.name}: no long task over ${LONG_TASK_MS} ms on either page`,
      met: longest <= LONG_TASK_MS,
      measured: `longest ${longest.toFixed(0)} ms; TBT per run ${s.sender.tbtMs.toFixed(0)} ms sending, ${s.receiver.tbtMs.toFixed(0)} ms receiving`,
    });
  }
  return out;
}

/** Rows for `npm run bench`'s common table: MB/s, ratio to raw, and the browser figures in the notes. */
export function toBenchResults(summaries: readonly SystemSummary[], bytes: number): BenchResult[] {
  const raw = baseline(summaries);
  return summaries.map((s) => {
    if (s.runs === 0) return { variant: s.name, notes: `FAILED: ${s.error ?? 'no run'}` };
    const relative = raw && s !== raw;
    const notes = [
      `${s.mbps.toFixed(0)} Mbit/s (runs ${s.minMbps.toFixed(0)}-${s.maxMbps.toFixed(0)}), median of ${s.runs} × ${(bytes / 2 ** 20).toFixed(0)} MiB`,
      `long tasks send ${fmtTasks(s.sender)}, receive ${s.mainThread.receiver === undefined ? 'node' : fmtTasks(s.receiver)} (n / TBT ms / longest ms)`,
      `Chromium CPU ${s.chromiumCpu.toFixed(1)} s per run (${cpuParts(s)})`,
      s.detail ? `ran as ${s.detail}` : undefined,
      s.error ? `${s.error} in another run` : undefined,
    ];
    return {
      variant: s.name,
      mbPerSecond: s.mbps / 8,
      ratio: relative ? s.mbps / raw.mbps : undefined,
      ratioTo: relative ? 'raw' : undefined,
      seconds: s.seconds,
      notes: notes.filter(Boolean).join('; '),
    };
  });
}
