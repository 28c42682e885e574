/**
 * Closing a lane's data channels so that the session sees them closed at once, on every stack.
 *
 * node-datachannel's `RTCDataChannel` polyfill changes `readyState` only when the native close comes back.
 * Once the lane's connection is closed (by the peer, or by the pool dropping the lane) the native channel is
 * destroyed instead: no close comes back, the channel reads `open` for good, and every send on it throws
 * "sendMessagBinary() called on destroyed channel". The routers would keep choosing it (it reads open and
 * empty), and frames sent there, and their resends, would be lost again and again.
 */
import type { DataChannelLike } from '../types';
import { closeAll } from './transferChannels';

/**
 * Closes `channels`; one that still reads `connecting` or `open` afterwards (node-datachannel) is made to read
 * `closed` and fire `close`, so that the routers drop it and the session resends what it carried. A browser's
 * or the virtual link's channel reads `closing` at once and is left to its own events.
 *
 * @param channels The lane's data channels.
 */
export function closeLaneChannels(channels: readonly DataChannelLike[]): void {
  closeAll(channels);
  for (const ch of channels) {
    if (ch.readyState !== 'open' && ch.readyState !== 'connecting') continue;
    try {
      // An own property shadows the polyfill's getter; its own late `close`, if one ever comes, changes nothing.
      Object.defineProperty(ch, 'readyState', { value: 'closed', configurable: true });
    } catch {
      continue;
    }
    (ch as Partial<Pick<EventTarget, 'dispatchEvent'>>).dispatchEvent?.(new Event('close'));
  }
}
