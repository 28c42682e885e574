/**
 * The selected candidate pair's round-trip time, sampled from `getStats()`.
 */
import type { Observable } from 'rxjs';
import { configObject } from '../configObject';
import type { PeerConnectionLike } from '../types';
import { pollStats, type StatsSamplesConfig } from './pollStats';
import { reportRtt } from './reportRtt';

/**
 * Emits the connection's RTT in ms once per poll that reports one.
 * Chromium reports seconds, node-datachannel whole milliseconds; both come out
 * in ms (see `RttUnit`). Polls without an RTT emit nothing. Reads the RTT alone
 * (`reportRtt`), not the whole sample, so a transfer's bundle carries no more of
 * the stats parser than that.
 *
 * ```
 * samples: a----b----c      (b has no RTT)
 * rtt$:    a---------c
 * ```
 *
 * ## Example
 * ```ts
 * import { rtt$ } from 'tallow-rx/stats';
 * rtt$(pc).subscribe((ms) => console.log(`RTT ${ms} ms`));
 * ```
 *
 * @param pc The peer connection.
 * @param config Poll options, as for `statsSamples`.
 * @return An Observable of RTTs, ms.
 */
export function rtt$(pc: PeerConnectionLike, config: StatsSamplesConfig = {}): Observable<number> {
  config = configObject('rtt$', config);
  const rttUnit = config.rttUnit ?? 'auto';
  return pollStats(pc, (report) => reportRtt(report, rttUnit)?.ms, config, 'rtt$');
}
