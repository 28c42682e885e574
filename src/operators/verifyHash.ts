/**
 * End-to-end integrity: per-chunk CRC-32, order, and the whole-file SHA-256.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { HashMismatchError, InvalidConfigError, ProtocolError, ReorderError } from '../errors';
import { createSha256, type Sha256, type Sha256Factory } from '../hash/sha256';
import type { Chunk } from '../types';
import { subscribeChained } from './subscribeChained';
import { verifyChunk } from './verifyChunk';

/** Options for {@link verifyHash}. */
export interface VerifyHashConfig {
  /** The expected SHA-256 (hex), or an Observable whose first value is it. Default: none (digest only). */
  readonly expected?: string | Observable<string>;
  /** Called with the digest (lowercase hex) and the byte count when the source completes. A throw errors the output. */
  readonly onDigest?: (hex: string, bytes: number) => void;
  /** Hash factory; may return a Promise (WASM). Default `createSha256`. */
  readonly createHash?: Sha256Factory;
  /**
   * Byte offset of the first chunk (a resumed transfer starts past the bytes
   * already held; feed those to the hasher through `createHash`). Default `0`.
   */
  readonly startOffset?: number;
  /**
   * Check each chunk's CRC-32. Turn it off only when an earlier step already
   * did (as `receiveFile` does with `repairChunks`); the SHA-256 still covers
   * every byte. Default `true`.
   */
  readonly checkChunks?: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/i;

/**
 * Verifies chunks as they pass: CRC-32 of each chunk that carries a `checksum`,
 * strict order and contiguity, and the SHA-256 of the whole stream against
 * `expected` before completing.
 *
 * Chunks pass through unchanged once verified. When `createHash` returns a
 * Promise, chunks wait (in order) until it resolves. The output completes only
 * after the digest has been compared; if `expected` is an Observable, that is
 * when its first value arrives.
 *
 * ```
 * source:   -a-b-|
 * expected: -------e
 * result:   -a-b---|      (or # HashMismatchError(-1, …) if e differs)
 * ```
 *
 * Errors: `HashMismatchError` (`'crc32'` with the chunk index, or `'sha-256'`
 * with index -1); `ReorderError` `ERR_REORDER_GAP` when a chunk's index or
 * offset is not the next one; `ProtocolError` when `expected` completes
 * without a value.
 *
 * ## Example
 * ```ts
 * import { decodeFrames, reorder, verifyHash } from 'tallow-rx';
 * messages$.pipe(decodeFrames({ transferId }), reorder(), verifyHash({ expected: manifest.sha256 }));
 * ```
 *
 * @see verifyChunk
 * @param config See {@link VerifyHashConfig}.
 * @return An operator that passes chunks through once verified.
 */
export function verifyHash(config: VerifyHashConfig = {}): OperatorFunction<Chunk, Chunk> {
  const { expected, onDigest, createHash = createSha256, startOffset = 0, checkChunks = true } = config;
  if (!Number.isSafeInteger(startOffset) || startOffset < 0) {
    throw new InvalidConfigError(`startOffset must be a non-negative integer, got ${startOffset}`, { startOffset });
  }
  if (typeof expected === 'string' && !HEX64.test(expected)) {
    throw new InvalidConfigError(`expected must be 64 hex digits, got "${expected}"`, { expected });
  }
  return (source) =>
    new Observable<Chunk>((subscriber) => {
      // The hasher, once created.
      let hasher: Sha256 | undefined;
      // Verified chunks waiting for an asynchronous hasher; null once it is ready.
      let queue: Chunk[] | null = [];
      // Index and offset the next chunk must have.
      let nextIndex = 0;
      let bytes = startOffset;
      // True once the source completed.
      let sourceDone = false;
      // The computed and the expected digests, once known.
      let actual: string | undefined;
      let wanted = typeof expected === 'string' ? expected.toLowerCase() : undefined;

      const pass = (chunk: Chunk) => {
        hasher!.update(chunk.data);
        subscriber.next(chunk);
      };
      /** Completes or errors once both digests are known. */
      const compare = () => {
        if (actual === undefined || subscriber.closed) return;
        if (expected === undefined) return subscriber.complete();
        if (wanted === undefined) return;
        if (wanted !== actual) return subscriber.error(new HashMismatchError(-1, wanted, actual, 'sha-256'));
        subscriber.complete();
      };
      const digested = (hex: string) => {
        // A digest that comes after the subscriber went (a worker's promise) is dropped.
        if (subscriber.closed) return;
        actual = hex;
        try {
          onDigest?.(actual, bytes);
        } catch (err) {
          return subscriber.error(err);
        }
        compare();
      };
      // A worker's digest is a promise; node:crypto's is a string, and stays synchronous.
      const finish = () => {
        let digest: string | Promise<string>;
        try {
          digest = hasher!.digestHex();
        } catch (err) {
          return subscriber.error(err);
        }
        if (typeof digest === 'string') digested(digest);
        else digest.then(digested, (err) => subscriber.error(err));
      };
      const ready = (h: Sha256) => {
        if (subscriber.closed) return;
        hasher = h;
        // Chunks arriving while the queue drains are appended, so order holds.
        for (let i = 0; queue && i < queue.length && !subscriber.closed; i++) pass(queue[i]);
        queue = null;
        if (sourceDone && !subscriber.closed) finish();
      };

      if (typeof expected === 'object') {
        subscribeChained(expected, subscriber, {
          next: (hex) => {
            if (wanted !== undefined) return;
            wanted = String(hex).toLowerCase();
            compare();
          },
          error: (err) => subscriber.error(err),
          complete: () => {
            if (wanted === undefined) subscriber.error(new ProtocolError('the expected digest never arrived', { actual }));
          },
        });
      }
      let created: Sha256 | Promise<Sha256>;
      try {
        created = createHash();
      } catch (err) {
        subscriber.error(err);
        return;
      }
      if (typeof (created as Promise<Sha256>)?.then === 'function') {
        (created as Promise<Sha256>).then(ready, (err) => subscriber.error(err));
      } else {
        ready(created as Sha256);
      }
      if (subscriber.closed) return;

      subscribeChained(source, subscriber, {
        next: (chunk) => {
          if (chunk.index !== nextIndex || chunk.offset !== bytes) {
            return subscriber.error(
              new ReorderError('ERR_REORDER_GAP', `expected chunk ${nextIndex} at offset ${bytes}, got chunk ${chunk.index} at offset ${chunk.offset}`, {
                missing: nextIndex,
                expectedOffset: bytes,
                index: chunk.index,
                offset: chunk.offset,
              }),
            );
          }
          const mismatch = checkChunks ? verifyChunk(chunk) : undefined;
          if (mismatch) return subscriber.error(mismatch);
          nextIndex++;
          bytes += chunk.data.length;
          if (queue) queue.push(chunk);
          else pass(chunk);
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          if (!queue) finish();
        },
      });
      return () => {
        queue = null;
        hasher = undefined;
      };
    });
}
