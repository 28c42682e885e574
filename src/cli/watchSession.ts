/**
 * Runs a `sendFiles`/`receiveFiles` session and shows it: a live progress
 * line (redrawn in place on a terminal, one line a second otherwise), then a
 * verified summary. Resolves with the exit code.
 */
import type { SessionEvent, SessionObservable } from '../index';
import { EXIT_DECLINED, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_VERIFIED } from './exitCodes';
import { printable } from './printable';
import { progressLine, summaryLines, type VerifiedFile } from './progressLine';

/** Where and how to draw. */
export interface WatchOutput {
  readonly stream: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Redraw in place (a terminal). */
  readonly tty: boolean;
  /** Terminal width. */
  readonly columns: () => number;
}

/** Least time between two drawn lines: 10 per second on a terminal, 1 per second otherwise. */
const REDRAW_MS = { tty: 100, log: 1000 } as const;

/** Subscribes and draws; resolves with 0 (verified), 1 (failed), 3 (declined), or 130 once `cancel` (Ctrl-C) unsubscribed. */
export function watchSession(session$: SessionObservable, label: string, out: WatchOutput): { done: Promise<number>; cancel(): void } {
  let bitsPerSecond = 0;
  let etaSeconds: number | undefined;
  let lastDraw = -Infinity;
  let drawn = false;
  let full = false;
  const started = Date.now();
  // Where the accepted transfer started (ms, bytes), for a rate before the first stats sample.
  let base: { at: number; bytes: number } | undefined;
  // Bytes already held when the session started (a resume): not moved, so not in the summary's speed.
  let held = 0;
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
    const eta = etaSeconds ?? (rate > 0 ? ((total - bytes) * 8) / rate : undefined);
    const line = progressLine({ label, bytes, total, bitsPerSecond: rate, etaSeconds: eta }, out.columns());
    if (out.tty) {
      write(`\r\x1b[2K${line}`);
      drawn = true;
    } else write(`${line}\n`);
  };

  let sub: { unsubscribe(): void } | undefined;
  let settle: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    settle = resolve;
    let declined = false;
    sub = session$.subscribe({
      next: (e: SessionEvent) => {
        switch (e.type) {
          case 'started':
            base = { at: Date.now(), bytes: e.from };
            held = e.from;
            clear();
            write(`${label}: ${e.files.length} file${e.files.length === 1 ? '' : 's'}, ${e.offer.bytes} bytes${e.from ? ` (resuming from ${e.from})` : ''}\n`);
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
            declined = true;
            clear();
            write(`declined: ${printable(String(e.reason))}\n`);
            return;
          case 'completed': {
            clear();
            const files: VerifiedFile[] = e.files.map((f) => ({ path: f.manifest.name, bytes: f.manifest.size, sha256: f.sha256 }));
            const seconds = e.seconds > 0 ? e.seconds : (Date.now() - started) / 1000;
            for (const line of summaryLines(files, seconds, out.columns(), held)) write(`${line}\n`);
            return;
          }
        }
      },
      error: (error: { code?: string; message?: string }) => {
        clear();
        if (error?.code === 'ERR_REJECTED') {
          write(`the other side declined (${printable(String(error.message))})\n`);
          resolve(EXIT_DECLINED);
          return;
        }
        write(`failed: ${printable(error?.message ?? String(error))}${error?.code ? ` [${printable(error.code)}]` : ''}\n`);
        resolve(EXIT_FAILED);
      },
      complete: () => resolve(declined ? EXIT_DECLINED : EXIT_VERIFIED),
    });
  });
  const cancel = (): void => {
    sub?.unsubscribe();
    clear();
    write('interrupted: cancelling the transfer on both sides…\n');
    settle(EXIT_INTERRUPTED);
  };
  return { done, cancel };
}
