/**
 * One sending session: the sender's control session (the table in sessionTable.ts), the offer and its file
 * list, the shared window, and the order of files; each file's data path is a {@link FileSender}.
 * `sendFiles` validates the options, builds the settings and runs one of these per subscription; each
 * method is one step of the protocol (docs/protocol.md).
 */
import { catchError, forkJoin, map, of, throwError, type Observable, type SchedulerLike, type Subscriber, Subscription } from 'rxjs';
import { asTallowError, ChannelClosedError, HashMismatchError, IdleTimeoutError, ProtocolError, TransferCancelledError, TransferRejectedError } from '../errors';
import type { NetworkConditions } from '../operators/chooseChunkSize';
import { CONTROL_VERSION, frameIdOf, type ControlMessage, type Manifest, type SessionSettings } from '../protocol/control';
import type { Chunk, DataChannelLike, PeerConnectionLike } from '../types';
import { controlLink, whenOpen, type ControlLink } from './controlLink';
import type { FileDescriptor } from './fileInput';
import { FileSender, type FileSendContext } from './FileSender';
import { notifyFailure, peerText, remoteError } from './peerFailure';
import { READ_AHEAD_FILES, ReadAhead } from './readAhead';
import type { TransferStats } from '../stats/statsTypes';
import type { ProfileName, TransferTuning } from './profiles';
import type { SessionEvent, SessionOffer } from './SessionEvent';
import type { LaneControllerConfig } from './laneControllerConfig';
import type { SenderLanePool } from './SenderLanePool';
import { closeLaneChannels } from './closeLaneChannels';
import { SenderLanes, type LaneRule } from './SenderLanes';
import { LaneWatermarks } from './laneWatermarks';
import { LAN_PROBE_MS, startRttMs } from './startRttMs';
import { readRttMs } from './readRttMs';
import { checkLegal, SENDER_TABLE, type SenderPhase } from './sessionTable';
import { connectionGone, whenConnectionGone } from './connectionGone';
import { closeAll, closeTransfer, createControlChannel, createDataChannels, whenAllClosed } from './transferChannels';
import { transferTelemetry, type Telemetry } from './transferTelemetry';
import { idleWatchdog, repeatEvery, Timers } from './watchdog';
import { isGone } from '../operators/routeInternals';

/** What `sendFiles` resolved before the session starts. */
export interface SenderSettings extends Omit<FileSendContext['settings'], 'scheduler'> {
  readonly scheduler: SchedulerLike;
  readonly idBase: number;
  readonly releaseIds: () => void;
  /** The control channel, created before the ids were allocated. */
  readonly control: DataChannelLike;
  readonly sessionId: number;
  readonly profileName?: ProfileName;
  /** The in-band lanes of this `sendFiles`, and how many this session wants (0: none, no `offer.inband`). */
  readonly lanePool?: SenderLanePool;
  readonly inbandLanes?: number;
  /** Who decides the count: `fixed` (open `inbandLanes`) or `controller` (`auto`: up to `inbandLanes`). */
  readonly laneRule?: LaneRule;
  readonly laneController?: LaneControllerConfig;
  /** Each file's digest once its `done` is out (a later run of the session with `reconnect` needs them). */
  readonly onDigest?: (index: number, sha256: string) => void;
  /** The digest of file `index` from an earlier run's `done`, if one went out. */
  readonly priorDigest?: (index: number) => string | undefined;
  /** A `skip` confirmed file `index` with that digest (an earlier run's file whose `complete` was lost). */
  readonly onConfirmedBySkip?: (index: number) => void;
}

/** The offer's entries are sent while the control channel holds less than this, bytes; then every OFFER_PACE_MS. */
const OFFER_QUEUE_BYTES = 256 * 1024;
/**
 * On a `poor` path (an RTT of 100 ms or more at the start), unless the app set `window`: the bytes in flight
 * are held to this many seconds of the measured goodput, between {@link TIMED_WINDOW_MIN_BYTES} and the
 * profile's window. Each of 16 lanes at a few hundred kbit/s otherwise queues seconds of data inside its
 * association: chunks then arrive more than 15 s late, are NACKed as stalled and sent twice, and the end of
 * the file waits for the slowest lane (docs/benchmarks.md, "A window in time on poor").
 */
export const TIMED_WINDOW_SECONDS = 4;
/** The timed window's floor, and its size before the first measurement, bytes. */
export const TIMED_WINDOW_MIN_BYTES = 2 * 1024 * 1024;
/** The shortest stand-still of a file's ack frontier that counts as a stalled lane (re-injection), ms. */
export const FRONTIER_STALL_MIN_MS = 4000;
const OFFER_PACE_MS = 5;
/**
 * A given connection's data channel queues at most this long of its share of the rate (at most the tuning's
 * `high`, and a whole frame at least with `frameCredit`): above 32 Mbit/s per channel that is `high` itself, so
 * only paths slower than the profile get a shorter queue.
 */
export const GIVEN_QUEUE_MS = 250;
/** Below this average goodput, bits/s, the chunk policy takes the window's average rather than the last sample's. */
const SLOW_PATH_BPS = 1e6;

/** The path's RTT: an application RTT includes time queued behind data, so its minimum is the closer estimate. */
const pathRttOf = (st: TransferStats): number | undefined => (st.rtt.source === 'application' ? st.rtt.min : st.rtt.current);

/**
 * The bitrate the chunk policy follows: the last sample's, or on a slow path the window's average (one sample
 * reads 0 and several times the link in turn there: acks come a chunk at a time).
 */
const bitrateOf = (st: TransferStats): number | undefined => {
  const { average, current } = st.throughput;
  return (average > 0 && average < SLOW_PATH_BPS ? average : current) || undefined;
};

/** The given channels' rate is what left them over about this long, ms (or the acknowledged goodput, if higher). */
const DRAIN_WINDOW_MS = 3000;

/** A control channel on which the receiver said nothing at all (not even a pong) for this long × attempt after it opened is replaced. */
const UNHEARD_MS = 3000;

/** A control channel that closes before the offer is answered is replaced up to this many times, 200 ms apart. */
const CONTROL_ATTEMPTS = 5;

export class SenderSession {
  private readonly id: number;
  private readonly sc: SchedulerLike;
  private control: DataChannelLike;
  private link: ControlLink;
  private readonly data: DataChannelLike[];
  private readonly subs = new Subscription();
  private readonly timers: Timers;
  private readonly telemetry: Telemetry;
  private readonly offer: SessionOffer;
  private phase: SenderPhase = 'offered';
  /** The shortest control ping round trip so far, ms (Infinity before the first pong); the next ping's `n`. */
  private minPongMs = Infinity;
  private pingSeq = 0;
  /**
   * `auto`'s probe read again after the first pong, where it first read 0 ms: node-datachannel reports usrsctp's
   * smoothed RTT in whole ms, and 0 before the association has measured one (1 connection in 8 on the bench's
   * 150 ms `poor` link). Taken for a LAN, that opened no lane on a lossy path. By the pong, the ping and the
   * offer have been acknowledged, so a real path reads its RTT and a LAN still reads 0.
   */
  private reprobedMs: number | undefined;
  /** The receiver's answers before `accept`: skipped files and resumed prefixes. */
  private readonly skipped = new Set<number>();
  private readonly resumes = new Map<number, { from: number; prefixSha256?: string }>();
  /** Files taken, in order; the next one to start; the ones started and not complete; the one being read. */
  private taken: Manifest[] = [];
  private next = 0;
  /** What the receiver holds of the taken files not started yet (their resumed prefixes), bytes. */
  private heldAhead = 0;
  private readonly active = new Map<number, FileSender>();
  /** The receiver's backlog per file in flight, bytes, from its last ack. */
  private readonly receiverQueued = new Map<number, number>();
  private reading: FileSender | undefined;
  private readonly results: { manifest: Manifest; sha256: string }[] = [];
  /** Bytes of completed files, and their retransmissions. */
  private completedBytes = 0;
  private retransmitted = 0;
  private startedAt: number;
  private lastProgressAt: number;
  /** When the last pong came (0 before the first). */
  private lastPongAt = 0;
  private rttMs = 0;
  /** Goodput over the stats window, bits/s (0 before the first sample): what a timed window follows. */
  private goodputBps = 0;
  /** The stats window's highest per-sample goodput, bits/s: how fast the bytes in flight can drain. */
  private peakBps = 0;
  /** Lanes whose data channels all closed (reported once each). */
  private readonly lostLanes = new Set<number>();
  private readonly onChannelClose = () => this.channelClosed();
  /** Data channels on the connections given (the rest of `data` is on in-band lanes). */
  private readonly givenChannels: number;
  /** The in-band lanes of this session, once the receiver took some. */
  private inbandLanes: SenderLanes | undefined;
  /**
   * Each data channel's watermark in time where the in-band lanes set none (`GIVEN_QUEUE_MS` of its share of the
   * rate, at most the tuning's `high`; before the first stats sample, of what it drained so far). A byte watermark makes a
   * channel's queue a minute long on a path far slower than the profile: a chunk held for its channel waited
   * behind it while later chunks went out on the others, and the receiver, with no new byte in order, idled out.
   * None when the app set `high`: its byte watermark is kept as it is.
   */
  private readonly givenWatermarks: LaneWatermarks | undefined;
  /** `givenWatermarks` for the given connections' channels; in-band lanes opened at a fixed count keep `high`. */
  private readonly givenHighOf: ((channel: DataChannelLike) => number) | undefined;
  /** Bytes handed to each data channel by every file (what it has drained: this minus its `bufferedAmount`). */
  private readonly handed = new Map<DataChannelLike, number>();
  /** What the retransmit stores know of the receiver: whether it repeats its NACKs. */
  private readonly peer = { repeats: false };
  /** What had left the data channels in all, at data start and at each stats sample of the last DRAIN_WINDOW_MS. */
  private readonly drains: { at: number; out: number }[] = [];
  /** Small files read before their turn. */
  private readonly readAhead: ReadAhead;

  constructor(
    private readonly lanes: readonly PeerConnectionLike[],
    private readonly files: readonly FileDescriptor[],
    private readonly folders: readonly string[],
    private readonly tuning: TransferTuning,
    private readonly session: SessionSettings,
    private readonly s: SenderSettings,
    private readonly subscriber: Subscriber<SessionEvent>,
  ) {
    this.id = s.sessionId;
    this.sc = s.scheduler;
    this.startedAt = this.lastProgressAt = this.sc.now();
    this.timers = new Timers(this.sc);
    this.control = s.control;
    this.link = controlLink(this.control);
    this.data = createDataChannels(lanes, tuning.channels, tuning.lanes, tuning.reliability, s.idBase);
    this.givenChannels = this.data.length;
    const perLane = Math.max(1, Math.round(tuning.channels / tuning.lanes));
    // Until the first sample: what the channel drained so far, per GIVEN_QUEUE_MS since data started.
    const unmeasured = (ch: DataChannelLike) => {
      const since = this.sc.now() - (this.drains[0]?.at ?? Infinity);
      return since > 0 ? (this.drained(ch) * GIVEN_QUEUE_MS) / since : 0;
    };
    if (s.high === undefined) {
      const w = new LaneWatermarks(tuning.high, () => perLane, { minQueueMs: GIVEN_QUEUE_MS, minBytes: 1, unmeasured });
      const given = new Set(this.data);
      this.givenWatermarks = w;
      this.givenHighOf = (ch) => (given.has(ch) ? w.highOf(ch) : tuning.high);
    }
    whenAllClosed(this.data, s.releaseIds);
    for (const ch of this.data) ch.addEventListener('close', this.onChannelClose);
    const manifests = files.map((f, i): Manifest => {
      const { i: _i, ...entry } = fileEntry(f, i);
      return { ...entry, ...session, id: frameIdOf(this.id, i), session: this.id, index: i };
    });
    this.offer = { id: this.id, files: manifests, folders, bytes: manifests.reduce((n, m) => n + m.size, 0) };
    this.telemetry = this.createTelemetry();
    this.readAhead = new ReadAhead(files);
  }

  private createTelemetry(): Telemetry {
    const { s, tuning } = this;
    return transferTelemetry({
      channels: this.data,
      lanes: tuning.lanes,
      total: 0,
      scheduler: this.sc,
      statsInterval: s.sampleIntervalMs,
      progressInterval: s.progressIntervalMs,
      pc: this.lanes[0],
      bufferFullBytes: tuning.low,
      profile: s.profileName,
      files: () => ({
        completed: this.results.length,
        total: this.taken.length,
        active: [...this.active.values()].map((f) => ({ manifest: f.manifest, bytes: f.acked })),
      }),
    });
  }

  /** Opens the control channel, offers, and starts the ping and the idle watchdog. */
  start(): void {
    this.watchConnection();
    if (this.phase === 'ended') return;
    this.connectControl(1);
    this.subs.add(repeatEvery(this.sc, 1000, () => this.phase !== 'ended' && (this.ping(), true)));
    // Idleness is no acknowledged progress once data flows: pongs, NACKs and duplicate acks do not count.
    const timeoutMs = this.s.idleTimeoutMs ?? 30_000;
    this.subs.add(
      idleWatchdog(this.sc, {
        timeoutMs,
        // Once every file in flight has its `done` out, the receiver is verifying and placing files: it is waited
        // for as long as it answers pings (a slow `finish` of its target is not silence).
        quietFor: () => (this.phase === 'sending' ? this.sc.now() - (this.waitingOnReceiver() ? Math.max(this.lastProgressAt, this.lastPongAt) : this.lastProgressAt) : 0),
        onIdle: () => this.fail(new IdleTimeoutError(timeoutMs, { side: 'sender', measured: 'acknowledged bytes', progress: this.confirmed(), total: this.totalTaken() }), true),
      }),
    );
  }

  /**
   * The connection of the control channel failed or closed. Before the receiver answered the offer its control
   * channel may never open or close (Chromium leaves a channel of a failed connection `connecting`), and the
   * sender would wait out every replacement and `acceptTimeoutMs`, about 140 s. During the transfer Chromium
   * keeps a vanished peer's channels `open` (a closed tab sends no close): the send went on until the idle
   * timeout. Either way it fails at once with a `ChannelClosedError`, as the receiver does (with `reconnect`,
   * the session waits for new connections).
   */
  private watchConnection(): void {
    const pc = this.lanes[0];
    const gone = (state: string) => {
      if (this.phase !== 'offered' && this.phase !== 'sending') return;
      const when = this.phase === 'offered' ? 'before the receiver answered the offer' : 'during the transfer';
      this.fail(new ChannelClosedError(`the connection ${state === 'closed' ? 'closed' : 'failed'} ${when}`, { connectionState: state, phase: this.phase }), false);
    };
    this.subs.add(whenConnectionGone(pc, gone));
    if (connectionGone(pc)) gone(pc.connectionState!);
  }

  /** Unsubscribed: tells the receiver, then closes once it has. */
  cancel(): void {
    if (this.phase === 'ended') return;
    this.link.send({ t: 'cancel', id: this.id, reason: 'cancelled by sender' });
    this.cleanup();
    closeTransfer([this.control, ...this.data], true, this.sc);
  }

  /** Confirmed bytes: completed files, files in flight, and the prefixes the receiver holds of files not started. */
  private confirmed(): number {
    let n = this.completedBytes;
    for (const f of this.active.values()) n += f.acked;
    return n + this.heldAhead;
  }

  private totalTaken(): number {
    return this.taken.reduce((n, m) => n + m.size, 0);
  }

  /** The path's RTT for the start lanes, from auto's probe and the pongs so far (`startRttMs`); `undefined` with neither. */
  private pathRttMs(): number | undefined {
    const probe = this.s.initialRttMs === 0 ? (this.reprobedMs ?? 0) : this.s.initialRttMs;
    return startRttMs(probe, this.minPongMs);
  }

  /** Reads the given connection's RTT again ({@link reprobedMs}); 0 (a LAN) until, or unless, it answers. */
  private reprobe(): void {
    this.reprobedMs = 0;
    this.subs.add(readRttMs(this.lanes[0]).subscribe((ms) => ms !== undefined && (this.reprobedMs = ms)));
  }

  private ping(): void {
    this.link.send({ t: 'ping', n: this.pingSeq++ >>> 0, ts: this.sc.now() });
  }

  /** Creates (or replaces) the control channel; offers once it opens; waits `acceptTimeoutMs` for an answer. */
  private connectControl(attempt: number): void {
    const acceptTimeout = this.s.acceptTimeoutMs ?? 120_000;
    let opened = false;
    let retried = false;
    /** Gives up this channel (closing it when it may still be open) and offers on a new one after `delayMs`. */
    const replace = (closeStale: boolean, delayMs: number) => {
      retried = true;
      const stale = this.control;
      this.link.dispose();
      // A channel that never opened is closed too: it holds its stream id, and its peer may have taken it.
      if (closeStale || stale.readyState === 'connecting') closeAll([stale]);
      if (delayMs > 0) this.timers.later(delayMs, () => this.replaceControl(attempt + 1));
      else this.replaceControl(attempt + 1);
    };
    const retryOrFail = (err: unknown, closeStale = false) => {
      if (this.phase === 'ended' || retried) return;
      // Right after a connection comes up, a new in-band channel sometimes closes before it opens (seen with
      // node-datachannel, a few per cent of fresh connections): nothing was sent on it, a new one is safe. A
      // receiver whose stack lost the offer (wrtc can deliver a channel's first message before its
      // `datachannel` event) closes the channel before answering: the offer goes again on a new one.
      const unanswered = !opened || (this.phase === 'offered' && !this.skipped.size && !this.resumes.size);
      if (unanswered && attempt < CONTROL_ATTEMPTS && err instanceof ChannelClosedError) return replace(closeStale, 200);
      // A malformed message is answered with an `error` before this side closes; a closed channel cannot be.
      this.fail(err, !(err instanceof ChannelClosedError));
    };
    // Anything from the receiver on this channel (a pong will do) shows it took the channel.
    let heard = false;
    this.subs.add(this.link.messages$.subscribe({ next: (m) => ((heard = true), this.onControl(m)), error: retryOrFail }));
    const unheard = () => {
      if (heard || retried || this.phase !== 'offered' || attempt >= CONTROL_ATTEMPTS) return;
      // Nobody took the channel: a receiver that started listening on this connection later than we offered
      // (after a reconnect, each side gets its new connections when it gets them) never sees it. Offer again
      // on a new one, which a receiver listening by then takes.
      replace(true, 0);
    };
    const waitMs = attempt < CONTROL_ATTEMPTS ? Math.min(5000, acceptTimeout) : acceptTimeout;
    this.subs.add(
      whenOpen(this.control, waitMs, this.sc).subscribe({
        next: () => {
          opened = true;
          // Where the start lanes hang on the probed RTT, a ping before the offer checks it: on a busy CPU a LAN's
          // probe reads 5 ms or more, jitter makes a real path's read less, and a probe can come back empty
          // (startRttMs). The pong is usually back before the accept (see attachLanes).
          const probe = this.s.initialRttMs;
          if (this.s.laneRule === 'controller' && this.inbandOffer().inband && !(probe !== undefined && probe > 0 && probe < LAN_PROBE_MS)) this.ping();
          // On a replacement, give the receiver's stack time to announce the channel before the first message.
          // A channel that refuses the offer (node-datachannel: reported open, then "DataChannel is closed" on the
          // first send, when the connection's previous control channel closed just before) is replaced too.
          const offer = () => this.sendOffer((err) => retryOrFail(err, true));
          if (attempt === 1) offer();
          else this.timers.later(100 * attempt, () => this.phase === 'offered' && offer());
          this.timers.later(UNHEARD_MS * attempt, unheard);
          // Nobody answered (no receiver listening, or the user never decided).
          this.timers.later(acceptTimeout, () => {
            if (this.phase === 'offered') this.fail(new IdleTimeoutError(acceptTimeout, { side: 'sender', waitingFor: 'accept', measured: 'an answer to the offer' }), true);
          });
        },
        error: retryOrFail,
      }),
    );
  }

  private replaceControl(attempt: number): void {
    if (this.phase === 'ended') return;
    try {
      this.control = createControlChannel(this.lanes[0]);
    } catch (err) {
      // The connection itself is gone (closed or failed): no channel can replace the one that closed.
      return this.fail(new ChannelClosedError(`the control channel closed and no new one can be created: ${(err as Error)?.message ?? err}`, { attempt }, err), false);
    }
    this.link = controlLink(this.control);
    this.connectControl(attempt);
  }

  /**
   * The offer, then one `entry` per file and one `folder` per folder: paced, so that a list of thousands never
   * queues more than {@link OFFER_QUEUE_BYTES} on the control channel, and checked, so that a message the
   * channel refused goes to `refused` (the channel is replaced while the offer is unanswered, else the session
   * fails) instead of leaving a gap the receiver finds later.
   */
  private sendOffer(refused: (err: ChannelClosedError) => void): void {
    const { offer, session } = this;
    const messages: ControlMessage[] = [
      { t: 'offer', v: CONTROL_VERSION, id: this.id, files: offer.files.length, folders: offer.folders.length, bytes: offer.bytes, ...this.inbandOffer(), ...session },
      ...offer.files.map((m): ControlMessage => ({ t: 'entry', id: this.id, ...fileEntry(m, m.index) })),
      ...offer.folders.map((name): ControlMessage => ({ t: 'folder', id: this.id, name })),
    ];
    const link = this.link;
    let next = 0;
    const step = () => {
      if (this.phase !== 'offered' || this.link !== link) return;
      while (next < messages.length && link.channel.bufferedAmount < OFFER_QUEUE_BYTES) {
        if (!link.send(messages[next++])) return refused(new ChannelClosedError('the control channel refused part of the offer', { sent: next - 1, of: messages.length }));
      }
      if (next < messages.length) this.timers.later(OFFER_PACE_MS, step);
    };
    step();
  }

  /** Dispatches a message the table allows in this phase; anything else is a ProtocolError. */
  private onControl(msg: ControlMessage): void {
    if (this.phase === 'ended' || ('id' in msg && msg.id !== this.id)) return;
    try {
      checkLegal(SENDER_TABLE, 'sender', this.phase, msg.t, this.id);
    } catch (err) {
      return this.fail(err, true);
    }
    switch (msg.t) {
      case 'ping':
        return void this.link.send({ t: 'pong', n: msg.n, ts: msg.ts });
      case 'pong': {
        this.lastPongAt = this.sc.now();
        const rttMs = this.sc.now() - msg.ts;
        this.minPongMs = Math.min(this.minPongMs, rttMs);
        if (this.s.initialRttMs === 0 && this.reprobedMs === undefined) this.reprobe();
        return this.telemetry.appRtt(rttMs);
      }
      case 'cancel':
        return this.fail(new TransferCancelledError('remote', peerText(msg.reason)), false);
      case 'error':
        return this.fail(remoteError(msg.code, `receiver failed: ${msg.message}`, msg.cause), false);
      case 'reject':
        this.cleanup();
        closeAll([...this.data, this.control]);
        return this.subscriber.error(new TransferRejectedError(peerText(msg.reason)));
      case 'skip':
      case 'resume':
        return this.phase === 'offered' ? this.onAnswer(msg) : this.fileOf(msg.i, msg.t)?.onResume(msg as Extract<ControlMessage, { t: 'resume' }>);
      case 'accept':
        return this.onAccept(msg.inband ?? 0);
      case 'lane-answer':
      case 'lane-candidate':
      case 'lane-close':
        if (!this.inbandLanes) return this.fail(new ProtocolError(`'${msg.t}' but no in-band lanes were agreed`, { id: this.id, t: msg.t }), true);
        try {
          return this.s.lanePool!.onMessage(msg);
        } catch (err) {
          return this.fail(err, true);
        }
      case 'ack': {
        const file = this.fileOf(msg.i, msg.t);
        if (!file) return;
        this.noteReceiverQueued(msg.i, msg.queued);
        return file.onAck(msg);
      }
      case 'nack':
        // A late NACK for a file already complete is ignored.
        if (this.results.some((r) => r.manifest.index === msg.i)) return;
        return this.fileOf(msg.i, msg.t)?.onNack(msg.chunks);
      case 'complete': {
        const file = this.fileOf(msg.i, msg.t);
        if (!file) return;
        this.noteReceiverQueued(msg.i, undefined);
        return file.onComplete(msg);
      }
    }
  }

  /**
   * The receiver's backlog (received, not yet persisted) as its acks report it per file in flight; the
   * session's sum goes to the stats (`receiverQueuedBytes`, the `receiver` bottleneck). A file's share
   * leaves with its `complete`.
   */
  private noteReceiverQueued(i: number, queued: number | undefined): void {
    if (queued === undefined) this.receiverQueued.delete(i);
    else this.receiverQueued.set(i, queued);
    let sum = 0;
    for (const q of this.receiverQueued.values()) sum += q;
    this.telemetry.input({ kind: 'receiver', queuedBytes: sum });
  }

  /** The file a per-file message names: it must be started and not complete. */
  private fileOf(i: number, t: string): FileSender | undefined {
    const file = this.active.get(i);
    if (!file) this.fail(new ProtocolError(`'${t}' for file ${i}, which is not in flight`, { id: this.id, i, t }), true);
    return file;
  }

  /** `skip` or `resume` before `accept`: once per file, for a file of the offer. */
  private onAnswer(msg: Extract<ControlMessage, { t: 'skip' | 'resume' }>): void {
    const { i } = msg;
    if (i >= this.offer.files.length) return this.fail(new ProtocolError(`'${msg.t}' for file ${i}; the offer has ${this.offer.files.length}`, { id: this.id, i }), true);
    if (this.skipped.has(i) || this.resumes.has(i)) return this.fail(new ProtocolError(`a second answer for file ${i}`, { id: this.id, i }), true);
    if (msg.t === 'skip') return this.onSkip(msg);
    if (msg.from === 0) return this.fail(new ProtocolError(`resume of file ${i} at 0 before accept`, { id: this.id, i }), true);
    // Past the end: refused as it arrives, before any file's data moves (it failed only once that file started).
    const { size } = this.offer.files[i];
    if (msg.from > size) return this.fail(new ProtocolError(`receiver resumes at ${msg.from}, past the end of ${size} B`, { id: this.id, i, from: msg.from }), true);
    this.resumes.set(i, { from: msg.from, prefixSha256: msg.prefixSha256 });
  }

  /**
   * `skip`: the file is left out. On a resumed session, one that carries a digest confirms an earlier run's
   * file whose `complete` was lost, but only with the digest of that run's `done` (another is a
   * `HashMismatchError`, as a `complete` would be); without one, or without a `done` of it, nothing is confirmed.
   */
  private onSkip(msg: Extract<ControlMessage, { t: 'skip' }>): void {
    this.skipped.add(msg.i);
    const mine = msg.sha256 === undefined ? undefined : this.s.priorDigest?.(msg.i);
    if (mine === undefined) return;
    if (msg.sha256 !== mine) return this.fail(new HashMismatchError(-1, mine, msg.sha256!, 'sha-256'), true);
    this.s.onConfirmedBySkip?.(msg.i);
  }

  /** `accept`: the taken files are fixed; stats start; files start once every data channel is open. */
  private onAccept(inband: number): void {
    this.phase = 'sending';
    this.taken = this.offer.files.filter((m) => !this.skipped.has(m.index));
    const from = this.taken.reduce((n, m) => n + (this.resumes.get(m.index)?.from ?? 0), 0);
    this.heldAhead = from;
    this.startedAt = this.lastProgressAt = this.sc.now();
    this.telemetry.setTotal(this.totalTaken());
    this.subscriber.next({ type: 'started', offer: this.offer, files: this.taken, bytes: this.totalTaken(), from });
    // The app unsubscribed in its `started` handler: the session is over.
    if (this.subscriber.closed) return;
    // What the receiver resumed from is confirmed already: the first progress counts it (it said 0 B).
    this.reportProgress();
    // Stats and progress start at accept: the time waiting for the user to accept is not a transfer's.
    this.subs.add(this.telemetry.events$.subscribe((e) => this.subscriber.next(e)));
    this.subs.add(this.telemetry.stats$.subscribe((st) => this.onStats(st)));
    if (!this.taken.length) return this.finish();
    this.attachLanes(inband);
    this.subs.add(
      // The start lanes join before data starts (SenderLanes.ready$): signalling sent later waits behind data.
      forkJoin([...this.data.map((ch, i) => this.opened$(ch, i)), ...(this.inbandLanes ? [this.inbandLanes.ready$()] : [])]).subscribe({
        error: (err) => this.fail(err, true),
        complete: () => {
          this.drains.push({ at: this.sc.now(), out: 0 });
          this.startNext();
        },
      }),
    );
  }

  /**
   * Data channel `i` opens. One on a lane (a given connection other than the control channel's) whose connection
   * closed or failed before it opened is a lane lost, not a failed transfer, while another data channel lives:
   * the session goes on over the others (`lane-lost`), as it does when a lane goes mid-session; the receiver
   * does not create that lane's channels.
   */
  private opened$(ch: DataChannelLike, i: number): Observable<unknown> {
    const pc = this.lanes[i % this.tuning.lanes];
    return whenOpen(ch, 15_000, this.sc).pipe(
      catchError((err: unknown) => (pc !== this.lanes[0] && connectionGone(pc) && !this.data.every(isGone) ? of(undefined) : throwError(() => err))),
    );
  }

  /** `offer.inband`: how many lanes this session may open in band (absent when none). */
  private inbandOffer(): { inband?: number } {
    const n = this.s.inbandLanes ?? 0;
    return n > 0 && this.s.lanePool?.canOpen(this.lanes[0]) ? { inband: n } : {};
  }

  /** After `accept`: the receiver took `accepted` in-band lanes (at most what the offer said). */
  private attachLanes(accepted: number): void {
    const offered = this.inbandOffer().inband ?? 0;
    if (accepted > offered) return this.fail(new ProtocolError(`accept takes ${accepted} in-band lanes; the offer had ${offered}`, { id: this.id, accepted, offered }), true);
    if (!accepted || !this.s.lanePool) return;
    this.inbandLanes = new SenderLanes({
      id: this.id,
      sc: this.sc,
      pool: this.s.lanePool,
      first: this.lanes[0],
      data: this.data,
      givenLanes: this.tuning.lanes,
      highBytes: this.tuning.high,
      channelsPerLane: Math.max(1, Math.round(this.tuning.channels / this.tuning.lanes)),
      reliability: this.tuning.reliability,
      options: { ...this.s, initialRttMs: this.pathRttMs() },
      stats$: this.telemetry.stats$,
      send: (msg) => this.phase !== 'ended' && this.link.send(msg),
      changed: (change) => this.telemetry.setChannels(this.data, change),
      watch: (ch) => ch.addEventListener('close', this.onChannelClose),
      fail: (err) => this.fail(err, true),
    });
    this.inbandLanes.start(this.s.laneRule ?? 'fixed', accepted);
  }

  /**
   * Starts the next taken file while none is being read and fewer than `parallel` are in flight; small files
   * whose turns come next are read ahead meanwhile.
   */
  private startNext(): void {
    while (this.phase === 'sending' && !this.reading && this.next < this.taken.length && this.active.size < this.session.parallel) {
      const m = this.taken[this.next++];
      const resumed = this.resumes.get(m.index) ?? { from: 0 };
      this.heldAhead -= resumed.from;
      const file = new FileSender(this.context(), m, this.readAhead.take(m.index), resumed);
      this.active.set(m.index, file);
      this.reading = file;
      this.readAhead.fill(this.upcoming());
      file.start();
    }
  }

  /** Indexes of the taken files whose turns come next (as many as may be read ahead). */
  private upcoming(): number[] {
    const out: number[] = [];
    for (let k = this.next; k < this.taken.length && out.length < READ_AHEAD_FILES; k++) out.push(this.taken[k].index);
    return out;
  }

  /** What every file shares: the channels, the control link, the window, the counters. */
  private context(): FileSendContext {
    return {
      sc: this.sc,
      data: this.data,
      tuning: this.tuning,
      handed: this.handed,
      peer: this.peer,
      highOf: this.inbandLanes?.highOf ?? this.givenHighOf,
      // Watermarks in time on a slow path are below a frame: credit for a whole frame keeps the channel fed.
      frameCredit: !this.inbandLanes?.highOf && !!this.givenWatermarks,
      reserved: this.inbandLanes?.reserved,
      settings: this.s,
      send: (msg) => this.link.send(msg),
      credit: () => this.credit(),
      conditions$: this.conditions$(),
      rttMs: () => this.rttMs,
      frontierStallMs: () => this.frontierStallMs(),
      sendFailed: (ch) => this.sendFailed(ch),
      onChunk: (c) => this.onChunk(c),
      onNacked: (count) => this.telemetry.countChunks(0, count),
      onProgress: () => this.reportProgress(),
      onStarted: (file, from) => this.subscriber.next({ type: 'file-started', manifest: file.manifest, from }),
      onAcked: (bytes) => this.onAcked(bytes),
      onDoneSent: (file, sha256) => this.onDoneSent(file, sha256),
      onCompleted: (file, sha256) => this.onFileCompleted(file, sha256),
      fail: (err, notify) => this.fail(err, notify),
    };
  }

  /**
   * How long a file's ack frontier may stand still, with chunks unacknowledged, before the chunks of the lane it
   * waits for are re-injected on the others: max(4 s, 8 RTTs, twice the time the bytes in flight take to drain
   * at the window's peak goodput), so a slow path is not taken for a stalled one. Never with fewer than two lanes
   * (re-injecting on the same association cannot help) or before a goodput is known.
   */
  private frontierStallMs(): number {
    const lanes = this.inbandLanes?.lanes ?? this.tuning.lanes;
    if (lanes < 2 || !(this.peakBps > 0)) return Infinity;
    const drainMs = (this.outstanding() * 8 * 1000) / this.peakBps;
    return Math.max(FRONTIER_STALL_MIN_MS, 8 * (this.rttMs || 0), 2 * drainMs);
  }

  /** The session's window minus what every file in flight holds unacknowledged. */
  private credit(): number {
    return this.windowBytes() - this.outstanding();
  }

  /** Bytes read and not yet acknowledged, over every file in flight. */
  private outstanding(): number {
    let held = 0;
    for (const f of this.active.values()) held += f.outstanding;
    return held;
  }

  /** The offer's window; on a `poor` path without an app's `window`, {@link TIMED_WINDOW_SECONDS} of goodput within it. */
  private windowBytes(): number {
    const { window } = this.tuning;
    if (this.s.profileName !== 'poor' || this.s.window !== undefined) return window;
    return Math.min(window, Math.max(TIMED_WINDOW_MIN_BYTES, Math.round((this.goodputBps / 8) * TIMED_WINDOW_SECONDS)));
  }

  /** A stats sample: the RTT for NACK timing, and the goodput a timed window follows (a wider one reopens reading). */
  private onStats(st: TransferStats): void {
    this.rttMs = st.rtt.current ?? this.rttMs;
    const before = this.windowBytes();
    this.goodputBps = st.throughput.average;
    this.peakBps = st.throughput.peak;
    // The rate: what left the channels, known a sample after data starts (acks come a chunk at a time on a slow
    // path, and not at all while the first chunk is lost), or the acknowledged goodput when that is higher.
    const pathRtt = pathRttOf(st);
    const rate = Math.max(this.drainRate(), st.throughput.average / 8);
    if (pathRtt !== undefined) this.givenWatermarks?.update(rate, pathRtt, this.inbandLanes?.lanes ?? this.tuning.lanes);
    if (this.windowBytes() > before) this.reading?.recheck();
  }

  /** Bytes that have left `ch`'s queue: what the files handed to it, less what it still buffers. */
  private drained(ch: DataChannelLike): number {
    return (this.handed.get(ch) ?? 0) - ch.bufferedAmount;
  }

  /** Bytes per second that left the data channels over the last {@link DRAIN_WINDOW_MS} (0 before data starts). */
  private drainRate(): number {
    if (!this.drains.length) return 0;
    let out = 0;
    for (const ch of this.data) out += Math.max(0, this.drained(ch));
    const now = this.sc.now();
    this.drains.push({ at: now, out });
    while (this.drains.length > 2 && now - this.drains[1].at >= DRAIN_WINDOW_MS) this.drains.shift();
    const first = this.drains[0];
    return now > first.at ? ((out - first.out) * 1000) / (now - first.at) : 0;
  }

  private conditions$(): Observable<number | NetworkConditions> {
    return (
      this.s.conditions$ ??
      this.telemetry.stats$.pipe(
        map((st) => ({ rttMs: pathRttOf(st) ?? 0, lossRate: st.lossRate ?? 0, bitrateBps: bitrateOf(st) })),
      )
    );
  }

  private onChunk(c: Chunk): void {
    this.telemetry.countChunks(1, 0);
    // The last chunk is usually a short tail: it says nothing about the size in use.
    if (c.data.length >= this.s.minChunk || c.index === 0) this.telemetry.input({ kind: 'chunk-size', bytes: c.data.length });
  }

  private reportProgress(): void {
    let sent = this.completedBytes + this.heldAhead;
    for (const f of this.active.values()) sent += f.sentBytes;
    this.telemetry.progress(this.confirmed(), sent);
  }

  /** A file's ack grew: progress, and the window reopens for the file being read. */
  private onAcked(bytes: number): void {
    this.lastProgressAt = this.sc.now();
    this.telemetry.input({ kind: 'progress', bytes });
    this.reportProgress();
    this.reading?.recheck();
  }

  private onDoneSent(file: FileSender, sha256: string): void {
    this.s.onDigest?.(file.manifest.index, sha256);
    if (this.reading === file) this.reading = undefined;
    this.startNext();
  }

  private onFileCompleted(file: FileSender, sha256: string): void {
    const { manifest } = file;
    this.active.delete(manifest.index);
    this.completedBytes += manifest.size;
    this.retransmitted += file.retransmittedPayload;
    this.results.push({ manifest, sha256 });
    this.lastProgressAt = this.sc.now();
    const seconds = (this.sc.now() - file.startedAt) / 1000;
    this.subscriber.next({ type: 'file-completed', manifest, sha256, bytes: manifest.size, seconds, retransmittedBytes: file.retransmittedPayload });
    if (this.results.length === this.taken.length) return this.finish();
    this.reading?.recheck();
    this.startNext();
  }

  /** Every taken file is complete: the last word is the receiver's, so close at once. */
  private finish(): void {
    this.reportProgress();
    const bytes = this.totalTaken();
    const seconds = (this.sc.now() - this.startedAt) / 1000;
    this.cleanup();
    // In offer order, whatever order the receiver confirmed them in (as the receiver reports them).
    const files = [...this.results].sort((x, y) => x.manifest.index - y.manifest.index);
    this.subscriber.next({ type: 'completed', files, bytes, seconds, retransmittedBytes: this.retransmitted });
    closeAll([...this.data, this.control]);
    this.subscriber.complete();
  }

  /**
   * One closed channel is routed around (its lost frames come back through NACKs); when every data channel
   * has closed, no credit can ever return: fail, unless every taken file's `done` is out. Then the receiver
   * may be closing with the last `complete` on its way: that, an `error`, a close or the idle timeout decides.
   */
  private channelClosed(): void {
    if (this.phase === 'ended') return;
    this.reportLostLanes();
    this.inbandLanes?.channelClosed();
    const gone = this.data.filter(isGone);
    if (gone.length < this.data.length) for (const ch of gone) for (const f of this.active.values()) f.channelLost(ch);
    if (!this.data.every(isGone)) return;
    this.timers.later(1000, () => {
      if (this.phase !== 'ended' && !this.allDoneSent()) this.fail(new ChannelClosedError('every data channel closed during the transfer', { channels: this.data.length }), true);
    });
  }

  /**
   * Every file in flight has its `done` out: what is left waits on the receiver's acks and `complete`s, for them
   * and, when every slot of `filesInFlight` is taken, for the files that wait for a slot (an outside check: with
   * 10 files and 8 slots, a receiver finishing slowly failed the sender after its idle timeout).
   */
  private waitingOnReceiver(): boolean {
    if (this.phase !== 'sending' || (this.active.size === 0 && this.next < this.taken.length)) return false;
    for (const f of this.active.values()) if (!f.doneSent) return false;
    return true;
  }

  /** Every taken file has been read and its `done` sent: only the receiver's acks and `complete`s are left. */
  private allDoneSent(): boolean {
    return this.next === this.taken.length && this.waitingOnReceiver();
  }

  /**
   * A send failed as closed on `channel`, which may still read `open`: node-datachannel's channel learns of a
   * close (by the peer, or its connection gone) only later, or never. With another data channel open, the
   * frame is skipped and the channel is made to read closed (its `close` then resends what it carried, like
   * any closed channel's); on the last one the send fails the session.
   */
  private sendFailed(channel: DataChannelLike): boolean {
    if (this.data.every((ch) => ch === channel || isGone(ch))) return false;
    const t = this.sc.schedule(() => {
      t.unsubscribe();
      closeLaneChannels([channel]);
    });
    return true;
  }

  /** A lane whose data channels have all closed while others still carry the session: `lane-lost`, once. */
  private reportLostLanes(): void {
    const { lanes } = this.tuning;
    const dead = (lane: number) => this.data.slice(0, this.givenChannels).filter((_, i) => i % lanes === lane).every(isGone);
    const alive = Array.from({ length: lanes }, (_, lane) => lane).filter((lane) => !dead(lane));
    for (let lane = 0; lane < lanes; lane++) {
      if (!dead(lane) || this.lostLanes.has(lane) || !alive.length) continue;
      this.lostLanes.add(lane);
      this.subscriber.next({ type: 'lane-lost', lane, lanesLeft: alive.length });
      // The stats count it out too (they kept counting a given connection that carried nothing any more).
      const lanesNow = (this.inbandLanes?.lanes ?? lanes) - this.lostLanes.size;
      this.telemetry.setChannels(this.data, { action: 'shed', reason: 'channels-closed', lanes: lanesNow, atMs: this.sc.now() });
    }
  }

  private fail(err: unknown, notifyPeer: boolean): void {
    if (this.phase === 'ended') return;
    const e = asTallowError(err);
    if (notifyPeer) notifyFailure(this.link, this.id, e);
    this.cleanup();
    closeTransfer([this.control, ...this.data], notifyPeer && !(e instanceof ProtocolError), this.sc);
    this.subscriber.error(e);
  }

  private cleanup(): void {
    this.phase = 'ended';
    this.readAhead.stop();
    this.inbandLanes?.stop();
    for (const ch of this.data) ch.removeEventListener('close', this.onChannelClose);
    for (const f of this.active.values()) f.stop();
    this.active.clear();
    this.telemetry.stop();
    this.timers.unsubscribe();
    this.subs.unsubscribe();
    this.link.dispose();
  }
}

/** A file's `entry` fields. */
function fileEntry(f: Pick<FileDescriptor, 'name' | 'size' | 'type' | 'lastModified'>, i: number) {
  return {
    i,
    name: f.name,
    size: f.size,
    type: f.type,
    ...(f.lastModified === undefined ? {} : { lastModified: Math.max(0, Math.floor(f.lastModified)) }),
  };
}
