import { Observable, type OperatorFunction } from 'rxjs';
import { ChannelClosedError, InvalidConfigError, MessageTooLargeError, SinkWriteError } from '../errors';
import type { FramePool } from '../flow/FramePool';
import { subscribeChained } from '../operators/subscribeChained';
import { CHROME_MAX_MESSAGE_SIZE, type Routed } from '../types';
import { configObject } from '../configObject';

/** Options for {@link sendToChannels}. */
export interface SendToChannelsConfig {
  /**
   * The largest frame sent, in bytes; a larger one fails with
   * `MessageTooLargeError` before anything is sent. Use the negotiated
   * `sctp.maxMessageSize` when you know it. Default 262144 (Chrome's limit).
   */
  readonly maxMessageSize?: number;
  /**
   * Gives each frame back to this pool once `send()` returned (channels copy
   * what they send), so `encodeFrames({ pool })` can reuse its buffer. Frames
   * that fail to send are not given back. Default: none.
   */
  readonly pool?: FramePool;
  /**
   * Channels whose failed send, when it says the channel is gone, skips the frame instead of failing the
   * stream: for a caller that resends what it handed to a channel once that channel's `close` event comes
   * (`sendFiles` does for its in-band lanes, whose node-datachannel channel can still read `open` after
   * its connection closed under it). Nothing is emitted for a skipped frame. Default: none (every such
   * failure is a `ChannelClosedError`).
   */
  readonly skipClosed?: (channel: Routed['channel']) => boolean;
}

/** True when a failed `send()` means the channel can no longer send. */
const isClosedFailure = (err: unknown, readyState: string): boolean =>
  readyState === 'closing' ||
  readyState === 'closed' ||
  (err as { name?: unknown } | null)?.name === 'InvalidStateError' ||
  // node-datachannel's native send throws a plain Error ("DataChannel is closed") before the polyfill's readyState
  // changes, or, when the connection under it was closed, "Sending failed, errno=32" (EPIPE) or "sendMessagBinary()
  // called on destroyed channel" while it still says open.
  /\bclosed\b|\bdestroyed channel\b|\bsending failed, errno=(2|32|104)\b/i.test(String((err as { message?: unknown } | null)?.message ?? ''));

/**
 * Sends each routed frame on its channel and emits the number of bytes sent.
 *
 * `channel.send(frame)` is called synchronously, so `bufferedAmount` includes
 * the frame as soon as `next` returns (which `backpressure()` relies on). The
 * size is checked before sending. A channel that is closing or closed fails
 * with `ChannelClosedError` without a send; a throwing `send()` fails with
 * `ChannelClosedError` (channel gone, `InvalidStateError`) or `SinkWriteError`
 * (for example Chrome's `OperationError` "send queue is full"), the original
 * error as `cause`.
 *
 * ```
 * routed:  --a------b------|      a = { channel: ch1, frame: 1000 B }, b = { channel: ch2, frame: 40 B }
 * sendToChannels()
 * output:  --1000---40-----|      ch1.send(a.frame), ch2.send(b.frame)
 * ```
 *
 * ## Example
 * ```ts
 * import { roundRobin, backpressure, sendToChannels } from 'tallow-rx';
 *
 * frames$
 *   .pipe(roundRobin(channels), backpressure({ demand }), sendToChannels({ maxMessageSize: pc.sctp?.maxMessageSize ?? 262144 }))
 *   .subscribe((sent) => (bytesSent += sent));
 * ```
 *
 * @see {@link backpressure}
 * @param config See {@link SendToChannelsConfig}. Validated at call time (`InvalidConfigError`).
 * @return An operator from {@link Routed} frames to the byte count of each send.
 */
export function sendToChannels(config: SendToChannelsConfig = {}): OperatorFunction<Routed, number> {
  config = configObject('sendToChannels', config);
  const maxMessageSize = config.maxMessageSize ?? CHROME_MAX_MESSAGE_SIZE;
  if (!Number.isInteger(maxMessageSize) || maxMessageSize < 1) {
    throw new InvalidConfigError(`sendToChannels: maxMessageSize must be a positive integer, got ${maxMessageSize}`, { maxMessageSize });
  }
  return (source) =>
    new Observable<number>((subscriber) => {
      subscribeChained(source, subscriber, {
        next: ({ channel, frame }) => {
          const size = frame.byteLength;
          const details = { label: channel.label, size };
          if (size > maxMessageSize) {
            subscriber.error(new MessageTooLargeError(size, maxMessageSize, channel.label));
            return;
          }
          if (channel.readyState === 'closing' || channel.readyState === 'closed') {
            subscriber.error(new ChannelClosedError(`channel "${channel.label}" is ${channel.readyState}; ${size} B not sent`, details));
            return;
          }
          try {
            channel.send(frame);
          } catch (err) {
            const closed = isClosedFailure(err, channel.readyState);
            if (closed && config.skipClosed?.(channel)) return;
            const message = `send of ${size} B on channel "${channel.label}" failed: ${(err as Error)?.message ?? String(err)}`;
            subscriber.error(
              closed
                ? new ChannelClosedError(message, { ...details, readyState: channel.readyState }, err)
                : new SinkWriteError(message, { ...details, bufferedAmount: channel.bufferedAmount }, err),
            );
            return;
          }
          config.pool?.give(frame);
          subscriber.next(size);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
