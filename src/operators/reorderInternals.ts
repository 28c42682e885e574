/**
 * The per-subscription engine of `reorder`: the buffer of chunks that arrived early, the gap timer and the
 * end. `reorder` validates its options and calls {@link reorderRun} once per subscription, so every
 * subscriber gets fresh state (closure locals).
 */
import type { SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { ReorderError } from '../errors';
import type { Chunk } from '../types';
import type { ReorderBudget } from './reorder';

export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The options `reorder` resolved, shared by all its subscriptions. */
export interface ReorderSettings {
  readonly start: number;
  readonly window: number;
  readonly maxBufferedBytes: number;
  readonly gapTimeoutMs: number | undefined;
  readonly scheduler: SchedulerLike;
  readonly onDuplicate: ((index: number) => void) | undefined;
  readonly budget: ReorderBudget | undefined;
  /** Bytes counted for each held chunk besides its payload. */
  readonly chunkOverheadBytes: number;
}

/** What a held chunk counts against `maxBufferedBytes` and the budget: its payload and the overhead. */
const costOf = (s: ReorderSettings, chunk: Chunk): number => chunk.data.length + s.chunkOverheadBytes;

/** An `ERR_REORDER_OVERFLOW`'s message and details. */
type Refusal = [message: string, details: Record<string, unknown>];

/** Why a chunk ahead of `next` cannot wait: outside the window, past the byte bound, or past the shared budget (else it takes its bytes from the budget). */
const refuseEarly = (s: ReorderSettings, chunk: Chunk, next: number, countedBytes: number): Refusal | undefined => {
  const { index } = chunk;
  const { window, maxBufferedBytes, budget } = s;
  if (index >= next + window) return [`chunk ${index} is outside the window [${next}, ${next + window})`, { index, window }];
  if (countedBytes + costOf(s, chunk) > maxBufferedBytes) return [`buffering chunk ${index} would exceed ${maxBufferedBytes} B`, { index, maxBufferedBytes }];
  if (budget && !budget.take(costOf(s, chunk))) {
    return [`buffering chunk ${index} would exceed the shared ${budget.maxBytes} B`, { index, sharedMaxBytes: budget.maxBytes }];
  }
  return undefined;
};

/** Why `n` cannot be the end: not a count, below the chunks already emitted, or not above a chunk waiting. */
const refuseEnd = (n: number, next: number, buffer: Map<number, Chunk>): Refusal | undefined => {
  if (!isCount(n) || n < next) return [`end ${n} is invalid or below the ${next} chunks already emitted`, { end: n }];
  const beyond = [...buffer.keys()].find((i) => i >= n);
  if (beyond !== undefined) return [`chunk ${beyond} is beyond the end (${n} chunks)`, { index: beyond, end: n }];
  return undefined;
};

/** The chunks that arrived early, by index, and what they count: payload bytes, and those plus overhead. */
const heldChunks = (s: ReorderSettings) => {
  const map = new Map<number, Chunk>();
  const h = {
    map,
    // Payload bytes held, and what they count against the bounds (payload and each chunk's overhead).
    bytes: 0,
    counted: 0,
    /** Holds a chunk the bounds let in (refuseEarly took its cost from the budget). */
    hold: (c: Chunk) => {
      map.set(c.index, c);
      h.bytes += c.data.length;
      h.counted += costOf(s, c);
    },
    /** Takes chunk `index` out, giving its cost back to the budget; undefined when it is not held. */
    take: (index: number): Chunk | undefined => {
      const c = map.get(index);
      if (!c) return undefined;
      map.delete(index);
      h.bytes -= c.data.length;
      h.counted -= costOf(s, c);
      s.budget?.give(costOf(s, c));
      return c;
    },
    /** Drops every chunk and gives their cost back. */
    clear: () => {
      s.budget?.give(h.counted);
      h.bytes = h.counted = 0;
      map.clear();
    },
  };
  return h;
};

/** One subscription of `reorder`: its state in closure locals, and the steps the operator wires to its sources. */
export function reorderRun(subscriber: Subscriber<Chunk>, s: ReorderSettings) {
  // Next index to emit.
  let next = s.start;
  // Chunks that arrived early (null once torn down).
  let held: ReturnType<typeof heldChunks> | null = heldChunks(s);
  // The total chunk count, once `end` told us.
  let total: number | undefined;
  // True once the source completed with nothing waiting while `end` had not told the total yet.
  let awaitingEnd = false;
  // The running gap timer, if any.
  let timer: Subscription | undefined;
  const fail = (code: 'ERR_REORDER_GAP' | 'ERR_REORDER_OVERFLOW' | 'ERR_REORDER_TIMEOUT', message: string, details: Record<string, unknown>) =>
    subscriber.error(new ReorderError(code, message, { next, buffered: held?.map.size ?? 0, bufferedBytes: held?.bytes ?? 0, countedBytes: held?.counted ?? 0, ...details }));
  /** (Re)arms the gap timer while chunks wait, or while a completed source waits for the total; disarms it otherwise. */
  const armTimer = () => {
    timer?.unsubscribe();
    timer = undefined;
    const { gapTimeoutMs } = s;
    if (gapTimeoutMs === undefined || !(held?.map.size || awaitingEnd)) return;
    const message = awaitingEnd ? `source completed and end gave no chunk count in ${gapTimeoutMs} ms` : `chunk ${next} still missing after ${gapTimeoutMs} ms`;
    timer = s.scheduler.schedule(() => fail('ERR_REORDER_TIMEOUT', message, { missing: next, gapTimeoutMs }), gapTimeoutMs);
    subscriber.add(timer);
  };
  /** Completes once `end` is known and everything below it is out. */
  const checkComplete = () => {
    if (total !== undefined && next >= total) subscriber.complete();
  };
  /** Emits `chunk` and then every buffered chunk that follows it. */
  const release = (chunk: Chunk) => {
    next++;
    subscriber.next(chunk);
    for (let c = held?.take(next); c && !subscriber.closed; c = held?.take(next)) {
      next++;
      subscriber.next(c);
    }
    if (!subscriber.closed) armTimer();
  };
  /** A chunk from the source: dropped as a duplicate, emitted (with those it unblocks), or held until its turn. */
  const accept = (chunk: Chunk) => {
    const { index } = chunk;
    if (total !== undefined && index >= total) {
      return fail('ERR_REORDER_OVERFLOW', `chunk ${index} is beyond the end (${total} chunks)`, { index, end: total });
    }
    if (index < next || held!.map.has(index)) return s.onDuplicate?.(index);
    if (index === next) return release(chunk);
    const refusal = refuseEarly(s, chunk, next, held!.counted);
    if (refusal) return fail('ERR_REORDER_OVERFLOW', ...refusal);
    const wasEmpty = held!.map.size === 0;
    held!.hold(chunk);
    if (wasEmpty) armTimer();
  };
  /** `end` told the total chunk count (its first value counts). */
  const setEnd = (n: number) => {
    if (total !== undefined || subscriber.closed) return;
    const refusal = refuseEnd(n, next, held!.map);
    if (refusal) return fail('ERR_REORDER_OVERFLOW', ...refusal);
    total = n;
    if (awaitingEnd && next < total) return fail('ERR_REORDER_GAP', `source completed while chunk ${next} is missing`, { missing: next, end: total });
    checkComplete();
  };
  /** `end` completed: no total will come, so the source's end is the end (as without `end`). */
  const endComplete = () => {
    if (awaitingEnd && total === undefined) subscriber.complete();
  };
  /**
   * The source completed: fine only with nothing waiting and nothing missing below the end. With an `end` that
   * has not told the total yet, that total decides (a source that completes early is a truncated file, not a
   * whole one).
   */
  const complete = (endPending: boolean) => {
    if (held!.map.size || (total !== undefined && next < total)) {
      return fail('ERR_REORDER_GAP', `source completed while chunk ${next} is missing`, { missing: next, end: total });
    }
    if (!endPending || total !== undefined) return subscriber.complete();
    awaitingEnd = true;
    armTimer();
  };
  /** Gives the held bytes back to the budget and drops the buffer. */
  const teardown = () => {
    held?.clear();
    held = null;
    timer = undefined;
  };
  return { accept, checkComplete, setEnd, endComplete, complete, teardown };
}
