/**
 * A binary min-heap on (`at`, `order`), kept in a plain array: what the virtual pipe and the virtual
 * network's timeline both schedule from. Equal times pop in `order` (insertion order when `order` counts up).
 */

/** What the heap orders: a time, and a tie-breaker. */
export interface Timed {
  readonly at: number;
  readonly order: number;
}

/** True when `x` comes before `y`. */
export const before = (x: Timed, y: Timed): boolean => x.at < y.at || (x.at === y.at && x.order < y.order);

/** Adds `item` to `heap`. */
export function heapPush<T extends Timed>(heap: T[], item: T): void {
  let i = heap.push(item) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(item, heap[parent])) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = item;
}

/** Removes and returns the earliest item of a non-empty `heap`. */
export function heapPop<T extends Timed>(heap: T[]): T {
  const top = heap[0];
  const last = heap.pop()!;
  if (heap.length) {
    let i = 0;
    while (true) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const c = l + 1 < heap.length && before(heap[l + 1], heap[l]) ? l + 1 : l;
      if (!before(heap[c], last)) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = last;
  }
  return top;
}
