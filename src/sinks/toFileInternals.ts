/**
 * The per-subscription engine of `toFile`: the file handle, the chunks not yet written, and the end. `toFile`
 * validates its options and makes one {@link FileWriteRun} per subscription, so every subscriber gets fresh
 * state. Node.js only, like `toFile`: no browser bundle carries it, so its steps can be a class's methods.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Subscriber } from 'rxjs';
import { LimitExceededError, SinkWriteError, TallowError } from '../errors';
import type { Chunk } from '../types';
import type { FileWriteResult } from './toFile';

/** The `SinkWriteError` for `what` failing on `path`, with the fs error as `cause`. */
const sinkError = (what: string, path: string, err: unknown, details: Record<string, unknown>) =>
  new SinkWriteError(`${what} ${path}: ${(err as Error)?.message ?? err}`, { path, code: (err as any)?.code, ...details }, err);

/** Writes all of `chunk` at its offset (a positional write may write fewer bytes than asked). */
const writeAt = async (handle: FileHandle, chunk: Chunk) => {
  const { data, offset } = chunk;
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, offset + done);
    done += bytesWritten;
  }
};

/** Why `chunk` cannot join a queue of `queuedBytes`: an invalid offset, or more than `maxQueuedBytes` waiting. */
const refuse = (path: string, chunk: Chunk, queuedBytes: number, maxQueuedBytes: number): TallowError | undefined => {
  const { offset, data } = chunk;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    return new SinkWriteError(`chunk ${chunk.index} has an invalid offset ${offset}`, { path, index: chunk.index, offset });
  }
  if (queuedBytes + data.length > maxQueuedBytes) return new LimitExceededError('toFile queued bytes', queuedBytes + data.length, maxQueuedBytes);
  return undefined;
};

/** One subscription of `toFile`: its state, and the named steps that open, write and close the file. */
export class FileWriteRun {
  // The open file, once `open` resolved.
  private handle: FileHandle | undefined;
  // The close in progress or done, so the handle is closed once.
  private closing: Promise<void> | undefined;
  // Chunks received and not yet written, in arrival order.
  private queue: Chunk[] = [];
  // Bytes in `queue`, including the chunk being written.
  private queuedBytes = 0;
  // True while a write (or the open) runs.
  private busy = true;
  // Bytes written.
  private bytes = 0;
  // True once the source completed.
  private sourceDone = false;
  // True once the sink finished, failed or was unsubscribed.
  private finished = false;

  constructor(
    private readonly subscriber: Subscriber<FileWriteResult>,
    private readonly path: string,
    private readonly fsync: boolean,
    private readonly maxQueuedBytes: number,
  ) {}

  /** `open` resolved: keep the handle and write what queued meanwhile, or close it if the subscription already ended. */
  opened(h: FileHandle): void {
    if (this.finished) {
      // Unsubscribed while opening.
      this.closing = h.close();
      this.closing.catch(() => undefined);
      return;
    }
    this.handle = h;
    void this.pump();
  }

  /** A chunk from the source: refused (invalid offset, queue full), skipped (empty), or queued for writing. */
  accept(chunk: Chunk): void {
    if (this.finished) return;
    const refusal = refuse(this.path, chunk, this.queuedBytes, this.maxQueuedBytes);
    if (refusal) return this.fail(refusal, '');
    if (!chunk.data.length) return;
    this.queue.push(chunk);
    this.queuedBytes += chunk.data.length;
    if (!this.busy) {
      this.busy = true;
      void this.pump();
    }
  }

  /** The source errored: stop and pass its error on. */
  sourceError(err: unknown): void {
    if (this.finished) return;
    this.stop();
    this.subscriber.error(err);
  }

  /** The source completed: finish now, or once the writes in progress are done. */
  complete(): void {
    this.sourceDone = true;
    if (!this.busy && !this.finished) void this.finish();
  }

  /** The subscription ended: stop unless the sink already finished. */
  teardown(): void {
    if (!this.finished) this.stop();
  }

  /** Errors the output with `err` (as a `SinkWriteError` saying `what` failed, unless it is a `TallowError`), once. */
  fail(err: unknown, what: string, details: Record<string, unknown> = {}): void {
    if (this.finished) return;
    this.stop();
    this.subscriber.error(err instanceof TallowError ? err : sinkError(what, this.path, err, details));
  }

  /** Closes the handle (once; a handle not open yet has nothing to close). */
  private close(): Promise<void> {
    return (this.closing ??= this.handle ? this.handle.close() : Promise.resolve());
  }

  /** Ends the sink: drops the queue and closes the handle. */
  private stop(): void {
    this.finished = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.close().catch(() => undefined);
  }

  /** fsyncs (unless `fsync: false`) and closes the file, then emits the result and completes. */
  private async finish(): Promise<void> {
    this.finished = true;
    try {
      if (this.fsync) await this.handle!.sync();
      await this.close();
    } catch (err) {
      this.close().catch(() => undefined);
      this.subscriber.error(sinkError('cannot finish', this.path, err, { bytes: this.bytes }));
      return;
    }
    this.subscriber.next({ path: this.path, bytes: this.bytes });
    this.subscriber.complete();
  }

  /** Writes the queue one chunk at a time, in arrival order, then finishes if the source completed. */
  private async pump(): Promise<void> {
    while (this.queue.length && !this.finished) {
      const chunk = this.queue[0];
      try {
        await writeAt(this.handle!, chunk);
      } catch (err) {
        return this.fail(err, 'cannot write', { offset: chunk.offset, index: chunk.index });
      }
      if (this.finished) return;
      this.queue.shift();
      this.queuedBytes -= chunk.data.length;
      this.bytes += chunk.data.length;
    }
    this.busy = false;
    if (this.sourceDone && !this.finished) void this.finish();
  }
}
