/**
 * The per-subscription engine of `backpressure`: each channel's queue and listeners, the task budget, the
 * poll, and the credit. `backpressure` validates its options and makes one {@link BackpressureRun} per
 * subscription, so every subscriber gets fresh state.
 */
import type { SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { ChannelClosedError, MessageTooLargeError } from '../errors';
import type { Demand } from '../flow/Demand';
import type { DataChannelLike, Routed } from '../types';
import { isGone, isOpen } from './routeInternals';

/** The options `backpressure` resolved, shared by all its subscriptions. */
export interface BackpressureSettings {
  /** Default watermark, bytes: the opening room while no frame has named a channel. */
  readonly high: number;
  /** The largest frame accepted, bytes. */
  readonly maxMessageSize: number;
  /** The most credit outstanding at once, bytes. */
  readonly window: number;
  /** Fallback recheck period, ms. */
  readonly pollIntervalMs: number;
  /** Most bytes emitted in one task (`Infinity`: no limit). */
  readonly maxBytesPerTask: number;
  /** Each channel's watermark. */
  readonly highOf: (channel: DataChannelLike) => number;
  /** Each channel's resume point. */
  readonly lowOf: (channel: DataChannelLike) => number;
  /** True when the caller gave watermarks of its own (`highOf`): a paused channel's threshold follows them. */
  readonly ownHighs: () => boolean;
  /** A channel at or below its watermark counts room for a whole frame; the opening credit is one frame (`frameCredit`). */
  readonly frameCredit: boolean;
  /** Credit to grant to the source, if any. */
  readonly demand: Demand | undefined;
  /** Schedules the poll and the next task. */
  readonly scheduler: SchedulerLike;
  /** Channels a closed channel's held frames may move to besides those frames named. */
  readonly channels: readonly DataChannelLike[];
  /** `channels` given and `allClosed: 'error'`: fail once every known channel is gone, nothing held, the source not done. */
  readonly failAllClosed: boolean;
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

const pending = (st: ChannelState) => st.queue.length - st.head;

/** Takes the oldest held frame off a channel's queue. */
const shift = (st: ChannelState): Routed => {
  const item = st.queue[st.head];
  st.queue[st.head++] = undefined as unknown as Routed;
  return item;
};

const closedError = (st: ChannelState) =>
  new ChannelClosedError(`channel "${st.channel.label}" is ${st.channel.readyState} with ${pending(st)} frame(s) not sent`, {
    label: st.channel.label,
    readyState: st.channel.readyState,
    queuedFrames: pending(st),
    queuedBytes: st.queue.slice(st.head).reduce((n, r) => n + r.frame.byteLength, 0),
  });

const goneError = (channel: DataChannelLike, frame: Routed['frame']) =>
  new ChannelClosedError(`channel "${channel.label}" is ${channel.readyState}; a frame of ${frame.byteLength} B cannot be sent`, {
    label: channel.label,
    readyState: channel.readyState,
    frameSize: frame.byteLength,
  });

/** One subscription of `backpressure`: its state, and the named steps that move frames and credit. */
export class BackpressureRun {
  // Channels seen so far, with their queues and listeners.
  private readonly states = new Map<DataChannelLike, ChannelState>();
  // Bytes held in all queues.
  private queuedBytes = 0;
  // Frames held in all queues.
  private queuedFrames = 0;
  // The last frame's size, bytes (for `frameCredit`).
  private frameBytes = 0;
  // True once the source has completed.
  private sourceDone = false;
  // The armed poll tick, if any.
  private poll: Subscription | undefined;
  // Bytes emitted since the last task boundary (with `maxBytesPerTask`), and the action that marks the next.
  private burst = 0;
  private nextTask: Subscription | undefined;

  constructor(
    private readonly subscriber: Subscriber<Routed>,
    private readonly s: BackpressureSettings,
  ) {
    if (s.failAllClosed) for (const ch of s.channels) ch.addEventListener('close', this.onAnyClose);
  }

  /**
   * A channel closed (named by a frame or in `channels`): with nothing held, the source not done and no channel
   * left, no credit would come back and a pipeline with `demand` would wait for good, so the stream fails.
   */
  private readonly onAnyClose = (): void => {
    if (!this.s.failAllClosed || this.subscriber.closed || this.sourceDone || this.queuedFrames > 0) return;
    const known = this.everyChannel();
    if (known.length && known.every(isGone)) {
      this.subscriber.error(new ChannelClosedError('every channel closed before the source completed', { channels: new Set(known).size }));
    }
  };

  /** The channels frames named and those of `channels` (some may be both). */
  private everyChannel(): DataChannelLike[] {
    return [...this.states.keys(), ...this.s.channels];
  }

  /** A frame from the source: passes at once when its channel holds nothing and has room, else is held. */
  accept(routed: Routed): void {
    try {
      const { channel, frame } = routed;
      if (frame.byteLength > this.s.maxMessageSize) {
        this.subscriber.error(new MessageTooLargeError(frame.byteLength, this.s.maxMessageSize, channel.label));
        return;
      }
      const st = this.stateOf(channel);
      this.frameBytes = frame.byteLength;
      if (isGone(channel)) {
        this.subscriber.error(goneError(channel, frame));
        return;
      }
      if (!pending(st) && this.burst < this.s.maxBytesPerTask && isOpen(channel) && channel.bufferedAmount <= this.s.highOf(channel)) {
        this.emit(routed);
      } else {
        this.park(st, routed);
      }
      this.settle();
    } catch (err) {
      this.subscriber.error(err);
    }
  }

  /** The source completed: finish once every queue is empty. */
  sourceComplete(): void {
    this.sourceDone = true;
    this.settle();
  }

  /** After any change: complete, or grant credit and (dis)arm the poll. */
  settle(): void {
    if (this.checkComplete()) return;
    this.topUp();
    this.updatePoll();
  }

  /** Cancels the timers, gives every channel its listeners and threshold back, and drops the queues. */
  teardown(): void {
    if (this.s.failAllClosed) for (const ch of this.s.channels) ch.removeEventListener('close', this.onAnyClose);
    this.poll?.unsubscribe();
    this.poll = undefined;
    this.nextTask?.unsubscribe();
    this.nextTask = undefined;
    for (const st of this.states.values()) {
      st.channel.removeEventListener('bufferedamountlow', st.onResume);
      st.channel.removeEventListener('open', st.onResume);
      st.channel.removeEventListener('close', st.onClose);
      // The threshold is ours only while subscribed: give the channel back as we found it.
      restoreThreshold(st);
      st.queue = [];
    }
    this.states.clear();
  }

  /** Holds a frame on its channel's queue. */
  private park(st: ChannelState, routed: Routed): void {
    st.queue.push(routed);
    this.queuedBytes += routed.frame.byteLength;
    this.queuedFrames++;
  }

  /** Emits a frame, counting it against this task's bytes; the first one of a task arms the task boundary. */
  private emit(item: Routed): void {
    if (this.s.maxBytesPerTask !== Infinity) {
      this.burst += item.frame.byteLength;
      this.nextTask ??= this.s.scheduler.schedule(() => this.newTask(), 0);
    }
    this.subscriber.next(item);
  }

  /** A new task: the budget is whole again; held frames go out, least buffered channel first. */
  private newTask(): void {
    this.nextTask?.unsubscribe();
    this.nextTask = undefined;
    this.burst = 0;
    const held = [...this.states.values()].filter((st) => pending(st) > 0 && !isGone(st.channel));
    held.sort((a, b) => a.channel.bufferedAmount - b.channel.bufferedAmount);
    for (const st of held) {
      if (this.subscriber.closed) return;
      this.flush(st);
    }
    this.settle();
  }

  /** Room the channels have left for new bytes, minus what is already held. */
  private freeRoom(): number {
    if (!this.states.size) return this.s.frameCredit ? this.s.maxMessageSize : this.s.high;
    let room = 0;
    for (const { channel } of this.states.values()) {
      if (!isOpen(channel)) continue;
      const left = this.s.highOf(channel) - channel.bufferedAmount;
      room += left >= 0 && this.s.frameCredit ? Math.max(left, this.frameBytes) : Math.max(0, left);
    }
    return room - this.queuedBytes;
  }

  private topUp(): void {
    const { demand, window } = this.s;
    if (!demand || this.sourceDone || this.subscriber.closed) return;
    const target = Math.min(window, this.freeRoom());
    if (target > 0 && demand.available < target / 2) demand.request(target - demand.available);
  }

  /** Completes when the source is done and nothing is held. Returns true once finished. */
  private checkComplete(): boolean {
    if (!this.subscriber.closed && this.sourceDone && this.queuedFrames === 0) this.subscriber.complete();
    return this.subscriber.closed;
  }

  private needsPoll(): boolean {
    return this.queuedFrames > 0 || (!!this.s.demand && !this.sourceDone && this.freeRoom() < this.s.window);
  }

  private tick(): void {
    this.poll = undefined;
    for (const st of [...this.states.values()]) {
      if (this.subscriber.closed) return;
      if (pending(st) && (isGone(st.channel) || (isOpen(st.channel) && st.channel.bufferedAmount <= this.s.lowOf(st.channel)))) this.flush(st);
    }
    this.settle();
  }

  private updatePoll(): void {
    if (this.subscriber.closed) return;
    if (this.needsPoll()) {
      this.poll ??= this.s.scheduler.schedule(() => this.tick(), this.s.pollIntervalMs);
    } else if (this.poll) {
      this.poll.unsubscribe();
      this.poll = undefined;
    }
  }

  /**
   * A closed channel's held frames move to the open channel with the least buffered, so no data is
   * lost while another channel lives; with none open, that is a `ChannelClosedError`.
   */
  private reroute(st: ChannelState): void {
    let best: DataChannelLike | undefined;
    for (const ch of this.everyChannel()) {
      if (ch !== st.channel && isOpen(ch) && (!best || ch.bufferedAmount < best.bufferedAmount)) best = ch;
    }
    if (!best) return this.subscriber.error(closedError(st));
    return this.moveHeld(st, this.stateOf(best));
  }

  /** Moves `st`'s held frames to `best`'s queue, oldest first, and flushes it. */
  private moveHeld(st: ChannelState, best: ChannelState): void {
    while (pending(st)) {
      const item = shift(st);
      best.queue.push({ channel: best.channel, frame: item.frame });
    }
    st.queue = [];
    st.head = 0;
    this.flush(best);
  }

  /** Sends held frames, oldest first, while the channel has room. */
  private flush(st: ChannelState): void {
    if (isGone(st.channel)) {
      if (pending(st)) this.reroute(st);
      return;
    }
    while (pending(st) && this.burst < this.s.maxBytesPerTask && isOpen(st.channel) && st.channel.bufferedAmount <= this.s.highOf(st.channel)) {
      const item = shift(st);
      this.queuedBytes -= item.frame.byteLength;
      this.queuedFrames--;
      this.emit(item);
      if (this.subscriber.closed) return;
    }
    if (!pending(st)) {
      st.queue = [];
      st.head = 0;
      return;
    }
    // Paused: with watermarks of its own, the channel's resume point follows its watermark now.
    if (this.s.ownHighs() && isOpen(st.channel)) setThreshold(st.channel, this.s.lowOf(st.channel));
    if (st.head > 1024 && st.head * 2 > st.queue.length) {
      st.queue = st.queue.slice(st.head);
      st.head = 0;
    }
  }

  /** The channel's state, made (with its listeners and threshold) the first time a frame names it. */
  private stateOf(channel: DataChannelLike): ChannelState {
    const known = this.states.get(channel);
    if (known) return known;
    const st: ChannelState = {
      channel,
      queue: [],
      head: 0,
      previousThreshold: channel.bufferedAmountLowThreshold,
      onResume: () => this.onResume(st),
      onClose: () => this.onClose(st),
    };
    this.states.set(channel, st);
    setThreshold(channel, this.s.lowOf(channel));
    channel.addEventListener('bufferedamountlow', st.onResume);
    channel.addEventListener('open', st.onResume);
    channel.addEventListener('close', st.onClose);
    return st;
  }

  /** `bufferedamountlow` or `open`: the channel may have room again. */
  private onResume(st: ChannelState): void {
    if (this.subscriber.closed) return;
    this.flush(st);
    this.settle();
  }

  /** `close`: the channel's held frames go elsewhere (or fail the stream). */
  private onClose(st: ChannelState): void {
    if (this.subscriber.closed) return;
    if (pending(st)) this.reroute(st);
    else this.onAnyClose();
    if (!this.subscriber.closed) this.settle();
  }
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
