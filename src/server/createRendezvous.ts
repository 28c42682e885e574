/**
 * The rendezvous: seats peers in rooms, hands out short codes, pairs two peers
 * per room and relays their signalling, within limits. Independent of the
 * WebSocket library and of where rooms live: a socket is anything with
 * `send(text)` and `close(code, reason)`, and a {@link RendezvousStore} holds
 * rooms, codes and limits (in memory, or in Redis for several instances). The
 * rules are unit-tested with a fake clock (test/server/createRendezvous.spec.ts).
 *
 * One peer's life (the protocol table is in signalling.ts):
 *
 * ```
 * connect(?room=r | ?code=C | neither)  ─ limits ─▶ join ─▶ waiting {room, code, resume}
 *                                                       └─▶ paired  {role, lanes, room, iceServers}  (second seat)
 * message(signal)  ─ bucket ─▶ parseSignal ─▶ the peer's channel ─▶ its socket (any instance)
 * closed()         ─▶ leave ─▶ peer-left to the other seat
 * detach()         ─▶ the socket closes, the seat stays (restart: the peer resumes with its token)
 * ```
 */
import { generateRoomCode, normalizeRoomCode } from './roomCode';
import { memoryStore } from './memoryStore';
import type { BusEvent, RateLimit, RendezvousStore } from './RendezvousStore';
import {
  CLOSE_BAD_REQUEST,
  CLOSE_RATE_LIMITED,
  CLOSE_REPLACED,
  CLOSE_ROOM_FULL,
  CLOSE_UNAVAILABLE,
  CLOSE_UNKNOWN_CODE,
  parseSignal,
  ROOM_PATTERN,
  type IceServerJson,
  type ServerMessage,
  type SignalErrorCode,
} from './signalling';
import { createTokenBucket } from './tokenBucket';

/** The part of a WebSocket the rendezvous uses. */
export interface RendezvousSocket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** What a peer asked for in its URL. */
export interface JoinQuery {
  /** A room name (`ROOM_PATTERN`). */
  readonly room?: string | null;
  /** A short code as typed. */
  readonly code?: string | null;
  /** A `resume` token from an earlier `waiting`/`paired`. */
  readonly resume?: string | null;
  readonly lanes: number;
  /** The peer's address, for the per-address join limit. */
  readonly address: string;
}

/** Options of {@link createRendezvous}. Durations in ms. */
export interface RendezvousConfig {
  /** Rooms, codes and limits. Default: a `memoryStore` on the same clock. */
  readonly store?: RendezvousStore;
  /** Milliseconds clock. Default `Date.now`. */
  readonly now?: () => number;
  /** How long a room's code is valid. Default 10 minutes. */
  readonly codeTtlMs?: number;
  /** How long a seat lasts without renewal (its instance renews it while the socket is open). Default 30 s. */
  readonly leaseMs?: number;
  /** How long a room record lives after its last change or renewal. Default 1 hour. */
  readonly roomTtlMs?: number;
  /** Joins per client address. Default 30 per minute. */
  readonly joinsPerAddress?: RateLimit;
  /** Joins per code (right or wrong), from any address. Default 10 per minute. */
  readonly joinsPerCode?: RateLimit;
  /** Signalling messages per second per socket, sustained. Default 20. */
  readonly messagesPerSecond?: number;
  /** Messages a socket may send at once before the rate applies. Default 100 (4 lanes of offers and candidates). */
  readonly messageBurst?: number;
  /** ICE servers for each `paired` (e.g. `turnCredentials`). Default none. */
  readonly iceServers?: () => readonly IceServerJson[];
  /** Relay relay (TURN) candidates as well as host UDP ones. Default: true when `iceServers` is set. */
  readonly relayCandidates?: boolean;
  /** Random ids (resume tokens, room names). Default 128 random bits as hex. */
  readonly randomId?: () => string;
  /** Random codes. Default `generateRoomCode()`. */
  readonly randomCode?: () => string;
}

/** One connected peer, as the server holds it. */
export interface RendezvousPeer {
  /** Settles when the join is done (seated, or refused and closed). */
  readonly ready: Promise<void>;
  /** A text frame from the socket. Frames before `ready` are queued. */
  message(text: string): void;
  /** The socket closed: leave the room. Idempotent. */
  closed(): void;
}

/** The rendezvous. */
export interface Rendezvous {
  /** A new socket; the join runs in the background (`peer.ready`). */
  connect(socket: RendezvousSocket, query: JoinQuery): RendezvousPeer;
  /** Renews the leases of every seat held here. Call at least every `leaseMs / 3`. */
  renewLeases(): Promise<void>;
  /** Closes every socket here without giving up its seat (a restart: peers resume with their token). */
  detachAll(): void;
  /** Sockets held here. */
  readonly peers: number;
}

const MINUTE_MS = 60_000;

const randomHex = (): string => Array.from(globalThis.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

/** Attempts to find an unused code before giving up. */
const CODE_ATTEMPTS = 8;

/** Creates a rendezvous. */
export function createRendezvous(config: RendezvousConfig = {}): Rendezvous {
  const now = config.now ?? Date.now;
  const store = config.store ?? memoryStore({ now });
  const codeTtlMs = config.codeTtlMs ?? 10 * MINUTE_MS;
  const leaseMs = config.leaseMs ?? 30_000;
  const roomTtlMs = config.roomTtlMs ?? 60 * MINUTE_MS;
  const iceServers = config.iceServers ?? (() => []);
  const policy = { relay: config.relayCandidates ?? config.iceServers !== undefined };
  const randomId = config.randomId ?? randomHex;
  const randomCode = config.randomCode ?? (() => generateRoomCode());
  const byAddress = store.limiter('address', config.joinsPerAddress ?? { limit: 30, windowMs: MINUTE_MS });
  const byCode = store.limiter('code', config.joinsPerCode ?? { limit: 10, windowMs: MINUTE_MS });
  // Seats held by sockets here, for lease renewal and detachAll.
  const seated = new Map<RendezvousSocket, { room: string; memberId: string; detach: () => void }>();

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
  const pickRoom = async (socket: RendezvousSocket, query: JoinQuery): Promise<string | undefined> => {
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

  function connect(socket: RendezvousSocket, query: JoinQuery): RendezvousPeer {
    // This socket's seat once joined, its current peer's id and the pair's lanes, and its event subscription.
    let room: string | undefined;
    let memberId: string | undefined;
    let peer: string | undefined;
    let lanes = 0;
    let unsubscribe: (() => void) | undefined;
    // Frames that arrived before the join finished; true once the socket closed or was replaced/detached.
    let early: string[] | undefined = [];
    let gone = false;
    let keepSeat = false;
    // Tells this socket's own `replaced` event from an older socket's.
    const connectionId = randomId();
    const bucket = createTokenBucket({ perSecond: config.messagesPerSecond ?? 20, burst: config.messageBurst ?? 100, now });

    const onEvent = (event: BusEvent): void => {
      if (gone) return;
      switch (event.kind) {
        case 'paired':
          peer = event.peer;
          lanes = event.lanes;
          send(socket, { type: 'paired', role: event.role, lanes, room: room!, iceServers: iceServers(), resume: memberId! });
          return;
        case 'signal':
          if (event.from === peer) send(socket, event.message);
          return;
        case 'peer-left':
          if (event.peer !== peer) return;
          peer = undefined;
          lanes = 0;
          send(socket, { type: 'peer-left' });
          return;
        case 'replaced':
          if (event.by === connectionId) return;
          keepSeat = true;
          socket.close(CLOSE_REPLACED, 'replaced');
          finish();
          return;
      }
    };

    const relay = (text: string): void => {
      if (!bucket.take()) {
        refuse(socket, 'rate-limited', 'too many messages; slow down', CLOSE_RATE_LIMITED);
        return;
      }
      const signal = parseSignal(text, Math.max(lanes, 1), policy);
      if (!signal) {
        send(socket, { type: 'error', code: 'bad-message', message: 'not a signal message (or a lane out of range, or a candidate this server does not relay)' });
        return;
      }
      if (peer && signal.lane < lanes) void store.publish(peer, { kind: 'signal', from: memberId!, message: signal }).catch(() => undefined);
    };

    /** Gives up the seat (unless kept) and the subscription. */
    const finish = (): void => {
      const wasSeated = seated.delete(socket);
      gone = true;
      unsubscribe?.();
      unsubscribe = undefined;
      if (!wasSeated || keepSeat || room === undefined || memberId === undefined) return;
      const me = memberId;
      void store
        .leave(room, me, now())
        .then((left) => Promise.all((left?.members ?? []).map((m) => store.publish(m.id, { kind: 'peer-left', peer: me }))))
        .catch(() => undefined);
    };

    const join = async (): Promise<void> => {
      const name = await pickRoom(socket, query);
      if (name === undefined || gone) return;
      room = name;
      const resume = query.resume && /^[0-9a-f]{32}$/.test(query.resume) ? query.resume : undefined;
      if (resume) await store.publish(resume, { kind: 'replaced', by: connectionId });
      for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
        const t = now();
        const result = await store.join({ room: name, member: { id: randomId(), lanes: query.lanes, leaseUntil: t + leaseMs }, resume, newCode: randomCode(), codeTtlMs, roomTtlMs, now: t });
        if (result.kind === 'code-taken') continue;
        if (result.kind === 'full') {
          send(socket, { type: 'full' });
          socket.close(CLOSE_ROOM_FULL, 'room full');
          return;
        }
        memberId = result.member.id;
        const me = memberId;
        unsubscribe = await store.subscribe(me, onEvent);
        seated.set(socket, { room: name, memberId: me, detach: () => ((keepSeat = true), socket.close(CLOSE_UNAVAILABLE, 'server restarting'), finish()) });
        if (gone) return finish();
        const members = result.room.members;
        if (members.length < 2) {
          send(socket, { type: 'waiting', room: name, code: result.room.code, codeExpiresAt: result.room.codeExpiresAt, resume: me });
        } else {
          const [first, second] = members;
          const pairLanes = Math.min(first.lanes, second.lanes);
          await store.publish(first.id, { kind: 'paired', role: 'offerer', lanes: pairLanes, peer: second.id });
          await store.publish(second.id, { kind: 'paired', role: 'answerer', lanes: pairLanes, peer: first.id });
        }
        for (const text of early?.splice(0) ?? []) relay(text);
        early = undefined;
        return;
      }
      refuse(socket, 'unavailable', 'no free room code; try again', CLOSE_UNAVAILABLE);
    };

    const ready = join().catch((error: unknown) => {
      refuse(socket, 'unavailable', `rendezvous store unavailable: ${error instanceof Error ? error.message : String(error)}`, CLOSE_UNAVAILABLE);
      finish();
    });
    return {
      ready,
      message(text) {
        if (gone) return;
        if (early) {
          if (early.length < (config.messageBurst ?? 100)) early.push(text);
          return;
        }
        relay(text);
      },
      closed() {
        if (!gone) finish();
      },
    };
  }

  return {
    connect,
    async renewLeases() {
      const seats = [...seated.values()].map(({ room, memberId }) => ({ room, memberId }));
      if (seats.length) await store.renew(seats, now() + leaseMs, roomTtlMs);
    },
    detachAll() {
      for (const { detach } of [...seated.values()]) detach();
    },
    get peers() {
      return seated.size;
    },
  };
}
