/**
 * A virtual `RTCPeerConnection` with offer/answer signalling, made by a
 * virtual network's `createConnection`: the app (or the library) carries the
 * opaque SDP and ICE candidates between peers as it would real ones, and the
 * pair connects in virtual time as a new lane of the network.
 */
import type { PeerConnectionLike } from '../types';
import type { VirtualLink } from './createVirtualLink';
import { domException } from './domException';
import { SyncPromise } from './SyncPromise';
import { VirtualEventTarget } from './VirtualEventTarget';
import type { VirtualGate } from './VirtualGate';
import type { VirtualDataChannelInit, VirtualPeer } from './VirtualPeer';
import type { VirtualDataChannel } from './VirtualDataChannel';

/** A session description as `RTCSessionDescriptionInit` has it. */
export interface VirtualSessionDescription {
  readonly type: 'offer' | 'answer';
  readonly sdp: string;
}

/** An ICE candidate as `RTCIceCandidateInit` has it. */
export interface VirtualIceCandidate {
  readonly candidate: string;
  readonly sdpMid: string;
  readonly sdpMLineIndex: number;
  readonly usernameFragment: string;
}

/** A lane as the network hands it to a connection. */
export interface VirtualLane {
  readonly link: VirtualLink;
  readonly token: string;
  readonly gate: VirtualGate;
}

/** What a connection asks of its network. Internal plumbing, not for users. */
export interface VirtualSignalling {
  /** Creates a lane whose channels wait for the gate, registered under a fresh token (this connection is endpoint `a`). */
  offer(): VirtualLane;
  /** The lane registered under `token`, once (this connection becomes endpoint `b`); `undefined` when unknown or taken. */
  answer(token: string): VirtualLane | undefined;
  /** The answer reached the offerer: open the lane's gate after `connectDelayMs`. */
  connect(lane: VirtualLane): void;
  /** Schedules `fn` on the network's scheduler at once (next tick). */
  soon(fn: () => void): void;
}

export type VirtualConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'closed';
export type VirtualSignalingState = 'stable' | 'have-local-offer' | 'have-remote-offer' | 'closed';

type Handler = ((event: any) => void) | null;

const TOKEN_LINE = /^a=x-tallow-virtual:(\S+)$/m;

const sdpOf = (type: 'offer' | 'answer', token: string): string =>
  ['v=0', `o=- ${token} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=group:BUNDLE 0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=mid:0', `a=setup:${type === 'offer' ? 'actpass' : 'active'}`, `a=x-tallow-virtual:${token}`, ''].join('\r\n');

/**
 * A virtual peer connection. `createDataChannel`, `createOffer` or
 * `setRemoteDescription(offer)` binds it to a lane of its network: the
 * offerer is the lane's endpoint `a` (what it sends goes through the
 * bottleneck), the answerer endpoint `b`. Every method that returns a promise
 * in a browser returns a {@link SyncPromise}, settled at once.
 *
 * ```
 * offerer  createOffer → setLocalDescription → icecandidate ×1, null ──offer──▶
 * answerer                      setRemoteDescription(offer) → createAnswer → setLocalDescription
 * offerer  ◀──answer── setRemoteDescription(answer) ──connectDelayMs──▶ both 'connected'
 *          channels created before then open openDelayMs later ('datachannel' at the answerer first)
 * ```
 *
 * The SDP is opaque: it names the lane's token (`a=x-tallow-virtual:<token>`),
 * registered in the network, and nothing else matters. Candidates may be
 * added or not; they change nothing. `close()` closes the lane: the far
 * connection's channels close and its state turns `'disconnected'`.
 */
export class VirtualPeerConnection extends VirtualEventTarget implements PeerConnectionLike {
  onicecandidate: Handler = null;
  ondatachannel: Handler = null;
  onconnectionstatechange: Handler = null;
  onsignalingstatechange: Handler = null;
  onicegatheringstatechange: Handler = null;

  #lane: VirtualLane | undefined;
  #peer: VirtualPeer | undefined;
  #connection: VirtualConnectionState = 'new';
  #signaling: VirtualSignalingState = 'stable';
  #gathering: 'new' | 'gathering' | 'complete' = 'new';
  #local: VirtualSessionDescription | null = null;
  #remote: VirtualSessionDescription | null = null;

  /** Use a virtual network's `createConnection`; this constructor is plumbing. */
  constructor(
    private readonly signalling: VirtualSignalling,
    private readonly configuration: Record<string, unknown> = {},
  ) {
    super();
  }

  get connectionState(): VirtualConnectionState {
    return this.#connection;
  }

  /** Mirrors `connectionState` in the ICE vocabulary. */
  get iceConnectionState(): string {
    return this.#connection === 'connected' ? 'connected' : this.#connection === 'connecting' ? 'checking' : this.#connection;
  }

  get signalingState(): VirtualSignalingState {
    return this.#signaling;
  }

  get iceGatheringState(): 'new' | 'gathering' | 'complete' {
    return this.#gathering;
  }

  get localDescription(): VirtualSessionDescription | null {
    return this.#local;
  }

  get remoteDescription(): VirtualSessionDescription | null {
    return this.#remote;
  }

  /** The SCTP transport's limits, once the connection is bound to a lane (as browsers give it once SCTP is negotiated). */
  get sctp(): { readonly maxMessageSize: number } | null {
    return this.#peer ? this.#peer.sctp : null;
  }

  /** The lane this connection is bound to, for tests (`link.stats().association`, `link.fail()`); `undefined` before. */
  get link(): VirtualLink | undefined {
    return this.#lane?.link;
  }

  /** The configuration it was created with. */
  getConfiguration(): Record<string, unknown> {
    return { ...this.configuration };
  }

  /**
   * Creates a data channel. Before the connection is up it stays `'connecting'`
   * and opens `openDelayMs` after the lane connects, as in browsers.
   * @throws DOMException `InvalidStateError` once closed.
   */
  createDataChannel(label: string, init?: VirtualDataChannelInit): VirtualDataChannel {
    this.#checkOpen();
    if (!this.#peer) this.#bind(this.signalling.offer(), 'a');
    return this.#peer!.createDataChannel(label, init);
  }

  createOffer(): SyncPromise<VirtualSessionDescription> {
    return SyncPromise.try(() => {
      this.#checkOpen();
      if (this.#lane && this.#peer !== this.#lane.link.a) throw domException('an answering connection cannot offer', 'InvalidStateError');
      if (!this.#lane) this.#bind(this.signalling.offer(), 'a');
      return { type: 'offer', sdp: sdpOf('offer', this.#lane!.token) };
    });
  }

  createAnswer(): SyncPromise<VirtualSessionDescription> {
    return SyncPromise.try(() => {
      this.#checkOpen();
      if (this.#signaling !== 'have-remote-offer') throw domException(`createAnswer needs a remote offer (signalingState ${this.#signaling})`, 'InvalidStateError');
      return { type: 'answer', sdp: sdpOf('answer', this.#lane!.token) };
    });
  }

  /** Applies our own offer or answer (the one `createOffer`/`createAnswer` made when omitted) and gathers one candidate. */
  setLocalDescription(description?: Partial<VirtualSessionDescription>): SyncPromise<void> {
    return SyncPromise.try(() => {
      this.#checkOpen();
      const type = description?.type ?? (this.#signaling === 'have-remote-offer' ? 'answer' : 'offer');
      let failure: unknown;
      (type === 'offer' ? this.createOffer() : this.createAnswer()).then(
        (d) => void (this.#local = d),
        (err) => void (failure = err),
      );
      if (failure) throw failure;
      if (type === 'offer') this.#setSignaling('have-local-offer');
      else {
        this.#setSignaling('stable');
        this.#setConnection('connecting');
      }
      this.#gather();
    });
  }

  /** Applies the far side's offer (binds this connection to its lane) or answer (connects the lane). */
  setRemoteDescription(description: VirtualSessionDescription): SyncPromise<void> {
    return SyncPromise.try(() => {
      this.#checkOpen();
      const token = TOKEN_LINE.exec(String(description?.sdp))?.[1];
      if (!token) throw domException('not a virtual session description (no a=x-tallow-virtual line)', 'OperationError');
      if (description.type === 'offer') {
        if (this.#lane) throw domException('this connection is already bound to a lane', 'InvalidStateError');
        const lane = this.signalling.answer(token);
        if (!lane) throw domException(`no virtual lane waits under token ${token} (unknown, or answered already)`, 'OperationError');
        this.#bind(lane, 'b');
        this.#remote = { type: 'offer', sdp: description.sdp };
        this.#setSignaling('have-remote-offer');
        return;
      }
      if (this.#signaling !== 'have-local-offer') throw domException(`an answer needs a local offer (signalingState ${this.#signaling})`, 'InvalidStateError');
      if (token !== this.#lane!.token) throw domException(`the answer is for lane ${token}, not ${this.#lane!.token}`, 'OperationError');
      this.#remote = { type: 'answer', sdp: description.sdp };
      this.#setSignaling('stable');
      this.#setConnection('connecting');
      this.signalling.connect(this.#lane!);
    });
  }

  /** Accepts any candidate (or the end-of-candidates `null`); virtual lanes need none. */
  addIceCandidate(_candidate?: unknown): SyncPromise<void> {
    return SyncPromise.try(() => this.#checkOpen());
  }

  /** The lane's stats (its RTT includes queueing), or an empty report before binding. */
  getStats(): PromiseLike<Map<string, Record<string, unknown>>> {
    return this.#peer ? this.#peer.getStats() : SyncPromise.resolve(new Map());
  }

  /** Closes this connection and its lane. Idempotent. */
  close(): void {
    if (this.#connection === 'closed') return;
    this.#connection = 'closed';
    this.#signaling = 'closed';
    this.#lane?.link.close();
  }

  #checkOpen(): void {
    if (this.#connection === 'closed') throw domException('The RTCPeerConnection is closed', 'InvalidStateError');
  }

  /** Takes `side` of `lane`: forwards its `datachannel` events and follows its gate and its close. */
  #bind(lane: VirtualLane, side: 'a' | 'b'): void {
    this.#lane = lane;
    const peer = (this.#peer = lane.link[side]);
    peer.addEventListener('datachannel', (event: any) => this.dispatch({ type: 'datachannel', channel: event.channel }));
    peer.addEventListener('connectionstatechange', () => {
      if (lane.link.closed && this.#connection !== 'closed') this.#setConnection('disconnected');
    });
    lane.gate.whenOpen(() => {
      if (this.#connection === 'new' || this.#connection === 'connecting') this.#setConnection('connected');
    });
  }

  /** Fires one host candidate naming the lane, then the end of candidates, on the next tick. */
  #gather(): void {
    if (this.#gathering !== 'new') return;
    this.#gathering = 'gathering';
    const token = this.#lane!.token;
    this.signalling.soon(() => {
      if (this.#connection === 'closed') return;
      const candidate: VirtualIceCandidate = { candidate: `candidate:1 1 udp 2122260223 127.0.0.1 9 typ host generation 0 ufrag ${token}`, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: token };
      this.dispatch({ type: 'icecandidate', candidate });
      this.#gathering = 'complete';
      this.dispatch({ type: 'icegatheringstatechange' });
      this.dispatch({ type: 'icecandidate', candidate: null });
    });
  }

  #setSignaling(state: VirtualSignalingState): void {
    if (this.#signaling === state) return;
    this.#signaling = state;
    this.dispatch({ type: 'signalingstatechange' });
  }

  #setConnection(state: VirtualConnectionState): void {
    if (this.#connection === state) return;
    this.#connection = state;
    this.dispatch({ type: 'connectionstatechange' });
  }
}
