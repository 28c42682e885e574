/**
 * Polls `RTCPeerConnection.getStats()` into a stream of typed samples.
 */
import type { Observable } from 'rxjs';
import { configObject } from '../configObject';
import type { PeerConnectionLike } from '../types';
import { parseStatsReport, type PeerStatsSample } from './parseStatsReport';
import { pollStats, type StatsSamplesConfig } from './pollStats';

export { DEFAULT_FAIL_AFTER, DEFAULT_STATS_INTERVAL, type StatsSamplesConfig } from './pollStats';

/**
 * Samples a peer connection's stats every `sampleIntervalMs` ms.
 *
 * A poll that is still pending when the next tick comes is not doubled up:
 * the tick is skipped. Empty reports (before connecting) emit nothing. A
 * failed poll is retried on the next tick; `failAfter` failures in a row
 * error the stream with a `TallowError` (`ERR_STATS_FAILED`, the last failure
 * as `cause`). The stream completes when the connection's `connectionState`
 * is `'closed'` at a tick; it stops polling on unsubscribe. A connection
 * without `getStats` (or `null`, or anything that is no connection) errors at once with `ERR_STATS_UNSUPPORTED`,
 * naming the function and the value (`statsSamples: connection has no getStats(), got null`). A `config` that is
 * not an object throws `InvalidConfigError`.
 *
 * ```
 * getStats: a----b----c----x----d      (x: rejected)
 * output:   a----b----c---------d      (sampleIntervalMs = 5 frames)
 * ```
 *
 * ## Example
 * ```ts
 * import { statsSamples } from 'tallow-rx/stats';
 * statsSamples(pc, { sampleIntervalMs: 500 }).subscribe((s) => console.log(s.rttMs, s.bytesSent));
 * ```
 *
 * @param pc The peer connection (browser, node-datachannel polyfill, @roamhq/wrtc …).
 * @param config Poll options.
 * @return An Observable of samples.
 */
export function statsSamples(pc: PeerConnectionLike, config: StatsSamplesConfig = {}): Observable<PeerStatsSample> {
  return samplesOf('statsSamples', pc, config);
}

/** {@link statsSamples} for `where` (`bitrate$`, `loss$`): its errors name that function. */
export function samplesOf(where: string, pc: PeerConnectionLike, config: StatsSamplesConfig | undefined): Observable<PeerStatsSample> {
  config = configObject(where, config);
  const rttUnit = config.rttUnit ?? 'auto';
  return pollStats(pc, (report, now) => parseStatsReport(report, now, rttUnit), config, where);
}
