/**
 * Where the rendezvous keeps its rooms, codes and limits, and how it reaches a
 * peer whose socket may be on another server instance. Two implementations:
 * `memoryStore()` (one process, the default) and `redisStore(url)` (any number
 * of instances sharing one Redis).
 *
 * A room record:
 *
 * ```
 * room  abc123  { code: 'K7QM2X', codeExpiresAt, members: [{ id, lanes, leaseUntil }, …] }  ≤ 2 members, join order
 * code  K7QM2X  → 'abc123'                                                                     expires with the code
 * member channel m:<id>  ← paired | signal | peer-left | replaced                              (pub/sub)
 * ```
 *
 * A member's lease is renewed by the instance that holds its socket. A member
 * whose lease ran out (its instance died) is pruned by the next join, so a dead
 * instance cannot keep a room full; until then its peer can take the seat back
 * with its `resume` token.
 */
import type { SignalMessage } from './signalling';

/** One seat in a room. */
export interface MemberRecord {
  /** Random id; also the peer's `resume` token. */
  readonly id: string;
  readonly lanes: number;
  /** Ms since the epoch after which the seat counts as abandoned. */
  readonly leaseUntil: number;
}

/** A room as stored. */
export interface RoomRecord {
  readonly name: string;
  readonly code: string;
  readonly codeExpiresAt: number;
  /** In join order: the first member offers. */
  readonly members: readonly MemberRecord[];
}

/** A join request, applied atomically by the store. */
export interface JoinRequest {
  readonly room: string;
  /** The seat to add (or, with `resume`, to take back). */
  readonly member: MemberRecord;
  /** Take back the seat with this id if the room still has it. */
  readonly resume?: string;
  /** The code to give the room if it has none, or its code expired. */
  readonly newCode: string;
  readonly codeTtlMs: number;
  /** How long an idle room record lives after its last change or lease renewal, ms. */
  readonly roomTtlMs: number;
  readonly now: number;
}

/** The outcome of {@link RendezvousStore.join}. */
export type JoinResult =
  /** Seated; `member` is the seat (its id is the resumed one when `resumed`). */
  | { readonly kind: 'joined'; readonly room: RoomRecord; readonly member: MemberRecord; readonly resumed: boolean }
  | { readonly kind: 'full' }
  /** `newCode` belongs to another room: try again with another. */
  | { readonly kind: 'code-taken' };

/** What travels between instances on a member's channel. */
export type BusEvent =
  | { readonly kind: 'paired'; readonly role: 'offerer' | 'answerer'; readonly lanes: number; readonly peer: string }
  | { readonly kind: 'signal'; readonly from: string; readonly message: SignalMessage }
  | { readonly kind: 'peer-left'; readonly peer: string }
  /** A newer socket (`by`, its connection id) took this seat back with its resume token. */
  | { readonly kind: 'replaced'; readonly by: string };

/** A keyed limiter: `take(key)` is false once `key` used its allowance in the current window. */
export interface RateLimiter {
  take(key: string): Promise<boolean>;
}

/** Window and allowance of a {@link RateLimiter}. */
export interface RateLimit {
  /** Attempts allowed per window. */
  readonly limit: number;
  readonly windowMs: number;
}

/** The storage and messaging a rendezvous needs. */
export interface RendezvousStore {
  /** Joins a room (creating it), atomically across instances. */
  join(request: JoinRequest): Promise<JoinResult>;
  /** The room a code points to, if the code has not expired and the room still has a member. */
  roomOfCode(code: string, now: number): Promise<string | undefined>;
  /** Removes a seat; returns the room as it is left (undefined if gone). */
  leave(room: string, memberId: string, now: number): Promise<RoomRecord | undefined>;
  /** Extends the leases of these seats (and their rooms' lifetimes). */
  renew(seats: ReadonlyArray<{ readonly room: string; readonly memberId: string }>, leaseUntil: number, roomTtlMs: number): Promise<void>;
  /** Delivers an event to whichever instance holds the member's socket. */
  publish(memberId: string, event: BusEvent): Promise<void>;
  /** Receives the member's events here until the returned function is called. */
  subscribe(memberId: string, handler: (event: BusEvent) => void): Promise<() => void>;
  /** A limiter shared by every instance on this store; `name` keeps limiters apart. */
  limiter(name: string, limit: RateLimit): RateLimiter;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}
