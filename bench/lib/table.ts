/**
 * Renders results as a Markdown table, so the output pastes into docs/benchmarks.md as is.
 */
import { formatBytes } from './measure';
import type { BenchResult } from './types';

const cell = (v: string | undefined): string => (v === undefined || v === '' ? '-' : v.replace(/\|/g, '\\|'));

/** One Markdown table of every benchmark's rows. */
export function formatTable(rows: ReadonlyArray<{ readonly benchmark: string; readonly result: BenchResult }>): string {
  const header = ['benchmark', 'variant', 'MB/s', 'ratio', 'time (s)', 'peak RSS', 'notes'];
  const body = rows.map(({ benchmark, result: r }) => [
    benchmark,
    r.variant,
    r.mbPerSecond === undefined ? undefined : r.mbPerSecond.toFixed(r.mbPerSecond >= 100 ? 0 : 1),
    r.ratio === undefined ? undefined : `${r.ratio.toFixed(2)}× ${r.ratioTo ?? ''}`.trim(),
    r.seconds === undefined ? undefined : r.seconds.toFixed(r.seconds >= 10 ? 1 : 3),
    r.peakRss === undefined ? undefined : formatBytes(r.peakRss),
    r.notes,
  ]);
  const all = [header, ...body].map((row) => row.map(cell));
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(all[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...all.slice(1).map(line)].join('\n');
}
