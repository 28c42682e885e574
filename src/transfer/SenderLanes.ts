/**
 * The in-band lanes of one sending session, after `accept`: it attaches the session to the `sendFiles`'s
 * {@link SenderLanePool}, opens each joined lane's data channels and adds them to the session's channels
 * (the routers take channels appended to that array), takes a lane's channels out when it goes, and reports
 * the lane count and the reason of the last change in the stats. Who decides how many lanes:
 *
 * - `fixed`: `inbandLanes` lanes, opened at once, `laneStaggerMs` apart;
 * - `controller` (`auto`): on a path whose probed RTT is at least {@link IMPLIED_LOSS_MIN_RTT_MS}, it
 *   opens lanes up to `laneController.startLanes` in all at once, before data flows (an offer sent later
 *   waits behind the data queued on the first connection); then the lane controller (`laneController`) adds
 *   a third of the lanes in use at a time (`rampShare`) while the path looks loss-bound and goodput rises,
 *   and sheds one when the RTT says the bottleneck queue is filling.
 */
import { filter, forkJoin, map, Observable, scan, tap, type SchedulerLike, Subscription } from 'rxjs';
import type { LaneChange, TransferStats } from '../stats/statsTypes';
import type { ControlMessage, Reliability } from '../protocol/control';
import type { DataChannelLike, PeerConnectionLike } from '../types';
import { whenOpen } from './controlLink';
import { laneController, type LaneDecision } from './laneController';
import { resolveLaneControllerConfig, type LaneControllerConfig, type ResolvedLaneControllerConfig } from './laneControllerConfig';
import { laneTimeoutOf, type LaneOptions } from './laneSignal';
import { LaneWatermarks } from './laneWatermarks';
import type { LaneDropReason, SenderLanePool } from './SenderLanePool';
import { closeAll, createLaneChannels } from './transferChannels';
import { closeLaneChannels } from './closeLaneChannels';
import { isGone } from '../operators/routeInternals';

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
  /** The byte watermark of every channel (the tuning's `high`): the most a lane's watermark in time can be. */
  readonly highBytes: number;
  readonly channelsPerLane: number;
  readonly reliability: Reliability;
  /** `initialRttMs`: `auto`'s probed RTT, which decides the lanes opened before data flows. */
  readonly options: LaneOptions & { readonly laneController?: LaneControllerConfig; readonly initialRttMs?: number; readonly onLaneDecision?: (d: LaneDecision) => void };
  readonly stats$: Observable<TransferStats>;
  send(msg: ControlMessage): boolean;
  /** A lane's channels joined or left; `change` for the stats. */
  changed(change: LaneChange): void;
  /** Listens to a new channel's `close` (the session's lost-channel handling). */
  watch(ch: DataChannelLike): void;
  /** Fails the session (what `onLaneDecision` threw). */
  fail(err: unknown): void;
}

/** Below this RTT, ms, a path whose transport hides its loss is taken as lossless (a LAN): no lanes are added. */
export const IMPLIED_LOSS_MIN_RTT_MS = 5;

/**
 * The controller's measurement from a stats sample. Its loss: the NACK share on unreliable channels; where the transport hides its losses (reliable channels: SCTP retransmits below the API, and
 * neither Chromium nor libdatachannel reports them), the loss that the measured goodput implies if every lane
 * sits on the one-association bound, `(1.22 × MSS × lanes / (RTT × goodput))²`, on paths of at least
 * {@link IMPLIED_LOSS_MIN_RTT_MS} (the lower of the sample's RTT and `auto`'s probe, `probedRttMs`: a busy
 * CPU makes a LAN's RTT read several ms). The path then always looks loss-bound, so what decides is the controller's
 * other evidence: each added lane must raise goodput, and RTT inflation holds or sheds.
 */
export function measurementOf(st: TransferStats, lanes: number, reliability: Reliability, mssBytes: number, probedRttMs?: number, recentBytesPerSecond?: number) {
  const rttMs = st.rtt.current!;
  // A LAN's RTT reads several ms while the CPU is busy: the path's RTT is the lower of this and auto's probe.
  const pathRttMs = Math.min(rttMs, probedRttMs ?? Infinity);
  // Over the last seconds (`recentGoodput`) when given, else bits/s over the window (since the start in a
  // short transfer, so a lane's gain hardly shows in it); the per-sample figure jumps with the ack cadence.
  const goodputBytesPerSecond = recentBytesPerSecond ?? st.throughput.average / 8;
  const implied = goodputBytesPerSecond > 0 && pathRttMs >= IMPLIED_LOSS_MIN_RTT_MS ? Math.min(1, ((1.22 * mssBytes * lanes) / ((rttMs / 1000) * goodputBytesPerSecond)) ** 2) : 0;
  return { goodputBytesPerSecond, rttMs, lossRate: reliability === 'unreliable' ? (st.lossRate ?? 0) : implied, lanes };
}

/** Goodput is measured over this long, ms ({@link recentGoodput}): a few stats samples, so a new lane's gain shows. */
export const RECENT_GOODPUT_MS = 3000;

/**
 * Acknowledged bytes per second over the last {@link RECENT_GOODPUT_MS}, from the stats' `bytesDone`: an
 * operator from stats to `[stats, goodput]` (goodput undefined until two samples span some time).
 */
export const recentGoodput = (windowMs = RECENT_GOODPUT_MS) => (stats$: Observable<TransferStats>): Observable<[TransferStats, number | undefined]> =>
  stats$.pipe(
    scan((acc: { readonly points: { at: number; bytes: number }[]; readonly st?: TransferStats }, st: TransferStats) => {
      const points = [...acc.points.filter((p) => p.at >= st.timestamp - windowMs), { at: st.timestamp, bytes: st.bytesDone }];
      return { points, st };
    }, { points: [] }),
    map(({ points, st }) => {
      const first = points[0];
      const last = points[points.length - 1];
      const spanMs = last.at - first.at;
      return [st!, spanMs > 0 ? ((last.bytes - first.bytes) * 1000) / spanMs : undefined];
    }),
  );

/**
 * Data waits for the lanes opened at the start to join (offer, answer, ICE, DTLS, SCTP, channels: about 7
 * RTTs) at most this many probed RTTs (plus {@link START_WAIT_SLACK_MS}, at most {@link START_WAIT_MAX_MS}).
 * 12 was too short on the emulated mobile path (80 ms, 1 % loss, 30 ms jitter): no lane had joined after
 * 1.2 s, data started on the given connection alone, its 1 MiB send buffer filled, and pings waited 7 s.
 */
export const START_WAIT_RTTS = 25;
/** Added to the wait for the start lanes' answers, ms. */
export const START_WAIT_SLACK_MS = 250;
/** The longest wait for the start lanes, ms. */
export const START_WAIT_MAX_MS = 3000;

/**
 * After this many lanes of a session did not connect within `laneConnectTimeoutMs`, the controller opens no
 * more: measured through the emulator (40 ms, 0.5 % loss), an offer sent while data flowed reached the
 * receiver 5-10 s later, and a 1 GiB run opened and timed out 23 lanes that way.
 */
export const MAX_ADD_TIMEOUTS = 2;

/**
 * Besides `laneController.settleMs` (default 2000 ms), the controller judges nothing until data has
 * flowed this many probed RTTs.
 */
export const SETTLE_RTTS = 25;

/** A probed RTT from which `auto` starts with every lane the receiver took (the `poor` profile's bound), ms. */
export const LONG_PATH_RTT_MS = 100;

/** Times a lane's data channels are made before the lane is dropped. */
const CHANNEL_ATTEMPTS = 3;

export class SenderLanes {
  /** Joined lanes and their data channels. */
  private readonly joined = new Map<number, DataChannelLike[]>();
  /** Each joined lane's connection, and how often its channels were made again after they all closed. */
  private readonly lanePcs = new Map<number, { readonly pc: PeerConnectionLike; remade: number }>();
  private readonly subs = new Subscription();
  private detach: (() => void) | undefined;
  /** The reason of the controller's last `add`, reported when that lane joins. */
  private addReason = 'fixed';
  private ended = false;
  /** Lanes that did not connect within the bound in this session. */
  private timedOut = 0;
  /** Lanes opened at the start. */
  private startCount = 0;
  /** When data started (`ready$` emitted), `sc.now()`. */
  private dataStartedAt: number | undefined;
  /** Called when the receiver answers an offer, or a lane joins or leaves (the start wait checks again). */
  private onAnswer: () => void = () => undefined;

  /**
   * Data channels per in-band lane: the session's share per given lane with a fixed count; one under the
   * controller, whose lanes are many: channels of one association share its congestion window, so more only
   * add buffering (each holds up to `high` bytes), a backlog that drains at the lane's rate at the end.
   */
  private perLane: number;

  /** `controller` on a path with an RTT: each channel's watermark in time (`LaneWatermarks`), for the router and backpressure. */
  private watermarks: LaneWatermarks | undefined;

  /** `laneController` with its defaults (checked by `sendFiles` at subscription). */
  private readonly config: ResolvedLaneControllerConfig;

  constructor(private readonly c: SenderLanesContext) {
    this.perLane = c.channelsPerLane;
    this.config = resolveLaneControllerConfig(c.options.laneController);
  }

  /**
   * Each data channel's watermark, bytes, under the controller on a path with an RTT (where it opens start
   * lanes): its share of the goodput × a few RTTs, so no lane's queue, the first connection's included, is
   * seconds long. Undefined otherwise (the tuning's `high` for every channel).
   */
  get highOf(): ((channel: DataChannelLike) => number) | undefined {
    // A reserved channel keeps its watermark: backpressure's credit counts its room, and the router sends
    // the frames read on it to the lanes (a watermark of 0 there would leave a lane that just joined, which
    // backpressure has not seen yet, without credit for its first frame).
    return this.watermarks?.highOf;
  }

  /**
   * Under the controller on a path with an RTT, once an in-band lane has joined: the given connections'
   * data channels, which then take no frame while a lane's channel is open. The first connection carries
   * the control channel, and a connection sends its channels' messages from one queue: data queued there
   * (libdatachannel's queue and usrsctp's send buffer, 1 MiB, whatever the watermark) held pings and lane
   * offers for seconds. Undefined otherwise (every channel takes frames).
   */
  get reserved(): ((channel: DataChannelLike) => boolean) | undefined {
    return this.watermarks && ((ch) => this.isReserved(ch));
  }

  /** Whether `ch` is held back now: a given connection's channel while an in-band lane carries data. */
  private isReserved(ch: DataChannelLike): boolean {
    return this.joined.size > 0 && !this.onJoinedLane(ch);
  }

  /** Attaches to the pool: `fixed` opens `accepted` lanes now; `controller` reuses connected ones and lets the controller add. */
  start(rule: LaneRule, accepted: number): void {
    const { pool, first } = this.c;
    if (rule === 'controller') {
      this.addReason = 'start';
      this.perLane = 1;
      if (this.hasRtt()) this.watermarks = new LaneWatermarks(this.c.highBytes, (ch) => (this.onJoinedLane(ch) ? this.perLane : this.c.channelsPerLane));
    }
    const host = { id: this.c.id, answered: () => this.onAnswer(), send: (m: ControlMessage) => !this.ended && this.c.send(m), joined: (lane: number, pc: PeerConnectionLike) => this.laneJoined(lane, pc), dropped: (lane: number, why: LaneDropReason) => this.laneDropped(lane, why) };
    this.startCount = rule === 'fixed' ? accepted : this.startLanes(accepted);
    this.detach = pool.attach(host, first, this.startCount, accepted, rule === 'controller' ? 0 : undefined);
    if (rule === 'controller') this.control(accepted);
  }

  /**
   * Emits once (then completes) when every lane offered so far has joined (its channels are open) or was
   * dropped (under the controller on a path with an RTT: half of them), or after the start wait (`START_WAIT_RTTS` probed RTTs plus `START_WAIT_SLACK_MS`, at most
   * `START_WAIT_MAX_MS`): the session starts its data then. Two reasons: an offer or its answer behind data
   * waits for everything queued before it (libdatachannel keeps one send queue per association: seconds on
   * a slow lossy path); and data started on the first connection alone fills its buffers there, a backlog
   * that then drains at one association's rate while the other lanes idle at the end.
   *
   * ```
   * lane-offer ×7 ──► ◄── lane-answer ×7 ── ICE, DTLS, SCTP, channels ── ready ── data on 8 lanes …
   * ```
   */
  ready$(): Observable<void> {
    return new Observable<void>((subscriber) => {
      const done = () => {
        if (subscriber.closed) return;
        this.dataStartedAt = this.c.sc.now();
        this.onAnswer = () => undefined;
        subscriber.next();
        subscriber.complete();
      };
      if (this.c.pool.count === 0) return done();
      const rttMs = this.c.options.initialRttMs ?? 0;
      const waitMs = Math.min(START_WAIT_MAX_MS, START_WAIT_RTTS * rttMs + START_WAIT_SLACK_MS);
      // Under the controller the given connection carries no data once a lane joined, so the signalling of
      // the lanes still coming does not wait behind data: half of them is enough to start.
      const enough = () => (this.watermarks ? this.joined.size >= Math.ceil(this.c.pool.count / 2) : this.c.pool.unanswered === 0 && this.joined.size >= this.c.pool.count);
      this.onAnswer = () => enough() && done();
      const timer = this.c.sc.schedule(done, waitMs);
      return () => {
        timer.unsubscribe();
        this.onAnswer = () => undefined;
      };
    });
  }

  /** Whether `auto` probed an RTT of at least {@link IMPLIED_LOSS_MIN_RTT_MS} (not a LAN). */
  private hasRtt(): boolean {
    const rttMs = this.c.options.initialRttMs;
    return rttMs !== undefined && rttMs >= IMPLIED_LOSS_MIN_RTT_MS;
  }

  /** Whether `ch` is a data channel of an in-band lane (not of a given connection). */
  private onJoinedLane(ch: DataChannelLike): boolean {
    for (const chs of this.joined.values()) if (chs.includes(ch)) return true;
    return false;
  }

  /**
   * `controller`: the in-band lanes opened before data flows; none on a LAN or without a probed RTT. On a long
   * path (a probed RTT of {@link LONG_PATH_RTT_MS} or more) every lane the receiver took, unless the app set
   * `startLanes`: there the ramp adds a lane per 8 RTTs (1.2 s at 150 ms) and a transfer spends its first
   * 10-15 s below 16 lanes (docs/benchmarks.md, "A window in time on poor").
   */
  private startLanes(accepted: number): number {
    if (!this.hasRtt()) return 0;
    const long = (this.c.options.initialRttMs ?? 0) >= LONG_PATH_RTT_MS && this.c.options.laneController?.startLanes === undefined;
    // The given connections carry the control channel and no data once a lane joined (`reserved`): the
    // start lanes are the lanes that carry data.
    return Math.max(0, Math.min(accepted, long ? accepted : this.config.startLanes));
  }

  /** The controller, fed by the session's stats: `add` opens a lane, `shed` closes the newest. */
  private control(accepted: number): void {
    const { givenLanes, pool, sc } = this.c;
    const config = { maxLanes: givenLanes + accepted, ...this.c.options.laneController, minLanes: givenLanes, initialLanes: givenLanes + pool.count, scheduler: sc };
    this.subs.add(
      this.c.stats$
        .pipe(
          filter((st) => st.rtt.current !== undefined),
          recentGoodput(),
          tap(([st, recent]) => this.watermarks?.update(recent ?? st.throughput.average / 8, st.rtt.current!, this.joined.size || this.lanes)),
          filter(() => this.settled()),
          map(([st, recent]) => ({
            ...measurementOf(st, givenLanes + pool.count, this.c.reliability, this.config.mssBytes, this.c.options.initialRttMs, recent),
            // Only a lane still connecting can be shed (see `decide`): with none, a standing queue holds instead.
            sheddable: Math.max(0, pool.count - this.joined.size),
          })),
          laneController(config),
        )
        .subscribe((d) => {
          if (!this.report(d)) return;
          this.decide(d);
        }),
    );
  }

  /** Whether data has flowed for `settleMs` and {@link SETTLE_RTTS} probed RTTs (at once without start lanes). */
  private settled(): boolean {
    if (this.startCount === 0) return true;
    if (this.dataStartedAt === undefined) return false;
    return this.c.sc.now() - this.dataStartedAt >= Math.max(this.config.settleMs, SETTLE_RTTS * (this.c.options.initialRttMs ?? 0));
  }

  /** Hands `d` to the app's `onLaneDecision`; false when that threw (the session failed). */
  private report(d: LaneDecision): boolean {
    const hook = this.c.options.onLaneDecision;
    if (!hook || this.ended) return true;
    try {
      hook(d);
      return true;
    } catch (err) {
      this.c.fail(err);
      return false;
    }
  }

  private decide(d: LaneDecision): void {
    if (this.ended || d.action === 'hold') return;
    if (d.action === 'add') {
      // Offers sent while data flows wait behind it: after two that did not connect in time, the controller adds no more.
      if (this.timedOut >= MAX_ADD_TIMEOUTS) return;
      this.addReason = d.reason;
      for (let k = 0; k < d.step; k++) if (!this.c.pool.add()) break;
      return;
    }
    // Only a lane still connecting is shed. A joined lane is not: node-datachannel's close() leaves the
    // channel 'open' until its native close comes back, and a frame routed to it meanwhile fails the
    // send (the routers drop a channel only once it reads closing or closed). The controller then holds.
    const lane = this.c.pool.newest;
    if (lane === undefined || this.joined.has(lane)) return;
    this.c.pool.shed(lane);
    this.leave(lane, d.reason);
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
      chs = createLaneChannels(pc, lane, this.perLane, this.c.reliability);
    } catch {
      return this.giveUp(lane);
    }
    const reason = this.addReason;
    this.subs.add(
      forkJoin(chs.map((ch) => whenOpen(ch, laneTimeoutOf(this.c.options), this.c.sc))).subscribe({
        complete: () => {
          if (this.ended) return closeAll(chs);
          this.joined.set(lane, chs);
          const known = this.lanePcs.get(lane);
          this.lanePcs.set(lane, { pc, remade: known?.pc === pc ? known.remade : 0 });
          this.c.data.push(...chs);
          for (const ch of chs) this.c.watch(ch);
          this.c.changed({ action: 'add', reason, lanes: this.lanes, atMs: this.c.sc.now() });
          this.onAnswer();
        },
        error: () => {
          closeAll(chs);
          if (this.ended) return;
          if (attempt >= CHANNEL_ATTEMPTS) return this.giveUp(lane);
          this.subs.add(this.c.sc.schedule(() => this.laneJoined(lane, pc, attempt + 1), 200));
        },
      }),
    );
  }

  /**
   * A data channel closed: a joined lane whose channels all read closed carries nothing any more (its
   * connection may still read connected for a while, or for good on node-datachannel). While its connection
   * is up its channels are made again (at most {@link CHANNEL_ATTEMPTS} times); after that, or with its
   * connection gone, it is dropped (`lane-close`, its connection closed) and leaves the stats with a `shed` of
   * reason `channels-closed`.
   */
  channelClosed(): void {
    if (this.ended) return;
    for (const [lane, chs] of [...this.joined]) {
      if (!chs.every(isGone)) continue;
      // libdatachannel sometimes closes a fresh lane's channels right after they opened: while the connection is
      // up, they are made again (at most CHANNEL_ATTEMPTS times; the lane's count in the stats does not dip).
      const held = this.lanePcs.get(lane);
      if (held && held.pc.connectionState === 'connected' && held.remade < CHANNEL_ATTEMPTS) {
        held.remade++;
        this.joined.delete(lane);
        this.laneJoined(lane, held.pc);
        continue;
      }
      this.c.pool.drop(lane, 'channels-closed');
    }
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
    if (why === 'connect-timeout') this.timedOut++;
    this.leave(lane, why);
  }

  /** A lane's channels are closed (the routers drop them once they read closed; the session resends what they carried). */
  private leave(lane: number, reason: string): void {
    const chs = this.joined.get(lane);
    this.joined.delete(lane);
    if (chs) closeLaneChannels(chs);
    this.c.changed({ action: 'shed', reason, lanes: this.lanes, atMs: this.c.sc.now() });
    this.onAnswer();
  }

  /** The session ended: lanes go back to the pool (connected ones wait for the next session). */
  stop(): void {
    this.ended = true;
    this.subs.unsubscribe();
    this.detach?.();
  }
}
