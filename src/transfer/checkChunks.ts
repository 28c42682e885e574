/**
 * The one check of a sender's chunks, wherever they come from (the built-in `adaptiveChunk` or your own
 * `chunking` operator): `data` a `Uint8Array`, indexes dense from 0, offsets contiguous from `startOffset`,
 * every chunk `minChunk` to `maxChunk` bytes except the last (1 to `maxChunk`: the one that ends at `size`),
 * and together exactly the bytes up to `size`. A chunk that breaks a rule fails the transfer with
 * `InvalidConfigError` before it is framed. (The receiver bounds a file's chunk count by its size over
 * `minChunk`; smaller chunks would break that bound only at the end.)
 *
 * ```
 * chunks: -c0-c1-c2|      (c1.offset = c0.offset + c0.length, …)
 * result: -c0-c1-c2|
 * bad:    -c0-c2|   →  -c0-#   (index 2 where 1 was due)
 * ```
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidConfigError } from '../errors';
import type { Chunk } from '../types';
import { subscribeChained } from '../operators/subscribeChained';

/** What a value is, for a message: `an Array`, `a string`, `null`. */
const describe = (v: unknown): string => (v === null ? 'null' : typeof v === 'object' ? `a${/^[AEIOU]/.test(v.constructor?.name ?? '') ? 'n' : ''} ${v.constructor?.name ?? 'object'}` : `a ${typeof v}`);

/** What {@link checkChunks} enforces. */
export interface CheckChunksConfig {
  /** Offset of the first chunk (the resumed prefix's length). */
  readonly startOffset: number;
  /** The file size: the chunks must end exactly there. */
  readonly size: number;
  /** Largest payload allowed (the manifest's `chunk.max`). */
  readonly maxChunk: number;
  /** Smallest payload allowed for every chunk but the last (the manifest's `chunk.min`). Default 1. */
  readonly minChunk?: number;
}

export function checkChunks({ startOffset, size, maxChunk, minChunk = 1 }: CheckChunksConfig): OperatorFunction<Chunk, Chunk> {
  return (source) =>
    new Observable<Chunk>((subscriber) => {
      // The index and offset the next chunk must have.
      let index = 0;
      let offset = startOffset;
      const bad = (message: string, details: Record<string, unknown>) =>
        subscriber.error(new InvalidConfigError(`chunking: ${message}`, { ...details, expectedIndex: index, expectedOffset: offset }));
      const sub = subscribeChained(source, subscriber, {
        next: (c) => {
          if (c.index !== index) return bad(`chunk index ${c.index} where ${index} was due`, { index: c.index });
          if (c.offset !== offset) return bad(`chunk ${c.index} starts at ${c.offset}, not at ${offset}`, { offset: c.offset });
          if (!(c.data instanceof Uint8Array)) return bad(`chunk ${c.index}'s data is ${describe(c.data)}, not a Uint8Array`, { dataType: describe(c.data) });
          const n = c.data.length;
          if (n < 1 || n > maxChunk) return bad(`chunk ${c.index} carries ${n} B, ${n < 1 ? 'none' : `more than maxChunk ${maxChunk}`} (each chunk 1..${maxChunk} B, and at least minChunk ${minChunk} but the last)`, { length: n, maxChunk, minChunk });
          if (offset + n > size) return bad(`chunk ${c.index} ends at ${offset + n}, past the file's ${size} B`, { end: offset + n, size });
          if (n < minChunk && offset + n !== size) {
            return bad(`chunk ${c.index} carries ${n} B, below minChunk ${minChunk}: only the last chunk may be smaller`, { length: n, minChunk });
          }
          index++;
          offset += n;
          subscriber.next(c);
        },
        error: (e) => subscriber.error(e),
        complete: () => (offset === size ? subscriber.complete() : bad(`the chunks end at ${offset}, short of the file's ${size} B`, { end: offset, size })),
      });
      return () => sub.unsubscribe();
    });
}
