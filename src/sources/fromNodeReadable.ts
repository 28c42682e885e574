/**
 * A byte source over a Node.js `Readable` (duck-typed: no Node imports).
 */
import type { Observable } from 'rxjs';
import type { Bytes } from '../types';
import { nodeReadableReader } from './fromNodeReadableInternals';
import { pullSource, type SourceConfig } from './pullSource';
import { startOffset, type StartConfig } from './startOffset';
import { checkArgument, configObject } from '../configObject';

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
  checkArgument('fromNodeReadable', 'readable', readable, typeof (readable as NodeReadableLike | null)?.read === 'function' && typeof readable.on === 'function', 'a Node Readable (with read() and on())');
  config = configObject('fromNodeReadable', config);
  const start = startOffset(config, 'fromNodeReadable');
  const destroyOnTeardown = config.destroyOnTeardown ?? true;
  return pullSource(() => nodeReadableReader(readable, start, destroyOnTeardown), config);
}
