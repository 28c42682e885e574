/**
 * The room rules as pure functions of a stored record, shared by both stores:
 * the memory store applies them directly, the Redis store inside a
 * compare-and-set loop. Nothing here does I/O or reads a clock.
 *
 * | record before              | join (new seat)          | join (resume = a seat's id) | leave(id)            |
 * |----------------------------|--------------------------|-----------------------------|----------------------|
 * | none                       | room with 1 seat, code   | same as a new seat          | none                 |
 * | 1 live seat                | 2 seats                  | seat renewed                | no seat (room kept)  |
 * | 2 live seats               | full                     | seat renewed                | 1 seat               |
 * | seats past their lease     | pruned first, then above | if still there: renewed     | —                    |
 * | code past `codeExpiresAt`  | a new code               | a new code                  | —                    |
 *
 * A room whose last seat left keeps its record (no seats, the same code) until the record's own time-to-live:
 * a peer whose socket dropped while the server stayed up comes back with its token to the same room and the
 * same code. Before 6 Dec 2026 the record went with the last seat, the peer's return made a new one with a new
 * code, and the old code, still registered, opened the same room: two live codes for one room. A code opens a
 * room only while a seat is taken ({@link hasSeats}).
 */
import type { JoinRequest, JoinResult, MemberRecord, RoomRecord } from './RendezvousStore';

/** The record after a join, and the outcome to report. */
export interface JoinChange {
  readonly result: JoinResult;
  /** The record to store (undefined: store nothing). */
  readonly next?: RoomRecord;
  /** True when `next.code` is new and must be registered. */
  readonly newCode: boolean;
}

/** Applies a join to a room record (or to no record). */
export function applyJoin(before: RoomRecord | undefined, request: JoinRequest): JoinChange {
  const { now } = request;
  const live = (before?.members ?? []).filter((m) => m.leaseUntil > now || m.id === request.resume);
  const codeValid = before !== undefined && before.codeExpiresAt > now;
  const code = codeValid ? before.code : request.newCode;
  const codeExpiresAt = codeValid ? before.codeExpiresAt : now + request.codeTtlMs;
  const seat = live.findIndex((m) => request.resume !== undefined && m.id === request.resume);
  let members: MemberRecord[];
  let member: MemberRecord;
  if (seat >= 0) {
    member = { ...request.member, id: live[seat].id };
    members = live.map((m, i) => (i === seat ? member : m));
  } else if (live.length >= 2) {
    return { result: { kind: 'full' }, newCode: false };
  } else {
    member = request.member;
    members = [...live, member];
  }
  const next: RoomRecord = { name: request.room, code, codeExpiresAt, members };
  return { result: { kind: 'joined', room: next, member, resumed: seat >= 0 }, next, newCode: !codeValid };
}

/** The record after a seat leaves (kept with no seats once nobody is left: see the file comment). */
export function applyLeave(before: RoomRecord | undefined, memberId: string): RoomRecord | undefined {
  if (!before) return undefined;
  return { ...before, members: before.members.filter((m) => m.id !== memberId) };
}

/** Whether a code may open this room: someone holds a seat in it (once both peers left, the transfer is over). */
export const hasSeats = (record: RoomRecord | undefined): boolean => (record?.members.length ?? 0) > 0;

/** The record with one seat's lease moved to `leaseUntil` (unchanged if the seat is gone). */
export function applyRenew(before: RoomRecord | undefined, memberId: string, leaseUntil: number): RoomRecord | undefined {
  if (!before || !before.members.some((m) => m.id === memberId)) return before;
  return { ...before, members: before.members.map((m) => (m.id === memberId ? { ...m, leaseUntil } : m)) };
}
