/**
 * The per-subscription engine of `adaptiveChunk`: the size in force, the partial chunk, and the index and
 * offset of the next chunk. `adaptiveChunk` validates its options and calls {@link adaptiveChunkRun} once per
 * subscription, so every subscriber gets fresh state (closure locals).
 */
import type { Subscriber } from 'rxjs';
import type { Chunk } from '../types';

/** A private buffer of exactly one chunk's worth (`size`), holding the `filled` bytes of `held`. */
const regrow = (held: Uint8Array, filled: number, size: number) => {
  const next = new Uint8Array(size);
  next.set(held.subarray(0, filled));
  return next;
};

/** One subscription of `adaptiveChunk`: its state in closure locals, and the steps the operator wires to its sources. */
export function adaptiveChunkRun(subscriber: Subscriber<Chunk>, startSize: number, startOffset: number) {
  // Size in force for the next cut.
  let size = startSize;
  // The partial chunk and how many of its bytes are filled: a private copy (`owned`), or a view of the
  // source's memory while the pieces so far were contiguous views of one buffer (then nothing is copied).
  let partial: Uint8Array | undefined;
  let filled = 0;
  let owned = false;
  // Index and offset of the next chunk.
  let index = 0;
  let offset = startOffset;

  const emit = (data: Uint8Array) => {
    const chunk: Chunk = { index: index++, offset, data };
    offset += data.length;
    subscriber.next(chunk);
  };
  /** Cuts full chunks off the partial while it holds at least `size` bytes (the size shrank). */
  const cutPartial = () => {
    while (partial && filled >= size && !subscriber.closed) {
      const out = partial.subarray(0, size);
      // A view's rest stays a view; an owned buffer's rest is copied out, since its tail gets written into.
      const rest = owned ? partial.slice(size, filled) : partial.subarray(size, filled);
      [partial, filled] = rest.length ? [rest, rest.length] : [undefined, 0];
      emit(out);
    }
  };
  /** Fills the partial (which holds something) from `piece` at `pos`, emits it once full, and returns the bytes taken. */
  const append = (piece: Uint8Array, pos: number) => {
    let held = partial!;
    const take = Math.min(size - filled, piece.length - pos);
    if (!owned && held.buffer === piece.buffer && held.byteOffset + filled === piece.byteOffset + pos) {
      // The next piece continues the same memory (fromBytes, fromBlob over one buffer): widen the view.
      partial = new Uint8Array(held.buffer, held.byteOffset, filled + take);
    } else {
      if (!owned || held.length !== size) {
        partial = held = regrow(held, filled, size);
        owned = true;
      }
      held.set(piece.subarray(pos, pos + take), filled);
    }
    filled += take;
    if (filled === size) {
      const out = partial!;
      [partial, filled] = [undefined, 0];
      emit(out);
    }
    return take;
  };
  return {
    /** The size for the next cut, from the latest condition. */
    setSize: (n: number) => void (size = n),
    /** A piece from the source: cut into chunks, the rest held as the partial. */
    push: (piece: Uint8Array) => {
      let pos = 0;
      while (pos < piece.length && !subscriber.closed) {
        cutPartial();
        if (subscriber.closed) return;
        if (partial) pos += append(piece, pos);
        else if (piece.length - pos >= size) emit(piece.subarray(pos, (pos += size)));
        else {
          // Less than a chunk left in this piece: hold it as a view until the next piece shows whether it continues.
          [partial, filled, owned, pos] = [piece.subarray(pos), piece.length - pos, false, piece.length];
        }
      }
    },
    /** The source completed: the partial goes out as the final, shorter chunk. */
    complete: () => {
      cutPartial();
      if (partial && filled && !subscriber.closed) emit(partial.subarray(0, filled));
      subscriber.complete();
    },
    teardown: () => {
      partial = undefined;
    },
  };
}
