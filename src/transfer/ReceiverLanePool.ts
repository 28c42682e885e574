/**
 * The receiver's in-band lanes for one `receiveFiles` (every resumed run included): it answers the sender's
 * `lane-offer` with a connection of its own (`createConnection`), over the control channel, and hands every
 * data channel the sender opens on such a connection to the session attached at the time. Bounded: at most
 * the lanes this side accepted (`accept.inband`), at most {@link MAX_LANE_CANDIDATES} candidates per lane,
 * and a few offers per accepted lane; more is a `ProtocolError`. `close()` (the end of `receiveFiles`) closes
 * every connection.
 */
import type { SchedulerLike } from 'rxjs';
import { ProtocolError } from '../errors';
import { MAX_INBAND_LANES, type ControlMessage } from '../protocol/control';
import type { DataChannelLike, PeerConnectionLike } from '../types';
import { closeConnection, connectionFactory, LaneSignal, laneTimeoutOf, type LaneOptions } from './laneSignal';
import { negotiateLane } from './negotiateLane';
import { DRAIN_MAX_WAIT_MS, LANE_CHANNEL_PREFIX } from './transferChannels';
import { connectionGone } from './connectionGone';

/** `lane-offer`s accepted per lane the receiver took, in one session (a lane that failed may be offered again). */
const OFFERS_PER_LANE = 4;

/** What a session gives the pool while attached. */
export interface ReceiverLaneHost {
  readonly id: number;
  /** Lanes this session accepted (`accept.inband`). */
  readonly accepted: number;
  send(msg: ControlMessage): boolean;
  /** A data channel the sender opened on a lane. */
  channel(ch: DataChannelLike): void;
}

interface AnsweredLane {
  readonly pc: PeerConnectionLike;
  readonly signal: LaneSignal;
  readonly onChannel: (ev: { channel?: DataChannelLike }) => void;
  readonly onState: () => void;
  /** Stops the negotiation while it runs. */
  cancel?: () => void;
  /** Whether a `tallow-lane` channel ever came on it. */
  channels: boolean;
  /** The wait for its first channel once connected. */
  channelWait?: { unsubscribe(): void };
}

export class ReceiverLanePool {
  private readonly lanes = new Map<number, AnsweredLane>();
  private host: ReceiverLaneHost | undefined;
  /** `lane-offer`s the attached session received, and the lanes they named (a dropped lane's late candidates are ignored). */
  private offers = 0;
  private readonly offered = new Set<number>();
  private closed = false;

  constructor(private readonly o: LaneOptions & { readonly scheduler: SchedulerLike }) {
    laneTimeoutOf(o);
  }

  /** How many lanes this side takes for an offer of `offered`: none without a connection factory. */
  accepts(first: PeerConnectionLike, offered: number): number {
    if (this.closed || !offered || connectionFactory(this.o.createConnection, first) === undefined) return 0;
    return Math.min(offered, MAX_INBAND_LANES);
  }

  attach(host: ReceiverLaneHost): () => void {
    this.host = host;
    this.offers = 0;
    this.offered.clear();
    return () => {
      if (this.host === host) this.host = undefined;
    };
  }

  /** A `lane-offer`, `lane-candidate` or `lane-close` from the sender. Throws `ProtocolError` when it breaks a bound. */
  onMessage(msg: Extract<ControlMessage, { t: 'lane-offer' | 'lane-candidate' | 'lane-close' }>, first: PeerConnectionLike): void {
    const host = this.host;
    if (!host) return;
    if (msg.t === 'lane-close') return this.drop(msg.lane, false);
    if (msg.lane >= host.accepted) throw new ProtocolError(`'${msg.t}' for lane ${msg.lane}; this receiver accepted ${host.accepted}`, { lane: msg.lane, accepted: host.accepted });
    if (msg.t === 'lane-candidate') {
      const l = this.lanes.get(msg.lane);
      // A lane dropped since (by either side: its candidates were in flight when the lane-close crossed them).
      if (!l && this.offered.has(msg.lane)) return;
      if (!l) throw new ProtocolError(`'lane-candidate' for lane ${msg.lane}, which was not offered`, { lane: msg.lane });
      return l.signal.deliver(msg);
    }
    if (++this.offers > OFFERS_PER_LANE * host.accepted) throw new ProtocolError(`more than ${OFFERS_PER_LANE * host.accepted} lane offers in one session`, { offers: this.offers });
    // A new offer for a lane number replaces whatever this side still holds under it.
    this.offered.add(msg.lane);
    this.drop(msg.lane, false);
    this.answer(host, msg, first);
  }

  private answer(host: ReceiverLaneHost, msg: Extract<ControlMessage, { t: 'lane-offer' }>, first: PeerConnectionLike): void {
    const factory = connectionFactory(this.o.createConnection, first)!;
    const { lane } = msg;
    let pc: PeerConnectionLike;
    try {
      pc = factory();
    } catch {
      return void host.send({ t: 'lane-close', id: host.id, lane });
    }
    const signal = new LaneSignal(host.id, lane, (m) => this.host !== undefined && this.host.send(m), this.o.rewriteLaneSignal && { side: 'receiver', fn: this.o.rewriteLaneSignal });
    const onChannel = (ev: { channel?: DataChannelLike }) => {
      const ch = ev?.channel;
      if (!ch || !ch.label.startsWith(LANE_CHANNEL_PREFIX)) return;
      l.channels = true;
      ch.binaryType = 'arraybuffer';
      if (this.host) this.host.channel(ch);
      else ch.close();
    };
    // Its connection failed or closed under it: tell the sender (lane-close), which would otherwise learn it only
    // from its own side of the connection, tens of seconds later when the close does not reach it, and keep
    // sending on the lane meanwhile (docs/protocol.md, "In-band lanes", item 5).
    const onState = () => connectionGone(pc) && this.drop(lane, true);
    const l: AnsweredLane = { pc, signal, onChannel, onState, channels: false };
    this.lanes.set(lane, l);
    pc.addEventListener('datachannel', onChannel);
    pc.addEventListener('connectionstatechange', onState);
    l.cancel = negotiateLane(pc, {
      role: 'answerer',
      transport: signal,
      acceptCandidate: this.o.acceptLaneCandidate ?? (() => true),
      timeoutMs: laneTimeoutOf(this.o),
      scheduler: this.o.scheduler,
      // A lane that connects but never opens a channel is dropped within the same bound (docs/protocol.md, item 5).
      onConnected: () => {
        l.channelWait = this.o.scheduler.schedule(() => !l.channels && this.lanes.get(lane) === l && this.drop(lane, true), laneTimeoutOf(this.o));
      },
      onFailed: () => this.lanes.get(lane) === l && this.drop(lane, true),
    });
    signal.deliver(msg);
  }

  private drop(lane: number, tell: boolean): void {
    const l = this.lanes.get(lane);
    if (!l) return;
    this.lanes.delete(lane);
    l.cancel?.();
    l.channelWait?.unsubscribe();
    l.pc.removeEventListener('datachannel', l.onChannel);
    l.pc.removeEventListener('connectionstatechange', l.onState);
    closeConnection(l.pc);
    if (tell && this.host) this.host.send({ t: 'lane-close', id: this.host.id, lane });
  }

  /**
   * The end of `receiveFiles`: no lane is taken any more, and each is closed once the sender closed it (it
   * does when its send ends), or after `graceMs`. Closing at once could cut a lane the sender still uses
   * while the last `complete` is on its way (it would resend that lane's frames elsewhere).
   */
  close(graceMs = DRAIN_MAX_WAIT_MS): void {
    this.closed = true;
    this.host = undefined;
    if (!this.lanes.size) return;
    const closeAll = () => {
      for (const lane of [...this.lanes.keys()]) this.drop(lane, false);
    };
    if (graceMs > 0) this.o.scheduler.schedule(closeAll, graceMs);
    else closeAll();
  }
}
