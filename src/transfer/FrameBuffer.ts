/**
 * The frames of one file that arrive while its target is still opening: a sender may send a taken file's
 * frames from `accept` on (docs/protocol.md, "Files in order"). They wait here, bounded by the bytes the
 * sender may have unacknowledged (`window`) plus one chunk, and flow through once a consumer attaches.
 *
 * ```
 * push:   -f0-f1------f2-f3-
 * attach: --------a---------
 * sink:   --------f0f1f2-f3-
 * ```
 */
import { ProtocolError } from '../errors';
import type { DataFrame } from '../protocol/frame';

export class FrameBuffer {
  /** Frames held while no consumer is attached, in arrival order. */
  private held: DataFrame[] = [];
  /** Payload bytes in `held`. */
  private bytes = 0;
  /** The attached consumer, if any. */
  private sink: ((frame: DataFrame) => void) | undefined;

  /** @param maxBytes most payload bytes held while no consumer is attached (`window + chunk.max`) */
  constructor(private readonly maxBytes: number) {}

  /** Hands `frame` to the consumer, or holds it. Throws `ProtocolError` when holding it would pass `maxBytes`. */
  push(frame: DataFrame): void {
    if (this.sink) return this.sink(frame);
    if (this.bytes + frame.data.length > this.maxBytes) {
      throw new ProtocolError(`more than ${this.maxBytes} B of frames arrived before the file's target was open`, { held: this.bytes, max: this.maxBytes });
    }
    this.held.push(frame);
    this.bytes += frame.data.length;
  }

  /** Drains the held frames into `sink`, then forwards every later frame to it. */
  attach(sink: (frame: DataFrame) => void): void {
    const held = this.held;
    this.held = [];
    this.bytes = 0;
    this.sink = sink;
    for (const frame of held) sink(frame);
  }

  /** Holds frames again (a restart reopens the target). */
  detach(): void {
    this.sink = undefined;
  }

  /** Drops everything held (the file ended). */
  clear(): void {
    this.held = [];
    this.bytes = 0;
    this.sink = undefined;
  }
}
