/**
 * The rendezvous store in this process's memory: the default, for one server
 * instance. Expiry is checked against an injected clock when a record is read,
 * and events reach their handler synchronously.
 */
import { applyJoin, applyLeave, applyRenew, hasSeats } from './roomRecord';
import type { BusEvent, RateLimit, RateLimiter, RendezvousStore, RoomRecord } from './RendezvousStore';

/** Options of {@link memoryStore}. */
export interface MemoryStoreConfig {
  /** Milliseconds clock for record expiry and limiter windows. Default `Date.now`. */
  readonly now?: () => number;
}

/** Entries kept by a limiter before expired windows are swept. */
const LIMITER_SWEEP_AT = 10_000;

/** A fixed-window limiter in memory. */
function windowLimiter(limit: RateLimit, now: () => number): RateLimiter {
  // Attempts per key in its current window.
  const windows = new Map<string, { count: number; endsAt: number }>();
  return {
    async take(key) {
      const t = now();
      if (windows.size >= LIMITER_SWEEP_AT) for (const [k, w] of windows) if (w.endsAt <= t) windows.delete(k);
      let w = windows.get(key);
      if (!w || w.endsAt <= t) windows.set(key, (w = { count: 0, endsAt: t + limit.windowMs }));
      w.count++;
      return w.count <= limit.limit;
    },
  };
}

/** Creates an empty store. */
export function memoryStore(config: MemoryStoreConfig = {}): RendezvousStore {
  const now = config.now ?? Date.now;
  // Rooms and codes with their expiry times (ms since the epoch), and each member's event handler.
  const rooms = new Map<string, { record: RoomRecord; expiresAt: number }>();
  const codes = new Map<string, { room: string; expiresAt: number }>();
  const handlers = new Map<string, (event: BusEvent) => void>();

  const read = (name: string): RoomRecord | undefined => {
    const entry = rooms.get(name);
    if (entry && entry.expiresAt <= now()) rooms.delete(name);
    return entry && entry.expiresAt > now() ? entry.record : undefined;
  };
  const write = (name: string, record: RoomRecord | undefined, ttlMs: number): void => {
    if (record) rooms.set(name, { record, expiresAt: now() + ttlMs });
    else rooms.delete(name);
  };

  return {
    async join(request) {
      const taken = codes.get(request.newCode);
      const change = applyJoin(read(request.room), request);
      if (change.newCode && taken && taken.expiresAt > now() && taken.room !== request.room) return { kind: 'code-taken' };
      if (!change.next) return change.result;
      write(request.room, change.next, request.roomTtlMs);
      if (change.newCode) codes.set(change.next.code, { room: request.room, expiresAt: change.next.codeExpiresAt });
      return change.result;
    },
    async roomOfCode(code, t) {
      const entry = codes.get(code);
      if (entry && entry.expiresAt <= t) codes.delete(code);
      // A code opens a room only while someone holds a seat in it: once both peers left, the transfer is over.
      return entry && entry.expiresAt > t && hasSeats(read(entry.room)) ? entry.room : undefined;
    },
    async leave(room, memberId) {
      const entry = rooms.get(room);
      const next = applyLeave(read(room), memberId);
      write(room, next, entry ? entry.expiresAt - now() : 0);
      return next;
    },
    async renew(seats, leaseUntil, roomTtlMs) {
      for (const { room, memberId } of seats) {
        const before = read(room);
        if (before) write(room, applyRenew(before, memberId, leaseUntil), roomTtlMs);
      }
    },
    async publish(memberId, event) {
      handlers.get(memberId)?.(event);
    },
    async subscribe(memberId, handler) {
      handlers.set(memberId, handler);
      return () => {
        if (handlers.get(memberId) === handler) handlers.delete(memberId);
      };
    },
    limiter(_name, limit) {
      return windowLimiter(limit, now);
    },
    async close() {
      rooms.clear();
      codes.clear();
      handlers.clear();
    },
  };
}
