/**
 * Turns raw channel messages back into data frames.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { FrameDecodeError, InvalidConfigError } from '../errors';
import { decodeFrame, type DataFrame } from '../protocol/frame';
import { subscribeChained } from './subscribeChained';
import { configObject } from '../configObject';

/** Options for {@link decodeFrames}. */
export interface DecodeFramesConfig {
  /** Accept only frames of this transfer; others are dropped. Default: accept every transfer. */
  readonly transferId?: number;
  /** Called with each frame dropped for a foreign `transferId`. A throw errors the output. Default: none. */
  readonly onUnknownTransfer?: (frame: DataFrame) => void;
  /**
   * Called with the `FrameDecodeError` of each malformed message, which is then
   * dropped instead of failing the stream. A throw errors the output (throw the
   * error back to give up, e.g. after too many). Default: none, so a malformed
   * message errors the output.
   */
  readonly onMalformed?: (error: FrameDecodeError) => void;
}

/** Unwraps a MessageEvent-like `{ data }`; passes binary data through. */
const payloadOf = (message: unknown): unknown =>
  message !== null && typeof message === 'object' && !ArrayBuffer.isView(message) && !(message instanceof ArrayBuffer) && 'data' in message
    ? (message as { data: unknown }).data
    : message;

/**
 * Decodes each channel message (`ArrayBuffer`, `Uint8Array`, Node `Buffer`, or a
 * `MessageEvent`-like `{ data }`) with {@link decodeFrame}. The payload is a
 * view into the received buffer (no copy). The CRC is not checked here;
 * `verifyHash()` does that, so a mismatch is reported with its chunk index.
 *
 * ```
 * source: -m0--x---m1--|     x: a frame of another transfer
 * result: -f0------f1--|     (x is reported to onUnknownTransfer)
 * ```
 *
 * ## Example
 * ```ts
 * import { decodeFrames, fromChannelMessages } from 'tallow-rx';
 * fromChannelMessages(channel).pipe(decodeFrames({ transferId: 7 }));
 * ```
 *
 * @see encodeFrames
 * @param config See {@link DecodeFramesConfig}.
 * @return An operator from raw messages to frames. Errors with `FrameDecodeError`
 * on a malformed message.
 */
export function decodeFrames(config: DecodeFramesConfig = {}): OperatorFunction<unknown, DataFrame> {
  config = configObject('decodeFrames', config);
  const { transferId, onUnknownTransfer, onMalformed } = config;
  if (transferId !== undefined && (!Number.isInteger(transferId) || transferId < 0 || transferId > 0xffff_ffff)) {
    throw new InvalidConfigError(`transferId must be an unsigned 32-bit integer, got ${transferId}`, { transferId });
  }
  return (source) =>
    new Observable<DataFrame>((subscriber) => {
      subscribeChained(source, subscriber, {
        next: (message) => {
          let frame: DataFrame;
          try {
            frame = decodeFrame(payloadOf(message));
            if (transferId !== undefined && frame.transferId !== transferId) {
              onUnknownTransfer?.(frame);
              return;
            }
          } catch (err) {
            if (onMalformed && err instanceof FrameDecodeError) {
              try {
                onMalformed(err);
              } catch (fatal) {
                return subscriber.error(fatal);
              }
              return;
            }
            return subscriber.error(err);
          }
          subscriber.next(frame);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
