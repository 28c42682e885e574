/**
 * A byte source over a Node.js `Readable` (duck-typed: no Node imports).
 */
import type { Observable } from 'rxjs';
import { SourceReadError } from '../errors';
import type { Bytes } from '../types';
import { pullSource, type SourceConfig } from './pullSource';
import { startOffset, type StartConfig } from './startOffset';

/** The members of a Node.js `Readable` that {@link fromNodeReadable} uses. */
export interface NodeReadableLike {
  read(size?: number): unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  destroy?(error?: Error): unknown;
  /** Bytes buffered and ready to read (Node >= 9.4). */
  readonly readableLength?: number;
  /** The buffer target; reads are capped to it so that Node never raises it (Node >= 9.3). */
  readonly readableHighWaterMark?: number;
  /** True once 'end' was emitted (Node >= 12.9). */
  readonly readableEnded?: boolean;
  readonly destroyed?: boolean;
}

/** Options for {@link fromNodeReadable}. */
export interface FromNodeReadableConfig extends SourceConfig, StartConfig {
  /**
   * Destroy the stream when the subscription ends before the stream did
   * (unsubscribe or error), so a file descriptor or socket is not leaked.
   * Default `true`.
   */
  readonly destroyOnTeardown?: boolean;
}

/**
 * Reads a Node.js `Readable` (`fs.createReadStream`, a socket, `process.stdin`)
 * in paused mode, as credit allows.
 *
 * Each read is `readable.read(n)` with `n` at most the credit taken, what is
 * buffered and the stream's `highWaterMark` (so pieces are at most
 * `min(readSize, highWaterMark)`: 64 KiB for `fs.createReadStream`); when nothing
 * is buffered it waits for 'readable', 'end' or 'error'. The stream is never put
 * in flowing mode, so Node keeps at most about its `highWaterMark` buffered ahead
 * of the credit. `start` bytes are read and dropped. On completion the listeners
 * are removed; on early unsubscribe or error the stream is also destroyed (see
 * `destroyOnTeardown`), and a no-op 'error' listener stays on the destroyed
 * stream so a late error cannot crash the process. Subscribe once: a stream is
 * consumed by reading it.
 *
 * ```
 * readable pushes:         --[0 1 2]--[3]--(end)      readSize: 2
 * fromNodeReadable(r):     --a-b------c----|          a = [0 1], b = [2], c = [3]
 * ```
 *
 * ## Example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * import { fromNodeReadable } from 'tallow-rx/node';
 *
 * fromNodeReadable(createReadStream('big.bin')).subscribe((piece) => console.log(piece.length));
 * ```
 *
 * @see fromReadableStream
 * @see fromFilePath
 * @param readable A byte stream (no `setEncoding`); object-mode streams must yield `Uint8Array`s.
 * @param config `demand`, `readSize` (default 256 KiB), `start` (default 0) and `destroyOnTeardown` (default true).
 * @return An Observable of pieces of at most `readSize` bytes; a stream error, or
 * 'close' before 'end', errors with `SourceReadError`.
 */
export function fromNodeReadable(readable: NodeReadableLike, config: FromNodeReadableConfig = {}): Observable<Bytes> {
  const start = startOffset(config, 'fromNodeReadable');
  const destroyOnTeardown = config.destroyOnTeardown ?? true;
  return pullSource(() => {
    // Bytes still to drop before the first emitted byte.
    let skip = start;
    // The unread tail of an object-mode chunk larger than the read.
    let held: Uint8Array | undefined;
    // True once the stream ended.
    let ended = readable.readableEnded === true;
    // The stream's error (or premature close), thrown by the next read.
    let failure: SourceReadError | undefined;
    // Bytes taken from the stream so far, for error details.
    let pulled = 0;
    // True once the reader was closed (teardown); a pending read then ends.
    let closed = false;
    // Wakes a read waiting for the stream.
    let wake: (() => void) | undefined;

    const signal = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const onEnd = () => {
      ended = true;
      signal();
    };
    const onError = (err: unknown) => {
      failure ??= new SourceReadError(`stream failed after ${pulled} B: ${(err as Error)?.message ?? err}`, { offset: pulled }, err);
      signal();
    };
    const onClose = () => {
      if (!ended) onError(new Error('stream closed before end'));
    };
    if (readable.destroyed && !ended) onClose();
    readable.on('readable', signal);
    readable.on('end', onEnd);
    readable.on('error', onError);
    readable.on('close', onClose);

    /** One chunk of at most `max` bytes, or null at the end. */
    const take = async (max: number): Promise<Uint8Array | null> => {
      while (true) {
        if (held) {
          const piece = held.length > max ? held.subarray(0, max) : held;
          held = piece === held ? undefined : held.subarray(max);
          return piece;
        }
        if (closed) return null;
        if (failure) throw failure;
        // Ask for what is buffered, up to max and the highWaterMark: asking for
        // more returns null until that much arrived, and asking for more than the
        // highWaterMark makes Node raise it, so it would buffer further ahead.
        // With nothing buffered, read(0) just starts a fetch.
        const buffered = readable.readableLength;
        const hwm = readable.readableHighWaterMark;
        const cap = typeof hwm === 'number' && hwm > 0 ? Math.min(max, hwm) : max;
        const chunk = readable.read(typeof buffered === 'number' ? Math.min(cap, buffered) : max);
        if (chunk !== null && chunk !== undefined) {
          if (!(chunk instanceof Uint8Array)) {
            throw new SourceReadError(`stream yielded a ${typeof chunk} at offset ${pulled}, not bytes (is an encoding set?)`, {
              offset: pulled,
              type: typeof chunk,
            });
          }
          pulled += chunk.length;
          if (chunk.length) held = chunk;
          continue;
        }
        if (ended) return null;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    };

    return {
      read: async (max: number): Promise<Bytes | null> => {
        while (skip > 0) {
          const dropped = await take(Math.min(skip, 1 << 20));
          if (dropped === null) return null;
          skip -= dropped.length;
        }
        return take(max);
      },
      close: () => {
        closed = true;
        held = undefined;
        readable.removeListener('readable', signal);
        readable.removeListener('end', onEnd);
        readable.removeListener('error', onError);
        readable.removeListener('close', onClose);
        if (destroyOnTeardown && !ended && !readable.destroyed && readable.destroy) {
          readable.on('error', () => undefined);
          readable.destroy();
        }
        signal();
      },
    };
  }, config);
}
