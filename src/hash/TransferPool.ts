/**
 * Buffers that travel to the hash worker and back. The page copies bytes into one of these (a plain memcpy),
 * transfers it, and the worker transfers it back once hashed, so no buffer is allocated per hand-off: in
 * this Chromium, `Uint8Array#slice` of 1 MiB took 17-35 ms against 0.3-0.5 ms for `set` into a buffer in use
 * (docs/benchmarks.md, "Hashing off the main thread").
 */

/** Size of each pooled buffer, bytes: a hasher fills one before it posts it (fewer, larger messages). */
export const POOL_BUFFER_BYTES = 1024 * 1024;
/**
 * Size of the buffers of the pool for single chunks, bytes: Chromium's largest message, so one chunk's payload
 * fits (a receiver's CRC requests carry one frame each, as frames arrive one per task).
 */
export const SMALL_POOL_BUFFER_BYTES = 256 * 1024;
/** Idle buffers kept at most; more coming back are dropped for the collector. */
export const MAX_IDLE_BUFFERS = 8;
/**
 * Buffers out at the worker at once for CRC requests ({@link TransferPool.tryTake}): beyond them the worker is
 * behind, and a CRC is cheaper computed on the page than a fresh buffer is to allocate (and collect) there.
 */
export const MAX_CRC_BUFFERS_OUT = 8;

/** A pool of transferable buffers of one size, {@link POOL_BUFFER_BYTES} unless told otherwise. */
export class TransferPool {
  constructor(
    /** Bytes per buffer. */
    readonly bufferBytes: number = POOL_BUFFER_BYTES,
  ) {}

  // Buffers back from the worker, ready for reuse.
  private readonly idle: ArrayBuffer[] = [];
  /** Buffers allocated, and takes served by a reused one (for tests and the benchmark). */
  readonly counts = { allocated: 0, reused: 0 };

  // Buffers taken and not given back.
  private out = 0;

  /** An idle buffer, or a new one when fewer than `maxOut` are out; else `undefined`. */
  tryTake(maxOut: number): ArrayBuffer | undefined {
    return this.idle.length || this.out < maxOut ? this.take() : undefined;
  }

  /** An idle buffer, or a new one. */
  take(): ArrayBuffer {
    this.out++;
    const reused = this.idle.pop();
    if (reused) {
      this.counts.reused++;
      return reused;
    }
    this.counts.allocated++;
    return new ArrayBuffer(this.bufferBytes);
  }

  /** A buffer back from the worker. */
  give(buffer: ArrayBuffer): void {
    this.out = Math.max(0, this.out - 1);
    if (this.idle.length < MAX_IDLE_BUFFERS && buffer.byteLength === this.bufferBytes) this.idle.push(buffer);
  }
}
