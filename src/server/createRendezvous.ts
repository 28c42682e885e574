/**
 * The rendezvous: seats peers in rooms, hands out short codes, pairs two peers
 * per room and relays their signalling, within limits. Independent of the
 * WebSocket library and of where rooms live: a socket is anything with
 * `send(text)` and `close(code, reason)`, and a {@link RendezvousStore} holds
 * rooms, codes and limits (in memory, or in Redis for several instances). The
 * rules are unit-tested with a fake clock (test/server/createRendezvous.spec.ts).
 *
 * One peer's life (the protocol table is in signalling.ts; the steps are
 * PeerRun's, in createRendezvousInternals.ts):
 *
 * ```
 * connect(?room=r | ?code=C | neither)  ─ limits ─▶ join ─▶ waiting {room, code, resume}
 *                                                       └─▶ paired  {role, lanes, room, iceServers}  (second seat)
 * message(signal)  ─ bucket ─▶ parseSignal ─▶ the peer's channel ─▶ its socket (any instance)
 * closed()         ─▶ leave ─▶ peer-left to the other seat
 * detach()         ─▶ the socket closes, the seat stays (restart: the peer resumes with its token)
 * ```
 */
import { checkRendezvousConfig } from './checkServerConfig';
import { generateRoomCode } from './roomCode';
import { memoryStore } from './memoryStore';
import type { RateLimit, RendezvousStore } from './RendezvousStore';
import type { IceServerJson } from './signalling';
import { PeerRun, type RendezvousContext } from './createRendezvousInternals';

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

/** Creates a rendezvous. */
export function createRendezvous(given?: RendezvousConfig): Rendezvous {
  const config = checkRendezvousConfig(given);
  const now = config.now ?? Date.now;
  const store = config.store ?? memoryStore({ now });
  const ctx: RendezvousContext = {
    config,
    now,
    store,
    codeTtlMs: config.codeTtlMs ?? 10 * MINUTE_MS,
    leaseMs: config.leaseMs ?? 30_000,
    roomTtlMs: config.roomTtlMs ?? 60 * MINUTE_MS,
    iceServers: config.iceServers ?? (() => []),
    policy: { relay: config.relayCandidates ?? config.iceServers !== undefined },
    randomId: config.randomId ?? randomHex,
    randomCode: config.randomCode ?? (() => generateRoomCode()),
    byAddress: store.limiter('address', config.joinsPerAddress ?? { limit: 30, windowMs: MINUTE_MS }),
    byCode: store.limiter('code', config.joinsPerCode ?? { limit: 10, windowMs: MINUTE_MS }),
    seated: new Map(),
  };
  const { leaseMs, roomTtlMs, seated } = ctx;

  return {
    connect(socket, query) {
      // The join starts now, in the background.
      const run = new PeerRun(ctx, socket, query);
      return {
        ready: run.ready,
        message: (text) => run.message(text),
        closed: () => run.closed(),
      };
    },
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
