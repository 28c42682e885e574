/**
 * The responder side of `pingRtt`: answers each ping with a pong.
 */
import { Observable } from 'rxjs';
import { encodeControl, parseControl } from '../protocol/control';

/**
 * Answers every `{"t":"ping","n":…,"ts":…}` on `messages$` at once with
 * `{"t":"pong","n":…,"ts":…}` (same `n`, `ts` echoed) through `send`, and
 * emits the `n` it answered. Other messages are ignored. Completes with
 * `messages$`; errors when `messages$` errors or `send` throws.
 *
 * ```
 * messages$: --p1--x--p2--|     (x: any other message)
 * output:    --1--------2--|    (and a pong sent for each)
 * ```
 *
 * ## Example
 * ```ts
 * import { answerPings } from 'tallow-rx/stats';
 * answerPings(controlMessages$, (m) => control.send(m)).subscribe();
 * ```
 *
 * @see pingRtt for the measuring side.
 * @param messages$ Incoming control messages, as strings.
 * @param send Sends one control message (a JSON string).
 * @return An Observable of the answered sequence numbers.
 */
export function answerPings(messages$: Observable<string>, send: (msg: string) => void): Observable<number> {
  return new Observable<number>((subscriber) =>
    messages$.subscribe({
      next: (raw) => {
        if (typeof raw !== 'string' || !raw.includes('ping')) return;
        let msg;
        try {
          msg = parseControl(raw);
        } catch {
          return;
        }
        if (msg.t !== 'ping') return;
        try {
          send(encodeControl({ t: 'pong', n: msg.n, ts: msg.ts }));
        } catch (err) {
          subscriber.error(err);
          return;
        }
        subscriber.next(msg.n);
      },
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    }),
  );
}
