/**
 * The page's side of signalling: joins a room over the server's WebSocket and
 * connects one RTCPeerConnection per lane to the other tab.
 *
 * ```
 * room$:  -signalling-waiting----pairing(lanes)--connected(lanes)----peer-left--pairing(lanes')-…
 * ```
 *
 * - Each lane gets a negotiated `bootstrap` channel (id 1023) on both sides
 *   before the offer, so the SDP carries SCTP and the library's channels need
 *   no renegotiation.
 * - `pairing` comes before negotiation starts: subscribe `receiveFile` on the
 *   lanes then, so this tab listens before the other one can send.
 * - Only host UDP candidates leave the page (`isHostUdpCandidate`); candidates
 *   that arrive before the remote description are queued.
 * - `iceServers`: what the server's `paired` message hands out (empty by default: no STUN, no
 *   TURN); relay candidates leave the page only when it hands out TURN servers.
 * - Joining by code: `?code=ABC-DEF` instead of `?room=`; the server answers an unknown code with
 *   `error {code: 'unknown-code'}` and close 4004, which errors the Observable with a
 *   {@link RoomError} of that code.
 * - A pair that is not connected within `connectTimeoutMs` (no usable candidate pair: two
 *   networks and no TURN) ends in `failed` with a reason that says so, instead of waiting forever.
 * - Unsubscribing closes the socket and every peer connection.
 */
import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { isHostUdpCandidate, type CandidateJson, type DescriptionJson, type SignalMessage } from './signalling';

/** Default time from `paired` until every lane must be connected, ms. */
export const CONNECT_TIMEOUT_MS = 15_000;

/** An ICE server as the server hands it out. */
export interface IceServerJson {
  readonly urls: string | readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

/** What the page reads from the server (fields added by newer servers are optional here). */
type PageServerMessage =
  | { readonly type: 'waiting'; readonly room: string; readonly code?: string; readonly resume?: string }
  | { readonly type: 'paired'; readonly role: 'offerer' | 'answerer'; readonly lanes: number; readonly room?: string; readonly iceServers?: readonly IceServerJson[]; readonly resume?: string }
  | { readonly type: 'peer-left' }
  | { readonly type: 'full' }
  | { readonly type: 'error'; readonly code?: string; readonly message: string }
  | SignalMessage;

/** The server refused this tab (`code`: `unknown-code`, `rate-limited`, `bad-request`, …) or the socket closed. */
export class RoomError extends Error {
  override readonly name = 'RoomError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** True for a relay (TURN) candidate line. */
const isRelayCandidate = (candidate: string): boolean => / typ relay( |$)/.test(candidate);

/** Negotiated id of the bootstrap channel on every lane (libdatachannel's and our highest id). */
export const BOOTSTRAP_CHANNEL_ID = 1023;

/** What the room connection reports. */
export type RoomEvent =
  /** The WebSocket is opening. */
  | { readonly kind: 'signalling' }
  /** Alone in the room. `code`: the room's short code, when the server gives one; `resume`: its seat token. */
  | { readonly kind: 'waiting'; readonly room: string; readonly code?: string; readonly resume?: string }
  /** Paired: the lanes exist and negotiation starts. Listen on them now. */
  | { readonly kind: 'pairing'; readonly role: 'offerer' | 'answerer'; readonly lanes: readonly RTCPeerConnection[]; readonly room?: string; readonly resume?: string }
  /** Every lane is connected. */
  | { readonly kind: 'connected'; readonly role: 'offerer' | 'answerer'; readonly lanes: readonly RTCPeerConnection[] }
  /** The other tab left; its lanes are closed. */
  | { readonly kind: 'peer-left' }
  /** A lane failed; the pair is unusable until the other tab reloads. */
  | { readonly kind: 'failed'; readonly reason: string }
  /** The room already has two tabs. Completes after this. */
  | { readonly kind: 'full' };

/** Options of {@link room$}. */
export interface RoomConfig {
  /** `ws://host/signal` (no query). */
  readonly signalUrl: string;
  /** The room to join by name; or */
  readonly room?: string;
  /** the room to join by its short code (as typed: any case, dashes and spaces allowed). */
  readonly code?: string;
  /** A seat token from an earlier `waiting`/`pairing` of this room (rejoining after a reload). */
  readonly resume?: string;
  /** Lanes this tab asks for; the pair uses the smaller of both tabs' numbers. */
  readonly lanes: number;
  /** Creates a peer connection. Default `new RTCPeerConnection({ iceServers })` with the server's ICE servers (none by default). */
  readonly createPeerConnection?: (iceServers: readonly IceServerJson[]) => RTCPeerConnection;
  /** `failed` when the lanes are not all connected this long after pairing, ms. Default {@link CONNECT_TIMEOUT_MS}. */
  readonly connectTimeoutMs?: number;
  /** Drives the connect timeout. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** One lane's negotiation state. */
interface Lane {
  readonly pc: RTCPeerConnection;
  /** Remote candidates that arrived before the remote description. */
  readonly pending: CandidateJson[];
  haveRemote: boolean;
}

/**
 * Joins `room` and keeps the peer connections to whichever tab pairs with this
 * one. Cold: each subscription opens its own socket.
 *
 * ## Example
 * ```ts
 * room$({ signalUrl: 'ws://127.0.0.1:8080/signal', room: 'abc', lanes: 2 })
 *   .subscribe((e) => e.kind === 'connected' && console.log('ready', e.lanes.length));
 * ```
 * @param config see {@link RoomConfig}
 * @return an Observable of {@link RoomEvent}; errors if the socket fails or closes unexpectedly
 */
export function room$(config: RoomConfig): Observable<RoomEvent> {
  return new Observable<RoomEvent>((subscriber) => {
    const create = config.createPeerConnection ?? ((iceServers) => new RTCPeerConnection({ iceServers: iceServers as RTCIceServer[] }));
    const { connectTimeoutMs = CONNECT_TIMEOUT_MS, scheduler = asyncScheduler } = config;
    const query = new URLSearchParams(config.code !== undefined ? { code: config.code } : { room: config.room ?? '' });
    query.set('lanes', String(config.lanes));
    if (config.resume) query.set('resume', config.resume);
    const socket = new WebSocket(`${config.signalUrl}?${query}`);
    // The connect timeout of the current pair.
    let timeout: Subscription | undefined;
    // Relay candidates may leave the page only when the server handed out TURN servers.
    let relayAllowed = false;
    // The current pair's lanes (empty while unpaired), and a counter that retires stale callbacks.
    let lanes: Lane[] = [];
    let generation = 0;
    let role: 'offerer' | 'answerer' = 'offerer';
    let done = false;

    const send = (message: SignalMessage): void => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    };
    const closeLanes = (): void => {
      generation++;
      timeout?.unsubscribe();
      timeout = undefined;
      for (const { pc } of lanes) pc.close();
      lanes = [];
    };
    const fail = (reason: string, gen: number): void => {
      if (gen !== generation || done) return;
      closeLanes();
      subscriber.next({ kind: 'failed', reason });
    };

    const checkConnected = (gen: number): void => {
      if (gen !== generation || !lanes.length) return;
      if (lanes.every((l) => l.pc.connectionState === 'connected')) {
        timeout?.unsubscribe();
        timeout = undefined;
        subscriber.next({ kind: 'connected', role, lanes: lanes.map((l) => l.pc) });
      }
    };

    const pair = (message: Extract<PageServerMessage, { type: 'paired' }>): void => {
      closeLanes();
      role = message.role;
      const gen = generation;
      const iceServers = message.iceServers ?? [];
      relayAllowed = iceServers.length > 0;
      lanes = Array.from({ length: message.lanes }, () => ({ pc: create(iceServers), pending: [], haveRemote: false }));
      const seconds = Math.round(connectTimeoutMs / 1000);
      timeout = scheduler.schedule(() => fail(`no connection after ${seconds} s: the two devices found no network path to each other (on different networks, a TURN server is needed)`, gen), connectTimeoutMs);
      lanes.forEach(({ pc }, index) => {
        pc.createDataChannel('bootstrap', { negotiated: true, id: BOOTSTRAP_CHANNEL_ID });
        pc.addEventListener('icecandidate', (e) => {
          const c = e.candidate;
          if (gen !== generation || !c?.candidate || !(isHostUdpCandidate(c.candidate) || (relayAllowed && isRelayCandidate(c.candidate)))) return;
          send({ type: 'signal', lane: index, candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } });
        });
        pc.addEventListener('connectionstatechange', () => {
          const state = pc.connectionState;
          if (state === 'connected') checkConnected(gen);
          else if (state === 'failed') fail(`lane ${index} failed`, gen);
        });
      });
      subscriber.next({ kind: 'pairing', role, lanes: lanes.map((l) => l.pc), room: message.room, resume: message.resume });
      if (role === 'offerer') {
        lanes.forEach(({ pc }, index) => {
          (async () => {
            await pc.setLocalDescription(await pc.createOffer());
            send({ type: 'signal', lane: index, description: pc.localDescription!.toJSON() as DescriptionJson });
          })().catch((e) => fail(`lane ${index}: ${(e as Error).message}`, gen));
        });
      }
    };

    const onSignal = async (message: SignalMessage, gen: number): Promise<void> => {
      const lane = lanes[message.lane];
      if (!lane) return;
      if ('description' in message) {
        await lane.pc.setRemoteDescription(message.description);
        lane.haveRemote = true;
        for (const c of lane.pending.splice(0)) await lane.pc.addIceCandidate(c);
        if (message.description.type === 'offer') {
          await lane.pc.setLocalDescription(await lane.pc.createAnswer());
          if (gen === generation) send({ type: 'signal', lane: message.lane, description: lane.pc.localDescription!.toJSON() as DescriptionJson });
        }
      } else if (lane.haveRemote) await lane.pc.addIceCandidate(message.candidate);
      else lane.pending.push(message.candidate);
    };

    subscriber.next({ kind: 'signalling' });
    socket.addEventListener('message', (event) => {
      let message: PageServerMessage;
      try {
        message = JSON.parse(String(event.data)) as PageServerMessage;
      } catch {
        return;
      }
      switch (message.type) {
        case 'waiting':
          subscriber.next({ kind: 'waiting', room: message.room, code: message.code, resume: message.resume });
          return;
        case 'paired':
          pair(message);
          return;
        case 'signal': {
          const gen = generation;
          onSignal(message, gen).catch((e) => fail(`lane ${message.lane}: ${(e as Error).message}`, gen));
          return;
        }
        case 'peer-left':
          closeLanes();
          subscriber.next({ kind: 'peer-left' });
          return;
        case 'full':
          done = true;
          subscriber.next({ kind: 'full' });
          subscriber.complete();
          return;
        case 'error':
          done = true;
          closeLanes();
          subscriber.error(new RoomError(message.code ?? 'error', message.message));
          return;
      }
    });
    socket.addEventListener('close', () => {
      if (done) return;
      done = true;
      closeLanes();
      subscriber.error(new RoomError('closed', 'signalling connection closed'));
    });

    return () => {
      done = true;
      closeLanes();
      socket.close();
    };
  });
}
