/**
 * The check of a router's output (the built-in `roundRobin`/`leastBuffered` or your own `route`): every
 * frame must go to one of the transfer's data channels. Anything else fails the transfer with
 * `InvalidConfigError` before backpressure sees it.
 */
import { map, type OperatorFunction } from 'rxjs';
import { InvalidConfigError } from '../errors';
import type { DataChannelLike, Routed } from '../types';

export function checkRouted(channels: readonly DataChannelLike[]): OperatorFunction<Routed, Routed> {
  // The array may grow while the transfer runs (lanes that join); at most a few dozen channels.
  return map((r) => {
    if (!r || !channels.includes(r.channel) || !(r.frame instanceof Uint8Array)) {
      throw new InvalidConfigError(`route: a frame went to ${r?.channel?.label === undefined ? 'no channel' : `channel "${r.channel.label}"`}, which is not one of this transfer's ${channels.length} data channels`, {
        label: r?.channel?.label,
      });
    }
    return r;
  });
}
