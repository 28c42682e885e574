/**
 * Reads an `RTCStatsReport` (any Map-like with `forEach`) into a typed
 * `PeerStatsSample`. Tolerant: every field may be missing or of the wrong
 * type; what cannot be read is left `undefined`. Shapes handled (recorded
 * fixtures in test/stats/fixtures/): Chromium/libwebrtc, and node-datachannel's
 * polyfill, whose `currentRoundTripTime` is in whole MILLISECONDS (libdatachannel's
 * `rtt()` copied verbatim, -1 when unknown) where the spec says seconds.
 */
import { count, groupStats, rttOf, sctpRttMs, selectedPair, type RttSource, type RttUnit, type StatsReportLike } from './reportRtt';

export type { RttSource, RttUnit, StatsReportLike } from './reportRtt';

/** Where `bytesSent` / `bytesReceived` came from. */
export type BytesSource = 'transport' | 'candidate-pair' | 'data-channel';

/** One data channel's counters (`type: 'data-channel'`; Chromium and Firefox, not node-datachannel). */
export interface DataChannelStatsSample {
  readonly label: string;
  readonly state?: string;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
}

/** SCTP association figures (`type: 'sctp-transport'`, an early-spec stat few stacks expose). */
export interface SctpStatsSample {
  readonly smoothedRttMs?: number;
  readonly congestionWindow?: number;
  readonly receiverWindow?: number;
  readonly mtu?: number;
  readonly unackData?: number;
}

/** One poll of `getStats()`, normalised. Counters are cumulative, as the stack reports them. */
export interface PeerStatsSample {
  /** When the report was read (`scheduler.now()`), ms. */
  readonly timestamp: number;
  /** Round-trip time of the selected candidate pair, ms. */
  readonly rttMs?: number;
  readonly rttSource?: RttSource;
  /**
   * Bytes on the wire: transport stats when present (Chromium: DTLS/SCTP bytes,
   * retransmissions included), else the selected pair, else the sum of data channels.
   * node-datachannel reports payload bytes here (its counters count SCTP user data).
   */
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly bytesSource: BytesSource;
  /** Sum of data-channel payload bytes, when the stack reports data-channel stats. */
  readonly payloadBytesSent?: number;
  readonly payloadBytesReceived?: number;
  /** Packets handed to the socket, from the selected pair (Chromium). */
  readonly packetsSent?: number;
  readonly packetsReceived?: number;
  /** Packets the local socket refused to send (Chromium `packetsDiscardedOnSend`); SCTP sends them again. */
  readonly packetsDiscardedOnSend?: number;
  /** RTP only (`remote-inbound-rtp`): packets the peer reports lost. */
  readonly packetsLost?: number;
  /** RTP only (`outbound-rtp`): packets sent, the denominator of `packetsLost` and `retransmissions`. */
  readonly rtpPacketsSent?: number;
  /** RTP only (`outbound-rtp`): `retransmittedPacketsSent`. */
  readonly retransmissions?: number;
  /** The congestion controller's estimate, bits/s (Chromium's candidate pair). */
  readonly availableOutgoingBitrate?: number;
  /** Id of the selected candidate pair (node-datachannel makes up a new one on every call). */
  readonly selectedPairId?: string;
  readonly dataChannels: readonly DataChannelStatsSample[];
  readonly sctp?: SctpStatsSample;
}

/** Sums a field over stats; undefined when no stat has it. */
const sum = (stats: readonly any[], field: string): number | undefined => {
  let total: number | undefined;
  for (const s of stats) {
    const n = count(s[field]);
    if (n !== undefined) total = (total ?? 0) + n;
  }
  return total;
};

/**
 * Normalises one stats report. Returns `undefined` when the report holds
 * nothing to count bytes from (no transport, no candidate pair, no data
 * channel), as node-datachannel's does before connecting and after closing.
 *
 * ## Example
 * ```ts
 * import { parseStatsReport } from './parseStatsReport'; // internal: the package exports statsSamples
 * const sample = parseStatsReport(await pc.getStats(), Date.now());
 * console.log(sample?.rttMs, sample?.bytesSent);
 * ```
 *
 * @param report The report from `getStats()`.
 * @param timestamp The time to stamp the sample with, ms.
 * @param rttUnit How to read `currentRoundTripTime`. Default `'auto'`.
 * @return The sample, or `undefined` for an empty report.
 */
export function parseStatsReport(report: StatsReportLike, timestamp: number, rttUnit: RttUnit = 'auto'): PeerStatsSample | undefined {
  const of = groupStats(report);
  const transports = of('transport');
  const pairs = of('candidate-pair');
  const channels = of('data-channel');
  const pair = selectedPair(pairs, transports);

  const dataChannels: DataChannelStatsSample[] = channels.map((c) => ({
    label: typeof c.label === 'string' ? c.label : String(c.id ?? ''),
    state: typeof c.state === 'string' ? c.state : undefined,
    bytesSent: count(c.bytesSent) ?? 0,
    bytesReceived: count(c.bytesReceived) ?? 0,
    messagesSent: count(c.messagesSent) ?? 0,
    messagesReceived: count(c.messagesReceived) ?? 0,
  }));
  const payloadBytesSent = sum(channels, 'bytesSent');
  const payloadBytesReceived = sum(channels, 'bytesReceived');

  let bytesSource: BytesSource;
  let bytesSent: number | undefined = sum(transports, 'bytesSent');
  let bytesReceived: number | undefined = sum(transports, 'bytesReceived');
  if (bytesSent !== undefined || bytesReceived !== undefined) bytesSource = 'transport';
  else if (pair && (count(pair.bytesSent) !== undefined || count(pair.bytesReceived) !== undefined)) {
    bytesSource = 'candidate-pair';
    bytesSent = count(pair.bytesSent);
    bytesReceived = count(pair.bytesReceived);
  } else if (channels.length) {
    bytesSource = 'data-channel';
    bytesSent = payloadBytesSent;
    bytesReceived = payloadBytesReceived;
  } else return undefined;

  const rtt = rttOf(of, rttUnit);
  const sctpStat = of('sctp-transport')[0];
  const sctp: SctpStatsSample | undefined = sctpStat && {
    smoothedRttMs: sctpRttMs(sctpStat),
    congestionWindow: count(sctpStat.congestionWindow),
    receiverWindow: count(sctpStat.receiverWindow),
    mtu: count(sctpStat.mtu),
    unackData: count(sctpStat.unackData),
  };

  const outbound = of('outbound-rtp');
  return {
    timestamp,
    rttMs: rtt?.ms,
    rttSource: rtt?.source,
    bytesSent: bytesSent ?? 0,
    bytesReceived: bytesReceived ?? 0,
    bytesSource,
    payloadBytesSent,
    payloadBytesReceived,
    packetsSent: pair ? count(pair.packetsSent) : undefined,
    packetsReceived: pair ? count(pair.packetsReceived) : undefined,
    packetsDiscardedOnSend: pair ? count(pair.packetsDiscardedOnSend) : undefined,
    packetsLost: sum(of('remote-inbound-rtp'), 'packetsLost'),
    rtpPacketsSent: sum(outbound, 'packetsSent'),
    retransmissions: sum(outbound, 'retransmittedPacketsSent'),
    availableOutgoingBitrate: pair ? count(pair.availableOutgoingBitrate) : undefined,
    selectedPairId: typeof pair?.id === 'string' ? pair.id : undefined,
    dataChannels,
    sctp,
  };
}
