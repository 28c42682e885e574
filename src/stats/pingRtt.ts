/**
 * Application-level RTT over the control channel: `ping` out, `pong` back.
 */
import { asyncScheduler, Observable, type SchedulerLike } from 'rxjs';
import { scheduleChain } from '../scheduleChain';
import { InvalidConfigError } from '../errors';
import { encodeControl, parseControl } from '../protocol/control';
import { configObject } from '../configObject';

/** Options for {@link pingRtt}. */
export interface PingConfig {
  /** Ping period, ms. The first ping goes out at once. Default 1000. */
  readonly intervalMs?: number;
  /** A pong later than this is ignored (the ping counts as lost), ms. Default 10 000. */
  readonly timeoutMs?: number;
  /** Drives the ping timer and measures time. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Default ping period, ms. */
export const DEFAULT_PING_INTERVAL = 1000;
/** Default pong timeout, ms. */
export const DEFAULT_PING_TIMEOUT = 10_000;

/** Sequence numbers wrap below 2^32, the control protocol's limit. */
const SEQ_LIMIT = 0x1_0000_0000;

/**
 * Measures the round trip of control messages: every `intervalMs` ms sends
 * `{"t":"ping","n":<seq>,"ts":<now>}` through `send`, and for each matching
 * `{"t":"pong","n":<seq>,"ts":<echoed>}` on `messages$` emits the elapsed ms.
 * Use it where `getStats()` has no RTT. It measures the whole path, SCTP
 * queueing included: behind a full send buffer it reads high, which is
 * exactly the delay the application sees.
 *
 * Other messages on `messages$` (the shared control channel) are ignored,
 * as are unknown, duplicate and late pongs. Completes when `messages$`
 * completes; errors when `messages$` errors or `send` throws.
 *
 * ```
 * send:      p1---------p2---------p3      (intervalMs = 10 frames)
 * messages$: ----q1------------q2---        (q: pong)
 * output:    ----4-------------7---
 * ```
 *
 * ## Example
 * ```ts
 * import { pingRtt } from 'tallow-rx/stats';
 * pingRtt((m) => control.send(m), controlMessages$).subscribe((ms) => console.log(`RTT ${ms} ms`));
 * ```
 *
 * @see answerPings for the other side.
 * @param send Sends one control message (a JSON string).
 * @param messages$ Incoming control messages, as strings.
 * @param config Ping options.
 * @return An Observable of round-trip times, ms.
 */
export function pingRtt(send: (msg: string) => void, messages$: Observable<string>, config: PingConfig = {}): Observable<number> {
  config = configObject('pingRtt', config);
  const intervalMs = config.intervalMs ?? DEFAULT_PING_INTERVAL;
  const timeoutMs = config.timeoutMs ?? DEFAULT_PING_TIMEOUT;
  const scheduler = config.scheduler ?? asyncScheduler;
  if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) throw new InvalidConfigError(`intervalMs must be a positive number, got ${intervalMs}`, { intervalMs });
  if (!(timeoutMs > 0)) throw new InvalidConfigError(`timeoutMs must be a positive number, got ${timeoutMs}`, { timeoutMs });

  return new Observable<number>((subscriber) => {
    // Sequence number of the next ping.
    let seq = 1;
    // Pings awaiting their pong: sequence number → send time.
    const outstanding = new Map<number, number>();

    subscriber.add(
      messages$.subscribe({
        next: (raw) => {
          if (typeof raw !== 'string' || !raw.includes('pong')) return;
          let msg;
          try {
            msg = parseControl(raw);
          } catch {
            return;
          }
          if (msg.t !== 'pong') return;
          const sentAt = outstanding.get(msg.n);
          if (sentAt === undefined || sentAt !== msg.ts) return;
          outstanding.delete(msg.n);
          const rtt = scheduler.now() - sentAt;
          if (rtt <= timeoutMs) subscriber.next(rtt);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    );
    if (subscriber.closed) return;

    subscriber.add(
      scheduleChain(scheduler, 0, () => {
        const now = scheduler.now();
        for (const [n, at] of outstanding) if (now - at > timeoutMs) outstanding.delete(n);
        const n = seq;
        seq = (seq + 1) % SEQ_LIMIT;
        outstanding.set(n, now);
        try {
          send(encodeControl({ t: 'ping', n, ts: now }));
        } catch (err) {
          subscriber.error(err);
          return;
        }
        return subscriber.closed ? undefined : intervalMs;
      }),
    );
    return () => outstanding.clear();
  });
}
