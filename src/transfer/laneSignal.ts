/**
 * What the in-band lanes of both sides share: the `createConnection` option and its default, the lane
 * options, and the signalling pipe that carries one lane's offer/answer and ICE candidates as `lane-*`
 * control messages (docs/protocol.md, "In-band lanes"), so `negotiate` runs over the control channel.
 */
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
}

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
  return () => (isConstructor(f) ? new f(configuration()) : (f as (c: unknown) => PeerConnectionLike)(configuration()));
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

  constructor(
    private readonly id: number,
    readonly lane: number,
    private readonly out: (msg: ControlMessage) => boolean,
  ) {}

  send(m: SignalMessage): void {
    if (m.kind === 'description') {
      const t = m.description.type === 'offer' ? ('lane-offer' as const) : ('lane-answer' as const);
      this.out({ t, id: this.id, lane: this.lane, sdp: m.description.sdp });
      return;
    }
    const { candidate, sdpMid, sdpMLineIndex } = m.candidate;
    this.out({
      t: 'lane-candidate',
      id: this.id,
      lane: this.lane,
      candidate,
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
