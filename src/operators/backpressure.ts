import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { ChannelClosedError, InvalidConfigError, MessageTooLargeError } from '../errors';
import type { Demand } from '../flow/Demand';
import { CHROME_MAX_MESSAGE_SIZE, SEND_QUEUE_LIMIT, type DataChannelLike, type Routed } from '../types';
import { DEFAULT_HIGH_WATER_MARK, DEFAULT_LOW_WATER_MARK, highOfChannel, isGone, isOpen } from './routeInternals';
import { subscribeChained } from './subscribeChained';

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
}

/** One channel's queue and listeners. */
interface ChannelState {
  readonly channel: DataChannelLike;
  /** Held frames; `queue[head]` is the oldest. */
  queue: Routed[];
  /** Index of the oldest held frame. */
  head: number;
  /** Listener for `bufferedamountlow` and `open`. */
  readonly onResume: () => void;
  /** Listener for `close`. */
  readonly onClose: () => void;
  /** The channel's `bufferedAmountLowThreshold` before this operator set `low`, restored on teardown. */
  readonly previousThreshold: number;
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
 * that closes while holding frames fails the stream with `ChannelClosedError`:
 * data is never dropped. The stream completes once the source has completed and
 * every queue is empty.
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
 *   .pipe(adaptiveChunk(rtt$), encodeFrames({ transferId }), roundRobin(channels), backpressure({ demand }), sendToChannels())
 *   .subscribe();
 * ```
 *
 * @see {@link roundRobin}
 * @see {@link sendToChannels}
 * @param config See {@link BackpressureConfig}. Validated at call time (`InvalidConfigError`).
 * @return An operator that re-emits every {@link Routed} frame, per channel in order, when its channel has room.
 */
export function backpressure(config: BackpressureConfig = {}): OperatorFunction<Routed, Routed> {
  const { high, low, maxMessageSize, window, pollIntervalMs, maxBytesPerTask } = resolve(config);
  // Each channel's watermark and resume point: `high` and `low`, or its own (`highOf`).
  const highOf = highOfChannel(high, config.highOf);
  const lowOf = config.highOf ? (channel: DataChannelLike) => Math.min(low, Math.floor(highOf(channel) / 2)) : () => low;
  const demand = config.demand;
  const scheduler = config.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<Routed>((subscriber) => {
      // Channels seen so far, with their queues and listeners.
      const states = new Map<DataChannelLike, ChannelState>();
      // Bytes held in all queues.
      let queuedBytes = 0;
      // Frames held in all queues.
      let queuedFrames = 0;
      // True once the source has completed.
      let sourceDone = false;
      // The armed poll tick, if any.
      let poll: Subscription | undefined;
      // Bytes emitted since the last task boundary (with `maxBytesPerTask`), and the action that marks the next.
      let burst = 0;
      let nextTask: Subscription | undefined;

      const pending = (st: ChannelState) => st.queue.length - st.head;

      /** Emits a frame, counting it against this task's bytes; the first one of a task arms the task boundary. */
      const emit = (item: Routed) => {
        if (maxBytesPerTask !== Infinity) {
          burst += item.frame.byteLength;
          nextTask ??= scheduler.schedule(newTask, 0);
        }
        subscriber.next(item);
      };

      /** A new task: the budget is whole again; held frames go out, least buffered channel first. */
      const newTask = () => {
        nextTask?.unsubscribe();
        nextTask = undefined;
        burst = 0;
        const held = [...states.values()].filter((st) => pending(st) > 0 && !isGone(st.channel));
        held.sort((a, b) => a.channel.bufferedAmount - b.channel.bufferedAmount);
        for (const st of held) {
          if (subscriber.closed) return;
          flush(st);
        }
        settle();
      };

      const closedError = (st: ChannelState) =>
        new ChannelClosedError(`channel "${st.channel.label}" is ${st.channel.readyState} with ${pending(st)} frame(s) not sent`, {
          label: st.channel.label,
          readyState: st.channel.readyState,
          queuedFrames: pending(st),
          queuedBytes: st.queue.slice(st.head).reduce((n, r) => n + r.frame.byteLength, 0),
        });

      /** Room the channels have left for new bytes, minus what is already held. */
      const freeRoom = () => {
        if (!states.size) return high;
        let room = 0;
        for (const st of states.values()) if (isOpen(st.channel)) room += Math.max(0, highOf(st.channel) - st.channel.bufferedAmount);
        return room - queuedBytes;
      };

      const topUp = () => {
        if (!demand || sourceDone || subscriber.closed) return;
        const target = Math.min(window, freeRoom());
        if (target > 0 && demand.available < target / 2) demand.request(target - demand.available);
      };

      /** Completes when the source is done and nothing is held. Returns true once finished. */
      const checkComplete = () => {
        if (!subscriber.closed && sourceDone && queuedFrames === 0) subscriber.complete();
        return subscriber.closed;
      };

      const needsPoll = () => queuedFrames > 0 || (!!demand && !sourceDone && freeRoom() < window);

      const tick = () => {
        poll = undefined;
        for (const st of [...states.values()]) {
          if (subscriber.closed) return;
          if (pending(st) && (isGone(st.channel) || (isOpen(st.channel) && st.channel.bufferedAmount <= lowOf(st.channel)))) flush(st);
        }
        settle();
      };

      const updatePoll = () => {
        if (subscriber.closed) return;
        if (needsPoll()) {
          poll ??= scheduler.schedule(tick, pollIntervalMs);
        } else if (poll) {
          poll.unsubscribe();
          poll = undefined;
        }
      };

      /** After any change: complete, or grant credit and (dis)arm the poll. */
      const settle = () => {
        if (checkComplete()) return;
        topUp();
        updatePoll();
      };

      /**
       * A closed channel's held frames move to the open channel with the least buffered, so no data is
       * lost while another channel lives; with none open, that is a `ChannelClosedError`.
       */
      const reroute = (st: ChannelState) => {
        let best: ChannelState | undefined;
        for (const other of states.values()) {
          if (other !== st && isOpen(other.channel) && (!best || other.channel.bufferedAmount < best.channel.bufferedAmount)) best = other;
        }
        if (!best) return subscriber.error(closedError(st));
        while (pending(st)) {
          const item = st.queue[st.head];
          st.queue[st.head++] = undefined as unknown as Routed;
          best.queue.push({ channel: best.channel, frame: item.frame });
        }
        st.queue = [];
        st.head = 0;
        flush(best);
      };

      /** Sends held frames, oldest first, while the channel has room. */
      const flush = (st: ChannelState) => {
        if (isGone(st.channel)) {
          if (pending(st)) reroute(st);
          return;
        }
        while (pending(st) && burst < maxBytesPerTask && isOpen(st.channel) && st.channel.bufferedAmount <= highOf(st.channel)) {
          const item = st.queue[st.head];
          st.queue[st.head++] = undefined as unknown as Routed;
          queuedBytes -= item.frame.byteLength;
          queuedFrames--;
          emit(item);
          if (subscriber.closed) return;
        }
        if (!pending(st)) {
          st.queue = [];
          st.head = 0;
          return;
        }
        // Paused: with watermarks of its own, the channel's resume point follows its watermark now.
        if (config.highOf && isOpen(st.channel)) setThreshold(st.channel, lowOf(st.channel));
        if (st.head > 1024 && st.head * 2 > st.queue.length) {
          st.queue = st.queue.slice(st.head);
          st.head = 0;
        }
      };

      const stateOf = (channel: DataChannelLike): ChannelState => {
        const known = states.get(channel);
        if (known) return known;
        const st: ChannelState = {
          channel,
          queue: [],
          head: 0,
          previousThreshold: channel.bufferedAmountLowThreshold,
          onResume: () => {
            if (subscriber.closed) return;
            flush(st);
            settle();
          },
          onClose: () => {
            if (subscriber.closed) return;
            if (pending(st)) reroute(st);
            if (!subscriber.closed) settle();
          },
        };
        states.set(channel, st);
        setThreshold(channel, lowOf(channel));
        channel.addEventListener('bufferedamountlow', st.onResume);
        channel.addEventListener('open', st.onResume);
        channel.addEventListener('close', st.onClose);
        return st;
      };

      // Opening credit (room for one empty channel), so the source can start.
      settle();
      subscribeChained(source, subscriber, {
        next: (routed) => {
          try {
            const { channel, frame } = routed;
            if (frame.byteLength > maxMessageSize) {
              subscriber.error(new MessageTooLargeError(frame.byteLength, maxMessageSize, channel.label));
              return;
            }
            const st = stateOf(channel);
            if (isGone(channel)) {
              subscriber.error(
                new ChannelClosedError(`channel "${channel.label}" is ${channel.readyState}; a frame of ${frame.byteLength} B cannot be sent`, {
                  label: channel.label,
                  readyState: channel.readyState,
                  frameSize: frame.byteLength,
                }),
              );
              return;
            }
            if (!pending(st) && burst < maxBytesPerTask && isOpen(channel) && channel.bufferedAmount <= highOf(channel)) {
              emit(routed);
            } else {
              st.queue.push(routed);
              queuedBytes += frame.byteLength;
              queuedFrames++;
            }
            settle();
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          settle();
        },
      });

      return () => {
        poll?.unsubscribe();
        poll = undefined;
        nextTask?.unsubscribe();
        nextTask = undefined;
        for (const st of states.values()) {
          st.channel.removeEventListener('bufferedamountlow', st.onResume);
          st.channel.removeEventListener('open', st.onResume);
          st.channel.removeEventListener('close', st.onClose);
          // The threshold is ours only while subscribed: give the channel back as we found it.
          restoreThreshold(st);
          st.queue = [];
        }
        states.clear();
      };
    });
}

/** Gives a channel its own `bufferedAmountLowThreshold` back; a closed (or destroyed) one has none to give. */
function restoreThreshold(st: ChannelState): void {
  if (isGone(st.channel)) return;
  setThreshold(st.channel, st.previousThreshold);
}

/**
 * Sets `bufferedAmountLowThreshold`. node-datachannel throws ("setBufferedAmountLowThreshold() called on
 * destroyed channel") on a channel whose connection the peer closed while it still reads `open`; such a
 * channel's `close` follows, and its frames are resent from there, so the throw is dropped here.
 */
function setThreshold(channel: DataChannelLike, bytes: number): void {
  try {
    channel.bufferedAmountLowThreshold = bytes;
  } catch {
    // destroyed under us: its close event comes
  }
}
