import type { OperatorFunction } from 'rxjs';
import type { Bytes, DataChannelLike, Routed } from '../types';
import { pickLeastBuffered, route, type RouteConfig } from './routeInternals';
import { configObject } from '../configObject';

/**
 * Sends each frame to the open channel with the least data buffered.
 *
 * Same contract as `roundRobin()`: the open channel with the smallest
 * `bufferedAmount` wins, ties broken in round-robin order after the last channel
 * used (so idle channels still take turns). A channel at or below `high` always
 * beats a paused one. Connecting channels are used only when none is open;
 * closing and closed channels leave the rotation for good; when none is left
 * open or connecting, the stream errors with `ChannelClosedError`.
 *
 * ```
 * bufferedAmount:  ch1 = 0, ch2 = 0, ch3 = 30 (nothing drains; sizes in brackets)
 * frames:   --a(10)--b(10)--c(10)--d(5)--e(1)--|
 * leastBuffered([ch1, ch2, ch3])
 * output:   --1------2------1------2-----2-----|
 * ```
 *
 * ## Example
 * ```ts
 * import { leastBuffered, backpressure, sendToChannels } from 'tallow-rx';
 *
 * frames$.pipe(leastBuffered(channels), backpressure({ demand }), sendToChannels()).subscribe();
 * ```
 *
 * @see {@link roundRobin}
 * @param channels The channels to choose from. Must not be empty (else
 * `InvalidConfigError`, thrown at call time).
 * @param config See {@link RouteConfig}: `high` (default 1 MiB).
 * @return An operator from encoded frames to {@link Routed} frames.
 */
export function leastBuffered(channels: readonly DataChannelLike[], config: RouteConfig = {}): OperatorFunction<Bytes, Routed> {
  config = configObject('leastBuffered', config);
  return route('leastBuffered', channels, config, pickLeastBuffered);
}
