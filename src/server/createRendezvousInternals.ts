/**
 * One socket's life in `createRendezvous`, from connect to leave: the room it asks for ({@link pickRoom}), and
 * a {@link PeerRun} per socket with its seat, its peer and the steps that join, relay and finish.
 * `createRendezvous` resolves its config once into a {@link RendezvousContext} that every socket shares. Node.js
 * only, like `tallow-rx/server`: no browser bundle carries it, so a socket's steps can be a class's methods.
 */
import { normalizeRoomCode } from './roomCode';
import type { BusEvent, RateLimiter, RendezvousStore } from './RendezvousStore';
import {
  CLOSE_BAD_REQUEST,
  CLOSE_RATE_LIMITED,
  CLOSE_REPLACED,
  CLOSE_ROOM_FULL,
  CLOSE_UNAVAILABLE,
  CLOSE_UNKNOWN_CODE,
  parseSignal,
  ROOM_PATTERN,
  type CandidatePolicy,
  type IceServerJson,
  type ServerMessage,
  type SignalErrorCode,
} from './signalling';
import { createTokenBucket, type TokenBucket } from './tokenBucket';
import type { JoinQuery, RendezvousConfig, RendezvousSocket } from './createRendezvous';

/** Attempts to find an unused code before giving up. */
const CODE_ATTEMPTS = 8;

/** A seat held by a socket here. */
export interface HeldSeat {
  readonly room: string;
  readonly memberId: string;
  /** Closes the socket and keeps the seat. */
  readonly detach: () => void;
}

/** What `createRendezvous` resolved from its config, shared by every socket. */
export interface RendezvousContext {
  /** The config as given: each socket reads its message rate and burst from it. */
  readonly config: RendezvousConfig;
  readonly now: () => number;
  readonly store: RendezvousStore;
  readonly codeTtlMs: number;
  readonly leaseMs: number;
  readonly roomTtlMs: number;
  readonly iceServers: () => readonly IceServerJson[];
  /** Which candidates `parseSignal` relays. */
  readonly policy: CandidatePolicy;
  readonly randomId: () => string;
  readonly randomCode: () => string;
  readonly byAddress: RateLimiter;
  readonly byCode: RateLimiter;
  /** Seats held by sockets here, for lease renewal and detachAll. */
  readonly seated: Map<RendezvousSocket, HeldSeat>;
}

const send = (socket: RendezvousSocket, message: ServerMessage): void => {
  try {
    socket.send(JSON.stringify(message));
  } catch {
    // A closing socket: its close handler calls closed().
  }
};

const refuse = (socket: RendezvousSocket, code: SignalErrorCode, message: string, closeCode: number): void => {
  send(socket, { type: 'error', code, message });
  socket.close(closeCode, code);
};

/** The room to join: by code, by name, or a new one. Undefined when refused (socket closed). */
export const pickRoom = async (ctx: RendezvousContext, socket: RendezvousSocket, query: JoinQuery): Promise<string | undefined> => {
  const { now, store, randomId, byAddress, byCode } = ctx;
  if (!(await byAddress.take(query.address))) {
    refuse(socket, 'rate-limited', 'too many joins from this address; wait a minute', CLOSE_RATE_LIMITED);
    return undefined;
  }
  if (query.code) {
    const code = normalizeRoomCode(query.code);
    // A malformed code counts against the address only: it cannot be anyone's code.
    if (code && !(await byCode.take(code))) {
      refuse(socket, 'rate-limited', 'too many attempts for this code; wait a minute', CLOSE_RATE_LIMITED);
      return undefined;
    }
    const room = code && (await store.roomOfCode(code, now()));
    if (!room) refuse(socket, 'unknown-code', 'no room has this code (mistyped, or expired)', CLOSE_UNKNOWN_CODE);
    return room || undefined;
  }
  if (query.room == null || query.room === '') return randomId();
  if (ROOM_PATTERN.test(query.room)) return query.room;
  refuse(socket, 'bad-request', 'bad room name: 1-64 of A-Z a-z 0-9 _ -', CLOSE_BAD_REQUEST);
  return undefined;
};

/** One socket, from connect to leave. The join starts when it is made; `ready` settles when it is done. */
export class PeerRun {
  /** Settles when the join is done (seated, or refused and closed). */
  readonly ready: Promise<void>;
  // This socket's seat once joined, its current peer's id and the pair's lanes, and its event subscription.
  private room: string | undefined;
  private memberId: string | undefined;
  private peer: string | undefined;
  private lanes = 0;
  private unsubscribe: (() => void) | undefined;
  // Frames that arrived before the join finished; true once the socket closed or was replaced/detached.
  private early: string[] | undefined = [];
  // Signals that reached this seat before its own `paired` (another instance's peer can be faster).
  private readonly unpaired: Extract<BusEvent, { kind: 'signal' }>[] = [];
  private gone = false;
  // True when finishing keeps the seat (replaced by a newer socket, or detached for a restart).
  private keepSeat = false;
  // Tells this socket's own `replaced` event from an older socket's.
  private readonly connectionId: string;
  private readonly bucket: TokenBucket;

  constructor(
    private readonly ctx: RendezvousContext,
    private readonly socket: RendezvousSocket,
    private readonly query: JoinQuery,
  ) {
    const { config, now, randomId } = ctx;
    this.connectionId = randomId();
    this.bucket = createTokenBucket({ perSecond: config.messagesPerSecond ?? 20, burst: config.messageBurst ?? 100, now });
    // The store's own error (ioredis: "Reached the max retries per request limit…") is for operators, not for peers.
    this.ready = this.join().catch(() => {
      refuse(socket, 'unavailable', 'the rendezvous store (Redis) is unavailable; try again shortly', CLOSE_UNAVAILABLE);
      this.finish();
    });
  }

  /** A text frame from the socket: queued (up to the burst) until the join is done, then relayed. */
  message(text: string): void {
    if (this.gone) return;
    if (this.early) {
      if (this.early.length < (this.ctx.config.messageBurst ?? 100)) this.early.push(text);
      return;
    }
    this.relay(text);
  }

  /** The socket closed: leave the room. Idempotent. */
  closed(): void {
    if (!this.gone) this.finish();
  }

  /** Picks the room, takes a seat (with a fresh code, retried while taken) and subscribes it; then tells the socket it waits, or both seats they are paired. */
  private async join(): Promise<void> {
    const { now, store, codeTtlMs, leaseMs, roomTtlMs, randomId, randomCode, seated } = this.ctx;
    const { socket, query } = this;
    const name = await pickRoom(this.ctx, socket, query);
    if (name === undefined || this.gone) return;
    this.room = name;
    const resume = query.resume && /^[0-9a-f]{32}$/.test(query.resume) ? query.resume : undefined;
    for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
      const t = now();
      const result = await store.join({ room: name, member: { id: randomId(), lanes: query.lanes, leaseUntil: t + leaseMs }, resume, newCode: randomCode(), codeTtlMs, roomTtlMs, now: t });
      if (result.kind === 'code-taken') continue;
      if (result.kind === 'full') {
        send(socket, { type: 'full' });
        socket.close(CLOSE_ROOM_FULL, 'room full');
        return;
      }
      this.memberId = result.member.id;
      const me = this.memberId;
      // The older socket of this seat is closed only when this one took the seat back: a token sent with another
      // room's name (a new seat there) closed its owner with 4009 and left its peer paired with nobody.
      if (result.resumed) await store.publish(me, { kind: 'replaced', by: this.connectionId });
      this.unsubscribe = await store.subscribe(me, (event) => this.onEvent(event));
      seated.set(socket, { room: name, memberId: me, detach: () => this.detach() });
      if (this.gone) return this.finish();
      const members = result.room.members;
      if (members.length < 2) {
        send(socket, { type: 'waiting', room: name, code: result.room.code, codeExpiresAt: result.room.codeExpiresAt, resume: me });
      } else {
        const [first, second] = members;
        const pairLanes = Math.min(first.lanes, second.lanes);
        // The answerer first: the offerer's first signal (its offer) can only follow its own `paired`, so on the
        // answerer's channel it comes after the answerer's. Offerer first, an offer published in between by
        // the offerer's instance reached an answerer not paired yet and was dropped: the pages never connected
        // (a Chromium test with two instances on Redis, once under load).
        await store.publish(second.id, { kind: 'paired', role: 'answerer', lanes: pairLanes, peer: first.id });
        await store.publish(first.id, { kind: 'paired', role: 'offerer', lanes: pairLanes, peer: second.id });
      }
      for (const text of this.early?.splice(0) ?? []) this.relay(text);
      this.early = undefined;
      return;
    }
    refuse(socket, 'unavailable', 'no free room code; try again', CLOSE_UNAVAILABLE);
  }

  /** An event on this seat's channel, from whichever instance holds the other seat (or a newer socket of this one). */
  private onEvent(event: BusEvent): void {
    if (this.gone) return;
    const { iceServers } = this.ctx;
    switch (event.kind) {
      case 'paired':
        this.peer = event.peer;
        this.lanes = event.lanes;
        send(this.socket, { type: 'paired', role: event.role, lanes: this.lanes, room: this.room!, iceServers: iceServers(), resume: this.memberId! });
        for (const early of this.unpaired.splice(0)) if (early.from === this.peer) send(this.socket, early.message);
        return;
      case 'signal':
        if (event.from === this.peer) send(this.socket, event.message);
        // Not paired yet (its `paired` still on the way): kept for the pair it may be from, up to the burst.
        else if (this.peer === undefined && this.unpaired.length < (this.ctx.config.messageBurst ?? 100)) this.unpaired.push(event);
        return;
      case 'peer-left':
        if (event.peer !== this.peer) return;
        this.peer = undefined;
        this.lanes = 0;
        send(this.socket, { type: 'peer-left' });
        return;
      case 'replaced':
        if (event.by === this.connectionId) return;
        this.keepSeat = true;
        this.socket.close(CLOSE_REPLACED, 'replaced');
        this.finish();
        return;
    }
  }

  /** A frame to the peer: within the message rate, a signal `parseSignal` accepts, on one of the pair's lanes. */
  private relay(text: string): void {
    const { store, policy } = this.ctx;
    if (!this.bucket.take()) {
      refuse(this.socket, 'rate-limited', 'too many messages; slow down', CLOSE_RATE_LIMITED);
      return;
    }
    const signal = parseSignal(text, Math.max(this.lanes, 1), policy);
    if (!signal) {
      send(this.socket, { type: 'error', code: 'bad-message', message: 'not a signal message (or a lane out of range, or a candidate this server does not relay)' });
      return;
    }
    if (this.peer && signal.lane < this.lanes) void store.publish(this.peer, { kind: 'signal', from: this.memberId!, message: signal }).catch(() => undefined);
  }

  /** Closes the socket and keeps the seat (a restart: the peer resumes with its token). */
  private detach(): void {
    this.keepSeat = true;
    this.socket.close(CLOSE_UNAVAILABLE, 'server restarting');
    this.finish();
  }

  /** Gives up the seat (unless kept) and the subscription. */
  private finish(): void {
    const { now, store, seated } = this.ctx;
    const wasSeated = seated.delete(this.socket);
    this.gone = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (!wasSeated || this.keepSeat || this.room === undefined || this.memberId === undefined) return;
    const me = this.memberId;
    void store
      .leave(this.room, me, now())
      .then((left) => Promise.all((left?.members ?? []).map((m) => store.publish(m.id, { kind: 'peer-left', peer: me }))))
      .catch(() => undefined);
  }
}
