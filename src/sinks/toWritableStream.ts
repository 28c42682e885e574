/**
 * A sink that writes every byte into a WHATWG `WritableStream`.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidConfigError, LimitExceededError, SinkWriteError, TallowError, TransferCancelledError } from '../errors';
import type { Chunk } from '../types';
import { subscribeChained } from '../operators/subscribeChained';

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
      // Chunks not yet handed to the stream, in arrival order.
      let queue: Uint8Array[] = [];
      // Bytes in `queue`.
      let queuedBytes = 0;
      // Writes handed to the stream and not yet finished.
      let inFlight = 0;
      // Bytes whose write finished.
      let written = 0;
      // True while the drain loop waits for `writer.ready`.
      let draining = false;
      // True once the source completed.
      let sourceDone = false;
      // True once the sink completed, errored or was unsubscribed: the writer is no longer ours.
      let finished = false;

      const release = () => {
        queue = [];
        queuedBytes = 0;
        try {
          writer.releaseLock();
        } catch {
          // Already released.
        }
      };
      const abort = (reason: unknown) => {
        if (finished) return;
        finished = true;
        writer.abort(reason).catch(() => undefined);
        release();
      };
      const fail = (err: unknown) => {
        if (finished) return;
        const error =
          err instanceof TallowError ? err : new SinkWriteError(`stream write failed after ${written} B: ${(err as Error)?.message ?? err}`, { written }, err);
        abort(error);
        subscriber.error(error);
      };
      const checkComplete = () => {
        if (finished || !sourceDone || queue.length || inFlight || draining) return;
        finished = true;
        writer.close().then(
          () => {
            release();
            subscriber.complete();
          },
          (err) => {
            release();
            subscriber.error(new SinkWriteError(`closing the stream failed: ${(err as Error)?.message ?? err}`, { written }, err));
          },
        );
      };
      const drain = async () => {
        if (draining) return;
        draining = true;
        try {
          while (queue.length && !finished) {
            await writer.ready;
            if (finished) return;
            const data = queue.shift()!;
            queuedBytes -= data.length;
            inFlight++;
            writer.write(data).then(() => {
              inFlight--;
              if (finished) return;
              written += data.length;
              subscriber.next(written);
              checkComplete();
            }, fail);
          }
        } catch (err) {
          fail(err);
        } finally {
          draining = false;
        }
        checkComplete();
      };

      subscribeChained(source, subscriber, {
        next: (value) => {
          if (finished) return;
          const data = value instanceof Uint8Array ? value : value.data;
          if (!data.length) return;
          if (queuedBytes + data.length > maxQueuedBytes) {
            fail(new LimitExceededError('toWritableStream queued bytes', queuedBytes + data.length, maxQueuedBytes));
            return;
          }
          queue.push(data);
          queuedBytes += data.length;
          void drain();
        },
        error: (err) => {
          abort(err);
          subscriber.error(err);
        },
        complete: () => {
          sourceDone = true;
          checkComplete();
        },
      });

      return () => abort(new TransferCancelledError('local', 'unsubscribed'));
    });
}
