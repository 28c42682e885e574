/**
 * Watermarks in time, not bytes, for a transfer's lanes. A byte watermark that ignores a lane's rate makes
 * its queue seconds long on a slow lossy path (1 MiB at a lane's 2 Mbit/s is 4 s): data committed to one lane
 * drains at that lane's rate at the end, the RTT the controller reads hides the queue, and the control
 * messages on the first connection (acks' answers, lane offers, pings) wait behind its data, since a
 * connection sends its channels' messages in one queue. Each channel's watermark is instead its share of the
 * goodput times a few RTTs: `clamp(goodput / lanes / channelsOnItsLane × max(minQueueMs, queueRtts × RTT),
 * minBytes, high)`.
 *
 * ```
 * goodput 2 MB/s over 8 lanes, RTT 40 ms, 1 channel per lane:  250 kB/s × 160 ms = 40 kB → 64 KiB (minBytes)
 * goodput 8 MB/s over 8 lanes, RTT 40 ms:                      1 MB/s × 160 ms = 160 kB
 * ```
 */
import { InvalidConfigError } from '../errors';
import type { DataChannelLike } from '../types';

/** Options of {@link laneWatermark} and {@link LaneWatermarks}. */
export interface LaneWatermarkConfig {
  /** A channel's queue holds about this many RTTs of its rate. Default `4`. */
  readonly queueRtts?: number;
  /** …and at least this long, ms. Default `100`. */
  readonly minQueueMs?: number;
  /** Never below this many bytes (a channel must hold the next frames while its lane's window opens). Default 64 KiB. */
  readonly minBytes?: number;
  /**
   * A channel's watermark before the first measurement, bytes, within `minBytes` and `high`. Default: `minBytes`
   * (the short queue, so the first control messages do not wait behind a full one; in-band lanes). The connections
   * the app gave take what the channel drained so far, per queue time since data started (a fast path reaches
   * `high` at once, a slow one does not queue a minute of data before the first stats sample measures it).
   */
  readonly unmeasured?: (channel: DataChannelLike) => number;
}

/** What one channel's watermark is computed from. */
export interface LaneWatermarkInput {
  /** The channel's share of the goodput, bytes per second: goodput / lanes / channels on its lane. */
  readonly channelBytesPerSecond: number;
  /** The path's round-trip time, ms. */
  readonly rttMs: number;
  /** The byte watermark (the tuning's `high`): the most it can be. */
  readonly highBytes: number;
}

/** Default {@link LaneWatermarkConfig.queueRtts}. */
export const LANE_QUEUE_RTTS = 4;
/** Default {@link LaneWatermarkConfig.minQueueMs}. */
export const LANE_MIN_QUEUE_MS = 100;
/** Default {@link LaneWatermarkConfig.minBytes}. */
export const LANE_MIN_HIGH_BYTES = 64 * 1024;

const finiteAtLeast = (field: string, value: number, min: number): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw new InvalidConfigError(`lane watermark ${field} must be a finite number >= ${min}, got ${String(value)}`, { field, value });
  return value;
};

const resolve = (config: LaneWatermarkConfig) => ({
  queueRtts: finiteAtLeast('queueRtts', config.queueRtts ?? LANE_QUEUE_RTTS, 0),
  minQueueMs: finiteAtLeast('minQueueMs', config.minQueueMs ?? LANE_MIN_QUEUE_MS, 0),
  minBytes: finiteAtLeast('minBytes', config.minBytes ?? LANE_MIN_HIGH_BYTES, 0),
  unmeasured: config.unmeasured,
});

/**
 * One channel's watermark, bytes: `clamp(rate × max(minQueueMs, queueRtts × rttMs) / 1000, minBytes, high)`.
 * A rate or RTT that is missing, negative or not finite gives `high` (nothing measured yet: the byte watermark).
 *
 * @param input The channel's rate, the RTT and the byte watermark.
 * @param config Queue length in RTTs, its floor in ms, the floor in bytes.
 * @return The watermark, bytes.
 * @throws InvalidConfigError for a bad option.
 */
export function laneWatermark(input: LaneWatermarkInput, config: LaneWatermarkConfig = {}): number {
  return watermarkOf(input, resolve(config));
}

/** {@link laneWatermark} with its options checked already (`LaneWatermarks.highOf` runs per routing decision). */
function watermarkOf(input: LaneWatermarkInput, c: ReturnType<typeof resolve>): number {
  const { channelBytesPerSecond: rate, rttMs, highBytes } = input;
  if (!(Number.isFinite(rate) && rate >= 0 && Number.isFinite(rttMs) && rttMs >= 0)) return highBytes;
  const queueMs = Math.max(c.minQueueMs, c.queueRtts * rttMs);
  return Math.round(Math.min(highBytes, Math.max(c.minBytes, (rate * queueMs) / 1000)));
}

/**
 * The watermarks of one sending session's channels, from its latest measurement. `highOf` is what the router
 * and `backpressure` take; until the first `update` every channel gets `minBytes` (rates unknown: the short
 * queue, so the first control messages do not wait behind a full one), or `unmeasured`'s figure within the bounds.
 */
export class LaneWatermarks {
  private readonly config: ReturnType<typeof resolve>;
  /** One lane's share of the goodput, bytes per second (undefined before the first measurement). */
  private laneBytesPerSecond: number | undefined;
  private rttMs = 0;

  constructor(
    private readonly highBytes: number,
    /** How many data channels share `channel`'s lane (its connection). */
    private readonly channelsOnLaneOf: (channel: DataChannelLike) => number,
    config: LaneWatermarkConfig = {},
  ) {
    this.config = resolve(config);
  }

  /**
   * A new measurement: the rate of all lanes together (bytes per second), the RTT (ms; 0 on a path too short to
   * read, where `minQueueMs` sets the queue), the lanes in use. A rate of 0 (nothing measured in the window) or a
   * value that is not finite leaves the last measurement.
   */
  update(goodputBytesPerSecond: number, rttMs: number, lanes: number): void {
    if (!(Number.isFinite(goodputBytesPerSecond) && goodputBytesPerSecond > 0 && Number.isFinite(rttMs) && rttMs >= 0 && lanes >= 1)) return;
    this.laneBytesPerSecond = goodputBytesPerSecond / lanes;
    this.rttMs = rttMs;
  }

  /** `channel`'s watermark now, bytes. */
  readonly highOf = (channel: DataChannelLike): number => {
    if (this.laneBytesPerSecond === undefined) {
      const start = this.config.unmeasured?.(channel) ?? 0;
      return Math.round(Math.min(this.highBytes, Math.max(this.config.minBytes, Number.isFinite(start) ? start : 0)));
    }
    const channelBytesPerSecond = this.laneBytesPerSecond / Math.max(1, this.channelsOnLaneOf(channel));
    return watermarkOf({ channelBytesPerSecond, rttMs: this.rttMs, highBytes: this.highBytes }, this.config);
  };
}
