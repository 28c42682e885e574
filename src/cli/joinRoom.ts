/**
 * The command line's side of the rendezvous: joins a room over the server's
 * WebSocket (by code, or a new room), waits for the other peer, and connects
 * one peer connection per lane with the library's `negotiate` (the same
 * messages the web page sends, see src/server/signalling.ts).
 *
 * ```
 * ws open ─▶ waiting {code}  ─▶ onWaiting(code, …, codeExpiresAt)   (sender: print the code and the QR)
 *         ─▶ paired {role, lanes, iceServers} ─▶ lanes × negotiate ─▶ resolve(JoinedRoom)
 *         ─▶ error / full / close before paired ─▶ reject(RendezvousError)
 * paired ─▶ peer-left before the lanes connect ─▶ onPeerLeft()
 *           room owner (no `code`): keeps its seat and waits for the next peer
 *           joined by `code`: waits `peerLeftGraceMs` for the peer to come back, then reject(RendezvousError 'peer-left')
 * ```
 *
 * The socket stays open while the transfer runs: the web page drops its peer
 * connections when the other side's socket closes (`peer-left`).
 *
 * Environment-neutral (no `node:` imports): the command line passes a `ws`
 * socket, a browser page its own `WebSocket` (test/server uses it in Chromium).
 */
import { negotiate, type SignalMessage as NegotiateMessage, type SignalTransport } from '../connect/negotiate';
import { candidateFilter, type DescriptionJson, type IceServerJson, type ServerMessage, type SignalMessage } from '../server/signalling';
import type { PeerConnectionOptions } from './loadPeerConnection';

/** The part of a WebSocket (browser, or the `ws` package) joinRoom uses. */
export interface RoomWebSocket {
  readonly readyState: number;
  send(text: string): void;
  close(): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

/** `WebSocket.OPEN`. */
const OPEN = 1;

/** Options of {@link joinRoom}. */
export interface JoinRoomConfig {
  /** `ws(s)://host:port/signal` */
  readonly signalUrl: string;
  /** Opens the socket: `(url) => new WebSocket(url)` (`ws` in Node). */
  readonly createSocket: (url: string) => RoomWebSocket;
  /** Join this code's room; without it, a new room is made and its code reported by `onWaiting`. */
  readonly code?: string;
  /** Join (or, with `resume`, return to) the room of this name. */
  readonly room?: string;
  /** The `resume` token of an earlier `waiting`: take that seat back. */
  readonly resume?: string;
  /** Lanes asked for (the pair uses the smaller number). */
  readonly lanes: number;
  readonly createPeerConnection: (options: PeerConnectionOptions) => RTCPeerConnection;
  /** Only relay candidates (`iceTransportPolicy: 'relay'`). */
  readonly relayOnly?: boolean;
  readonly bindAddress?: string;
  /** Called with the room's code (and the room name, resume token and when the code expires, ms since the epoch) while alone in the room. */
  readonly onWaiting?: (code: string, room: string, resume: string, codeExpiresAt: number) => void;
  /** Called when the paired peer leaves before the lanes connected (its connection attempt failed, or it quit). */
  readonly onPeerLeft?: () => void;
  /**
   * Joined by `code` only: how long to wait for a peer that left before the lanes connected to come back (its
   * socket may have dropped and reconnect with its seat) before failing with `RendezvousError` `peer-left`.
   * Default 10000 ms. The room's owner (no `code`) keeps waiting for the next peer instead.
   */
  readonly peerLeftGraceMs?: number;
  /** Aborting it before the lanes connected closes the socket and the lanes and rejects (`RendezvousError` `aborted`). */
  readonly signal?: AbortSignal;
  /** Called once paired, before negotiation. */
  readonly onPaired?: (role: 'offerer' | 'answerer', lanes: number) => void;
  /** Time allowed for every lane to connect once paired, ms. Default 20000. */
  readonly connectTimeoutMs?: number;
  /**
   * Reconnects (with the room's `resume` token, so the seat, room and code stay) after the socket
   * drops before the lanes connect, e.g. when the server instance restarts. Default 10 attempts.
   */
  readonly reconnectAttempts?: number;
  /** Wait before reconnect attempt n: n × this, at most 5 s. Default 1000 ms. */
  readonly reconnectDelayMs?: number;
  /** Called before each reconnect attempt. */
  readonly onReconnect?: (attempt: number) => void;
}

/** A connected pair. */
export interface JoinedRoom {
  readonly role: 'offerer' | 'answerer';
  readonly lanes: readonly RTCPeerConnection[];
  readonly room: string;
  readonly iceServers: readonly IceServerJson[];
  /** Resolves when the other peer leaves the room or the socket closes. */
  readonly peerGone: Promise<string>;
  /** Closes the lanes and the socket. Idempotent. */
  close(): void;
}

/** The server refused or dropped us (`code` is the error frame's code, or `full`, `closed`). */
export class RendezvousError extends Error {
  override readonly name = 'RendezvousError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A per-lane {@link SignalTransport} over the room socket; messages that come before the handler wait for it. */
function laneTransport(socket: RoomWebSocket, lane: number): SignalTransport & { deliver(message: NegotiateMessage): void } {
  let handler: ((m: NegotiateMessage) => void) | undefined;
  const early: NegotiateMessage[] = [];
  return {
    send(message) {
      const out: SignalMessage =
        message.kind === 'description'
          ? { type: 'signal', lane, description: message.description as DescriptionJson }
          : { type: 'signal', lane, candidate: message.candidate };
      if (socket.readyState === OPEN) socket.send(JSON.stringify(out));
    },
    onMessage(h) {
      handler = h;
      early.splice(0).forEach((m) => h(m));
      return () => {
        handler = undefined;
      };
    },
    deliver(message) {
      if (handler) handler(message);
      else early.push(message);
    },
  };
}

/** Close codes after which reconnecting cannot help: the server refused this peer. */
const isRefusal = (code: number): boolean => code >= 4000 && code < 4500;

/** Joins and connects; resolves with the connected lanes. */
export function joinRoom(config: JoinRoomConfig): Promise<JoinedRoom> {
  // The current socket (replaced on reconnect) and its generation; the current pair's lanes and
  // transports; the room and seat once known; a promise settled when the peer leaves.
  let socket: RoomWebSocket;
  let generation = 0;
  let lanes: RTCPeerConnection[] = [];
  let transports: ReturnType<typeof laneTransport>[] = [];
  let room = config.room ?? '';
  let resume = config.resume;
  let goneResolve: (why: string) => void = () => undefined;
  const peerGone = new Promise<string>((resolve) => (goneResolve = resolve));
  const closeLanes = (): void => {
    lanes.forEach((pc) => pc.close());
    lanes = [];
    transports = [];
  };
  let done = false;
  const close = (): void => {
    done = true;
    closeLanes();
    socket.close();
  };

  return new Promise<JoinedRoom>((resolve, reject) => {
    let connected = false;
    let attempts = 0;
    // Joined by code: the timer that gives up on a peer that left before the lanes connected.
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const stopGrace = (): void => {
      clearTimeout(graceTimer);
      graceTimer = undefined;
    };
    const fail = (error: Error): void => {
      stopGrace();
      if (connected) return goneResolve(error.message);
      if (done) return;
      close();
      reject(error);
    };
    const onMessage = (m: ServerMessage): void => {
      switch (m.type) {
        case 'waiting':
          room = m.room;
          resume = m.resume;
          attempts = 0;
          config.onWaiting?.(m.code, m.room, m.resume, m.codeExpiresAt);
          return;
        case 'paired': {
          if (connected) return goneResolve('the other side reconnected');
          stopGrace();
          room = m.room;
          resume = m.resume;
          closeLanes();
          config.onPaired?.(m.role, m.lanes);
          const iceServers = m.iceServers;
          const accept = candidateFilter({ relay: iceServers.length > 0 });
          lanes = Array.from({ length: m.lanes }, () => config.createPeerConnection({ iceServers, relayOnly: config.relayOnly, bindAddress: config.bindAddress }));
          transports = lanes.map((_, i) => laneTransport(socket, i));
          const role = m.role;
          const mine = lanes;
          Promise.all(lanes.map((pc, i) => negotiate(pc, { role, transport: transports[i], acceptCandidate: accept, timeoutMs: config.connectTimeoutMs ?? 20_000 }))).then(
            () => {
              if (mine !== lanes) return;
              connected = true;
              resolve({ role, lanes, room, iceServers, peerGone, close });
            },
            (error: Error) => mine === lanes && fail(new RendezvousError('connect-failed', `could not connect to the other side: ${error.message}`)),
          );
          return;
        }
        case 'signal': {
          const t = transports[m.lane];
          if (!t) return;
          t.deliver('description' in m ? { kind: 'description', description: m.description } : { kind: 'candidate', candidate: m.candidate });
          return;
        }
        case 'peer-left':
          if (connected) return goneResolve('the other side left');
          closeLanes();
          config.onPeerLeft?.();
          if (config.code && !graceTimer) {
            graceTimer = setTimeout(
              () => fail(new RendezvousError('peer-left', 'the other side left before the connection was made (its connection attempt failed, or it quit)')),
              config.peerLeftGraceMs ?? 10_000,
            );
          }
          return;
        case 'full':
          return fail(new RendezvousError('full', 'that room already has two peers'));
        case 'error':
          // A dropped frame (a signal for a lane that went with a peer who left, say): the socket stays open.
          if (m.code === 'bad-message') return;
          return fail(new RendezvousError(m.code, m.code === 'unknown-code' ? 'no transfer has this code (mistyped, or it expired)' : m.message));
      }
    };
    const open = (): void => {
      const gen = ++generation;
      const query = new URLSearchParams({ lanes: String(config.lanes) });
      // Once seated, come back to the seat; before that, join as asked.
      if (resume) {
        query.set('room', room);
        query.set('resume', resume);
      } else {
        if (config.code) query.set('code', config.code);
        if (config.room) query.set('room', config.room);
      }
      socket = config.createSocket(`${config.signalUrl}?${query}`);
      let reason = '';
      socket.addEventListener('error', (e) => {
        reason = (e as { message?: string }).message ?? 'socket error';
      });
      socket.addEventListener('close', (e) => {
        if (gen !== generation || done) return;
        const max = config.reconnectAttempts ?? 10;
        if (!connected && resume && !isRefusal(e.code) && attempts < max) {
          attempts++;
          closeLanes();
          config.onReconnect?.(attempts);
          setTimeout(() => !done && open(), Math.min(attempts * (config.reconnectDelayMs ?? 1000), 5000));
          return;
        }
        fail(
          new RendezvousError(
            'closed',
            resume || e.code >= 4000 ? `the rendezvous closed the connection (${e.code}${e.reason ? ` ${e.reason}` : ''})` : `cannot reach the rendezvous at ${config.signalUrl}${reason ? `: ${reason}` : ''}`,
          ),
        );
      });
      socket.addEventListener('message', (event) => {
        if (gen !== generation) return;
        let m: ServerMessage;
        try {
          m = JSON.parse(String(event.data)) as ServerMessage;
        } catch {
          return;
        }
        onMessage(m);
      });
    };
    config.signal?.addEventListener('abort', () => !connected && fail(new RendezvousError('aborted', 'gave up joining')), { once: true });
    open();
  });
}
