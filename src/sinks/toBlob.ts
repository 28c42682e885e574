/**
 * A sink that gathers every byte into one `Blob`.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidConfigError, LimitExceededError } from '../errors';
import { subscribeChained } from '../operators/subscribeChained';
import type { Chunk } from '../types';
import { configObject } from '../configObject';

/** Options for {@link toBlob}. */
export interface ToBlobConfig {
  /** MIME type of the Blob, e.g. `'image/png'`. Default `''`. */
  readonly type?: string;
  /**
   * Largest total size accepted, in bytes; more errors with `LimitExceededError`
   * (code `ERR_LIMIT`). Default `Infinity`.
   */
  readonly maxBytes?: number;
}

/**
 * Collects chunks (or plain byte arrays) in arrival order and emits one `Blob`
 * when the source completes.
 *
 * The whole file is held in memory (browsers may page large Blobs to disk, Node
 * does not), so use it for files that fit; stream bigger ones to `toFile()` or
 * `toWritableStream()`. Each part is copied into a small Blob as it arrives, so
 * the producer may reuse its buffers and the final Blob costs no second copy.
 * Parts are concatenated in arrival order, not by `offset`: put `reorder()`
 * first when chunks can arrive out of order. An empty source emits an empty
 * Blob; an error or unsubscribe drops the parts.
 *
 * ```
 * source:     -a--b--c--|
 * toBlob():   ----------(B|)     B = Blob [a b c]
 * source:     -a--b--#
 * toBlob():   -------#
 * ```
 *
 * ## Example
 * ```ts
 * import { toBlob } from 'tallow-rx';
 *
 * chunks$.pipe(toBlob({ type: 'image/png' })).subscribe((blob) => (img.src = URL.createObjectURL(blob)));
 * ```
 *
 * @see toWritableStream
 * @param config `type` (default `''`) and `maxBytes` (default `Infinity`).
 * @return An operator emitting exactly one Blob on completion.
 */
export function toBlob(config: ToBlobConfig = {}): OperatorFunction<Chunk | Uint8Array, Blob> {
  config = configObject('toBlob', config);
  const type = config.type ?? '';
  const maxBytes = config.maxBytes ?? Infinity;
  if (!(maxBytes >= 0)) throw new InvalidConfigError(`toBlob maxBytes must be >= 0, got ${maxBytes}`, { maxBytes });
  return (source) =>
    new Observable<Blob>((subscriber) => {
      // The parts so far, each already copied into a Blob.
      let parts: Blob[] = [];
      // Total bytes collected.
      let size = 0;
      subscribeChained(source, subscriber, {
        next: (value) => {
          const data = value instanceof Uint8Array ? value : value.data;
          if (size + data.length > maxBytes) {
            parts = [];
            subscriber.error(new LimitExceededError('toBlob size', size + data.length, maxBytes));
            return;
          }
          if (!data.length) return;
          parts.push(new Blob([data as Uint8Array<ArrayBuffer>]));
          size += data.length;
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          const blob = new Blob(parts, { type });
          parts = [];
          subscriber.next(blob);
          subscriber.complete();
        },
      });
      return () => {
        parts = [];
      };
    });
}
