/**
 * The steps of `joinRoom`: the room socket and this peer's seat ({@link roomSocket}), the pair's lanes
 * ({@link pairLanes}), how the join ends ({@link joinOutcome}), and what each server frame does ({@link joinRoomRun}).
 * `joinRoom` calls {@link joinRoomRun} once inside its promise, so every join gets fresh state (closure locals).
 */
import { negotiate, type SignalMessage as NegotiateMessage, type SignalTransport } from '../connect/negotiate';
import { candidateFilter, type DescriptionJson, type ServerMessage, type SignalMessage } from '../server/signalling';
import type { JoinedRoom, JoinRoomConfig, RoomWebSocket } from './joinRoom';
import { RendezvousError } from './RendezvousError';

/** `WebSocket.OPEN`. */
const OPEN = 1;

/** Close codes after which reconnecting cannot help: the server refused this peer. */
const isRefusal = (code: number): boolean => code >= 4000 && code < 4500;

/** The server's `paired` frame. */
type PairedMessage = Extract<ServerMessage, { type: 'paired' }>;

/** A per-lane {@link SignalTransport} that also takes the lane's frames from the room socket. */
type LaneTransport = SignalTransport & { deliver(message: NegotiateMessage): void };

/** A per-lane {@link SignalTransport} over the room socket; messages that come before the handler wait for it. */
function laneTransport(socket: RoomWebSocket, lane: number): LaneTransport {
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

/** The current pair's peer connections, one per lane, and their transports; replaced when the room pairs again. */
function pairLanes(config: JoinRoomConfig) {
  // The current pair's lanes and transports (empty before pairing, after the peer left, on reconnect).
  let lanes: RTCPeerConnection[] = [];
  let transports: LaneTransport[] = [];
  return {
    /** Closes the lanes and forgets them: a negotiation still running for them then reports nothing. */
    close(): void {
      lanes.forEach((pc) => pc.close());
      lanes = [];
      transports = [];
    },
    /** Opens one connection per lane and negotiates them over `socket`; reports the outcome only while they are still the current lanes. */
    connect(m: PairedMessage, socket: RoomWebSocket, connected: (lanes: RTCPeerConnection[]) => void, failed: (error: Error) => void): void {
      const iceServers = m.iceServers;
      const accept = candidateFilter({ relay: iceServers.length > 0 });
      lanes = Array.from({ length: m.lanes }, () => config.createPeerConnection({ iceServers, relayOnly: config.relayOnly, bindAddress: config.bindAddress }));
      transports = lanes.map((_, i) => laneTransport(socket, i));
      const role = m.role;
      const mine = lanes;
      Promise.all(lanes.map((pc, i) => negotiate(pc, { role, transport: transports[i], acceptCandidate: accept, timeoutMs: config.connectTimeoutMs ?? 20_000 }))).then(
        () => mine === lanes && connected(mine),
        (error: Error) => mine === lanes && failed(error),
      );
    },
    /** Hands a `signal` frame to its lane's transport (dropped when there is no such lane). */
    deliver(m: SignalMessage): void {
      const t = transports[m.lane];
      if (!t) return;
      t.deliver('description' in m ? { kind: 'description', description: m.description } : { kind: 'candidate', candidate: m.candidate });
    },
  };
}

/** The socket's query: once seated, come back to the seat; before that, join as asked. */
function signalQuery(config: JoinRoomConfig, room: string, resume: string | undefined): URLSearchParams {
  const query = new URLSearchParams({ lanes: String(config.lanes) });
  if (resume) {
    query.set('room', room);
    query.set('resume', resume);
  } else {
    if (config.code) query.set('code', config.code);
    if (config.room) query.set('room', config.room);
  }
  return query;
}

/** What {@link roomSocket} asks of the join and tells it. */
interface RoomSocketHooks {
  /** True once the join was closed or failed: the socket's close is then ignored and a pending reconnect dropped. */
  done(): boolean;
  /** True once the lanes connected: a drop then ends the join instead of reconnecting. */
  connected(): boolean;
  /** A server frame from the current socket. */
  message(m: ServerMessage): void;
  /** The socket dropped and reconnect attempt `attempt` (from 1) comes after a wait. */
  reconnecting(attempt: number): void;
  /** The socket closed for good. */
  failed(error: RendezvousError): void;
}

/**
 * The room's WebSocket and this peer's seat in it. Once seated (a `resume` token), a socket that drops before
 * the lanes connect, and not by the server's refusal (close codes 4000–4499), is replaced with one that comes
 * back to the seat, up to `reconnectAttempts` times in a row (counted afresh at each `waiting`). A replaced
 * socket's frames and close are ignored.
 */
function roomSocket(config: JoinRoomConfig, hooks: RoomSocketHooks) {
  // The current socket (replaced on reconnect) and its generation.
  let socket: RoomWebSocket;
  let generation = 0;
  // The room and seat once known; reconnect attempts since the last `waiting`.
  let room = config.room ?? '';
  let resume = config.resume;
  let attempts = 0;
  /** The current socket closed: reconnect while that can help, else fail. */
  const closed = (e: { code: number; reason: string }, reason: string): void => {
    const max = config.reconnectAttempts ?? 10;
    if (!hooks.connected() && resume && !isRefusal(e.code) && attempts < max) {
      attempts++;
      hooks.reconnecting(attempts);
      setTimeout(() => !hooks.done() && open(), Math.min(attempts * (config.reconnectDelayMs ?? 1000), 5000));
      return;
    }
    hooks.failed(
      new RendezvousError(
        'closed',
        resume || e.code >= 4000 ? `the rendezvous closed the connection (${e.code}${e.reason ? ` ${e.reason}` : ''})` : `cannot reach the rendezvous at ${config.signalUrl}${reason ? `: ${reason}` : ''}`,
      ),
    );
  };
  const open = (): void => {
    const gen = ++generation;
    socket = config.createSocket(`${config.signalUrl}?${signalQuery(config, room, resume)}`);
    let reason = '';
    socket.addEventListener('error', (e) => {
      reason = (e as { message?: string }).message ?? 'socket error';
    });
    socket.addEventListener('close', (e) => {
      if (gen !== generation || hooks.done()) return;
      closed(e, reason);
    });
    socket.addEventListener('message', (event) => {
      if (gen !== generation) return;
      let m: ServerMessage;
      try {
        m = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        return;
      }
      hooks.message(m);
    });
  };
  return {
    /** Opens a socket, which becomes the current one. */
    open,
    get current(): RoomWebSocket {
      return socket;
    },
    get room(): string {
      return room;
    },
    /** Seated by a `waiting` or `paired` frame: a reconnect comes back to this seat; a `waiting` also counts the attempts afresh. */
    seated(m: Extract<ServerMessage, { type: 'waiting' | 'paired' }>): void {
      room = m.room;
      resume = m.resume;
      if (m.type === 'waiting') attempts = 0;
    },
  };
}

/**
 * How a join ends: connected (after which a failure or the peer's leaving settles `peerGone`), or failed
 * before that (closes the lanes and the socket with `closeAll` and rejects, once). Joined by code, it also
 * holds the timer that gives up on a peer that left before the lanes connected.
 */
function joinOutcome(config: JoinRoomConfig, resolve: (joined: JoinedRoom) => void, reject: (error: Error) => void, closeAll: () => void) {
  // True once every lane connected; true once closed (by the caller, or a failure before connecting).
  let connected = false;
  let done = false;
  // Settled when the peer leaves or the socket closes, once connected.
  let goneResolve: (why: string) => void = () => undefined;
  const peerGone = new Promise<string>((settle) => (goneResolve = settle));
  // Joined by code: the timer that gives up on a peer that left before the lanes connected.
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Closes the lanes and the socket (also the {@link JoinedRoom}'s `close`). */
  const close = (): void => {
    done = true;
    closeAll();
  };
  const stopGrace = (): void => {
    clearTimeout(graceTimer);
    graceTimer = undefined;
  };
  /** Before the lanes connect: closes and rejects, once. After: settles `peerGone` with the error's message. */
  const fail = (error: Error): void => {
    stopGrace();
    if (connected) return goneResolve(error.message);
    if (done) return;
    close();
    reject(error);
  };
  return {
    isConnected: (): boolean => connected,
    isDone: (): boolean => done,
    fail,
    stopGrace,
    /** The peer left or came back after the lanes connected. */
    gone: (why: string): void => goneResolve(why),
    /** Every lane connected: resolves the join. */
    succeed(pair: Pick<JoinedRoom, 'role' | 'lanes' | 'room' | 'iceServers'>): void {
      connected = true;
      resolve({ ...pair, peerGone, close });
    },
    /** The peer left before the lanes connected: joined by code, fail unless it is back within `peerLeftGraceMs`. */
    startGrace(): void {
      if (config.code && !graceTimer) {
        graceTimer = setTimeout(
          () => fail(new RendezvousError('peer-left', 'the other side left before the connection was made (its connection attempt failed, or it quit)')),
          config.peerLeftGraceMs ?? 10_000,
        );
      }
    },
  };
}

/** One call of `joinRoom`: its lanes, socket and outcome, and what each server frame does. */
export function joinRoomRun(config: JoinRoomConfig, resolve: (joined: JoinedRoom) => void, reject: (error: Error) => void) {
  const lanes = pairLanes(config);
  const outcome = joinOutcome(config, resolve, reject, () => {
    lanes.close();
    socket.current.close();
  });
  const socket = roomSocket(config, {
    done: outcome.isDone,
    connected: outcome.isConnected,
    message: (m) => onMessage(m),
    reconnecting: (attempt) => {
      lanes.close();
      config.onReconnect?.(attempt);
    },
    failed: outcome.fail,
  });
  const paired = (m: PairedMessage): void => {
    if (outcome.isConnected()) return outcome.gone('the other side reconnected');
    outcome.stopGrace();
    socket.seated(m);
    lanes.close();
    // Relay only, and the server offers no TURN: nothing could connect; say so now, not after the connect timeout.
    if (config.relayOnly && m.iceServers.length === 0) return outcome.fail(new RendezvousError('no-relay', '--relay needs a server that hands out TURN credentials, and this one offers none'));
    config.onPaired?.(m.role, m.lanes);
    lanes.connect(
      m,
      socket.current,
      (mine) => outcome.succeed({ role: m.role, lanes: mine, room: socket.room, iceServers: m.iceServers }),
      (error) => outcome.fail(new RendezvousError('connect-failed', `could not connect to the other side: ${error.message}`)),
    );
  };
  const peerLeft = (): void => {
    if (outcome.isConnected()) return outcome.gone('the other side left');
    lanes.close();
    config.onPeerLeft?.();
    outcome.startGrace();
  };
  const onMessage = (m: ServerMessage): void => {
    switch (m.type) {
      case 'waiting':
        socket.seated(m);
        config.onWaiting?.(m.code, m.room, m.resume, m.codeExpiresAt);
        return;
      case 'paired':
        return paired(m);
      case 'signal':
        return lanes.deliver(m);
      case 'peer-left':
        return peerLeft();
      case 'full':
        return outcome.fail(new RendezvousError('full', 'that room already has two peers'));
      case 'error':
        // A dropped frame (a signal for a lane that went with a peer who left, say): the socket stays open.
        if (m.code === 'bad-message') return;
        return outcome.fail(new RendezvousError(m.code, m.code === 'unknown-code' ? 'no transfer has this code (mistyped, or it expired)' : m.message));
    }
  };
  return {
    /** Opens the first socket. */
    open: socket.open,
    /** The caller's `signal` aborted: gives up, unless already connected. */
    abort(): void {
      if (!outcome.isConnected()) outcome.fail(new RendezvousError('aborted', 'gave up joining'));
    },
  };
}
