/**
 * The per-subscription engine of `verifyHash`: the order checks, the hasher (and the chunks that wait for an
 * asynchronous one) and the two digests. `verifyHash` validates its options and calls {@link verifyHashRun}
 * once per subscription, so every subscriber gets fresh state (closure locals).
 */
import type { Subscriber } from 'rxjs';
import { HashMismatchError, ProtocolError, ReorderError } from '../errors';
import type { Sha256, Sha256Factory } from '../hash/sha256';
import type { Chunk } from '../types';
import { verifyChunk } from './verifyChunk';
import type { VerifyHashConfig } from './verifyHash';

/** The options `verifyHash` resolved that its chunk checks and hasher use, shared by all its subscriptions. */
export interface VerifyHashSettings {
  readonly createHash: Sha256Factory;
  readonly startOffset: number;
  readonly checkChunks: boolean;
}

/** The `ERR_REORDER_GAP` for a chunk that is not chunk `nextIndex` at offset `bytes`. */
const outOfOrder = (chunk: Chunk, nextIndex: number, bytes: number) =>
  new ReorderError('ERR_REORDER_GAP', `expected chunk ${nextIndex} at offset ${bytes}, got chunk ${chunk.index} at offset ${chunk.offset}`, {
    missing: nextIndex,
    expectedOffset: bytes,
    index: chunk.index,
    offset: chunk.offset,
  });

/** Calls `createHash` and hands its hasher to `ready`, now or once its promise resolves; errors go to `fail`. */
const startHasher = (createHash: Sha256Factory, ready: (h: Sha256) => void, fail: (err: unknown) => void) => {
  let created: Sha256 | Promise<Sha256>;
  try {
    created = createHash();
  } catch (err) {
    return fail(err);
  }
  if (typeof (created as Promise<Sha256>)?.then === 'function') (created as Promise<Sha256>).then(ready, fail);
  else ready(created as Sha256);
};

/**
 * The digests of one subscription of `verifyHash`: the computed one (`digested`) and the expected one
 * (`setWanted`, or the `expected` string), compared once both are known.
 */
export function digestCheck(subscriber: Subscriber<Chunk>, expected: VerifyHashConfig['expected'], onDigest: VerifyHashConfig['onDigest']) {
  // The computed and the expected digests, once known.
  let actual: string | undefined;
  let wanted = typeof expected === 'string' ? expected.toLowerCase() : undefined;
  /** Completes or errors once both digests are known. */
  const compare = () => {
    if (actual === undefined || subscriber.closed) return;
    if (expected === undefined) return subscriber.complete();
    if (wanted === undefined) return;
    if (wanted !== actual) return subscriber.error(new HashMismatchError(-1, wanted, actual, 'sha-256'));
    subscriber.complete();
  };
  return {
    /** The computed digest, of `bytes` bytes in all. */
    digested: (hex: string, bytes: number) => {
      // A digest that comes after the subscriber went (a worker's promise) is dropped.
      if (subscriber.closed) return;
      actual = hex;
      try {
        onDigest?.(actual, bytes);
      } catch (err) {
        return subscriber.error(err);
      }
      compare();
    },
    /** The expected digest's first value. */
    setWanted: (hex: string) => {
      if (wanted !== undefined) return;
      wanted = String(hex).toLowerCase();
      compare();
    },
    /** `expected` completed: an error if it never gave a value. */
    wantedDone: () => {
      if (wanted === undefined) subscriber.error(new ProtocolError('the expected digest never arrived', { actual }));
    },
  };
}

/**
 * The chunks of one subscription of `verifyHash`: the order and CRC checks, and the hasher (with the chunks
 * that wait for an asynchronous one). Hands the digest to `digested` once the source completed.
 */
export function verifyHashRun(subscriber: Subscriber<Chunk>, s: VerifyHashSettings, digested: (hex: string, bytes: number) => void) {
  // The hasher, once created.
  let hasher: Sha256 | undefined;
  // Verified chunks waiting for an asynchronous hasher; null once it is ready.
  let queue: Chunk[] | null = [];
  // Index and offset the next chunk must have.
  let nextIndex = 0;
  let bytes = s.startOffset;
  // True once the source completed.
  let sourceDone = false;
  const fail = (err: unknown) => subscriber.error(err);
  const pass = (chunk: Chunk) => {
    hasher!.update(chunk.data);
    subscriber.next(chunk);
  };
  // A worker's digest is a promise; node:crypto's is a string, and stays synchronous.
  const finish = () => {
    let digest: string | Promise<string>;
    try {
      digest = hasher!.digestHex();
    } catch (err) {
      return subscriber.error(err);
    }
    if (typeof digest === 'string') digested(digest, bytes);
    else digest.then((hex) => digested(hex, bytes), fail);
  };
  const ready = (h: Sha256) => {
    if (subscriber.closed) return;
    hasher = h;
    // Chunks arriving while the queue drains are appended, so order holds.
    for (let i = 0; queue && i < queue.length && !subscriber.closed; i++) pass(queue[i]);
    queue = null;
    if (sourceDone && !subscriber.closed) finish();
  };
  return {
    /** Creates the hasher; chunks wait in the queue until an asynchronous one is ready. */
    start: () => startHasher(s.createHash, ready, fail),
    /** A chunk from the source: checked for order and CRC, then hashed and passed on (or queued). */
    accept: (chunk: Chunk) => {
      if (chunk.index !== nextIndex || chunk.offset !== bytes) return subscriber.error(outOfOrder(chunk, nextIndex, bytes));
      const mismatch = s.checkChunks ? verifyChunk(chunk) : undefined;
      if (mismatch) return subscriber.error(mismatch);
      nextIndex++;
      bytes += chunk.data.length;
      if (queue) queue.push(chunk);
      else pass(chunk);
    },
    /** The source completed: digest now, or once the hasher is ready. */
    complete: () => {
      sourceDone = true;
      if (!queue) finish();
    },
    teardown: () => {
      queue = null;
      hasher = undefined;
    },
  };
}
