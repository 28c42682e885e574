/**
 * A byte source over a WHATWG `ReadableStream<Uint8Array>`.
 */
import type { Observable } from 'rxjs';
import { SourceReadError } from '../errors';
import type { Bytes } from '../types';
import { pullSource, type SourceConfig } from './pullSource';
import { startOffset, type StartConfig } from './startOffset';
import { checkArgument, configObject } from '../configObject';

/** Options for {@link fromReadableStream}. */
export interface FromReadableStreamConfig extends SourceConfig, StartConfig {}

/**
 * Reads a WHATWG `ReadableStream` of bytes (`Response.body`, `Blob.stream()`, a
 * Node web stream), one `reader.read()` per grant of credit.
 *
 * A chunk larger than the credit taken is split: the first part is emitted
 * (a zero-copy view) and the rest is held for the next read. So the bytes pulled
 * out of the stream never exceed the credit granted plus one stream chunk; the
 * stream's own queuing strategy may buffer up to its `highWaterMark` more ahead.
 * `start` bytes are read and dropped (a stream cannot seek). The stream is
 * locked while subscribed; on completion the lock is released, and on error or
 * early unsubscribe the reader is cancelled first. A stream can be consumed
 * once, so subscribe once.
 *
 * ```
 * stream chunks:           --[0 1 2 3 4]--[5]--|      readSize: 2
 * fromReadableStream(s):   --a-b-c--------d----|      a = [0 1], b = [2 3], c = [4], d = [5]
 * ```
 *
 * ## Example
 * ```ts
 * import { fromReadableStream } from 'tallow-rx';
 *
 * const res = await fetch('/big.bin');
 * fromReadableStream(res.body!, { readSize: 64 * 1024 }).subscribe((piece) => console.log(piece.length));
 * ```
 *
 * @see fromNodeReadable
 * @param stream A stream of `Uint8Array` chunks. Chunks of another type fail the source.
 * @param config `demand`, `readSize` (default 256 KiB) and `start` (default 0).
 * @return An Observable of pieces of at most `readSize` bytes; a stream error
 * (or a locked stream) errors with `SourceReadError`.
 */
export function fromReadableStream(stream: ReadableStream<Uint8Array>, config: FromReadableStreamConfig = {}): Observable<Bytes> {
  checkArgument('fromReadableStream', 'stream', stream, typeof (stream as ReadableStream | null)?.getReader === 'function', 'a ReadableStream');
  config = configObject('fromReadableStream', config);
  const start = startOffset(config, 'fromReadableStream');
  return pullSource(() => {
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      reader = stream.getReader();
    } catch (err) {
      throw new SourceReadError(`cannot read the stream: ${(err as Error)?.message ?? err}`, { locked: stream.locked }, err);
    }
    // Bytes still to drop before the first emitted byte.
    let skip = start;
    // The unread tail of the last chunk.
    let held: Uint8Array | undefined;
    // True once the stream reported `done`.
    let ended = false;
    // Bytes taken from the stream so far, for error details.
    let pulled = 0;

    /** One `reader.read()`: a non-empty chunk, or null at the end. */
    const next = async (): Promise<Uint8Array | null> => {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (err) {
        throw new SourceReadError(`stream failed after ${pulled} B: ${(err as Error)?.message ?? err}`, { offset: pulled }, err);
      }
      if (result.done) {
        ended = true;
        return null;
      }
      const value = result.value as unknown;
      if (!(value instanceof Uint8Array)) {
        throw new SourceReadError(`stream chunk at offset ${pulled} is not a Uint8Array`, { offset: pulled, type: typeof value });
      }
      pulled += value.length;
      return value;
    };

    return {
      read: async (max: number): Promise<Bytes | null> => {
        while (!held) {
          if (ended) return null;
          const chunk = await next();
          if (chunk === null) return null;
          if (skip >= chunk.length) {
            skip -= chunk.length;
            continue;
          }
          held = skip ? chunk.subarray(skip) : chunk;
          skip = 0;
        }
        const piece = held.length > max ? held.subarray(0, max) : held;
        held = piece === held ? undefined : held.subarray(max);
        return piece;
      },
      close: async () => {
        held = undefined;
        const cancelled = ended ? undefined : reader.cancel().catch(() => undefined);
        reader.releaseLock();
        await cancelled;
      },
    };
  }, config);
}
