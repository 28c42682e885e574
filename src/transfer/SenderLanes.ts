/**
 * The in-band lanes of one sending session, after `accept`: it attaches the session to the `sendFiles`'s
 * {@link SenderLanePool}, opens each joined lane's data channels and adds them to the session's channels
 * (the routers take channels appended to that array), takes a lane's channels out when it goes, and reports
 * the lane count and the reason of the last change in the stats. Who decides how many lanes:
 *
 * - `fixed`: `inbandLanes` lanes, opened at once, `laneStaggerMs` apart;
 * - `controller` (`auto`): the lane controller (`laneController`) adds one at a time while the path looks
 *   loss-bound and goodput rises, and sheds one when the RTT says the bottleneck queue is filling.
 */
import { filter, forkJoin, map, type SchedulerLike, type Subscription } from 'rxjs';
import type { LaneChange, TransferStats } from '../stats/statsTypes';
import type { Observable } from 'rxjs';
import type { ControlMessage, Reliability } from '../protocol/control';
import type { DataChannelLike, PeerConnectionLike } from '../types';
import { whenOpen } from './controlLink';
import { laneController, type LaneDecision } from './laneController';
import type { LaneControllerConfig } from './laneControllerConfig';
import { laneTimeoutOf, type LaneOptions } from './laneSignal';
import type { LaneDropReason, SenderLanePool } from './SenderLanePool';
import { closeAll, createLaneChannels } from './transferChannels';

/** Who decides the lane count: a fixed number, or the lane controller. */
export type LaneRule = 'fixed' | 'controller';

/** What the session gives its lanes. */
export interface SenderLanesContext {
  readonly id: number;
  readonly sc: SchedulerLike;
  readonly pool: SenderLanePool;
  readonly first: PeerConnectionLike;
  /** The session's data channels: lanes append theirs. */
  readonly data: DataChannelLike[];
  /** Lanes given by the app, and the channels per lane and their reliability. */
  readonly givenLanes: number;
  readonly channelsPerLane: number;
  readonly reliability: Reliability;
  readonly options: LaneOptions & { readonly laneController?: LaneControllerConfig };
  readonly stats$: Observable<TransferStats>;
  send(msg: ControlMessage): boolean;
  /** A lane's channels joined or left; `change` for the stats. */
  changed(change: LaneChange): void;
  /** Listens to a new channel's `close` (the session's lost-channel handling). */
  watch(ch: DataChannelLike): void;
}

/** Below this RTT, ms, a path whose transport hides its loss is taken as lossless (a LAN): no lanes are added. */
export const IMPLIED_LOSS_MIN_RTT_MS = 10;

/**
 * The controller's measurement from a stats sample. Its loss: the NACK share on unreliable channels; where the transport hides its losses (reliable channels: SCTP retransmits below the API, and
 * neither Chromium nor libdatachannel reports them), the loss that the measured goodput implies if every lane
 * sits on the one-association bound, `(1.22 × MSS × lanes / (RTT × goodput))²`, on paths of at least
 * {@link IMPLIED_LOSS_MIN_RTT_MS}. The path then always looks loss-bound, so what decides is the controller's
 * other evidence: each added lane must raise goodput, and RTT inflation holds or sheds.
 */
export function measurementOf(st: TransferStats, lanes: number, reliability: Reliability, mssBytes: number) {
  const rttMs = st.rtt.current!;
  // Bits/s over the window: the per-sample figure jumps with the receiver's ack cadence.
  const goodputBytesPerSecond = st.throughput.average / 8;
  const implied = goodputBytesPerSecond > 0 && rttMs >= IMPLIED_LOSS_MIN_RTT_MS ? Math.min(1, ((1.22 * mssBytes * lanes) / ((rttMs / 1000) * goodputBytesPerSecond)) ** 2) : 0;
  return { goodputBytesPerSecond, rttMs, lossRate: reliability === 'unreliable' ? (st.lossRate ?? 0) : implied, lanes };
}

/** Times a lane's data channels are made before the lane is dropped. */
const CHANNEL_ATTEMPTS = 3;

export class SenderLanes {
  /** Joined lanes and their data channels. */
  private readonly joined = new Map<number, DataChannelLike[]>();
  private readonly subs: Subscription[] = [];
  private detach: (() => void) | undefined;
  /** The reason of the controller's last `add`, reported when that lane joins. */
  private addReason = 'fixed';
  private ended = false;

  constructor(private readonly c: SenderLanesContext) {}

  /** Attaches to the pool: `fixed` opens `accepted` lanes now; `controller` reuses connected ones and lets the controller add. */
  start(rule: LaneRule, accepted: number): void {
    const { pool, first } = this.c;
    const host = { id: this.c.id, send: (m: ControlMessage) => !this.ended && this.c.send(m), joined: (lane: number, pc: PeerConnectionLike) => this.laneJoined(lane, pc), dropped: (lane: number, why: LaneDropReason) => this.laneDropped(lane, why) };
    this.detach = pool.attach(host, first, rule === 'fixed' ? accepted : 0, accepted);
    if (rule === 'controller') this.control(accepted);
  }

  /** The controller, fed by the session's stats: `add` opens a lane, `shed` closes the newest. */
  private control(accepted: number): void {
    const { givenLanes, pool, sc } = this.c;
    const config = { maxLanes: givenLanes + accepted, ...this.c.options.laneController, minLanes: givenLanes, initialLanes: givenLanes + pool.count, scheduler: sc };
    this.subs.push(
      this.c.stats$
        .pipe(
          filter((st) => st.rtt.current !== undefined),
          map((st) => measurementOf(st, givenLanes + pool.count, this.c.reliability, this.c.options.laneController?.mssBytes ?? 1200)),
          laneController(config),
        )
        .subscribe((d) => this.decide(d)),
    );
  }

  private decide(d: LaneDecision): void {
    if (this.ended || d.action === 'hold') return;
    if (d.action === 'add') {
      this.addReason = d.reason;
      return void this.c.pool.add();
    }
    const lane = this.c.pool.shed();
    if (lane !== undefined) this.leave(lane, d.reason);
  }

  /**
   * A lane connected: its data channels join the rotation once they are all open (within the lane bound). A
   * fresh in-band channel sometimes closes before it opens (libdatachannel, right after a connection comes
   * up, as with the control channel): the lane's channels are made again, up to {@link CHANNEL_ATTEMPTS}
   * times, 200 ms apart; then the lane is dropped (`channels-failed`).
   */
  private laneJoined(lane: number, pc: PeerConnectionLike, attempt = 1): void {
    if (this.ended) return;
    let chs: DataChannelLike[];
    try {
      chs = createLaneChannels(pc, lane, this.c.channelsPerLane, this.c.reliability);
    } catch {
      return this.giveUp(lane);
    }
    const reason = this.addReason;
    this.subs.push(
      forkJoin(chs.map((ch) => whenOpen(ch, laneTimeoutOf(this.c.options), this.c.sc))).subscribe({
        complete: () => {
          if (this.ended) return closeAll(chs);
          this.joined.set(lane, chs);
          this.c.data.push(...chs);
          for (const ch of chs) this.c.watch(ch);
          this.c.changed({ action: 'add', reason, lanes: this.lanes, atMs: this.c.sc.now() });
        },
        error: () => {
          closeAll(chs);
          if (this.ended) return;
          if (attempt >= CHANNEL_ATTEMPTS) return this.giveUp(lane);
          this.subs.push(this.c.sc.schedule(() => this.laneJoined(lane, pc, attempt + 1), 200));
        },
      }),
    );
  }

  private giveUp(lane: number): void {
    this.c.pool.drop(lane, 'channels-failed');
    this.leave(lane, 'channels-failed');
  }

  /** Lanes in use: given plus joined. */
  get lanes(): number {
    return this.c.givenLanes + this.joined.size;
  }

  /** A lane went away: its channels leave (their frames come back by NACK), the transfer goes on. */
  private laneDropped(lane: number, why: LaneDropReason): void {
    if (this.ended || why === 'shed') return;
    this.leave(lane, why);
  }

  private leave(lane: number, reason: string): void {
    const chs = this.joined.get(lane);
    this.joined.delete(lane);
    if (chs) closeAll(chs);
    this.c.changed({ action: 'shed', reason, lanes: this.lanes, atMs: this.c.sc.now() });
  }

  /** The session ended: lanes go back to the pool (connected ones wait for the next session). */
  stop(): void {
    this.ended = true;
    for (const s of this.subs) s.unsubscribe();
    this.detach?.();
  }
}
