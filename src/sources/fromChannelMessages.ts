import { Observable } from 'rxjs';
import { ChannelClosedError } from '../errors';
import { toBytes } from '../protocol/frame';
import type { DataChannelLike } from '../types';
import { checkArgument, configObject, isChannelLike } from '../configObject';

/** Options for {@link fromChannelMessages}. */
export interface FromChannelMessagesConfig {
  /**
   * When true, the channel's `close` event (or subscribing to an already closed
   * channel) errors with `ChannelClosedError` instead of completing. Use it
   * when the channel closing means the transfer broke. Default `false`.
   */
  readonly errorOnClose?: boolean;
}

/**
 * The messages received on a channel: bytes as `Uint8Array`, text as `string`.
 *
 * Sets `binaryType = 'arraybuffer'` (browsers default to `'blob'`, which would
 * need an asynchronous read, and @roamhq/wrtc throws on it), then emits each
 * message's data: binary data as a `Uint8Array` view (no copy), strings as they
 * are. Completes on the channel's `close` event, or at once if it is already
 * closed; errors with `ChannelClosedError` (the event's `error` as `cause`) on
 * its `error` event. Listeners are removed on teardown. For several channels,
 * `merge()` the results.
 *
 * ```
 * channel:  --m1----m2----"hi"----close
 * fromChannelMessages(channel)
 * output:   --b1----b2----"hi"----|        b = Uint8Array
 * ```
 *
 * ## Example
 * ```ts
 * import { merge } from 'rxjs';
 * import { fromChannelMessages, decodeFrames } from 'tallow-rx';
 *
 * merge(...channels.map((c) => fromChannelMessages(c))).pipe(decodeFrames()).subscribe(onChunk);
 * ```
 *
 * @param channel The channel to read. Subscribe before the peer sends: libwebrtc
 * closes a channel that queues more than 16 MiB before a listener is attached.
 * @param config See {@link FromChannelMessagesConfig}.
 * @return An Observable of message payloads.
 */
export function fromChannelMessages(channel: DataChannelLike, config: FromChannelMessagesConfig = {}): Observable<Uint8Array | string> {
  checkArgument('fromChannelMessages', 'channel', channel, isChannelLike(channel), 'a data channel (with addEventListener())');
  config = configObject('fromChannelMessages', config);
  const errorOnClose = config.errorOnClose ?? false;
  return new Observable<Uint8Array | string>((subscriber) => {
    const closed = () => {
      if (errorOnClose) subscriber.error(new ChannelClosedError(`channel "${channel.label}" closed`, { label: channel.label }));
      else subscriber.complete();
    };
    if (channel.readyState === 'closed') {
      closed();
      return;
    }
    channel.binaryType = 'arraybuffer';
    // Emits each payload; a non-binary, non-string payload (a Blob) fails the stream.
    const onMessage = (event: { data: unknown }) => {
      const { data } = event;
      if (typeof data === 'string') {
        subscriber.next(data);
        return;
      }
      let bytes: Uint8Array;
      try {
        bytes = toBytes(data);
      } catch (err) {
        subscriber.error(err);
        return;
      }
      subscriber.next(bytes);
    };
    // Turns the channel's error event into a typed error.
    const onError = (event: { error?: unknown; message?: string }) => {
      const cause = event?.error ?? event;
      const reason = (cause as Error)?.message ?? event?.message ?? 'unknown error';
      subscriber.error(new ChannelClosedError(`channel "${channel.label}" failed: ${reason}`, { label: channel.label, readyState: channel.readyState }, cause));
    };
    channel.addEventListener('message', onMessage);
    channel.addEventListener('error', onError);
    channel.addEventListener('close', closed);
    return () => {
      channel.removeEventListener('message', onMessage);
      channel.removeEventListener('error', onError);
      channel.removeEventListener('close', closed);
    };
  });
}
