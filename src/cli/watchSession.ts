/**
 * Runs a `sendFiles`/`receiveFiles` session and shows it: a live progress
 * line (redrawn in place on a terminal, one line a second otherwise), then a
 * verified summary. Resolves with the exit code.
 */
import type { SessionEvent, SessionObservable } from '../index';
import { EXIT_DECLINED, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_VERIFIED } from './exitCodes';
import { printable } from './printable';
import { sessionDisplay } from './watchSessionInternals';

/** Where and how to draw. */
export interface WatchOutput {
  readonly stream: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Redraw in place (a terminal). */
  readonly tty: boolean;
  /** Terminal width. */
  readonly columns: () => number;
}

/**
 * Subscribes and draws; resolves with 0 (verified), 1 (failed), 3 (declined), or 130 once `cancel` (Ctrl-C)
 * unsubscribed. `endedByPeer()`: the session ended with the peer's own `cancel` or `error` (`details.by` remote,
 * `details.remote`): this side has nothing left to send, so it need not wait for the peer to hang up.
 */
export function watchSession(session$: SessionObservable, label: string, out: WatchOutput): { done: Promise<number>; cancel(): void; endedByPeer(): boolean } {
  const { show, write, clear } = sessionDisplay(label, out);
  let sub: { unsubscribe(): void } | undefined;
  let settle: (code: number) => void = () => undefined;
  let byPeer = false;
  const done = new Promise<number>((resolve) => {
    settle = resolve;
    let declined = false;
    sub = session$.subscribe({
      next: (e: SessionEvent) => {
        if (e.type === 'rejected') declined = true;
        show(e);
      },
      error: (error: { code?: string; message?: string; details?: { by?: unknown; remote?: unknown } }) => {
        clear();
        byPeer = error?.details?.by === 'remote' || error?.details?.remote === true;
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
  return { done, cancel, endedByPeer: () => byPeer };
}
