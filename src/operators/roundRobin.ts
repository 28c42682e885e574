import type { OperatorFunction } from 'rxjs';
import type { Bytes, DataChannelLike, Routed } from '../types';
import { pickRoundRobin, route, type RouteConfig } from './routeInternals';
import { configObject } from '../configObject';

export type { RouteConfig } from './routeInternals';

/**
 * Spreads frames over channels in turn, skipping channels that are full.
 *
 * For each frame, starting after the last channel used, picks the first channel
 * that is open and not paused (`bufferedAmount <= high`). A paused channel is
 * skipped, not waited on. When every open channel is paused, the frame goes to
 * the least-buffered open one and `backpressure()` downstream holds it.
 * Connecting channels are skipped (used only when none is open; `backpressure()`
 * holds their frames until they open). Closing and closed channels leave the
 * rotation for good; when none is left open or connecting, the stream errors
 * with `ChannelClosedError`.
 *
 * ```
 * frames:   --a--b--c--d--e--|
 * roundRobin([ch1, ch2, ch3])
 * output:   --1--2--3--1--2--|      (1 = { channel: ch1, frame: a }, …)
 * ch2 paused before d:
 * output:   --1--2--3--1--3--|
 * ```
 *
 * ## Example
 * ```ts
 * import { Demand, fromBytes, adaptiveChunk, encodeFrames, roundRobin, backpressure, sendToChannels } from 'tallow-rx';
 *
 * const demand = new Demand();
 * fromBytes(file, { demand })
 *   .pipe(
 *     adaptiveChunk(rtt$),
 *     encodeFrames({ transferId }),
 *     roundRobin(channels, { high: 1 << 20 }),
 *     backpressure({ high: 1 << 20, demand }),
 *     sendToChannels(),
 *   )
 *   .subscribe();
 * ```
 *
 * @see {@link leastBuffered}
 * @see {@link backpressure}
 * @param channels The channels to spread over, in rotation order. Must not be empty
 * (else `InvalidConfigError`, thrown at call time).
 * @param config See {@link RouteConfig}: `high` (default 1 MiB).
 * @return An operator from encoded frames to {@link Routed} frames.
 */
export function roundRobin(channels: readonly DataChannelLike[], config: RouteConfig = {}): OperatorFunction<Bytes, Routed> {
  config = configObject('roundRobin', config);
  return route('roundRobin', channels, config, pickRoundRobin);
}
