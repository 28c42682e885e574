/**
 * What the in-band lanes of both sides share: the `createConnection` option and its default, the lane
 * options, and the signalling pipe that carries one lane's offer/answer and ICE candidates as `lane-*`
 * control messages (docs/protocol.md, "In-band lanes"), so `negotiate` runs over the control channel.
 */
import { workerOf } from '../channels/inWorker';
import type { SignalMessage, SignalTransport } from '../connect/negotiate';
import { InvalidConfigError, ProtocolError } from '../errors';
import { MAX_LANE_CANDIDATES, type ControlMessage } from '../protocol/control';
import type { PeerConnectionLike } from '../types';

/** A lane's connection is dropped when its data channels are not open this long after it was offered, ms. */
export const LANE_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Builds the peer connections of in-band lanes: a constructor (`RTCPeerConnection`, node-datachannel's
 * polyfill `RTCPeerConnection`) called with `new`, or a factory function; either gets the first connection's
 * `getConfiguration()` (undefined where it has none).
 */
export type CreateConnection = (new (configuration?: any) => PeerConnectionLike) | ((configuration: any) => PeerConnectionLike);

/** Options both sides take for in-band lanes. */
export interface LaneOptions {
  /**
   * Builds the extra connections. Default: where a global `RTCPeerConnection` exists (browsers),
   * `new RTCPeerConnection(first.getConfiguration())`; elsewhere none, and no lane is opened in band.
   * In Node, pass node-datachannel's: `import { RTCPeerConnection } from 'node-datachannel/polyfill'`.
   */
  readonly createConnection?: CreateConnection;
  /**
   * A lane whose data channels are not open this long after its offer is dropped (closed, `lane-close`),
   * without failing the transfer, ms. Default {@link LANE_CONNECT_TIMEOUT_MS} (10000).
   */
  readonly laneConnectTimeoutMs?: number;
  /** Which ICE candidate lines of in-band lanes to send and accept. Default: all. */
  readonly acceptLaneCandidate?: (candidate: string) => boolean;
  /**
   * Rewrites each signalling message this side sends for an in-band lane (its SDP, or one ICE candidate line)
   * before it leaves: for a relay, a NAT or a link emulator between the peers that the candidates must name
   * (the network benchmark points every lane at its emulator this way). Return the new text, or `undefined`
   * to drop a candidate; a promise delays that message and every later one of the lane (they leave in
   * order), and a rejected one drops it. Default: none (messages leave as the connection wrote them).
   */
  readonly rewriteLaneSignal?: (message: LaneSignalOut) => string | undefined | PromiseLike<string | undefined>;
}

/** One outgoing signalling message of an in-band lane, as {@link LaneOptions.rewriteLaneSignal} sees it. */
export interface LaneSignalOut {
  /** The lane's number (0-15) in its `sendFiles` / `receiveFiles`; a number may be offered again after a drop (a new `offer`). */
  readonly lane: number;
  /** Which side sends it: the sender offers, the receiver answers. */
  readonly side: 'sender' | 'receiver';
  readonly kind: 'offer' | 'answer' | 'candidate';
  /** The SDP of an offer or answer, or the candidate line (`candidate:…`). */
  readonly text: string;
}

const isThenable = (x: unknown): x is PromiseLike<string | undefined> => typeof (x as { then?: unknown } | undefined)?.then === 'function';

type WithConfiguration = PeerConnectionLike & { getConfiguration?: () => unknown };

const isConstructor = (f: CreateConnection): f is new (configuration?: any) => PeerConnectionLike =>
  typeof (f as { prototype?: { createDataChannel?: unknown } }).prototype?.createDataChannel === 'function';

/**
 * The function that builds a lane's connection, or undefined when there is none (no option, no global
 * `RTCPeerConnection`): then no lane is opened in band.
 */
export function connectionFactory(create: CreateConnection | undefined, first: PeerConnectionLike): (() => PeerConnectionLike) | undefined {
  const global = (globalThis as { RTCPeerConnection?: CreateConnection }).RTCPeerConnection;
  const f = create ?? global;
  if (f === undefined) return undefined;
  if (typeof f !== 'function') throw new InvalidConfigError('createConnection must be a constructor or a function', { type: typeof f });
  const configuration = () => {
    try {
      return (first as WithConfiguration).getConfiguration?.();
    } catch {
      return undefined;
    }
  };
  // A lane of a connection whose channels run in a worker runs its channels there too.
  const worker = workerOf(first);
  return () => {
    const pc = isConstructor(f) ? new f(configuration()) : (f as (c: unknown) => PeerConnectionLike)(configuration());
    return worker ? worker.wrap(pc) : pc;
  };
}

/** Checks a lane option up front. */
export function laneTimeoutOf(o: LaneOptions): number {
  const ms = o.laneConnectTimeoutMs ?? LANE_CONNECT_TIMEOUT_MS;
  if (!(Number.isFinite(ms) && ms > 0)) throw new InvalidConfigError('laneConnectTimeoutMs must be a positive number of ms', { laneConnectTimeoutMs: ms });
  return ms;
}

/**
 * One lane's signalling over the control channel: `negotiate` sends descriptions and candidates through it,
 * and the session delivers the peer's `lane-*` messages to it. Candidates are counted: more than
 * {@link MAX_LANE_CANDIDATES} from the peer is a `ProtocolError`.
 */
export class LaneSignal implements SignalTransport {
  /** negotiate's handler while it runs. */
  private handler: ((m: SignalMessage) => void) | undefined;
  /** Candidates the peer sent for this lane. */
  private candidates = 0;
  /** Settles when the messages handed to an asynchronous `rewrite` have left; undefined while none waits. */
  private pending: Promise<void> | undefined;

  constructor(
    private readonly id: number,
    readonly lane: number,
    private readonly out: (msg: ControlMessage) => boolean,
    private readonly rewrite?: { readonly side: LaneSignalOut['side']; readonly fn: NonNullable<LaneOptions['rewriteLaneSignal']> },
  ) {}

  send(m: SignalMessage): void {
    const kind = m.kind === 'candidate' ? 'candidate' : m.description.type === 'offer' ? 'offer' : 'answer';
    const text = m.kind === 'candidate' ? m.candidate.candidate : m.description.sdp;
    if (!this.rewrite) return this.emit(m, text);
    const { side, fn } = this.rewrite;
    const rewrite = () => fn({ lane: this.lane, side, kind, text });
    if (this.pending) return void this.chain(this.pending.then(rewrite), m);
    let result: ReturnType<typeof rewrite>;
    try {
      result = rewrite();
    } catch {
      return;
    }
    if (isThenable(result)) return void this.chain(Promise.resolve(result), m);
    this.emit(m, result);
  }

  /** Sends `m` once `rewritten` settles, after every message before it; a rejection drops it. */
  private chain(rewritten: Promise<string | undefined>, m: SignalMessage): void {
    const done = rewritten.then(
      (text) => this.emit(m, text),
      () => undefined,
    );
    this.pending = done;
    void done.then(() => {
      if (this.pending === done) this.pending = undefined;
    });
  }

  /** Sends `m` with `text` as its SDP or candidate line; drops it for undefined. */
  private emit(m: SignalMessage, text: string | undefined): void {
    if (text === undefined) return;
    if (m.kind === 'description') {
      const t = m.description.type === 'offer' ? ('lane-offer' as const) : ('lane-answer' as const);
      this.out({ t, id: this.id, lane: this.lane, sdp: text });
      return;
    }
    const { sdpMid, sdpMLineIndex } = m.candidate;
    this.out({
      t: 'lane-candidate',
      id: this.id,
      lane: this.lane,
      candidate: text,
      ...(sdpMid === null ? {} : { mid: sdpMid }),
      ...(sdpMLineIndex === null ? {} : { mline: sdpMLineIndex }),
    });
  }

  onMessage(handler: (m: SignalMessage) => void): () => void {
    this.handler = handler;
    return () => {
      if (this.handler === handler) this.handler = undefined;
    };
  }

  /** The peer's `lane-offer`, `lane-answer` or `lane-candidate` for this lane. */
  deliver(msg: Extract<ControlMessage, { t: 'lane-offer' | 'lane-answer' | 'lane-candidate' }>): void {
    if (msg.t === 'lane-candidate') {
      if (++this.candidates > MAX_LANE_CANDIDATES) throw new ProtocolError(`more than ${MAX_LANE_CANDIDATES} candidates for lane ${msg.lane}`, { id: this.id, lane: msg.lane });
      this.handler?.({ kind: 'candidate', candidate: { candidate: msg.candidate, sdpMid: msg.mid ?? null, sdpMLineIndex: msg.mline ?? null } });
      return;
    }
    this.handler?.({ kind: 'description', description: { type: msg.t === 'lane-offer' ? 'offer' : 'answer', sdp: msg.sdp } });
  }
}

/** Closes a lane's connection, ignoring one already closed. */
export function closeConnection(pc: PeerConnectionLike): void {
  try {
    pc.close();
  } catch {
    // already closed
  }
}
