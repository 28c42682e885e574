/**
 * Per-interval figures from two successive `PeerStatsSample`s: rates and
 * loss come from counter DELTAS, never from the cumulative counters.
 */
import type { PeerStatsSample } from './parseStatsReport';

/** Which counters a loss rate was computed from. */
export type LossSource = 'packets-lost' | 'retransmissions' | 'discarded-on-send';

/** What happened between two samples. A field is `undefined` when its counters are missing, or went backwards (a reset). */
export interface SampleDelta {
  /** Time between the samples, ms. */
  readonly intervalMs: number;
  /** Wire bytes sent / received in the interval. */
  readonly bytesSent?: number;
  readonly bytesReceived?: number;
  /** Wire bit rates, bits/s. */
  readonly sendBps?: number;
  readonly receiveBps?: number;
  /** Data-channel payload bit rates, bits/s (stacks with data-channel stats only). */
  readonly payloadSendBps?: number;
  readonly payloadReceiveBps?: number;
  /** Loss rate over the interval, 0..1; `undefined` when the stack exposes no usable counter (see docs/stats.md). */
  readonly lossRate?: number;
  readonly lossSource?: LossSource;
}

/** `b - a` for two counters, or undefined when either is missing or the counter went backwards. */
const diff = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b < a ? undefined : b - a;
const rate = (bytes: number | undefined, ms: number): number | undefined => (bytes === undefined || ms <= 0 ? undefined : (bytes * 8000) / ms);
const ratio = (part: number | undefined, whole: number | undefined): number | undefined =>
  part === undefined || whole === undefined || whole <= 0 ? undefined : Math.min(1, part / whole);

/**
 * Computes the interval between two samples of the same connection.
 *
 * Loss, first match:
 * 1. `packets-lost`: Δ`packetsLost` / Δ`rtpPacketsSent` (RTP media only);
 * 2. `retransmissions`: Δ`retransmissions` / Δ`rtpPacketsSent` (RTP media only);
 * 3. `discarded-on-send`: Δ`packetsDiscardedOnSend` / (Δ`packetsSent` + Δdiscarded)
 *    (Chromium: packets the local socket dropped, which SCTP must resend);
 * 4. otherwise `undefined` (node-datachannel: no counter exists).
 * An interval in which nothing was sent has no loss rate.
 *
 * ## Example
 * ```ts
 * import { sampleDelta } from './sampleDelta'; // internal: not exported by the package
 * sampleDelta(previous, next).sendBps; // bits/s between the two polls
 * ```
 *
 * @param prev The earlier sample.
 * @param next The later sample.
 * @return The interval's figures.
 */
export function sampleDelta(prev: PeerStatsSample, next: PeerStatsSample): SampleDelta {
  const intervalMs = next.timestamp - prev.timestamp;
  const sameSource = prev.bytesSource === next.bytesSource;
  const bytesSent = sameSource ? diff(prev.bytesSent, next.bytesSent) : undefined;
  const bytesReceived = sameSource ? diff(prev.bytesReceived, next.bytesReceived) : undefined;
  const rtpSent = diff(prev.rtpPacketsSent, next.rtpPacketsSent);
  const discarded = diff(prev.packetsDiscardedOnSend, next.packetsDiscardedOnSend);
  const sent = diff(prev.packetsSent, next.packetsSent);
  const candidates: [LossSource, number | undefined][] = [
    ['packets-lost', ratio(diff(prev.packetsLost, next.packetsLost), rtpSent)],
    ['retransmissions', ratio(diff(prev.retransmissions, next.retransmissions), rtpSent)],
    ['discarded-on-send', ratio(discarded, sent === undefined || discarded === undefined ? undefined : sent + discarded)],
  ];
  const loss = candidates.find(([, r]) => r !== undefined);
  return {
    intervalMs,
    bytesSent,
    bytesReceived,
    sendBps: rate(bytesSent, intervalMs),
    receiveBps: rate(bytesReceived, intervalMs),
    payloadSendBps: rate(diff(prev.payloadBytesSent, next.payloadBytesSent), intervalMs),
    payloadReceiveBps: rate(diff(prev.payloadBytesReceived, next.payloadBytesReceived), intervalMs),
    lossRate: loss?.[1],
    lossSource: loss?.[0],
  };
}
