/**
 * A sink that writes chunks into a file at their offsets (Node.js only: import it from `tallow-rx/node`).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidConfigError, LimitExceededError, SinkWriteError, TallowError } from '../errors';
import type { Chunk } from '../types';
import { subscribeChained } from '../operators/subscribeChained';

/** Options for {@link toFile}. */
export interface ToFileConfig {
  /**
   * `fs` open flags. `'w'` creates or truncates; `'r+'` opens an existing file
   * without truncating, to resume into a partial download; `'wx'` fails if the
   * file exists. Default `'w'`.
   */
  readonly flags?: string;
  /** File mode when the file is created. Default `0o666` (minus the umask). */
  readonly mode?: number;
  /** `fsync` the file before completing, so the result means "on disk". Default `true`. */
  readonly fsync?: boolean;
  /**
   * Most bytes received and not yet written. A WebRTC receiver cannot pause its
   * sender by itself, so a slow disk must not make memory grow without bound:
   * beyond this the sink errors with `LimitExceededError` (code `ERR_LIMIT`).
   * Default 64 MiB.
   */
  readonly maxQueuedBytes?: number;
}

/** What {@link toFile} emits once everything is written. */
export interface FileWriteResult {
  /** The path written. */
  readonly path: string;
  /** Bytes written by this subscription (not counting what a resumed file already held). */
  readonly bytes: number;
}

/** Default {@link ToFileConfig.maxQueuedBytes}: 64 MiB. */
export const DEFAULT_FILE_QUEUED_BYTES = 64 * 1024 * 1024;

/**
 * Writes each chunk at its `offset` with positional writes, one write at a
 * time in arrival order, and emits one `{ path, bytes }` when the source
 * completed and every byte is written (and fsynced, unless `fsync: false`).
 *
 * Because writes are positional, chunks may arrive in any order: no `reorder()`
 * is needed. The file is opened on subscribe; chunks that arrive meanwhile or
 * while a write runs wait in a queue bounded by `maxQueuedBytes`. The handle is
 * closed exactly once, on completion, error or unsubscribe. On error or
 * unsubscribe the partial file is left in place (resume into it with
 * `flags: 'r+'`, or delete it). Failures error with `SinkWriteError`
 * (`details.path`, the fs error as `cause`).
 *
 * ```
 * source:           -a--c--b--|      a, b, c: chunks at offsets 0, 4, 8
 * toFile(path):     -----------(r|)  r = { path, bytes: 12 }   (asynchronous)
 * ```
 *
 * ## Example
 * ```ts
 * import { toFile } from 'tallow-rx/node';
 *
 * chunks$.pipe(toFile('/downloads/big.bin')).subscribe(({ bytes }) => console.log(`saved ${bytes} B`));
 * ```
 *
 * @see toWritableStream
 * @param path The file to write.
 * @param config `flags` (default `'w'`), `mode`, `fsync` (default true) and `maxQueuedBytes` (default 64 MiB).
 * @return An operator emitting one {@link FileWriteResult} on completion.
 */
export function toFile(path: string, config: ToFileConfig = {}): OperatorFunction<Chunk, FileWriteResult> {
  const flags = config.flags ?? 'w';
  const mode = config.mode;
  const fsync = config.fsync ?? true;
  const maxQueuedBytes = config.maxQueuedBytes ?? DEFAULT_FILE_QUEUED_BYTES;
  if (!(maxQueuedBytes > 0)) throw new InvalidConfigError(`toFile maxQueuedBytes must be > 0, got ${maxQueuedBytes}`, { maxQueuedBytes });
  return (source) =>
    new Observable<FileWriteResult>((subscriber) => {
      // The open file, once `open` resolved.
      let handle: FileHandle | undefined;
      // The close in progress or done, so the handle is closed once.
      let closing: Promise<void> | undefined;
      // Chunks received and not yet written, in arrival order.
      let queue: Chunk[] = [];
      // Bytes in `queue`, including the chunk being written.
      let queuedBytes = 0;
      // True while a write (or the open) runs.
      let busy = true;
      // Bytes written.
      let bytes = 0;
      // True once the source completed.
      let sourceDone = false;
      // True once the sink finished, failed or was unsubscribed.
      let finished = false;

      const close = (): Promise<void> => (closing ??= handle ? handle.close() : Promise.resolve());
      const stop = () => {
        finished = true;
        queue = [];
        queuedBytes = 0;
        close().catch(() => undefined);
      };
      const fail = (err: unknown, what: string, details: Record<string, unknown> = {}) => {
        if (finished) return;
        stop();
        subscriber.error(
          err instanceof TallowError ? err : new SinkWriteError(`${what} ${path}: ${(err as Error)?.message ?? err}`, { path, code: (err as any)?.code, ...details }, err),
        );
      };
      const finish = async () => {
        finished = true;
        try {
          if (fsync) await handle!.sync();
          await close();
        } catch (err) {
          close().catch(() => undefined);
          subscriber.error(new SinkWriteError(`cannot finish ${path}: ${(err as Error)?.message ?? err}`, { path, code: (err as any)?.code, bytes }, err));
          return;
        }
        subscriber.next({ path, bytes });
        subscriber.complete();
      };
      const writeChunk = async (chunk: Chunk) => {
        const { data, offset } = chunk;
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await handle!.write(data, done, data.length - done, offset + done);
          done += bytesWritten;
        }
      };
      const pump = async () => {
        while (queue.length && !finished) {
          const chunk = queue[0];
          try {
            await writeChunk(chunk);
          } catch (err) {
            return fail(err, 'cannot write', { offset: chunk.offset, index: chunk.index });
          }
          if (finished) return;
          queue.shift();
          queuedBytes -= chunk.data.length;
          bytes += chunk.data.length;
        }
        busy = false;
        if (sourceDone && !finished) void finish();
      };

      open(path, flags, mode).then(
        (h) => {
          if (finished) {
            // Unsubscribed while opening.
            closing = h.close();
            closing.catch(() => undefined);
            return;
          }
          handle = h;
          void pump();
        },
        (err) => fail(err, 'cannot open'),
      );

      subscribeChained(source, subscriber, {
        next: (chunk) => {
          if (finished) return;
          const { offset, data } = chunk;
          if (!Number.isSafeInteger(offset) || offset < 0) {
            fail(new SinkWriteError(`chunk ${chunk.index} has an invalid offset ${offset}`, { path, index: chunk.index, offset }), '');
            return;
          }
          if (queuedBytes + data.length > maxQueuedBytes) {
            fail(new LimitExceededError('toFile queued bytes', queuedBytes + data.length, maxQueuedBytes), '');
            return;
          }
          if (!data.length) return;
          queue.push(chunk);
          queuedBytes += data.length;
          if (!busy) {
            busy = true;
            void pump();
          }
        },
        error: (err) => {
          if (finished) return;
          stop();
          subscriber.error(err);
        },
        complete: () => {
          sourceDone = true;
          if (!busy && !finished) void finish();
        },
      });

      return () => {
        if (!finished) stop();
      };
    });
}
