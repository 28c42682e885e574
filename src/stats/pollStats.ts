/**
 * Polls `RTCPeerConnection.getStats()` and reads each report with a function of the caller's: the timer,
 * the skipped ticks and the failure count behind `statsSamples` (the whole parse) and `rtt$` (the RTT alone).
 */
import { asyncScheduler, Observable, type SchedulerLike } from 'rxjs';
import { scheduleChain } from '../scheduleChain';
import { InvalidConfigError, TallowError } from '../errors';
import { plain, shown } from '../transfer/checkOptions';
import type { PeerConnectionLike } from '../types';
import type { RttUnit, StatsReportLike } from './reportRtt';

/** Options for `statsSamples` and the streams built on it. */
export interface StatsSamplesConfig {
  /** Poll period, ms. The first poll runs at once. Default 1000. */
  readonly sampleIntervalMs?: number;
  /**
   * Consecutive failed polls (rejected or throwing `getStats`) after which the
   * stream errors with `ERR_STATS_FAILED`. A success resets the count. Default 10;
   * `Infinity` never gives up.
   */
  readonly failAfter?: number;
  /** How to read `currentRoundTripTime` (see `RttUnit`). Default `'auto'`. */
  readonly rttUnit?: RttUnit;
  /** Drives the poll timer and stamps samples. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Default poll period, ms. */
export const DEFAULT_STATS_INTERVAL = 1000;
/** Default consecutive failures tolerated. */
export const DEFAULT_FAIL_AFTER = 10;

/**
 * Polls a peer connection's stats every `sampleIntervalMs` ms and emits what `read` makes of each report.
 *
 * A poll that is still pending when the next tick comes is not doubled up:
 * the tick is skipped. A report `read` answers with `undefined` emits nothing. A
 * failed poll (or a throwing `read`) is retried on the next tick; `failAfter` failures in a row
 * error the stream with a `TallowError` (`ERR_STATS_FAILED`, the last failure
 * as `cause`). The stream completes when the connection's `connectionState`
 * is `'closed'` at a tick; it stops polling on unsubscribe. A connection
 * without `getStats` errors at once with `ERR_STATS_UNSUPPORTED`.
 *
 * ```
 * getStats: a----b----c----x----d      (x: rejected)
 * output:   a----b----c---------d      (sampleIntervalMs = 5 frames)
 * ```
 *
 * ## Example
 * ```ts
 * import { pollStats } from './pollStats'; // internal: the package exports statsSamples and rtt$
 * import { reportRtt } from './reportRtt';
 * pollStats(pc, (report) => reportRtt(report)?.ms, { sampleIntervalMs: 500 }).subscribe((ms) => console.log(ms));
 * ```
 *
 * @param pc The peer connection (browser, node-datachannel polyfill, @roamhq/wrtc …).
 * @param read What to make of a report, given `scheduler.now()`; `undefined`: nothing to emit.
 * @param config Poll options.
 * @return An Observable of what `read` returned.
 */
export function pollStats<T>(pc: PeerConnectionLike, read: (report: StatsReportLike, now: number) => T | undefined, config: StatsSamplesConfig = {}, where = 'statsSamples'): Observable<T> {
  const sampleIntervalMs = config.sampleIntervalMs ?? DEFAULT_STATS_INTERVAL;
  const failAfter = config.failAfter ?? DEFAULT_FAIL_AFTER;
  const scheduler = config.scheduler ?? asyncScheduler;
  if (!(sampleIntervalMs > 0) || !Number.isFinite(sampleIntervalMs)) {
    throw new InvalidConfigError(`sampleIntervalMs must be a positive number, got ${sampleIntervalMs}`, { sampleIntervalMs });
  }
  if (!(failAfter >= 1)) throw new InvalidConfigError(`failAfter must be >= 1, got ${failAfter}`, { failAfter });

  return new Observable<T>((subscriber) => {
    // `null` or another value where a connection belongs is the same condition, named with the value.
    if (typeof pc?.getStats !== 'function') {
      subscriber.error(new TallowError('ERR_STATS_UNSUPPORTED', `${where}: connection has no getStats(), got ${shown(pc)}`, { field: 'connection', value: plain(pc) }));
      return;
    }
    // True while a getStats() call is pending.
    let pending = false;
    // Failed polls in a row.
    let failures = 0;

    const fail = (err: unknown) => {
      pending = false;
      if (subscriber.closed) return;
      if (++failures >= failAfter) {
        subscriber.error(
          new TallowError('ERR_STATS_FAILED', `getStats() failed ${failures} times in a row`, { failures }, { cause: err }),
        );
      }
    };
    const accept = (report: StatsReportLike) => {
      pending = false;
      if (subscriber.closed) return;
      let value: T | undefined;
      try {
        value = read(report, scheduler.now());
      } catch (err) {
        return fail(err);
      }
      failures = 0;
      if (value !== undefined) subscriber.next(value);
    };
    const poll = () => {
      if (pending) return;
      if (pc.connectionState === 'closed') return subscriber.complete();
      pending = true;
      let result: PromiseLike<StatsReportLike>;
      try {
        result = pc.getStats!();
      } catch (err) {
        return fail(err);
      }
      // `.then` directly, not `await`: a synchronous thenable (tests) answers synchronously.
      result.then(accept, fail);
    };

    subscriber.add(scheduleChain(scheduler, 0, () => (poll(), subscriber.closed ? undefined : sampleIntervalMs)));
  });
}
