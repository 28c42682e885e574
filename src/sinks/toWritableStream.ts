/**
 * A sink that writes every byte into a WHATWG `WritableStream`.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidConfigError, SinkWriteError, TransferCancelledError } from '../errors';
import type { Chunk } from '../types';
import { subscribeChained } from '../operators/subscribeChained';
import { streamWriteRun } from './toWritableStreamInternals';
import { checkArgument, configObject } from '../configObject';

/** Options for {@link toWritableStream}. */
export interface ToWritableStreamConfig {
  /**
   * Most bytes waiting for the stream to accept them. A WebRTC receiver cannot
   * pause its sender by itself, so a slow stream must not make memory grow
   * without bound: beyond this the sink errors with `LimitExceededError`
   * (code `ERR_LIMIT`) and aborts the stream. Default 64 MiB.
   */
  readonly maxQueuedBytes?: number;
}

/** Default {@link ToWritableStreamConfig.maxQueuedBytes}: 64 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024;

/**
 * Writes chunks (or plain byte arrays) to a `WritableStream` in arrival order,
 * and emits the cumulative number of bytes written after each write completes.
 *
 * A chunk is handed to the stream only when `writer.ready` resolves, so the
 * stream's `desiredSize` (its queuing strategy) is respected; meanwhile chunks
 * wait in a queue bounded by `maxQueuedBytes`. When the source completes and
 * every write finished, the stream is closed and the sink completes. On a
 * source error, a write error or an unsubscribe before that, the stream is
 * aborted (the reason is the error, or a `TransferCancelledError` on
 * unsubscribe). Chunks are written by arrival, not by `offset`: put `reorder()`
 * first when they can arrive out of order. Empty chunks are skipped, so an empty
 * source completes without emitting.
 *
 * ```
 * source:                 -a----b--|          a: 3 B, b: 2 B
 * toWritableStream(ws):   --3----5--|         (writes resolve asynchronously)
 * source:                 -a--#
 * toWritableStream(ws):   --3-#               (stream aborted with the error)
 * ```
 *
 * ## Example
 * ```ts
 * import { toWritableStream } from 'tallow-rx';
 *
 * const handle = await window.showSaveFilePicker();
 * chunks$.pipe(toWritableStream(await handle.createWritable())).subscribe((written) => progress(written));
 * ```
 *
 * @see toFile
 * @see toBlob
 * @param stream The destination. It is locked while subscribed and released at the end.
 * @param config `maxQueuedBytes` (default 64 MiB).
 * @return An operator emitting bytes written so far; stream failures error with `SinkWriteError`.
 */
export function toWritableStream(
  stream: WritableStream<Uint8Array>,
  config: ToWritableStreamConfig = {},
): OperatorFunction<Chunk | Uint8Array, number> {
  checkArgument('toWritableStream', 'stream', stream, typeof (stream as { getWriter?: unknown } | null)?.getWriter === 'function', 'a WritableStream');
  config = configObject('toWritableStream', config);
  const maxQueuedBytes = config.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  if (!(maxQueuedBytes > 0)) {
    throw new InvalidConfigError(`toWritableStream maxQueuedBytes must be > 0, got ${maxQueuedBytes}`, { maxQueuedBytes });
  }
  return (source) =>
    new Observable<number>((subscriber) => {
      let writer: WritableStreamDefaultWriter<Uint8Array>;
      try {
        writer = stream.getWriter();
      } catch (err) {
        subscriber.error(new SinkWriteError(`cannot write to the stream: ${(err as Error)?.message ?? err}`, { locked: stream.locked }, err));
        return;
      }
      writer.closed.catch(() => undefined);
      // This subscription's queue, writes in flight and end.
      const run = streamWriteRun(subscriber, writer, maxQueuedBytes);
      subscribeChained(source, subscriber, {
        next: (value) => run.accept(value),
        error: (err) => {
          run.abort(err);
          subscriber.error(err);
        },
        complete: () => run.complete(),
      });
      return () => run.abort(new TransferCancelledError('local', 'unsubscribed'));
    });
}
