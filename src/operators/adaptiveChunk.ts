/**
 * Re-chunks a byte stream into `Chunk`s whose size follows the network.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidConfigError } from '../errors';
import { toBytes } from '../protocol/frame';
import type { Chunk } from '../types';
import { chunkPolicy, clampChunkSize, type ChunkPolicyConfig, type NetworkConditions } from './chooseChunkSize';
import { adaptiveChunkRun } from './adaptiveChunkInternals';
import { subscribeChained } from './subscribeChained';
import { configObject } from '../configObject';

/** Options for {@link adaptiveChunk}. */
export interface AdaptiveChunkConfig extends ChunkPolicyConfig {
  /** Chunk size in bytes used until the first condition arrives, clamped like every size. Default 64 KiB. */
  readonly initialSize?: number;
  /** A fixed chunk size in bytes (clamped) that disables adaptation; `conditions$` is then not subscribed. Default: adapt. */
  readonly fixedSize?: number;
  /** Offset of the first input byte in the file (a resumed transfer starts part-way). Default `0`. */
  readonly startOffset?: number;
}

/** Default size before any condition is known. */
export const DEFAULT_INITIAL_CHUNK_SIZE = 64 * 1024;

/**
 * Cuts a byte stream into chunks whose size is chosen by {@link chunkPolicy}
 * from the latest value of `conditions$` at the moment each chunk is cut.
 *
 * A number in `conditions$` is an RTT in milliseconds. Chunks get dense indexes
 * from 0 and running offsets. A chunk that lies inside one input piece is a
 * `subarray` of it (no copy); only a chunk spanning pieces is copied. At most one
 * partial chunk is held; it is flushed as the final, shorter chunk on completion.
 *
 * ```
 * conditions$: ----150-------------   (RTT 150 ms → 32 KiB)
 * source:      -A-------B---------|   (A, B: 64 KiB pieces; initial size 64 KiB)
 * result:      -a-------(bc)------|   (a = A, zero-copy; b, c: 32 KiB halves of B)
 * ```
 *
 * ## Example
 * ```ts
 * import { adaptiveChunk, fromBlob } from 'tallow-rx';
 * fromBlob(file).pipe(adaptiveChunk(rtt$, { maxMessageSize: pc.sctp?.maxMessageSize ?? 262144 }));
 * ```
 *
 * @see chunkPolicy
 * @param conditions$ RTT in ms, or full {@link NetworkConditions}.
 * @param config See {@link AdaptiveChunkConfig}.
 * @return An operator from byte pieces to chunks.
 */
export function adaptiveChunk(conditions$: Observable<number | NetworkConditions>, config: AdaptiveChunkConfig = {}): OperatorFunction<Uint8Array, Chunk> {
  config = configObject('adaptiveChunk', config);
  const initial = clampChunkSize(config.initialSize ?? DEFAULT_INITIAL_CHUNK_SIZE, config);
  const fixed = config.fixedSize === undefined ? undefined : clampChunkSize(config.fixedSize, config);
  const startOffset = config.startOffset ?? 0;
  if (!Number.isSafeInteger(startOffset) || startOffset < 0) {
    throw new InvalidConfigError(`startOffset must be a non-negative integer, got ${startOffset}`, { startOffset });
  }
  return (source) =>
    new Observable<Chunk>((subscriber) => {
      // This subscription's size, partial chunk, and next index and offset.
      const run = adaptiveChunkRun(subscriber, fixed ?? initial, startOffset);
      if (fixed === undefined) {
        subscribeChained(conditions$, subscriber, {
          next: (c) => {
            try {
              run.setSize(chunkPolicy(typeof c === 'number' ? { rttMs: c } : c, config).size);
            } catch (err) {
              subscriber.error(err);
            }
          },
          error: (err) => subscriber.error(err),
        });
      }
      if (subscriber.closed) return;
      subscribeChained(source, subscriber, {
        next: (piece) => {
          let bytes: Uint8Array;
          try {
            bytes = toBytes(piece); // FrameDecodeError ERR_FRAME_INPUT for anything not binary
          } catch (err) {
            return subscriber.error(err);
          }
          run.push(bytes);
        },
        error: (err) => subscriber.error(err),
        complete: () => run.complete(),
      });
      return () => run.teardown();
    });
}
