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
 * - `iceServers: []`: no STUN, no TURN.
 * - Unsubscribing closes the socket and every peer connection.
 */
import { Observable } from 'rxjs';
import { isHostUdpCandidate, type CandidateJson, type DescriptionJson, type ServerMessage, type SignalMessage } from './signalling';

/** Negotiated id of the bootstrap channel on every lane (libdatachannel's and our highest id). */
export const BOOTSTRAP_CHANNEL_ID = 1023;

/** What the room connection reports. */
export type RoomEvent =
  /** The WebSocket is opening. */
  | { readonly kind: 'signalling' }
  /** Alone in the room. */
  | { readonly kind: 'waiting'; readonly room: string }
  /** Paired: the lanes exist and negotiation starts. Listen on them now. */
  | { readonly kind: 'pairing'; readonly role: 'offerer' | 'answerer'; readonly lanes: readonly RTCPeerConnection[] }
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
  readonly room: string;
  /** Lanes this tab asks for; the pair uses the smaller of both tabs' numbers. */
  readonly lanes: number;
  /** Creates a peer connection. Default `new RTCPeerConnection({ iceServers: [] })`. */
  readonly createPeerConnection?: () => RTCPeerConnection;
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
    const create = config.createPeerConnection ?? (() => new RTCPeerConnection({ iceServers: [] }));
    const url = `${config.signalUrl}?room=${encodeURIComponent(config.room)}&lanes=${config.lanes}`;
    const socket = new WebSocket(url);
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
      if (lanes.every((l) => l.pc.connectionState === 'connected')) subscriber.next({ kind: 'connected', role, lanes: lanes.map((l) => l.pc) });
    };

    const pair = (asRole: 'offerer' | 'answerer', count: number): void => {
      closeLanes();
      role = asRole;
      const gen = generation;
      lanes = Array.from({ length: count }, () => ({ pc: create(), pending: [], haveRemote: false }));
      lanes.forEach(({ pc }, index) => {
        pc.createDataChannel('bootstrap', { negotiated: true, id: BOOTSTRAP_CHANNEL_ID });
        pc.addEventListener('icecandidate', (e) => {
          const c = e.candidate;
          if (gen !== generation || !c?.candidate || !isHostUdpCandidate(c.candidate)) return;
          send({ type: 'signal', lane: index, candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } });
        });
        pc.addEventListener('connectionstatechange', () => {
          const state = pc.connectionState;
          if (state === 'connected') checkConnected(gen);
          else if (state === 'failed') fail(`lane ${index} failed`, gen);
        });
      });
      subscriber.next({ kind: 'pairing', role, lanes: lanes.map((l) => l.pc) });
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
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        return;
      }
      switch (message.type) {
        case 'waiting':
          subscriber.next({ kind: 'waiting', room: message.room });
          return;
        case 'paired':
          pair(message.role, message.lanes);
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
          subscriber.error(new Error(`signalling: ${message.message}`));
          return;
      }
    });
    socket.addEventListener('close', () => {
      if (done) return;
      done = true;
      closeLanes();
      subscriber.error(new Error('signalling connection closed'));
    });

    return () => {
      done = true;
      closeLanes();
      socket.close();
    };
  });
}
