/**
 * A byte source over a `Blob` or `File`.
 */
import type { Observable } from 'rxjs';
import { SourceReadError } from '../errors';
import type { Bytes } from '../types';
import { pullSource, type SourceConfig } from './pullSource';
import { startOffset, type StartConfig } from './startOffset';
import { checkArgument, configObject } from '../configObject';

/** Options for {@link fromBlob}. */
export interface FromBlobConfig extends SourceConfig, StartConfig {}

/**
 * Reads a `Blob` (a browser `File`, or Node's `Blob`/`File`) piece by piece, as credit allows.
 *
 * Each read is one `blob.slice(pos, pos + max).arrayBuffer()`, so at most one
 * piece of at most `readSize` bytes is in memory per read, whatever the size of
 * the file, and nothing is read before credit is granted. Every piece is a
 * fresh buffer. The Observable is cold: each subscription reads from `start` again.
 *
 * ```
 * blob:                  [0 1 2 3 4]   readSize: 2
 * fromBlob(blob):        --a--b--c|    a = [0 1], b = [2 3], c = [4]  (asynchronous)
 * ```
 *
 * ## Example
 * ```ts
 * import { fromBlob } from 'tallow-rx';
 *
 * input.addEventListener('change', () => {
 *   fromBlob(input.files![0], { readSize: 64 * 1024 }).subscribe((piece) => console.log(piece.length));
 * });
 * ```
 *
 * @see fromBytes
 * @param blob The input; a `File` works too. A browser `File` that changes on disk makes a read fail.
 * @param config `demand`, `readSize` (default 256 KiB) and `start` (default 0).
 * @return A cold Observable of pieces; a failed read errors with `SourceReadError` (the cause attached).
 */
export function fromBlob(blob: Blob, config: FromBlobConfig = {}): Observable<Bytes> {
  checkArgument('fromBlob', 'blob', blob, typeof (blob as Blob | null)?.slice === 'function' && typeof (blob as Blob).size === 'number', 'a Blob');
  config = configObject('fromBlob', config);
  const start = startOffset(config, 'fromBlob');
  return pullSource(() => {
    // Next byte to read.
    let pos = start;
    return {
      read: async (max: number): Promise<Bytes | null> => {
        if (pos >= blob.size) return null;
        const offset = pos;
        let buffer: ArrayBuffer;
        try {
          buffer = await blob.slice(offset, offset + max).arrayBuffer();
        } catch (err) {
          throw new SourceReadError(`cannot read blob at offset ${offset}: ${(err as Error)?.message ?? err}`, { offset, size: blob.size }, err);
        }
        if (buffer.byteLength === 0) return null;
        pos = offset + buffer.byteLength;
        return new Uint8Array(buffer);
      },
    };
  }, config);
}
