/**
 * One receiving session (docs/protocol.md, version 3): the receiver's control session (the table in
 * sessionTable.ts) from `offer` to the last `complete`, and the demultiplexer that routes each data frame
 * to its file's {@link FileReceiver} by the transfer id in its header. `receiveFiles` runs one per
 * subscription; each method is one step of the protocol.
 *
 * ```
 * listening --offer--> listing --last entry/folder--> deciding --accept()--> opening
 *   --held prefixes hashed, folders, data channels; skip/resume…, accept--> accepted
 *   --every taken file complete--> ended
 * ```
 */
import {
  asyncScheduler,
  concat,
  concatMap,
  concatWith,
  defer,
  catchError,
  EMPTY,
  filter,
  finalize,
  from,
  ignoreElements,
  isObservable,
  map,
  merge,
  mergeMap,
  switchMap,
  take,
  tap,
  throwError,
  timer,
  type Observable,
  type SchedulerLike,
  type Subscriber,
  Subscription,
  Subject,
} from 'rxjs';
import {
  asTallowError,
  ChannelClosedError,
  FrameDecodeError,
  IdleTimeoutError,
  InvalidConfigError,
  LimitExceededError,
  ProtocolError,
  TransferCancelledError,
  type TallowError,
} from '../errors';
import { createSha256 } from '../hash/sha256';
import { DEFAULT_REORDER_MAX_BYTES, reorderBudget, type ReorderBudget } from '../operators/reorder';
import type { ControlMessage, Manifest, SessionSettings } from '../protocol/control';
import { decodeFrame, type DataFrame } from '../protocol/frame';
import { fromChannelMessages } from '../sources/fromChannelMessages';
import type { Bytes, DataChannelLike, PeerConnectionLike } from '../types';
import { controlLink, type ControlLink } from './controlLink';
import { FileReceiver, type FileReceiverHooks } from './FileReceiver';
import { hashHeldPrefix, type HeldPrefix } from './hashHeldPrefix';
import { OfferListing } from './OfferListing';
import { openTarget } from './openTarget';
import { notifyFailure, peerText, remoteError } from './peerFailure';
import { blobTarget, type OpenedTarget, type ReceiveTarget } from './ReceiveTarget';
import type { AcceptDecision, ReceiveFilesOptions } from './receiveFiles';
import type { FileResult, SessionEvent, SessionOffer } from './SessionEvent';
import type { ReceiverLanePool } from './ReceiverLanePool';
import { isGone } from '../operators/routeInternals';
import { checkLegal, RECEIVER_TABLE, type ReceiverPhase } from './sessionTable';
import { settle } from './settle';
import { abortTarget } from './targetCalls';
import { closeAfterPeer, closeAll, closeTransfer, createDataChannels, LANE_CHANNEL_PREFIX } from './transferChannels';
import { incomingControlChannels, passOnControlChannel, replayOf } from './controlChannelHub';
import { transferTelemetry, type Telemetry } from './transferTelemetry';
import { idleWatchdog, repeatEvery } from './watchdog';
import { connectionGone, whenConnectionGone } from './connectionGone';

/**
 * What creating the offer's data channels threw, as the sender is told: ids in use on this connection (a stack's
 * `OperationError`: the sender's `idBase` collides with channels of this side) is the offer's fault, a
 * `ProtocolError`; anything else as it is.
 */
const channelsRefused = (err: unknown, m: { readonly idBase: number; readonly channels: number }): unknown =>
  (err as { name?: unknown })?.name === 'OperationError'
    ? new ProtocolError(`the offer's data-channel ids ${m.idBase}..${m.idBase + m.channels - 1} cannot be used on this connection: ${(err as Error).message}`, { idBase: m.idBase, channels: m.channels })
    : err;

/** Longest wait for the targets' `abort` before a failed session errors, ms (an abort that never settles). */
export const TARGET_ABORT_WAIT_MS = 10_000;

/** {@link ReceiveFilesOptions} plus what `receiveFile` adds. */
export interface ReceiverSessionConfig extends ReceiveFilesOptions {
  /** Refuses an offer before the `offer` event: the receiver rejects it and fails with the returned error. */
  readonly refuse?: (offer: SessionOffer) => TallowError | undefined;
  /**
   * True for an offer that is another receiver's (a session resumed on new connections, offered another
   * session): the channel goes to another receiver listening there, with what was read on it, and this one
   * listens again.
   */
  readonly passOn?: (offer: SessionOffer) => boolean;
  /** The in-band lanes of this `receiveFiles` (none: `offer.inband` is not taken up). */
  readonly lanePool?: ReceiverLanePool;
  /** The digest of file `index` if an earlier run of this session completed it (its `skip` carries it). */
  readonly completed?: (index: number) => string | undefined;
}

/** A target opened before `accept` for its held prefix; `prefix` once hashed. */
interface Held {
  readonly opened: OpenedTarget;
  prefix?: HeldPrefix;
}

/** Most listings a session drops for a gap before the next gap is a `ProtocolError` (the sender tries 5 control channels). */
const MAX_RELISTS = 4;
/** A listing with no `entry` or `folder` for this long lost its last message: it is dropped as after a gap, ms. */
const LISTING_STALL_MS = 10_000;

export class ReceiverSession {
  private readonly sc: SchedulerLike;
  private readonly target: ReceiveTarget;
  /** The sender's control channel and its message stream, once it arrived. */
  private control: DataChannelLike | undefined;
  private link: ControlLink | undefined;
  private readonly subs = new Subscription();
  /** The wait for a control channel (and for a newer one while the one taken has not opened). */
  private listening: Subscription | undefined;
  private data: DataChannelLike[] = [];
  private phase: ReceiverPhase = 'listening';
  /** The session's id and settings, once an offer arrived; the listing, then the whole offer. */
  private id: number | undefined;
  private settings: SessionSettings | undefined;
  private listing: OfferListing | undefined;
  /** Listings dropped for a gap or a stall so far (see {@link relist}), and when the last listing message came. */
  private relists = 0;
  private lastListedAt = 0;
  private offer: SessionOffer | undefined;
  /** The taken files in order, and the position of the next one to start. */
  private taken: readonly Manifest[] = [];
  private next = 0;
  /** Targets opened before `accept` to prove a held prefix, by file index, until their file starts. */
  private readonly held = new Map<number, Held>();
  /** Started files by index (complete ones stay, so their late frames are dropped), and those not complete. */
  private readonly files = new Map<number, FileReceiver>();
  private readonly active = new Set<FileReceiver>();
  /** Out-of-order chunks of every file of the session together: `maxBufferedBytes` (a sender may start 64 files at once). */
  private readonly reorderBudget: ReorderBudget;
  private readonly results: FileResult[] = [];
  /** Bytes of the completed files. */
  private doneBytes = 0;
  /** Malformed frames so far (the session's budget is `maxMalformedFrames`). */
  private malformed = 0;
  private telemetry: Telemetry | undefined;
  private lastProgressAt: number;
  /** The sender's cancel, ignored while every file was being placed (its reason). */
  private peerCancel: string | undefined;
  /** When the session was accepted, for `completed.seconds`. */
  private startedAt: number;
  /** Data channels of in-band lanes as they arrive; the lanes they belong to; the pool's detach once attached. */
  private readonly laneChannels$ = new Subject<DataChannelLike>();
  /** Lanes the stats last reported: a lane whose data channels all closed leaves it (`shed` `channels-closed`). */
  private reportedLanes = 0;
  private detachLanes: (() => void) | undefined;
  /** `offer.inband`: lanes the sender may open in band (0: none, or an older sender). */
  private offeredLanes = 0;

  constructor(
    private readonly lanes: readonly PeerConnectionLike[],
    private readonly o: ReceiverSessionConfig,
    private readonly subscriber: Subscriber<SessionEvent>,
  ) {
    this.sc = o.scheduler ?? asyncScheduler;
    this.target = o.target ?? blobTarget();
    this.startedAt = this.lastProgressAt = this.sc.now();
    this.reorderBudget = reorderBudget(o.maxBufferedBytes ?? DEFAULT_REORDER_MAX_BYTES);
  }

  /** Listens for the sender's control channel. */
  start(): void {
    this.watchConnection();
    this.listen();
  }

  /**
   * The connection the control channel comes on closed or failed (a sender that failed before offering and
   * closed, or quit; a tab closed mid-transfer, whose channels Chromium keeps `open`): no channel may ever tell,
   * so this fails the session with a `ChannelClosedError` instead of waiting for an offer forever, or for the
   * idle timeout (with `reconnect`, the session waits for new connections).
   */
  private watchConnection(): void {
    this.subs.add(
      whenConnectionGone(this.lanes[0], (state) => {
        if (this.finished || this.allFinishing()) return;
        const when = this.phase === 'listening' || this.phase === 'listing' ? 'before the sender offered anything' : this.phase === 'accepted' ? 'during the transfer' : 'while its offer was being answered';
        this.fail(new ChannelClosedError(`the connection ${state === 'closed' ? 'closed' : 'failed'} ${when}`, { connectionState: state, phase: this.phase }), false);
      }),
    );
  }

  /** Unsubscribed: tells the sender (when there is one), then closes once it has. */
  cancel(): void {
    if (this.finished) return;
    if (this.id !== undefined) this.send({ t: 'cancel', id: this.id, reason: 'cancelled by receiver' });
    this.cleanup();
    this.abortAll(new TransferCancelledError('local'));
    closeTransfer([this.control, ...this.data], this.id !== undefined, this.sc);
  }

  private get finished(): boolean {
    return this.phase === 'ended';
  }

  private send(msg: ControlMessage): boolean {
    return this.link?.send(msg) ?? false;
  }

  /**
   * One session per subscription: takes the first control channel the peer opens. If it dies before an
   * offer came on it (a sender retries a control channel that closed at birth), listens again. While the
   * channel it took has not opened, a newer one replaces it: libdatachannel can announce a channel on a
   * stream id whose previous channel is still closing, and that channel never opens; its sender gives up on
   * it and offers on a new one (docs/protocol.md, control-channel replacement).
   */
  private listen(): void {
    // A wait still on from a channel that closed before it opened would take the next channel and drop it.
    this.listening?.unsubscribe();
    let link: ControlLink | undefined;
    // A channel parked for a receiver comes during the subscription itself: the wait may end before it is assigned.
    const wait: { sub?: Subscription; ended?: boolean } = {};
    const stop = () => void ((wait.ended = true), wait.sub?.unsubscribe());
    const incoming = (this.listening = wait.sub = incomingControlChannels(this.lanes[0], this).subscribe((ch) => {
      if (link) {
        // Every path that drops `link` calls listen() again, which ends this wait; an offer ends it here.
        if (this.phase !== 'listening') return stop();
        const stale = this.control;
        link.dispose();
        closeAll(stale ? [stale] : []);
      }
      this.control = ch;
      this.link = link = controlLink(ch, { record: !!this.o.passOn });
      this.subs.add(this.link.messages$.subscribe({ next: (m) => this.guard(() => this.onControl(m)), error: (err) => this.link === link && this.controlFailed(err) }));
      // What another receiver read on this channel before passing it on comes first.
      link.feed(replayOf(ch));
      if (ch.readyState === 'open') stop();
      else {
        const opened = () => (ch.removeEventListener('open', opened), stop());
        ch.addEventListener('open', opened);
        this.subs.add(new Subscription(() => ch.removeEventListener('open', opened)));
      }
    }));
    if (wait.ended) incoming.unsubscribe();
    this.subs.add(incoming);
  }

  /**
   * A session message before any offer: this stack lost the offer (wrtc can deliver a channel's first message
   * before its `datachannel` event). Close the channel unanswered and take the next: the sender offers again
   * on a new one (docs/protocol.md, control-channel replacement).
   */
  private missedOffer(): void {
    const ch = this.control;
    this.link?.dispose();
    this.link = this.control = undefined;
    try {
      ch?.close();
    } catch {
      // already closing
    }
    this.listen();
  }

  /** An `entry` or `folder`: the next of the listing, or a gap (a message lost under us, see `OfferListing.gap`). */
  private onListed(msg: Extract<ControlMessage, { t: 'entry' | 'folder' }>): void {
    const listing = this.listing!;
    this.lastListedAt = this.sc.now();
    const gap = listing.gap(msg);
    if (gap) return this.relist(gap);
    if (msg.t === 'entry') listing.entry(msg);
    else listing.folder(msg);
    this.listed();
  }

  /**
   * The listing broke (a gap) or stalled (its last message lost): nothing is answered yet, so forget the
   * offer and handle it as a lost offer; the sender offers again, whole, on a new control channel. A sender
   * whose listings keep breaking gets `reason` (a `ProtocolError`) after {@link MAX_RELISTS}.
   */
  private relist(reason: unknown): void {
    if (++this.relists > MAX_RELISTS) return this.fail(reason, true);
    this.forgetOffer();
    this.missedOffer();
  }

  /** Back to `listening`, as if no offer had come: nothing was answered yet. */
  private forgetOffer(): void {
    this.id = this.settings = this.listing = undefined;
    this.phase = 'listening';
  }

  private controlFailed(err: unknown): void {
    // Closed mid-listing (the sender gave up on a channel it heard nothing on): nothing was answered, so the
    // offer comes again on the next channel, as after a gap.
    const unanswered = this.id === undefined || (this.phase === 'listing' && ++this.relists <= MAX_RELISTS);
    if (unanswered && !this.finished && err instanceof ChannelClosedError) {
      this.forgetOffer();
      this.link?.dispose();
      this.link = this.control = undefined;
      return this.listen();
    }
    // A malformed message is answered with an `error` before this side closes.
    this.fail(err, !(err instanceof ChannelClosedError));
  }

  /** Runs one step; a broken limit before `accept` rejects the offer, anything else thrown fails the session (telling the peer). */
  private guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      if (err instanceof LimitExceededError && this.phase !== 'accepted') this.refuse(err);
      else this.fail(err, true);
    }
  }

  /** Dispatches a message the table allows in this phase; anything else is a ProtocolError. */
  private onControl(msg: ControlMessage): void {
    if (this.finished || (this.id !== undefined && 'id' in msg && msg.id !== this.id)) return; // ended, or another session's
    if (this.phase === 'listening' && !['offer', 'ping', 'pong', 'cancel', 'error'].includes(msg.t)) return this.missedOffer();
    checkLegal(RECEIVER_TABLE, 'receiver', this.phase, msg.t, this.id);
    switch (msg.t) {
      case 'offer':
        return this.onOffer(msg);
      case 'entry':
      case 'folder':
        return this.onListed(msg);
      case 'done':
        return this.fileOf(msg.i, 'done').onDone(msg);
      case 'restart':
        return this.fileOf(msg.i, 'restart').restart();
      case 'lane-offer':
      case 'lane-candidate':
      case 'lane-close':
        if (!this.detachLanes) throw new ProtocolError(`'${msg.t}' but no in-band lanes were agreed`, { id: this.id, t: msg.t });
        return this.o.lanePool!.onMessage(msg, this.lanes[0]);
      case 'ping':
        return void this.send({ t: 'pong', n: msg.n, ts: msg.ts });
      case 'pong':
        // Our own pings: the receiver measures RTT and jitter too.
        return this.telemetry?.appRtt(this.sc.now() - msg.ts);
      case 'cancel':
        // Every byte is here and the last files are being placed: they complete (the cancel came behind the data).
        // Should the session end otherwise now (the sender's channels close), the cancel is what it says.
        if (this.allFinishing()) return void (this.peerCancel = peerText(msg.reason));
        return this.fail(new TransferCancelledError('remote', peerText(msg.reason)), false);
      case 'error':
        return this.fail(remoteError(msg.code, `sender failed: ${msg.message}`, msg.cause), false);
    }
  }

  /** An offer: its own limits, then its entries and folders follow. */
  private onOffer(msg: Extract<ControlMessage, { t: 'offer' }>): void {
    this.id = msg.id;
    this.settings = msg;
    this.offeredLanes = msg.inband ?? 0;
    if (msg.lanes > this.lanes.length) {
      return this.refuse(new InvalidConfigError(`sender uses ${msg.lanes} lanes but only ${this.lanes.length} connections were given`, { lanes: msg.lanes }));
    }
    // The data channels would share the control channel's stream: its messages would arrive as frames, and frames as control.
    const stream = this.control?.id;
    if (typeof stream === 'number' && stream >= msg.idBase && stream < msg.idBase + msg.channels) {
      return this.refuse(new ProtocolError(`data-channel ids ${msg.idBase}..${msg.idBase + msg.channels - 1} include the control channel's (${stream})`, { id: msg.id, idBase: msg.idBase, stream }));
    }
    const listing = (this.listing = new OfferListing(msg, this.o));
    this.phase = 'listing';
    this.lastListedAt = this.sc.now();
    this.subs.add(
      repeatEvery(this.sc, 1000, () => {
        if (this.phase !== 'listing' || this.listing !== listing) return false;
        if (this.sc.now() - this.lastListedAt < LISTING_STALL_MS) return true;
        this.relist(new ProtocolError(`the listing of session ${msg.id} stalled for ${LISTING_STALL_MS} ms`, { id: msg.id }));
        return false;
      }),
    );
    this.listed();
  }

  /** Once every entry and folder is in: the `offer` event, then the user's decision. */
  private listed(): void {
    if (!this.listing!.listed) return;
    const offer = (this.offer = this.listing!.offer());
    this.listing = undefined;
    this.phase = 'deciding';
    if (this.o.passOn?.(offer)) return this.passOn();
    this.link?.stopRecording();
    const refused = this.o.refuse?.(offer);
    if (refused) return this.refuse(refused);
    this.subscriber.next({ type: 'offer', offer });
    const accept = this.o.accept ?? (() => true);
    this.subs.add(
      defer(() => {
        const d = accept(offer);
        return isObservable(d) ? d : settle(d);
      })
        .pipe(take(1))
        .subscribe({ next: (d) => this.guard(() => this.decide(offer, d)), error: (err) => this.fail(err, true) }),
    );
  }

  /**
   * An offer that is another receiver's: the channel and what was read on it go to the next receiver listening
   * on this connection (or wait there for one), unanswered; this one listens again.
   */
  private passOn(): void {
    const ch = this.control!;
    const replay = this.link!.recorded();
    this.link!.dispose();
    this.link = this.control = undefined;
    this.id = this.settings = this.offer = undefined;
    this.offeredLanes = 0;
    this.phase = 'listening';
    passOnControlChannel(this.lanes[0], ch, replay, this);
    this.listen();
  }

  /** Rejects the offer and fails with `err` (a broken limit, a refused offer). */
  private refuse(err: TallowError): void {
    if (this.finished) return;
    if (this.id !== undefined) this.send({ t: 'reject', id: this.id, reason: err.message.slice(0, 1000) });
    this.fail(err, false, true);
  }

  private decide(offer: SessionOffer, d: AcceptDecision): void {
    if (this.finished) return;
    if (d === false) return this.decline(offer);
    if (d !== true && d.some((m) => m.session !== offer.id || offer.files[m.index] === undefined)) {
      throw new InvalidConfigError('accept returned a file that is not in the offer', { id: offer.id });
    }
    const chosen = d === true ? undefined : new Set(d.map((m) => m.index));
    this.taken = chosen ? offer.files.filter((f) => chosen.has(f.index)) : offer.files;
    this.prepare(offer);
  }

  private decline(offer: SessionOffer): void {
    this.send({ t: 'reject', id: offer.id, reason: 'declined by receiver' });
    this.subscriber.next({ type: 'rejected', offer, reason: 'declined by receiver' });
    this.cleanup();
    closeAfterPeer([this.control], { scheduler: this.sc });
    this.subscriber.complete();
  }

  /** Held prefixes (hashed), then the folders, one at a time; then `accept`. */
  private prepare(offer: SessionOffer): void {
    this.phase = 'opening';
    const folder = (path: string) => defer(() => settle(this.target.folder ? this.target.folder(path) : undefined));
    this.subs.add(
      concat(from(this.taken).pipe(concatMap((m) => this.hold$(m))), from(offer.folders).pipe(concatMap(folder)))
        .pipe(ignoreElements())
        .subscribe({ complete: () => this.guard(() => this.accept(offer)), error: (err) => this.fail(err, true) }),
    );
  }

  /** A file whose target holds a prefix: open it now (resume) and hash what it holds. */
  private hold$(m: Manifest): Observable<unknown> {
    const factory = this.o.createHash ?? createSha256;
    return defer(() => settle(this.target.held ? this.target.held(m) : 0)).pipe(
      switchMap((n) => (n > 0 ? openTarget(this.target, m, { resume: true }) : EMPTY)),
      switchMap((opened) => {
        const entry: Held = { opened };
        this.held.set(m.index, entry);
        return hashHeldPrefix(opened.from, factory, () => readPrefix(opened)).pipe(tap((prefix) => (entry.prefix = prefix)));
      }),
    );
  }

  /** Channels and listeners first, then `skip`/`resume` and `accept`; the first `parallel` files start. */
  private accept(offer: SessionOffer): void {
    if (this.finished) return;
    try {
      this.openChannels();
    } catch (err) {
      // The connection closed as the answer came (createDataChannel on a closed connection throws): a lost
      // connection, which `reconnect` survives, not a defect (it failed with ERR_INTERNAL).
      if (connectionGone(this.lanes[0])) return this.fail(new ChannelClosedError('the connection closed as the offer was accepted', { cause: String(err) }), false);
      // The control channel lives: the sender is told (it waited for an answer until acceptTimeoutMs).
      return this.fail(channelsRefused(err, this.settings!), true);
    }
    const taken = new Set(this.taken.map((m) => m.index));
    for (const f of offer.files) {
      if (taken.has(f.index)) continue;
      // A file an earlier run completed: its digest, so the sender can confirm it (its `complete` may be lost).
      const sha256 = this.o.completed?.(f.index);
      this.send(sha256 === undefined ? { t: 'skip', id: offer.id, i: f.index } : { t: 'skip', id: offer.id, i: f.index, sha256 });
    }
    for (const [i, { opened, prefix }] of this.held) {
      if (opened.from > 0) this.send({ t: 'resume', id: offer.id, i, from: opened.from, prefixSha256: prefix!.prefixSha256! });
    }
    const inband = this.attachLanes(offer.id);
    this.send({ t: 'accept', id: offer.id, ...(inband > 0 ? { inband } : {}) });
    this.phase = 'accepted';
    this.startedAt = this.lastProgressAt = this.sc.now();
    this.watch();
    const bytes = this.taken.reduce((n, m) => n + m.size, 0);
    this.subscriber.next({ type: 'started', offer, files: this.taken, bytes, from: this.heldBytes() });
    // The app unsubscribed in its `started` handler: the session is over.
    if (this.finished) return;
    // A resumed session's held prefixes are confirmed already: the first progress counts them (it said 0 B).
    this.telemetry?.progress(this.confirmed());
    this.startNext();
    if (this.taken.length === 0) this.completeSession();
  }

  /** Takes up `offer.inband` when this side can build connections: attaches to the pool; returns the lanes taken. */
  private attachLanes(id: number): number {
    const pool = this.o.lanePool;
    const n = pool?.accepts(this.lanes[0], this.offeredLanes) ?? 0;
    if (!pool || n === 0) return 0;
    this.detachLanes = pool.attach({ id, accepted: n, send: (msg) => this.send(msg), channel: (ch) => this.laneChannel(ch) });
    return n;
  }

  /** A data channel the sender opened on an in-band lane: its frames join the others. */
  private laneChannel(ch: DataChannelLike): void {
    if (this.finished) return void ch.close();
    this.data.push(ch);
    // A lane joins (or comes back, its channels made again) when it adds to the lanes with a live channel.
    const lanes = this.liveLanes();
    const joined = lanes > this.reportedLanes;
    this.reportedLanes = lanes;
    this.telemetry?.setChannels(this.data, joined ? { action: 'add', reason: 'joined', lanes, atMs: this.sc.now() } : undefined);
    this.laneChannels$.next(ch);
  }

  /** Lanes with a data channel not closed: a given lane by its channels' index (i % lanes), an in-band one by label. */
  private liveLanes(): number {
    const lanes = this.settings!.lanes;
    const live = new Set<string>();
    this.data.forEach((ch, i) => isGone(ch) || live.add(ch.label.startsWith(LANE_CHANNEL_PREFIX) ? ch.label.split('-')[2] : `given ${i % lanes}`));
    return live.size;
  }

  /** A data channel closed: the stats count its channels again, and its lane when that was the lane's last (`channels-closed`). */
  private recountLanes(): void {
    if (this.finished || !this.telemetry) return;
    const lanes = this.liveLanes();
    if (lanes >= this.reportedLanes) return this.telemetry.setChannels(this.data);
    this.reportedLanes = lanes;
    this.telemetry.setChannels(this.data, { action: 'shed', reason: 'channels-closed', lanes, atMs: this.sc.now() });
  }

  /** Telemetry, the negotiated data channels and the frame demultiplexer. */
  private openChannels(): void {
    const { o, sc } = this;
    const m = this.settings!;
    const total = this.taken.reduce((n, f) => n + f.size, 0);
    const files = () => ({ completed: this.results.length, total: this.taken.length, active: [...this.active].map((f) => ({ manifest: f.manifest, bytes: f.bytes })) });
    this.telemetry = transferTelemetry({ channels: [], lanes: m.lanes, total, scheduler: sc, statsInterval: o.sampleIntervalMs, progressInterval: o.progressIntervalMs, pc: this.lanes[0], files });
    this.subs.add(this.telemetry.events$.subscribe((e) => this.subscriber.next(e)));
    // A lane (not the control channel's connection) already closed or failed: the session goes on over the others.
    this.data = createDataChannels(this.lanes, m.channels, m.lanes, m.reliability, m.idBase, (pc) => pc !== this.lanes[0] && connectionGone(pc));
    this.reportedLanes = m.lanes;
    this.telemetry.setChannels(this.data);
    this.subs.add(this.frames$().subscribe({ next: ([msg, ch]) => this.guard(() => this.route(msg, ch)), error: (err) => this.fail(err, true) }));
  }

  /**
   * Binary messages of every data channel. A channel may close mid-session: the others carry on. When every
   * one has closed before the end, that is an error, after a grace of a second (a sender that cancels closes
   * its data channels right after its `cancel`, which travels on another stream).
   */
  private frames$(): Observable<[Uint8Array, DataChannelLike]> {
    const closed = () => new ChannelClosedError('every data channel closed before the session ended', { channels: this.data.length });
    // A channel that fails ends like one that closed: the others carry on, and what it lost comes back by NACK.
    const messages = (ch: DataChannelLike) =>
      fromChannelMessages(ch).pipe(
        filter((msg): msg is Uint8Array => typeof msg !== 'string'),
        map((msg): [Uint8Array, DataChannelLike] => [msg, ch]),
        catchError(() => EMPTY),
        finalize(() => this.recountLanes()),
      );
    const given = merge(...this.data.map(messages)).pipe(
      concatWith(timer(1000, this.sc).pipe(mergeMap(() => throwError(closed)))),
    );
    // In-band lanes come and go without ending the session: the connections given decide that.
    const lanes = this.laneChannels$.pipe(mergeMap(messages));
    return merge(given, lanes);
  }

  /**
   * One frame to its file, by the transfer id in its header (checked first, so a corrupted id is never
   * trusted). A malformed frame, or one whose id is no file of this session, is dropped and counted; one for
   * a skipped file or a file not started is a ProtocolError; late copies for a completed file are dropped.
   */
  private route(message: Uint8Array, via: DataChannelLike): void {
    let frame: DataFrame;
    try {
      frame = decodeFrame(message);
    } catch (err) {
      return this.malformedFrame(err);
    }
    const offer = this.offer!;
    const i = (frame.transferId - offer.id) >>> 0;
    const file = this.files.get(i);
    if (file) return file.push(frame, via);
    if (i >= offer.files.length) {
      return this.malformedFrame(new FrameDecodeError('ERR_FRAME_VALUE', `frame of transfer ${frame.transferId}, no file of session ${offer.id}`, { transferId: frame.transferId }));
    }
    throw new ProtocolError(`frame for file ${i}, which is ${this.isTaken(i) ? 'not started' : 'skipped'}`, { id: offer.id, i, index: frame.index });
  }

  private malformedFrame(err: unknown): void {
    if (!(err instanceof FrameDecodeError)) throw err;
    if (++this.malformed > (this.o.maxMalformedFrames ?? 64)) throw err;
  }

  private isTaken(i: number): boolean {
    return this.taken.some((m) => m.index === i);
  }

  /** The started file `i`, for its `done` or `restart`; any other index is a ProtocolError. */
  private fileOf(i: number, t: string): FileReceiver {
    const file = this.files.get(i);
    if (file) return file;
    const why = i >= this.offer!.files.length ? 'not in the offer' : this.isTaken(i) ? 'not started' : 'skipped';
    throw new ProtocolError(`'${t}' for file ${i}, which is ${why}`, { id: this.id, i, t });
  }

  /** A target's `finish` runs (when it settles, the completed file is progress: fileCompleted). */
  private placing(): boolean {
    for (const f of this.active) if (f.finishing) return true;
    return false;
  }

  /** Every taken file started, and those not complete are finishing: nothing is left to receive. */
  private allFinishing(): boolean {
    if (this.phase !== 'accepted' || this.next < this.taken.length || !this.active.size) return false;
    for (const f of this.active) if (!f.finishing) return false;
    return true;
  }

  /** Starts taken files in order while fewer than `parallel` are running. */
  private startNext(): void {
    const { parallel } = this.settings!;
    while (!this.finished && this.active.size < parallel && this.next < this.taken.length) this.startFile(this.taken[this.next++]);
  }

  private startFile(m: Manifest): void {
    const held = this.held.get(m.index);
    this.held.delete(m.index);
    const file: FileReceiver = new FileReceiver({
      manifest: m,
      target: this.target,
      options: this.o,
      scheduler: this.sc,
      preOpened: held && { opened: held.opened, prefix: held.prefix! },
      hooks: this.hooksFor(() => file),
      budget: this.reorderBudget,
    });
    this.files.set(m.index, file);
    this.active.add(file);
    this.subscriber.next({ type: 'file-started', manifest: m, from: file.start });
    file.begin();
  }

  private hooksFor(file: () => FileReceiver): FileReceiverHooks {
    return {
      send: (msg) => void this.send(msg),
      progressed: () => {
        this.lastProgressAt = this.sc.now();
        this.telemetry?.progress(this.confirmed());
      },
      received: (bytes) => this.telemetry?.input({ kind: 'progress', bytes }),
      completed: (result, seconds) => this.fileCompleted(file(), result, seconds),
      failed: (err) => this.fail(err, true),
      // Finished while the session failed (its wait for aborts still holds the error back): reported, not aborted.
      placed: ({ manifest, sha256, result }, seconds) => this.subscriber.next({ type: 'file-completed', manifest, sha256, bytes: manifest.size, seconds, result }),
      restarted: () => {
        this.telemetry?.progress(this.confirmed());
        this.subscriber.next({ type: 'file-started', manifest: file().manifest, from: 0 });
      },
    };
  }

  /** A file is complete (its `complete` is sent): the next one starts at once; after the last, the session ends. */
  private fileCompleted(file: FileReceiver, result: FileResult, seconds: number): void {
    if (this.finished) return;
    const m = file.manifest;
    this.active.delete(file);
    this.doneBytes += m.size;
    this.results.push(result);
    this.lastProgressAt = this.sc.now();
    const last = this.results.length === this.taken.length;
    // The last progress and stats come before the last file-completed (receiveFile ends on it).
    if (last) this.stopTelemetry();
    this.subscriber.next({ type: 'file-completed', manifest: m, sha256: result.sha256, bytes: m.size, seconds, result: result.result });
    if (last) return this.completeSession();
    this.telemetry?.progress(this.confirmed());
    // In the same tick as its `complete`: the next file's frames may follow it at once.
    this.startNext();
  }

  /** Final progress (every taken byte) and the final stats sample. */
  private stopTelemetry(): void {
    this.telemetry?.progress(this.taken.reduce((n, m) => n + m.size, 0));
    this.telemetry?.stop();
  }

  /** Confirmed bytes of the session: completed files, files in flight, and prefixes held by files not started. */
  private confirmed(): number {
    let bytes = this.doneBytes + this.heldBytes();
    for (const f of this.active) bytes += f.bytes;
    return bytes;
  }

  private heldBytes(): number {
    let bytes = 0;
    for (const { opened } of this.held.values()) bytes += opened.from;
    return bytes;
  }

  private completeSession(): void {
    const files = [...this.results].sort((a, b) => a.manifest.index - b.manifest.index);
    const bytes = this.taken.reduce((n, m) => n + m.size, 0);
    this.stopTelemetry();
    this.cleanup();
    this.subscriber.next({ type: 'completed', files, bytes, seconds: (this.sc.now() - this.startedAt) / 1000 });
    // The sender closes when the last `complete` arrives; closing first could overtake it (see closeAfterPeer).
    closeAfterPeer([this.control, ...this.data], { scheduler: this.sc });
    this.subscriber.complete();
  }

  /** Idleness is no verified progress and no completed file (pings, duplicates, control messages do not count); a ping a second for RTT. */
  private watch(): void {
    const timeoutMs = this.o.idleTimeoutMs ?? 30_000;
    const accepted = () => !this.finished && this.phase === 'accepted';
    let n = 0;
    this.subs.add(
      idleWatchdog(this.sc, {
        timeoutMs,
        // A file being finished by its target is this side's own work, not the peer's silence.
        quietFor: () => (accepted() && !this.placing() ? this.sc.now() - this.lastProgressAt : 0),
        onIdle: () => {
          const details = { side: 'receiver', measured: 'verified bytes', progress: this.confirmed(), total: this.taken.reduce((s, m) => s + m.size, 0) };
          this.fail(new IdleTimeoutError(timeoutMs, details), true);
        },
      }),
    );
    this.subs.add(repeatEvery(this.sc, 1000, () => accepted() && (this.send({ t: 'ping', n: n++ >>> 0, ts: this.sc.now() }), true)));
  }

  /**
   * Fails the session: tells the peer (`error`, or nothing after a `reject`), aborts every opened target and
   * closes.
   */
  private fail(err: unknown, notifyPeer: boolean, rejected = false): void {
    if (this.finished) return;
    const e = this.peerCancel !== undefined && err instanceof ChannelClosedError ? new TransferCancelledError('remote', this.peerCancel) : asTallowError(err);
    const id = this.id ?? (typeof e.details.id === 'number' ? e.details.id : undefined);
    const told = notifyPeer && id !== undefined;
    if (told) notifyFailure(this.link, id, e);
    // A peer that broke the protocol gets no lanes kept for a next run.
    if (e instanceof ProtocolError) this.o.lanePool?.close(0);
    this.cleanup();
    const aborting = this.abortAll(e);
    closeTransfer([this.control, ...this.data], (told || rejected) && !(e instanceof ProtocolError), this.sc);
    // The error goes out once every target has let go (a retry can then claim what they kept), or after
    // TARGET_ABORT_WAIT_MS: a target's abort that never settles must not hold the session for good.
    if (!aborting.length) return this.subscriber.error(e);
    const done = () => {
      wait.unsubscribe();
      this.subscriber.error(e);
    };
    const wait = this.sc.schedule(done, TARGET_ABORT_WAIT_MS);
    // Counted as each settles (a finish's wait settles in its own tick, in virtual time too), not Promise.all.
    let left = aborting.length;
    const one = () => --left === 0 && !wait.closed && done();
    for (const p of aborting) p.then(one, one);
  }

  private abortAll(reason: unknown): PromiseLike<unknown>[] {
    const pending: PromiseLike<void>[] = [];
    // abortTarget (FileReceiver.abort goes through it) has made a throw or a rejection nothing already.
    const keep = (r: void | PromiseLike<void>) => r && pending.push(r);
    for (const f of this.active) keep(f.abort(reason));
    for (const { opened } of this.held.values()) keep(abortTarget(opened, reason));
    this.active.clear();
    this.held.clear();
    return pending;
  }

  private cleanup(): void {
    this.phase = 'ended';
    this.detachLanes?.();
    this.telemetry?.stop();
    this.subs.unsubscribe();
    this.link?.dispose();
  }
}

function readPrefix(opened: OpenedTarget): Observable<Bytes> {
  if (!opened.prefix) throw new InvalidConfigError('target resumes but cannot read its prefix', { from: opened.from });
  return opened.prefix();
}
