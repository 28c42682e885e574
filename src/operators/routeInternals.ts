/**
 * The strategy shared by `roundRobin` and `leastBuffered`: the watermark
 * defaults, channel-state predicates, and one routing engine that differs only
 * in how it picks a channel.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { ChannelClosedError, InvalidConfigError } from '../errors';
import type { Bytes, DataChannelLike, Routed } from '../types';
import { subscribeChained } from './subscribeChained';

/** A channel whose `bufferedAmount` is above this is paused. 1 MiB. */
export const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/** A paused channel resumes once `bufferedAmount` falls to this. 256 KiB. */
export const DEFAULT_LOW_WATER_MARK = 256 * 1024;

/** Options for {@link roundRobin} and {@link leastBuffered}. */
export interface RouteConfig {
  /**
   * A channel whose `bufferedAmount` is above `high` bytes is paused and skipped.
   * Use the same value as `backpressure({ high })`. Default {@link DEFAULT_HIGH_WATER_MARK} (1 MiB).
   */
  readonly high?: number;
  /**
   * A channel's own watermark, bytes, at most `high` (a larger value counts as `high`): for channels whose
   * rates differ, a watermark in bytes that stands for the same time on each (`SenderLanes`: a lane's share
   * of the goodput × a few RTTs). Use the same function as `backpressure({ highOf })`. Default: `high` for all.
   */
  readonly highOf?: (channel: DataChannelLike) => number;
  /**
   * Channels held back: a channel for which this returns true takes a frame only while no other channel is
   * open or connecting (`SenderLanes`: the connection that carries the control channel, while in-band lanes
   * carry the data, so control messages do not queue behind data in its transport). Default: none.
   */
  readonly reserved?: (channel: DataChannelLike) => boolean;
}

/** The watermark of each channel from `high` and an optional `highOf` (never above `high`, never negative). */
export const highOfChannel = (high: number, highOf: ((channel: DataChannelLike) => number) | undefined): ((channel: DataChannelLike) => number) =>
  highOf
    ? (channel) => {
        const own = highOf(channel);
        return Number.isFinite(own) ? Math.max(0, Math.min(high, own)) : high;
      }
    : () => high;

/** True for a channel that can never send again. */
export const isGone = (channel: DataChannelLike): boolean => channel.readyState === 'closing' || channel.readyState === 'closed';

/** True for a channel that accepts `send()` now. */
export const isOpen = (channel: DataChannelLike): boolean => channel.readyState === 'open';

/**
 * Picks a channel: returns an index into `live` (never empty, no closing or
 * closed channel). `start` is where round-robin order begins.
 */
export type PickChannel = (live: readonly DataChannelLike[], start: number, highOf: (channel: DataChannelLike) => number) => number;

/**
 * Round-robin: the first open channel at or below its watermark (`highOf`), starting at `start`;
 * when all open channels are paused, the least-buffered open one; when none is
 * open, the first connecting one.
 */
export const pickRoundRobin: PickChannel = (live, start, highOf) => {
  // Least-buffered open channel seen so far (strict `<` keeps ties in round-robin order).
  let least = -1;
  // First channel that is not open yet, in round-robin order.
  let waiting = -1;
  for (let k = 0; k < live.length; k++) {
    const i = (start + k) % live.length;
    const channel = live[i];
    if (!isOpen(channel)) {
      if (waiting < 0) waiting = i;
      continue;
    }
    if (channel.bufferedAmount <= highOf(channel)) return i;
    if (least < 0 || channel.bufferedAmount < live[least].bufferedAmount) least = i;
  }
  return least >= 0 ? least : waiting;
};

/**
 * Least-buffered: the open channel with the smallest `bufferedAmount`, ties
 * broken in round-robin order from `start`; when none is open, the first
 * connecting one.
 */
export const pickLeastBuffered: PickChannel = (live, start) => {
  // Least-buffered open channel seen so far.
  let least = -1;
  // First channel that is not open yet, in round-robin order.
  let waiting = -1;
  for (let k = 0; k < live.length; k++) {
    const i = (start + k) % live.length;
    const channel = live[i];
    if (!isOpen(channel)) {
      if (waiting < 0) waiting = i;
    } else if (least < 0 || channel.bufferedAmount < live[least].bufferedAmount) {
      least = i;
    }
  }
  return least >= 0 ? least : waiting;
};

/** Validates a `high` watermark and returns it (or the default). */
export const checkHigh = (high: number | undefined, where: string): number => {
  const value = high ?? DEFAULT_HIGH_WATER_MARK;
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidConfigError(`${where}: high must be a finite number >= 0, got ${value}`, { high: value });
  }
  return value;
};

/**
 * The routing engine: tags each frame with the channel `pick` chooses.
 * Closing and closed channels are dropped from the rotation for good; when
 * none is left, the frame fails with `ChannelClosedError`. Channels appended to
 * `channels` after the call (a lane that joined the transfer) enter the
 * rotation at the next frame; nothing else in the array may change.
 */
export function route(
  name: string,
  channels: readonly DataChannelLike[],
  config: RouteConfig,
  pick: PickChannel,
): OperatorFunction<Bytes, Routed> {
  if (!Array.isArray(channels) || channels.length === 0) {
    throw new InvalidConfigError(`${name} needs at least one channel`, { channels: Array.isArray(channels) ? 0 : typeof channels });
  }
  const highOf = highOfChannel(checkHigh(config.high, name), config.highOf);
  const reserved = config.reserved;
  const all = channels;
  return (source) =>
    new Observable<Routed>((subscriber) => {
      // Channels still in the rotation: open or connecting.
      const live = [...all];
      // How much of `channels` the rotation has seen: channels appended later (a lane that joined) enter it.
      let seen = all.length;
      // Where the next search starts: just after the last channel used.
      let cursor = 0;

      /** Removes closing and closed channels, keeping `cursor` on the same successor. */
      const prune = () => {
        if (all.length > seen) live.push(...all.slice(seen));
        seen = all.length;
        for (let i = live.length - 1; i >= 0; i--) {
          if (!isGone(live[i])) continue;
          live.splice(i, 1);
          if (i < cursor) cursor--;
        }
        if (cursor >= live.length) cursor = 0;
      };

      subscribeChained(source, subscriber, {
        next: (frame) => {
          prune();
          if (!live.length) {
            subscriber.error(
              new ChannelClosedError(`${name}: every channel is closed`, { labels: all.map((c) => c.label), frameSize: frame.length }),
            );
            return;
          }
          const channel = reserved ? pickUnreserved(live, cursor, highOf, pick, reserved) : live[pick(live, cursor, highOf)];
          cursor = (live.indexOf(channel) + 1) % live.length;
          subscriber.next({ channel, frame });
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

/** `pick` over the channels not `reserved` (all of them when every one is), in rotation order from `cursor`. */
function pickUnreserved(
  live: readonly DataChannelLike[],
  cursor: number,
  highOf: (channel: DataChannelLike) => number,
  pick: PickChannel,
  reserved: (channel: DataChannelLike) => boolean,
): DataChannelLike {
  const free = live.filter((ch) => !reserved(ch));
  const pool = free.length ? free : live;
  // Where the rotation resumes in `pool`: its first channel at or after `cursor` in `live`.
  const start = Math.max(0, pool.findIndex((ch) => live.indexOf(ch) >= cursor));
  return pool[pick(pool, start, highOf)];
}
