/**
 * Types of the statistics layer: what the transfer pipeline pushes in
 * (`StatsInput`), what `transferStats()` emits (`TransferStats`), and the
 * scalar `TransferSignals` that the pure judges (`detectBottleneck`,
 * `qualityScore`, `recommend`) read. See docs/stats.md.
 */
import type { ProfileName } from '../transfer/profiles';

/** One event from the transfer pipeline. Malformed events (negative or non-finite numbers) are ignored. */
export type StatsInput =
  /** Payload bytes just sent (sender) or received (receiver). */
  | { readonly kind: 'progress'; readonly bytes: number }
  /** A round-trip time measurement, ms (from `rtt$` or `pingRtt`), and where it was measured (default `transport`). */
  | { readonly kind: 'rtt'; readonly ms: number; readonly source?: 'transport' | 'application' }
  /** A loss rate 0..1 measured over one interval (from `loss$` or app-level NACK counts). Never a cumulative figure. */
  | { readonly kind: 'loss'; readonly rate: number }
  /** A channel's `bufferedAmount`, bytes. The latest value per label is kept. */
  | { readonly kind: 'buffer'; readonly label: string; readonly bytes: number }
  /** The chunk payload size now in use, bytes. */
  | { readonly kind: 'chunk-size'; readonly bytes: number }
  /** Data channels and peer connections ("lanes") now in use, and the lane controller's last change, if any. */
  | { readonly kind: 'channels'; readonly channels: number; readonly lanes: number; readonly laneChange?: LaneChange }
  /** The transfer's total size, bytes. */
  | { readonly kind: 'total'; readonly bytes: number }
  /**
   * Bytes of the total done so far, counted from the start of the file(s), so bytes held before this transfer
   * (a resume) count: `bytesDone` is then the latest of these, not the sum of `progress`. Throughput still
   * comes from `progress` alone.
   */
  | { readonly kind: 'done'; readonly bytes: number }
  /** Share of the last interval the local event loop was busy, 0..1. */
  | { readonly kind: 'cpu'; readonly busy: number }
  /** Bytes the receiver holds but has not yet persisted (reported by the peer). */
  | { readonly kind: 'receiver'; readonly queuedBytes: number }
  /** The transfer profile now in use; lets `recommend` suggest a switch. */
  | { readonly kind: 'profile'; readonly profile: ProfileName };

/** The lane controller's last change of the lane count (`laneController`); reasons: docs/stats.md. */
export interface LaneChange {
  /** `add` or `shed` one lane. */
  readonly action: 'add' | 'shed';
  /** Why, as a code: `loss-bound` (add); `queue-filling`, `over-cap` (shed). */
  readonly reason: string;
  /** Lanes after the change. */
  readonly lanes: number;
  /** `scheduler.now()` when it was decided, ms. */
  readonly atMs: number;
}

/** The `kind` of a {@link StatsInput}. */
export type StatsInputKind = StatsInput['kind'];

/** What limits the transfer right now. Rules and thresholds: docs/stats.md. */
export type Bottleneck = 'none' | 'network-bandwidth' | 'network-latency' | 'backpressure' | 'cpu' | 'receiver' | 'unknown';

/** What `recommend` suggests changing. */
export type RecommendationAction = 'none' | 'more-channels' | 'more-lanes' | 'smaller-chunks' | 'larger-chunks' | 'switch-profile';

/** A suggested change, with a human-readable reason. */
export interface Recommendation {
  readonly action: RecommendationAction;
  /** Set when `action` is `'switch-profile'`. */
  readonly profile?: ProfileName;
  readonly reason: string;
}

/** Throughput figures, bits per second. */
export interface Throughput {
  /** Over the last sample. */
  readonly current: number;
  /** Over the whole window (bytes in the window / time the window spans). */
  readonly average: number;
  /** Highest per-sample figure in the window. */
  readonly peak: number;
  /** Lowest per-sample figure in the window (idle samples count as 0). */
  readonly min: number;
}

/** Round-trip times, ms, over the window. All `undefined` until an RTT arrives. */
export interface RttSummary {
  /**
   * Where the latest measurement came from. `transport`: the connection's own measurement (`getStats()`: the
   * ICE candidate pair or SCTP), which no application data queues ahead of. `application`: a ping/pong on the
   * control channel, used while `getStats()` gives none; it shares the association with the data, so it
   * includes time spent behind queued data in either side's send buffer (seconds on a slow, full link).
   */
  readonly source?: 'transport' | 'application';
  /** The latest measurement. */
  readonly current?: number;
  readonly avg?: number;
  readonly min?: number;
  readonly max?: number;
}

/** One statistics sample, emitted by `transferStats()` every `sampleIntervalMs` ms and once more on completion. */
export interface TransferStats {
  /** `scheduler.now()` when the sample closed, ms. */
  readonly timestamp: number;
  /** Time since subscription, ms. */
  readonly elapsedMs: number;
  /** Duration of this sample, ms (shorter for the final one). */
  readonly intervalMs: number;
  /** True for the sample emitted because the source completed. */
  readonly final: boolean;
  readonly throughput: Throughput;
  /** Payload bytes reported by `progress` events so far. */
  readonly bytesDone: number;
  /** From the latest `total` event. */
  readonly bytesTotal?: number;
  /** `bytesDone / bytesTotal`, 0..100; `undefined` while the total is unknown. */
  readonly percent?: number;
  /** Remaining bytes over the window's average throughput; `undefined` when unknown or stalled, 0 when done. */
  readonly etaSeconds?: number;
  readonly rtt: RttSummary;
  /** Mean absolute difference of successive RTT measurements in the window, ms. */
  readonly jitterMs?: number;
  /** The latest per-interval loss rate reported within the window, 0..1. */
  readonly lossRate?: number;
  /** Latest `bufferedAmount` per channel label, bytes. */
  readonly buffers: Readonly<Record<string, number>>;
  readonly channels?: number;
  /** Peer connections (lanes) in use. */
  readonly lanes?: number;
  /** The lane controller's last change: what, why and when (absent while it made none). */
  readonly laneChange?: LaneChange;
  readonly chunkSize?: number;
  /** Mean event-loop busy share over the last sample, 0..1. */
  readonly cpuBusy?: number;
  /** The receiver's latest reported backlog, bytes. */
  readonly receiverQueuedBytes?: number;
  readonly bottleneck: Bottleneck;
  /** 0 (unusable) .. 100 (nothing to complain about). */
  readonly quality: number;
  readonly recommendation: Recommendation;
  /** The evidence `bottleneck`, `quality` and `recommendation` were judged on. */
  readonly signals: TransferSignals;
}

/**
 * The scalar evidence the pure judges read. `transferStats` derives it from
 * the last `trendSamples` samples; tests and other callers may build it by hand.
 * Every optional field means "no evidence": a rule that needs it does not fire.
 */
export interface TransferSignals {
  /** Samples the figures below are based on. */
  readonly samples: number;
  /** True once `bytesDone >= bytesTotal` (total known). */
  readonly done?: boolean;
  /** Mean throughput over the recent samples, bits/s. */
  readonly throughputBps: number;
  /** Coefficient of variation (stddev / mean) of recent per-sample throughput; small means flat. */
  readonly throughputCv?: number;
  /** Mean RTT over the recent samples, ms. */
  readonly rttMs?: number;
  /** Lowest RTT in the window, ms: the base RTT without queueing delay. */
  readonly rttMinMs?: number;
  readonly jitterMs?: number;
  /** Loss rate, 0..1 per interval. */
  readonly lossRate?: number;
  /** Share of (channel, sample) observations at or above `bufferFullBytes`, 0..1. */
  readonly bufferFullShare?: number;
  /** Mean event-loop busy share, 0..1. */
  readonly cpuBusy?: number;
  /** Receiver backlog growth over the recent samples, bytes/s (positive: growing). */
  readonly receiverGrowthBps?: number;
  /** Latest receiver backlog, bytes. */
  readonly receiverQueuedBytes?: number;
  readonly channels?: number;
  readonly lanes?: number;
  readonly chunkSize?: number;
  /** Largest chunk the stack accepts, bytes. Default: 256 KiB minus the frame header. */
  readonly maxChunkSize?: number;
  /** Bytes one SCTP association keeps in flight; caps a lane at `window / RTT`. Default 400 kB. */
  readonly windowBytes?: number;
  /** The profile in use, when the pipeline reported it. */
  readonly profile?: ProfileName;
}
