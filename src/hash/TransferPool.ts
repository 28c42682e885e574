/**
 * Buffers that travel to the hash worker and back. Bytes for the worker are copied into one of these
 * (a plain memcpy) and the buffer is transferred; the worker transfers it back once hashed. Allocating a
 * fresh buffer per hand-off costs far more than the copy: in Chromium here, `Uint8Array#slice` of 1 MiB
 * took 17-35 ms against 0.3-0.5 ms for `set` into a buffer in use (bench/hashWorker.ts, docs/benchmarks.md).
 */

/** The smallest buffer the pool allocates, bytes (sizes go up in powers of two from here). */
export const MIN_POOL_BUFFER_BYTES = 64 * 1024;
/** Idle buffers kept at most; more coming back are dropped for the collector. */
export const MAX_IDLE_BUFFERS = 16;

/** A pool of transferable buffers, reused by size. */
export class TransferPool {
  // Buffers back from the worker, ready for reuse.
  private readonly idle: ArrayBuffer[] = [];
  /** Buffers allocated, and hand-offs served by a reused one (for tests and the benchmark). */
  readonly counts = { allocated: 0, reused: 0 };

  /** A copy of `data` in a pooled buffer: a view from byte 0, exactly `data.length` long. */
  copy(data: Uint8Array): Uint8Array {
    const i = this.idle.findIndex((b) => b.byteLength >= data.length);
    let buffer: ArrayBuffer;
    if (i >= 0) {
      buffer = this.idle.splice(i, 1)[0];
      this.counts.reused++;
    } else {
      buffer = new ArrayBuffer(Math.max(MIN_POOL_BUFFER_BYTES, 2 ** Math.ceil(Math.log2(data.length || 1))));
      this.counts.allocated++;
    }
    const view = new Uint8Array(buffer, 0, data.length);
    view.set(data);
    return view;
  }

  /** A buffer back from the worker. */
  give(buffer: ArrayBuffer): void {
    if (this.idle.length < MAX_IDLE_BUFFERS && buffer.byteLength > 0) this.idle.push(buffer);
  }
}
