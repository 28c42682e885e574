/**
 * The per-subscription engine of `toWritableStream`: the chunks not yet handed to the stream, the writes in
 * flight, and the end. `toWritableStream` validates its options, takes the stream's writer and calls
 * {@link streamWriteRun} once per subscription, so every subscriber gets fresh state (closure locals).
 */
import type { Subscriber } from 'rxjs';
import { LimitExceededError, SinkWriteError, TallowError } from '../errors';
import type { Chunk } from '../types';

type Writer = WritableStreamDefaultWriter<Uint8Array>;

/** Releases the writer's lock on the stream, if it still holds it. */
const releaseLock = (writer: Writer) => {
  try {
    writer.releaseLock();
  } catch {
    // Already released.
  }
};

/** What a failure after `written` bytes errors the output with: a `TallowError` as is, anything else as a `SinkWriteError`. */
const writeError = (err: unknown, written: number) =>
  err instanceof TallowError ? err : new SinkWriteError(`stream write failed after ${written} B: ${(err as Error)?.message ?? err}`, { written }, err);

/** Closes the stream, then releases it and completes `subscriber`, or errors it with why the close failed. */
const closeStream = (subscriber: Subscriber<number>, writer: Writer, written: number) =>
  writer.close().then(
    () => {
      releaseLock(writer);
      subscriber.complete();
    },
    (err) => {
      releaseLock(writer);
      subscriber.error(new SinkWriteError(`closing the stream failed: ${(err as Error)?.message ?? err}`, { written }, err));
    },
  );

/** One subscription of `toWritableStream`: its state in closure locals, and the steps the operator wires to its source. */
export function streamWriteRun(subscriber: Subscriber<number>, writer: Writer, maxQueuedBytes: number) {
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
  /** Aborts the stream with `reason`, drops the queue and lets the stream go, once. */
  const abort = (reason: unknown) => {
    if (finished) return;
    finished = true;
    writer.abort(reason).catch(() => undefined);
    [queue, queuedBytes] = [[], 0];
    releaseLock(writer);
  };
  const fail = (err: unknown) => {
    if (finished) return;
    const error = writeError(err, written);
    abort(error);
    subscriber.error(error);
  };
  /** Closes the stream and completes once the source completed and every write finished (the queue, empty, stays so). */
  const checkComplete = () => {
    if (finished || !sourceDone || queue.length || inFlight || draining) return;
    finished = true;
    closeStream(subscriber, writer, written);
  };
  /** Hands the queue to the stream, one chunk each time `writer.ready` resolves. */
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
  return {
    abort,
    /** A chunk or byte array from the source: skipped when empty, refused past `maxQueuedBytes`, else queued. */
    accept: (value: Chunk | Uint8Array) => {
      if (finished) return;
      const data = value instanceof Uint8Array ? value : value.data;
      if (!data.length) return;
      if (queuedBytes + data.length > maxQueuedBytes) return fail(new LimitExceededError('toWritableStream queued bytes', queuedBytes + data.length, maxQueuedBytes));
      queue.push(data);
      queuedBytes += data.length;
      void drain();
    },
    /** The source completed: close once every write finished. */
    complete: () => {
      sourceDone = true;
      checkComplete();
    },
  };
}
