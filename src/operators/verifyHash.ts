/**
 * End-to-end integrity: per-chunk CRC-32, order, and the whole-file SHA-256.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidConfigError } from '../errors';
import { createSha256, type Sha256Factory } from '../hash/sha256';
import type { Chunk } from '../types';
import { subscribeChained } from './subscribeChained';
import { digestCheck, verifyHashRun, type VerifyHashSettings } from './verifyHashInternals';
import { configObject } from '../configObject';

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
  config = configObject('verifyHash', config);
  const { expected, onDigest, createHash = createSha256, startOffset = 0, checkChunks = true } = config;
  if (!Number.isSafeInteger(startOffset) || startOffset < 0) {
    throw new InvalidConfigError(`startOffset must be a non-negative integer, got ${startOffset}`, { startOffset });
  }
  if (typeof expected === 'string' && !HEX64.test(expected)) {
    throw new InvalidConfigError(`expected must be 64 hex digits, got "${expected}"`, { expected });
  }
  const settings: VerifyHashSettings = { createHash, startOffset, checkChunks };
  return (source) =>
    new Observable<Chunk>((subscriber) => {
      // This subscription's two digests, and its order checks and hasher.
      const check = digestCheck(subscriber, expected, onDigest);
      const run = verifyHashRun(subscriber, settings, check.digested);
      if (typeof expected === 'object') {
        subscribeChained(expected, subscriber, {
          next: (hex) => check.setWanted(hex),
          error: (err) => subscriber.error(err),
          complete: () => check.wantedDone(),
        });
      }
      run.start();
      if (subscriber.closed) return;
      subscribeChained(source, subscriber, {
        next: (chunk) => run.accept(chunk),
        error: (err) => subscriber.error(err),
        complete: () => run.complete(),
      });
      return () => run.teardown();
    });
}
