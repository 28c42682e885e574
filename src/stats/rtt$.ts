/**
 * The selected candidate pair's round-trip time, sampled from `getStats()`.
 */
import { filter, map, type Observable } from 'rxjs';
import type { PeerConnectionLike } from '../types';
import { statsSamples, type StatsSamplesConfig } from './statsSamples';

/**
 * Emits the connection's RTT in ms once per poll that reports one.
 * Chromium reports seconds, node-datachannel whole milliseconds; both come out
 * in ms (see `RttUnit`). Polls without an RTT emit nothing.
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
  return statsSamples(pc, config).pipe(
    map((s) => s.rttMs),
    filter((ms): ms is number => ms !== undefined),
  );
}
