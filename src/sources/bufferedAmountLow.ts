import { Observable } from 'rxjs';
import { checkArgument, isChannelLike } from '../configObject';
import type { DataChannelLike } from '../types';

/**
 * The channel's `bufferedamountlow` events, as an Observable.
 *
 * Fires each time `bufferedAmount` falls to `bufferedAmountLowThreshold` (set
 * the threshold yourself). Never completes; the listener is added on subscribe
 * and removed on unsubscribe. Some stacks miss the event (node-datachannel) or
 * never fire it (@roamhq/wrtc): `backpressure()` also polls, and so should you.
 *
 * ```
 * bufferedAmount:  1M--------300K----200K-----------900K----100K--
 * threshold 256K
 * output:          ------------------e----------------------e-----
 * ```
 *
 * ## Example
 * ```ts
 * import { bufferedAmountLow } from 'tallow-rx';
 *
 * channel.bufferedAmountLowThreshold = 256 * 1024;
 * bufferedAmountLow(channel).pipe(takeUntil(done$)).subscribe(() => resumeSending());
 * ```
 *
 * @see {@link backpressure}
 * @param channel The channel to watch.
 * @return An Observable of the channel's `bufferedamountlow` events.
 */
export function bufferedAmountLow(channel: DataChannelLike): Observable<Event> {
  checkArgument('bufferedAmountLow', 'channel', channel, isChannelLike(channel), 'a data channel (with addEventListener())');
  return new Observable<Event>((subscriber) => {
    // Forwards each event.
    const onLow = (event: Event) => subscriber.next(event);
    channel.addEventListener('bufferedamountlow', onLow);
    return () => channel.removeEventListener('bufferedamountlow', onLow);
  });
}
