/**
 * Reuses frame buffers between `encodeFrames` and `sendToChannels`.
 */
import { checkArgument, configObject } from '../configObject';

/** Options for {@link FramePool}. */
export interface FramePoolConfig {
  /** Size of each pooled buffer, bytes: the largest frame it serves (header included). Required. */
  readonly bufferSize: number;
  /** Free buffers kept at most; more are left to the garbage collector. Default {@link DEFAULT_FRAME_POOL_CAPACITY}. */
  readonly capacity?: number;
}

/** Free buffers a {@link FramePool} keeps unless told otherwise. */
export const DEFAULT_FRAME_POOL_CAPACITY = 16;

/**
 * A bounded free list of frame buffers. `send()` on an `RTCDataChannel` copies
 * the bytes it is given (the W3C spec says so, and Chrome, Firefox,
 * node-datachannel and wrtc do), so once a frame is sent its buffer can carry
 * the next frame. Without a pool every 256 KiB frame is a fresh, zero-filled
 * allocation that the garbage collector must then find; with one, a transfer
 * cycles through a handful of buffers.
 *
 * Only frames the pool handed out are taken back, each once; anything else
 * given to {@link give} is ignored. The pool is safe only where nothing keeps a
 * frame after it was given back: `sendFile` wires it from `encodeFrames` to
 * `sendToChannels`, which gives a frame back right after `send()` returned.
 *
 * ## Example
 * ```ts
 * import { FramePool, encodeFrames, sendToChannels } from 'tallow-rx';
 * const pool = new FramePool({ bufferSize: 262_144 });
 * chunks$.pipe(encodeFrames({ transferId: 7, pool }), roundRobin(channels), sendToChannels({ pool }));
 * ```
 */
export class FramePool {
  /** Bytes per pooled buffer. */
  readonly bufferSize: number;
  /** Most free buffers kept. */
  readonly capacity: number;
  /** Free buffers, ready for `take`. */
  private readonly free: ArrayBuffer[] = [];
  /** Buffers this pool handed out and has not had back. */
  private readonly lent = new WeakSet<ArrayBuffer>();
  /** Buffers allocated so far (for tests and stats). */
  private allocated = 0;

  constructor(config: FramePoolConfig) {
    const { bufferSize, capacity = DEFAULT_FRAME_POOL_CAPACITY } = configObject('FramePool', config);
    checkArgument('FramePool', 'bufferSize', bufferSize, Number.isInteger(bufferSize) && bufferSize >= 1, 'an integer >= 1');
    checkArgument('FramePool', 'capacity', capacity, Number.isInteger(capacity) && capacity >= 0, 'an integer >= 0');
    this.bufferSize = bufferSize;
    this.capacity = capacity;
  }

  /** Buffers allocated since the pool was made. */
  get allocations(): number {
    return this.allocated;
  }

  /** Free buffers held now. */
  get size(): number {
    return this.free.length;
  }

  /**
   * A view of exactly `size` bytes, over a pooled buffer when `size` fits one
   * (its previous contents are not cleared), else over a fresh buffer that the
   * pool will not take back.
   */
  take(size: number): Uint8Array<ArrayBuffer> {
    if (size > this.bufferSize) return new Uint8Array(size);
    let buffer = this.free.pop();
    if (!buffer) {
      buffer = new ArrayBuffer(this.bufferSize);
      this.allocated++;
    }
    this.lent.add(buffer);
    return new Uint8Array(buffer, 0, size);
  }

  /** Takes back a frame's buffer if this pool lent it out; the caller must not touch the frame afterwards. */
  give(frame: Uint8Array): void {
    const buffer = frame.buffer as ArrayBuffer;
    if (!this.lent.has(buffer)) return;
    this.lent.delete(buffer);
    if (this.free.length < this.capacity) this.free.push(buffer);
  }
}
