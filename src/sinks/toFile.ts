/**
 * A sink that writes chunks into a file at their offsets (Node.js only: import it from `tallow-rx/node`).
 */
import { open } from 'node:fs/promises';
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidConfigError } from '../errors';
import type { Chunk } from '../types';
import { subscribeChained } from '../operators/subscribeChained';
import { FileWriteRun } from './toFileInternals';
import { configObject } from '../configObject';

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
  config = configObject('toFile', config);
  const flags = config.flags ?? 'w';
  const mode = config.mode;
  const fsync = config.fsync ?? true;
  const maxQueuedBytes = config.maxQueuedBytes ?? DEFAULT_FILE_QUEUED_BYTES;
  if (!(maxQueuedBytes > 0)) throw new InvalidConfigError(`toFile maxQueuedBytes must be > 0, got ${maxQueuedBytes}`, { maxQueuedBytes });
  return (source) =>
    new Observable<FileWriteResult>((subscriber) => {
      // This subscription's file handle, queue and end.
      const run = new FileWriteRun(subscriber, path, fsync, maxQueuedBytes);
      open(path, flags, mode).then(
        (h) => run.opened(h),
        (err) => run.fail(err, 'cannot open'),
      );
      subscribeChained(source, subscriber, {
        next: (chunk) => run.accept(chunk),
        error: (err) => run.sourceError(err),
        complete: () => run.complete(),
      });
      return () => run.teardown();
    });
}
