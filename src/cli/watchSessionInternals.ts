/**
 * What `watchSession` draws: the progress line with its rate and ETA, the session's messages, and the
 * verified summary. `watchSession` makes one {@link sessionDisplay} per call (closure locals) and hands
 * it the session's events.
 */
import type { SessionEvent } from '../index';
import { printable } from './printable';
import { progressLine, summaryLines, type VerifiedFile } from './progressLine';
import type { WatchOutput } from './watchSession';

/** Least time between two drawn lines: 10 per second on a terminal, 1 per second otherwise. */
const REDRAW_MS = { tty: 100, log: 1000 } as const;

/** One session's display: its state in closure locals; `show` draws an event, `write` and `clear` serve the rest. */
export function sessionDisplay(label: string, out: WatchOutput) {
  // The last stats sample's rate and ETA (none before the first).
  let bitsPerSecond = 0;
  let etaSeconds: number | undefined;
  // When the last line was drawn; whether a redrawn line is on screen; whether the full (100 %) line was drawn.
  let lastDraw = -Infinity;
  let drawn = false;
  let full = false;
  const started = Date.now();
  // Where the accepted transfer started (ms, bytes), for a rate before the first stats sample.
  let base: { at: number; bytes: number } | undefined;
  // Bytes already held when the session started (a resume): not moved, so not in the summary's speed. Each
  // file's own `from` once it started replaces the session's figure: a resume the sender refused (`restart`,
  // the held prefix differed) starts that file again from 0, and its bytes all moved.
  let held = 0;
  const fileFrom = new Map<number, number>();
  const heldNow = (): number => (fileFrom.size ? [...fileFrom.values()].reduce((a, b) => a + b, 0) : held);
  const write = (text: string): void => void out.stream.write(text);
  const clear = (): void => {
    if (out.tty && drawn) write('\r\x1b[2K');
    drawn = false;
  };
  const draw = (bytes: number, total: number, force = false): void => {
    const now = Date.now();
    if (force ? full : now - lastDraw < (out.tty ? REDRAW_MS.tty : REDRAW_MS.log)) return;
    full ||= force;
    lastDraw = now;
    base ??= { at: now, bytes };
    const elapsed = (now - base.at) / 1000;
    const average = elapsed > 0 ? ((bytes - base.bytes) * 8) / elapsed : 0;
    const rate = bitsPerSecond || average;
    // Before the first stats sample, an ETA from the average only after a second of it: the first line after
    // a 1-byte first file read "ETA 130h31m" (an outside check).
    const eta = etaSeconds ?? (bitsPerSecond > 0 || elapsed >= 1 ? (rate > 0 ? ((total - bytes) * 8) / rate : undefined) : undefined);
    const line = progressLine({ label, bytes, total, bitsPerSecond: rate, etaSeconds: eta }, out.columns());
    if (out.tty) {
      write(`\r\x1b[2K${line}`);
      drawn = true;
    } else write(`${line}\n`);
  };
  /** Draws one session event (a stats sample only sets the rate and ETA of the lines that follow). */
  const show = (e: SessionEvent): void => {
    switch (e.type) {
      case 'started':
        base = { at: Date.now(), bytes: e.from };
        held = e.from;
        clear();
        write(`${label}: ${e.files.length} file${e.files.length === 1 ? '' : 's'}, ${e.offer.bytes} bytes${e.from ? ` (resuming from ${e.from})` : ''}\n`);
        return;
      case 'file-started':
        fileFrom.set(e.manifest.index, e.from);
        return;
      case 'stats':
        bitsPerSecond = e.stats.throughput.current;
        etaSeconds = e.stats.etaSeconds ?? undefined;
        return;
      case 'progress':
        draw(e.bytes, e.total, e.bytes === e.total);
        return;
      case 'interrupted':
        clear();
        write(`connection lost (${printable(String(e.reason))}); waiting to resume…\n`);
        return;
      case 'rejected':
        clear();
        write(`declined: ${printable(String(e.reason))}\n`);
        return;
      case 'completed': {
        clear();
        const files: VerifiedFile[] = e.files.map((f) => ({ path: f.manifest.name, savedAs: savedAs(f.manifest.name, f.result), bytes: f.manifest.size, sha256: f.sha256 }));
        const seconds = e.seconds > 0 ? e.seconds : (Date.now() - started) / 1000;
        for (const line of summaryLines(files, seconds, out.columns(), heldNow())) write(`${line}\n`);
        return;
      }
    }
  };
  return { show, write, clear };
}

/**
 * Where a received file landed, when not under the name it was sent as (a name in use gets ` (1)`, a name a
 * file system refuses is cleaned): the landed path's last segments, as many as the sent name has. Undefined on
 * the sender, and when the name was kept.
 */
export function savedAs(name: string, result: unknown): string | undefined {
  if (typeof result !== 'string') return undefined;
  const depth = name.split('/').length;
  const landed = result.split(/[\\/]/).slice(-depth).join('/');
  return landed === name ? undefined : landed;
}
