/**
 * The sender's in-band lanes for one `sendFiles` (every resumed run of its session included): extra peer
 * connections it opens itself, signalled over the control channel (docs/protocol.md, "In-band lanes"). A
 * running session attaches: connected lanes are handed to it at once (reused), and new ones are opened up
 * to what it wants, `staggerMs` apart. A lane that does not connect within the bound is dropped (closed,
 * `lane-close`) and the transfer goes on. When the session ends it detaches: lanes still connecting are
 * closed (nobody can signal them any more), connected ones wait for the next session. `close()` (the end of
 * `sendFiles`) closes every one.
 *
 * ```
 * attach(initial 3): lane 0 reused ── joined
 *                    lane 1 new ── lane-offer → ← lane-answer, candidates ⇄ ── joined
 *                    lane 2 new ──(staggerMs)── lane-offer → … (no answer in time) ── lane-close, dropped
 * ```
 */
import { Subscription, type SchedulerLike } from 'rxjs';
import { ProtocolError } from '../errors';
import { MAX_INBAND_LANES, type ControlMessage } from '../protocol/control';
import type { PeerConnectionLike } from '../types';
import { closeConnection, connectionFactory, LaneSignal, laneTimeoutOf, type LaneOptions } from './laneSignal';
import { negotiateLane } from './negotiateLane';
import { connectionGone } from './connectionGone';

/** What a session gives the pool while attached. */
export interface SenderLaneHost {
  /** The session's id (the `id` of every lane message). */
  readonly id: number;
  /** Sends on the session's control channel. */
  send(msg: ControlMessage): boolean;
  /** A lane is connected (new or reused): the session opens its data channels on it. */
  joined(lane: number, pc: PeerConnectionLike): void;
  /** A lane went away, with a {@link LaneDropReason}. */
  dropped(lane: number, reason: LaneDropReason): void;
  /** The receiver answered a lane's offer. */
  answered?(lane: number): void;
}

/**
 * Why a lane left: it did not connect within the bound, failed to connect, was closed by the receiver, its
 * connection failed or closed later, the session ended while it connected, the session shed it, or the
 * whole send ended.
 */
export type LaneDropReason = 'connect-timeout' | 'connect-failed' | 'channels-failed' | 'channels-closed' | 'closed-by-peer' | 'connection-lost' | 'session-ended' | 'shed' | 'closed';

/** The default gap between the starts of two new lanes, ms: their slow starts do not all hit the queue at once. */
export const LANE_STAGGER_MS = 250;

interface PooledLane {
  readonly pc: PeerConnectionLike;
  connected: boolean;
  signal: LaneSignal | undefined;
  readonly onState: () => void;
  /** The receiver's answer arrived. */
  answered: boolean;
  /** Stops the negotiation while it runs. */
  cancel?: () => void;
}

export class SenderLanePool {
  /** Lanes by number: connecting or connected. */
  private readonly lanes = new Map<number, PooledLane>();
  /** Lane numbers ever offered (the peer's late messages for a dropped one are not a protocol error). */
  private readonly offered = new Set<number>();
  private host: SenderLaneHost | undefined;
  /** The attached session's pending lane starts and connect timeouts. */
  private starts = new Subscription();
  /** The attached session's cap and connection factory. */
  private max = 0;
  private factory: (() => PeerConnectionLike) | undefined;
  private closed = false;

  constructor(
    private readonly o: LaneOptions & { readonly scheduler: SchedulerLike; readonly staggerMs?: number },
  ) {
    laneTimeoutOf(o);
  }

  /** Whether lanes can be built on this side (a `createConnection`, or a global `RTCPeerConnection`). */
  canOpen(first: PeerConnectionLike): boolean {
    return !this.closed && connectionFactory(this.o.createConnection, first) !== undefined;
  }

  /** Lanes connected now. */
  get connected(): number {
    return [...this.lanes.values()].filter((l) => l.connected).length;
  }

  /** Lanes whose offer the receiver has not answered yet. */
  get unanswered(): number {
    return [...this.lanes.values()].filter((l) => !l.answered).length;
  }

  /** Lanes of the attached session: connected and connecting. */
  get count(): number {
    return this.lanes.size;
  }

  /**
   * A session takes every connected lane (up to `max`, at most {@link MAX_INBAND_LANES}) at once, then opens
   * new ones, `staggerMs` apart (the pool's `staggerMs` unless given), until it has `initial`; `add()` opens
   * more, up to `max`. Returns the detach function (call it when the session ends).
   */
  attach(host: SenderLaneHost, first: PeerConnectionLike, initial: number, max: number, staggerMs = this.o.staggerMs ?? 0): () => void {
    this.detach();
    this.host = host;
    this.max = Math.min(max, MAX_INBAND_LANES);
    this.factory = connectionFactory(this.o.createConnection, first);
    this.starts = new Subscription();
    let taken = 0;
    for (const [lane, l] of this.lanes) {
      if (taken >= this.max) break;
      taken++;
      host.joined(lane, l.pc);
    }
    // Without a stagger, every offer leaves before the first data frame: later ones would queue behind data.
    for (let k = 0; taken < Math.min(initial, this.max); k++, taken++) {
      if (k === 0 || staggerMs === 0) this.add();
      else this.starts.add(this.o.scheduler.schedule(() => this.host === host && this.add(), k * staggerMs));
    }
    return () => {
      if (this.host === host) this.detach();
    };
  }

  /** Opens one more lane for the attached session, if it has fewer than its `max`; returns whether it did. */
  add(): boolean {
    if (!this.host || !this.factory || this.lanes.size >= this.max) return false;
    this.open(this.host, this.factory);
    return true;
  }

  /** The highest lane number open or opening, if any: the one `shed()` closes. */
  get newest(): number | undefined {
    const lane = Math.max(-1, ...this.lanes.keys());
    return lane < 0 ? undefined : lane;
  }

  /** Closes lane `lane` (default the newest) because the session sheds it; returns its number. */
  shed(lane = this.newest): number | undefined {
    if (lane === undefined || !this.lanes.has(lane)) return undefined;
    this.remove(lane, 'shed', true);
    return lane;
  }

  /**
   * A `lane-answer`, `lane-candidate` or `lane-close` from the receiver. Throws `ProtocolError` for a lane
   * never offered; messages for a lane this side dropped meanwhile (they crossed its `lane-close`) are ignored.
   */
  onMessage(msg: Extract<ControlMessage, { t: 'lane-answer' | 'lane-candidate' | 'lane-close' }>): void {
    const l = this.lanes.get(msg.lane);
    if (msg.t === 'lane-close') return void (l && this.remove(msg.lane, 'closed-by-peer', false));
    if (!l) {
      if (this.offered.has(msg.lane)) return;
      throw new ProtocolError(`'${msg.t}' for lane ${msg.lane}, which this sender did not offer`, { lane: msg.lane, t: msg.t });
    }
    if (msg.t === 'lane-answer' && (l.connected || !l.signal || l.answered)) throw new ProtocolError(`a second answer for lane ${msg.lane}`, { lane: msg.lane });
    l.signal?.deliver(msg);
    if (msg.t === 'lane-answer') {
      l.answered = true;
      this.host?.answered?.(msg.lane);
    }
  }

  /** Opens the lowest free lane number. */
  private open(host: SenderLaneHost, factory: () => PeerConnectionLike): void {
    let lane = 0;
    while (this.lanes.has(lane)) lane++;
    if (lane >= MAX_INBAND_LANES) return;
    let pc: PeerConnectionLike;
    try {
      pc = factory();
    } catch {
      return host.dropped(lane, 'connect-failed');
    }
    this.offered.add(lane);
    const signal = new LaneSignal(host.id, lane, (m) => this.host === host && host.send(m), this.o.rewriteLaneSignal && { side: 'sender', fn: this.o.rewriteLaneSignal });
    const onState = () => connectionGone(pc) && this.remove(lane, 'connection-lost', true);
    const l: PooledLane = { pc, connected: false, signal, onState, answered: false };
    this.lanes.set(lane, l);
    const timeoutMs = laneTimeoutOf(this.o);
    const timeout = this.o.scheduler.schedule(() => !l.connected && this.remove(lane, 'connect-timeout', true), timeoutMs);
    this.starts.add(timeout);
    l.cancel = negotiateLane(pc, {
      role: 'offerer',
      transport: signal,
      acceptCandidate: this.o.acceptLaneCandidate ?? (() => true),
      timeoutMs,
      scheduler: this.o.scheduler,
      onConnected: () => {
        if (this.lanes.get(lane) !== l) return;
        timeout.unsubscribe();
        l.connected = true;
        l.signal = undefined;
        pc.addEventListener('connectionstatechange', onState);
        if (this.host === host) host.joined(lane, pc);
      },
      onFailed: () => this.remove(lane, 'connect-failed', true),
    });
  }

  /** The session gives a lane up (`channels-failed`): closed, the peer told, not reported back. */
  drop(lane: number, reason: 'channels-failed' | 'channels-closed'): void {
    this.remove(lane, reason, true);
  }

  /** Forgets and closes a lane; tells the peer when asked to and a session is attached. */
  private remove(lane: number, reason: LaneDropReason, tell: boolean): void {
    const host = this.host;
    const l = this.lanes.get(lane);
    if (!l) return;
    this.lanes.delete(lane);
    l.cancel?.();
    l.pc.removeEventListener('connectionstatechange', l.onState);
    closeConnection(l.pc);
    if (tell && host) host.send({ t: 'lane-close', id: host.id, lane });
    if (reason !== 'channels-failed') host?.dropped(lane, reason);
  }

  /** The session ended: lanes still connecting are dropped, connected ones stay for the next session. */
  private detach(): void {
    this.starts.unsubscribe();
    for (const [lane, l] of this.lanes) if (!l.connected) this.remove(lane, 'session-ended', false);
    this.host = undefined;
    this.factory = undefined;
  }

  /** The end of `sendFiles`: every lane is closed. */
  close(): void {
    this.detach();
    this.closed = true;
    for (const lane of [...this.lanes.keys()]) this.remove(lane, 'closed', false);
  }
}
