import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { InvalidConfigError } from '../errors';
import type { Demand } from '../flow/Demand';
import { CHROME_MAX_MESSAGE_SIZE, SEND_QUEUE_LIMIT, type DataChannelLike, type Routed } from '../types';
import { BackpressureRun, type BackpressureSettings } from './backpressureInternals';
import { DEFAULT_HIGH_WATER_MARK, DEFAULT_LOW_WATER_MARK, highOfChannel } from './routeInternals';
import { subscribeChained } from './subscribeChained';
import { configObject } from '../configObject';

export { DEFAULT_HIGH_WATER_MARK, DEFAULT_LOW_WATER_MARK } from './routeInternals';

/** How often a paused channel's `bufferedAmount` is rechecked when no event comes, in ms. */
export const DEFAULT_POLL_INTERVAL = 100;

/** Options for {@link backpressure}. */
export interface BackpressureConfig {
  /**
   * A channel whose `bufferedAmount` is above `high` bytes is paused: its frames
   * are held here. Default {@link DEFAULT_HIGH_WATER_MARK} (1 MiB).
   * `high + maxMessageSize` must not exceed `SEND_QUEUE_LIMIT` (16 MiB).
   */
  readonly high?: number;
  /**
   * A channel's own watermark, bytes, at most `high`; its resume point is then the lower of `low` and half
   * of it. Use the same function as the router's `highOf`. Default: `high` (and `low`) for every channel.
   */
  readonly highOf?: (channel: DataChannelLike) => number;
  /**
   * With `highOf`: a channel at or below its own watermark counts room for at least the last frame's size in the
   * credit granted to `demand`, and before any frame names a channel the opening credit is one `maxMessageSize`
   * (not `high`). For watermarks that can be below a frame (in time, on a slow path): credit for less would read
   * the next frame in slices, one per drain, and leave the channel idle between frames. Default `false`.
   */
  readonly frameCredit?: boolean;
  /**
   * A paused channel resumes when `bufferedAmount` falls to `low` bytes; it is
   * also set as the channel's `bufferedAmountLowThreshold` while the operator is
   * subscribed (it owns the threshold then), and the previous value is restored
   * on teardown. Must be below `high`.
   * Default {@link DEFAULT_LOW_WATER_MARK} (256 KiB), or `high / 4` when that is smaller.
   */
  readonly low?: number;
  /** The largest frame accepted, in bytes; a larger one fails with `MessageTooLargeError`. Default 262144. */
  readonly maxMessageSize?: number;
  /**
   * Credit to grant to the source as channels make room. Without it the
   * operator only holds frames; the source runs at its own pace.
   */
  readonly demand?: Demand;
  /** The most credit outstanding at once, in bytes. Default `high`. */
  readonly window?: number;
  /**
   * Fallback recheck period in ms, while a channel is paused or credit is short.
   * node-datachannel sometimes misses `bufferedamountlow`; @roamhq/wrtc never fires it.
   * Default {@link DEFAULT_POLL_INTERVAL} (100).
   */
  readonly pollIntervalMs?: number;
  /**
   * Most bytes emitted in one task of the event loop, then the rest waits for the next task (a 0 ms action on
   * `scheduler`): in a browser page each `send()` waits for the WebRTC thread, so a refill of several frames
   * is one long task. At least one frame passes per task. Held frames count as held (credit, completion).
   * Default `Infinity` (no limit).
   */
  readonly maxBytesPerTask?: number;
  /** Schedules the poll and the next task. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * Every channel the router may hand frames to. A channel that closes holding frames passes them to the open
   * one with the least buffered: among these, even one that no frame of this subscription has named yet.
   * Default: only the channels that frames of this subscription named (with none of them open, the stream fails).
   */
  readonly channels?: readonly DataChannelLike[];
  /**
   * With `channels`: what happens when every one of them and every channel a frame named has closed, with nothing
   * held and the source not done. `'error'` fails the stream with `ChannelClosedError` (with `demand`, no credit
   * would ever come back and the pipeline would wait for good); `'wait'` leaves it to the caller, for a source that
   * never completes on its own and a caller that watches its channels itself (`sendFile` does). Without
   * `channels` the operator cannot know the router has no other channel, and the next frame fails instead.
   * Default `'error'`.
   */
  readonly allClosed?: 'error' | 'wait';
}

const resolve = (config: BackpressureConfig) => {
  const high = config.high ?? DEFAULT_HIGH_WATER_MARK;
  const low = config.low ?? Math.min(DEFAULT_LOW_WATER_MARK, Math.floor(high / 4));
  const maxMessageSize = config.maxMessageSize ?? CHROME_MAX_MESSAGE_SIZE;
  const window = config.window ?? high;
  const pollIntervalMs = config.pollIntervalMs ?? DEFAULT_POLL_INTERVAL;
  const maxBytesPerTask = config.maxBytesPerTask ?? Infinity;
  const details = { high, low, maxMessageSize, window, pollIntervalMs, maxBytesPerTask, sendQueueLimit: SEND_QUEUE_LIMIT };
  if (!Number.isFinite(high) || !Number.isFinite(low) || !(low >= 0 && low < high)) {
    throw new InvalidConfigError(`backpressure needs 0 <= low < high, got low=${low}, high=${high}`, details);
  }
  if (!Number.isInteger(maxMessageSize) || maxMessageSize < 1) {
    throw new InvalidConfigError(`backpressure: maxMessageSize must be a positive integer, got ${maxMessageSize}`, details);
  }
  if (high + maxMessageSize > SEND_QUEUE_LIMIT) {
    throw new InvalidConfigError(
      `backpressure: high (${high} B) + maxMessageSize (${maxMessageSize} B) exceeds the ${SEND_QUEUE_LIMIT} B per-channel send queue ` +
        '(Chrome throws beyond it, @roamhq/wrtc drops silently)',
      details,
    );
  }
  if (!Number.isFinite(window) || !(window > 0)) {
    throw new InvalidConfigError(`backpressure: window must be a finite number > 0, got ${window}`, details);
  }
  if (!Number.isFinite(pollIntervalMs) || !(pollIntervalMs > 0)) {
    throw new InvalidConfigError(`backpressure: pollIntervalMs must be a finite number > 0, got ${pollIntervalMs}`, details);
  }
  if (config.frameCredit !== undefined && typeof config.frameCredit !== 'boolean') {
    throw new InvalidConfigError(`backpressure: frameCredit must be a boolean, got ${String(config.frameCredit)}`, details);
  }
  if (config.channels !== undefined && !Array.isArray(config.channels)) {
    throw new InvalidConfigError(`backpressure: channels must be an array of data channels, got ${String(config.channels)}`, details);
  }
  if (config.allClosed !== undefined && config.allClosed !== 'error' && config.allClosed !== 'wait') {
    throw new InvalidConfigError(`backpressure: allClosed must be 'error' or 'wait', got ${String(config.allClosed)}`, details);
  }
  if (!(maxBytesPerTask > 0)) {
    throw new InvalidConfigError(`backpressure: maxBytesPerTask must be > 0 (Infinity for no limit), got ${maxBytesPerTask}`, details);
  }
  return { high, low, maxMessageSize, window, pollIntervalMs, maxBytesPerTask };
};

/**
 * Holds frames for full channels and grants the source only as much credit as
 * the channels can absorb.
 *
 * A frame passes at once when its channel holds nothing here and
 * `bufferedAmount <= high` (checked before emitting, since `sendToChannels()`
 * sends synchronously). Otherwise it is queued and the channel is paused until
 * its `bufferedamountlow` event, or until the poll sees `bufferedAmount <= low`;
 * then the queue flushes, in order, while `bufferedAmount <= high`. A channel
 * that closes while holding frames passes them to the open channel with the least buffered (of those frames
 * named, and of `channels`), or, with none open, fails the stream with `ChannelClosedError`: data is never
 * dropped. With `channels`, every channel closed with nothing held and the source not done fails it too (`allClosed`). The
 * stream completes once the source has completed and every queue is empty.
 *
 * With `demand`, after every change the credit is topped up to
 * `min(window, Σ open channels max(0, high - bufferedAmount) - queued bytes)`
 * (taken as `high` until the first frame names a channel), whenever less than
 * half of that is left, so the source reads only as fast as the channels drain.
 *
 * ```
 * frames:   (abcde|)               one channel, high = 100, 40 B frames, sent on emit
 * backpressure({ high: 100, low: 20 })
 * output:   (abc)----(de|)         d and e wait until bufferedAmount falls to 20
 *                    ^ bufferedamountlow (or the next poll tick)
 * ```
 *
 * ## Example
 * ```ts
 * import { Demand, fromBytes, encodeFrames, adaptiveChunk, roundRobin, backpressure, sendToChannels } from 'tallow-rx';
 *
 * const demand = new Demand();
 * fromBytes(file, { demand })
 *   .pipe(adaptiveChunk(rtt$), encodeFrames({ transferId }), roundRobin(channels), backpressure({ demand, channels }), sendToChannels())
 *   .subscribe();
 * ```
 *
 * @see {@link roundRobin}
 * @see {@link sendToChannels}
 * @param config See {@link BackpressureConfig}. Validated at call time (`InvalidConfigError`).
 * @return An operator that re-emits every {@link Routed} frame, per channel in order, when its channel has room.
 */
export function backpressure(config: BackpressureConfig = {}): OperatorFunction<Routed, Routed> {
  config = configObject('backpressure', config);
  const { high, low, maxMessageSize, window, pollIntervalMs, maxBytesPerTask } = resolve(config);
  // Each channel's watermark and resume point: `high` and `low`, or its own (`highOf`).
  const highOf = highOfChannel(high, config.highOf);
  const lowOf = config.highOf ? (channel: DataChannelLike) => Math.min(low, Math.floor(highOf(channel) / 2)) : () => low;
  const settings: BackpressureSettings = {
    high,
    maxMessageSize,
    window,
    pollIntervalMs,
    maxBytesPerTask,
    highOf,
    lowOf,
    ownHighs: () => !!config.highOf,
    frameCredit: !!config.highOf && config.frameCredit === true,
    demand: config.demand,
    scheduler: config.scheduler ?? asyncScheduler,
    channels: config.channels ?? [],
    failAllClosed: config.allClosed !== 'wait' && !!config.channels?.length,
  };
  return (source) =>
    new Observable<Routed>((subscriber) => {
      // This subscription's queues, listeners, timers and credit.
      const run = new BackpressureRun(subscriber, settings);
      // Opening credit (room for one empty channel), so the source can start.
      run.settle();
      subscribeChained(source, subscriber, {
        next: (routed) => run.accept(routed),
        error: (err) => subscriber.error(err),
        complete: () => run.sourceComplete(),
      });
      return () => run.teardown();
    });
}
