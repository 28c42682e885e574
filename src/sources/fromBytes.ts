/**
 * A byte source over a `Uint8Array` already in memory.
 */
import { Observable, type Subscriber } from 'rxjs';
import type { Bytes } from '../types';
import { pullSource, type SourceConfig } from './pullSource';
import { startOffset, type StartConfig } from './startOffset';
import { checkArgument, configObject } from '../configObject';

/** Options for {@link fromBytes}. */
export interface FromBytesConfig extends SourceConfig, StartConfig {}

/**
 * Emits `bytes` as zero-copy pieces of at most `readSize` bytes, as credit allows.
 *
 * The reader is synchronous: without a `demand`, every piece is emitted during
 * `subscribe`, so the source is marble-testable. Pieces are `subarray` views that
 * share memory with `bytes`, so do not modify `bytes` while a transfer runs.
 * The Observable is cold: each subscription reads from `start` again.
 *
 * ```
 * bytes:                 [0 1 2 3 4]   readSize: 2
 * fromBytes(bytes):      (a b c |)     a = [0 1], b = [2 3], c = [4]
 * with demand, request(3) then request(10):
 * fromBytes(...):        a - (b c |)   b = [2], c = [3 4]
 * ```
 *
 * ## Example
 * ```ts
 * import { fromBytes } from 'tallow-rx';
 *
 * fromBytes(new TextEncoder().encode('hello'), { readSize: 2 })
 *   .subscribe((piece) => console.log(piece.length)); // 2, 2, 1
 * ```
 *
 * @see fromBlob
 * @param bytes The input. Not copied.
 * @param config `demand`, `readSize` (default 256 KiB) and `start` (default 0).
 * @return A cold Observable of pieces that completes after the last byte.
 */
export function fromBytes(bytes: Uint8Array, config: FromBytesConfig = {}): Observable<Bytes> {
  checkArgument('fromBytes', 'bytes', bytes, bytes instanceof Uint8Array, 'a Uint8Array');
  config = configObject('fromBytes', config);
  const start = startOffset(config, 'fromBytes');
  // The subscriber being subscribed right now; `open` runs synchronously inside `subscribe`.
  let subscribing: Subscriber<Bytes> | undefined;
  const source = pullSource(() => {
    // Whose subscription this reader serves.
    const owner = subscribing;
    // Next byte to emit.
    let pos = start;
    return {
      read: (max: number): Bytes | null => {
        // Ending on `owner.closed` stops the synchronous loop after an unsubscribe
        // made during `subscribe` (e.g. `take(1)`), which pullSource cannot see yet.
        if (owner?.closed || pos >= bytes.length) return null;
        const piece = bytes.subarray(pos, pos + max);
        pos += piece.length;
        return piece;
      },
    };
  }, config);
  return new Observable<Bytes>((subscriber) => {
    subscribing = subscriber;
    try {
      source.subscribe(subscriber);
    } finally {
      subscribing = undefined;
    }
  });
}
