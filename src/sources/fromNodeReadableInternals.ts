/**
 * The reader of `fromNodeReadable`: `readable.read` as credit allows, the wait for the stream's events, and
 * the teardown. `fromNodeReadable` checks its options and hands {@link nodeReadableReader} to `pullSource`,
 * which opens one reader per subscription, so every subscriber gets fresh state (closure locals).
 */
import { SourceReadError } from '../errors';
import type { Bytes } from '../types';
import type { NodeReadableLike } from './fromNodeReadable';
import type { ByteReader } from './pullSource';

/**
 * One `readable.read`: the bytes it gave, or null when it gave none. Asks for what is buffered, up to `max`
 * and the highWaterMark: asking for more returns null until that much arrived, and asking for more than the
 * highWaterMark makes Node raise it, so it would buffer further ahead. With nothing buffered, read(0) just
 * starts a fetch. Anything but bytes is a `SourceReadError` (at offset `pulled`).
 */
function readBuffered(readable: NodeReadableLike, max: number, pulled: number): Uint8Array | null {
  const buffered = readable.readableLength;
  const hwm = readable.readableHighWaterMark;
  const cap = typeof hwm === 'number' && hwm > 0 ? Math.min(max, hwm) : max;
  const chunk = readable.read(typeof buffered === 'number' ? Math.min(cap, buffered) : max);
  if (chunk === null || chunk === undefined) return null;
  if (!(chunk instanceof Uint8Array)) {
    throw new SourceReadError(`stream yielded a ${typeof chunk} at offset ${pulled}, not bytes (is an encoding set?)`, {
      offset: pulled,
      type: typeof chunk,
    });
  }
  return chunk;
}

/** A reader's `read` that first drops `skip` bytes through `take` (at most 1 MiB a take), then takes at most `max`. */
const skipping =
  (skip: number, take: (max: number) => Promise<Uint8Array | null>) =>
  async (max: number): Promise<Bytes | null> => {
    while (skip > 0) {
      const dropped = await take(Math.min(skip, 1 << 20));
      if (dropped === null) return null;
      skip -= dropped.length;
    }
    return take(max);
  };

/**
 * One subscription's reader over `readable`: drops the first `start` bytes, then reads. Its listeners go
 * at `close`, which also destroys a stream that has not ended when `destroyOnTeardown` says so.
 */
export function nodeReadableReader(readable: NodeReadableLike, start: number, destroyOnTeardown: boolean): ByteReader {
  // The unread tail of an object-mode chunk larger than the read.
  let held: Uint8Array | undefined;
  // True once the stream ended.
  let ended = readable.readableEnded === true;
  // The stream's error (or premature close), thrown by the next read.
  let failure: SourceReadError | undefined;
  // Bytes taken from the stream so far, for error details.
  let pulled = 0;
  // True once the reader was closed (teardown); a pending read then ends.
  let closed = false;
  // Wakes a read waiting for the stream.
  let wake: (() => void) | undefined;

  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onEnd = () => {
    ended = true;
    signal();
  };
  const onError = (err: unknown) => {
    failure ??= new SourceReadError(`stream failed after ${pulled} B: ${(err as Error)?.message ?? err}`, { offset: pulled }, err);
    signal();
  };
  const onClose = () => {
    if (!ended) onError(new Error('stream closed before end'));
  };
  if (readable.destroyed && !ended) onClose();
  readable.on('readable', signal);
  readable.on('end', onEnd);
  readable.on('error', onError);
  readable.on('close', onClose);

  /** One chunk of at most `max` bytes, or null at the end. */
  const take = async (max: number): Promise<Uint8Array | null> => {
    while (true) {
      if (held) {
        const piece = held.length > max ? held.subarray(0, max) : held;
        held = piece === held ? undefined : held.subarray(max);
        return piece;
      }
      if (closed) return null;
      if (failure) throw failure;
      const chunk = readBuffered(readable, max, pulled);
      if (chunk) {
        pulled += chunk.length;
        if (chunk.length) held = chunk;
        continue;
      }
      if (ended) return null;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };

  return {
    read: skipping(start, take),
    close: () => {
      closed = true;
      held = undefined;
      readable.removeListener('readable', signal);
      readable.removeListener('end', onEnd);
      readable.removeListener('error', onError);
      readable.removeListener('close', onClose);
      if (destroyOnTeardown && !ended && !readable.destroyed && readable.destroy) {
        readable.on('error', () => undefined);
        readable.destroy();
      }
      signal();
    },
  };
}
