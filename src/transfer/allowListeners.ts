/** What `node:events` offers for EventTargets (Node 19.9+); absent outside Node. */
interface NodeEvents {
  setMaxListeners(n: number, ...targets: unknown[]): void;
  getMaxListeners(target: unknown): number;
}

/**
 * Raises Node's per-type listener limit on `targets` to at least `perType`, where it is lower. Node's
 * EventTarget warns ("MaxListenersExceededWarning: Possible EventTarget memory leak detected") past 10
 * listeners of one type, and some of ours are many by design and removed when they end: every file in
 * flight watches its session's data channels, and every session watches its connection's
 * `connectionstatechange`. Elsewhere (a browser's EventTarget, a virtual one) a no-op.
 */
export function allowListeners(targets: readonly unknown[], perType: number): void {
  try {
    const events = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('events') as NodeEvents;
    // Outside Node `events` is undefined, and the throw is the no-op.
    for (const t of targets) if (events.getMaxListeners(t) < perType) events.setMaxListeners(perType, t);
  } catch {
    // not Node, or not a Node EventTarget or EventEmitter: nothing to raise
  }
}
