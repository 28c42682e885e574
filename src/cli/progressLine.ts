/**
 * What the command line prints while a transfer runs and when it ends, as pure
 * functions of numbers and the terminal's width (tested without a terminal).
 *
 * ```
 * progressLine → 'sending  [██████████░░░░░░░░░░]  50%  8.0 MiB / 16.0 MiB  42.1 Mbit/s  ETA 2s'
 * summaryLines → '✓ a.bin  16.0 MiB  sha256 3f1c…9a6e', …, 'verified 2 files, 16.0 MiB in 3.1 s (41.3 Mbit/s)'
 * ```
 */
import { printable } from './printable';

/** Bytes as B, KiB, MiB, GiB with one decimal. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Bits per second as kbit/s, Mbit/s, Gbit/s. */
export function formatRate(bitsPerSecond: number): string {
  if (!Number.isFinite(bitsPerSecond) || bitsPerSecond <= 0) return '—';
  if (bitsPerSecond >= 1e9) return `${(bitsPerSecond / 1e9).toFixed(2)} Gbit/s`;
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(1)} Mbit/s`;
  return `${(bitsPerSecond / 1e3).toFixed(0)} kbit/s`;
}

/** Seconds as `42s`, `3m05s`, `1h02m`; `—` when unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A bar of `width` cells, `fraction` (0-1) of them full. */
export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** One progress line. */
export interface ProgressFigures {
  readonly label: string;
  readonly bytes: number;
  readonly total: number;
  readonly bitsPerSecond: number;
  readonly etaSeconds?: number;
}

/** Narrowest and widest bar, cells. */
const MIN_BAR = 10;
const MAX_BAR = 50;

/**
 * The live line, fitted to `columns`: the bar takes what the figures leave
 * (10-50 cells); below that, the figures alone.
 */
export function progressLine(p: ProgressFigures, columns: number): string {
  const percent = p.total > 0 ? Math.floor((p.bytes / p.total) * 100) : 100;
  // No ETA once every byte is in (a resumed transfer's average rate still gave one at 100 %).
  const eta = p.bytes >= p.total ? '' : `  ETA ${formatEta(p.etaSeconds)}`;
  const figures = `${String(percent).padStart(3)}%  ${formatBytes(p.bytes)} / ${formatBytes(p.total)}  ${formatRate(p.bitsPerSecond)}${eta}`;
  const room = columns - p.label.length - figures.length - 6;
  if (room < MIN_BAR) return `${p.label}  ${figures}`.slice(0, Math.max(columns - 1, 20));
  return `${p.label}  [${bar(p.total > 0 ? p.bytes / p.total : 1, Math.min(room, MAX_BAR))}]  ${figures}`;
}

/** One verified file for the summary. */
export interface VerifiedFile {
  readonly path: string;
  /** Where it landed, when not under `path` (shown as `path → savedAs`). */
  readonly savedAs?: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * The closing summary: one line per file (name cut to fit), then the total. The speed counts the bytes that
 * moved: `heldBytes`, already on the receiver's disk when a resumed session started, are left out of it.
 */
export function summaryLines(files: readonly VerifiedFile[], seconds: number, columns: number, heldBytes = 0): string[] {
  const total = files.reduce((n, f) => n + f.bytes, 0);
  const moved = Math.max(0, total - heldBytes);
  // Names come from the sender: escape what a terminal would act on.
  const paths = files.map((f) => printable(f.savedAs === undefined ? f.path : `${f.path} → ${f.savedAs}`));
  const lines = files.map((f, i) => {
    const path = paths[i];
    const tail = `  ${formatBytes(f.bytes).padStart(10)}  sha256 ${f.sha256.slice(0, 16)}…`;
    const room = Math.max(columns - tail.length - 3, 12);
    const name = path.length > room ? `…${path.slice(-(room - 1))}` : path.padEnd(Math.min(room, Math.max(...paths.map((x) => x.length))));
    return `✓ ${name}${tail}`;
  });
  const rate = seconds > 0 ? (moved * 8) / seconds : 0;
  const resumed = heldBytes > 0 ? `, ${formatBytes(Math.min(heldBytes, total))} of it already here` : '';
  lines.push(`verified ${files.length} file${files.length === 1 ? '' : 's'}, ${formatBytes(total)} in ${seconds.toFixed(1)} s (${formatRate(rate)}${resumed}), SHA-256 equal on both ends`);
  return lines;
}
