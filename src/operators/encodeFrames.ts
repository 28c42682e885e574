/**
 * Turns chunks into wire frames for one transfer.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidConfigError } from '../errors';
import type { FramePool } from '../flow/FramePool';
import { encodeFrame } from '../protocol/frame';
import type { Chunk } from '../types';
import { subscribeChained } from './subscribeChained';

/** Options for {@link encodeFrames}. */
export interface EncodeFramesConfig {
  /** The transfer this stream belongs to (unsigned 32-bit). Required. */
  readonly transferId: number;
  /**
   * Frame buffers come from this pool instead of fresh allocations. Use it only
   * when every frame ends in `sendToChannels({ pool })` and nothing else keeps
   * one: a frame's bytes are reused once it was sent. Default: none.
   */
  readonly pool?: FramePool;
}

/**
 * Encodes each chunk as a data frame (32-byte header + payload) with
 * {@link encodeFrame}. A chunk's `checksum`, when present, is written as is;
 * otherwise the CRC-32 of the payload is computed.
 *
 * ```
 * source: -c0--c1--|
 * result: -f0--f1--|     fN = header(transferId, N, offset, crc32) + payload
 * ```
 *
 * ## Example
 * ```ts
 * import { adaptiveChunk, encodeFrames } from 'tallow-rx';
 * bytes$.pipe(adaptiveChunk(rtt$), encodeFrames({ transferId: 7 }));
 * ```
 *
 * @see decodeFrames
 * @param config See {@link EncodeFramesConfig}.
 * @return An operator from chunks to encoded frames. Errors with
 * `FrameDecodeError` (`ERR_FRAME_INPUT`) when a chunk cannot be encoded.
 */
export function encodeFrames(config: EncodeFramesConfig): OperatorFunction<Chunk, Uint8Array> {
  const transferId = config?.transferId;
  if (!Number.isInteger(transferId) || transferId < 0 || transferId > 0xffff_ffff) {
    throw new InvalidConfigError(`transferId must be an unsigned 32-bit integer, got ${transferId}`, { transferId });
  }
  const alloc = config.pool ? (size: number) => config.pool!.take(size) : undefined;
  return (source) =>
    new Observable<Uint8Array>((subscriber) => {
      subscribeChained(source, subscriber, {
        next: (chunk) => {
          let frame: Uint8Array;
          try {
            frame = encodeFrame({ transferId, index: chunk.index, offset: chunk.offset, checksum: chunk.checksum }, chunk.data, alloc);
          } catch (err) {
            return subscriber.error(err);
          }
          subscriber.next(frame);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
