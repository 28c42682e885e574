/**
 * One receiving transfer: the receiver's control session (the table in sessionTable.ts) and its data path
 * `messages → decodeFrames → bounds → repairChunks → reorder → verifyHash → target`. `receiveFile` runs
 * one per subscription; each method is one step of the protocol (docs/protocol.md).
 */
import {
  asyncScheduler,
  concatWith,
  defer,
  filter,
  ignoreElements,
  map,
  merge,
  mergeMap,
  ReplaySubject,
  switchMap,
  take,
  tap,
  throwError,
  timer,
  type Observable,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import {
  asTallowError,
  ChannelClosedError,
  HashMismatchError,
  IdleTimeoutError,
  InvalidConfigError,
  LimitExceededError,
  ProtocolError,
  TransferCancelledError,
} from '../errors';
import { createSha256, type Sha256 } from '../hash/sha256';
import { decodeFrames } from '../operators/decodeFrames';
import { reorder } from '../operators/reorder';
import { repairChunks } from '../operators/repairChunks';
import { verifyHash } from '../operators/verifyHash';
import type { ControlMessage, Manifest } from '../protocol/control';
import { fromChannelMessages } from '../sources/fromChannelMessages';
import type { Bytes, Chunk, DataChannelLike, PeerConnectionLike } from '../types';
import { controlLink, type ControlLink } from './controlLink';
import { hashHeldPrefix, type HeldPrefix } from './hashHeldPrefix';
import { notifyFailure, remoteError } from './peerFailure';
import { blobTarget, type OpenedTarget } from './ReceiveTarget';
import type { ReceiveOptions } from './receiveFile';
import { checkLegal, RECEIVER_TABLE, type ReceiverPhase } from './sessionTable';
import { settle } from './settle';
import { closeAfterPeer, closeTransfer, createDataChannels, incomingControlChannels } from './transferChannels';
import { transferTelemetry, type Telemetry } from './transferTelemetry';
import type { TransferEvent } from './TransferEvent';
import { idleWatchdog, repeatEvery } from './watchdog';

export class ReceiverSession {
  private readonly sc: SchedulerLike;
  /** The sender's control channel and its message stream, once it arrived. */
  private control: DataChannelLike | undefined;
  private link: ControlLink | undefined;
  private readonly subs: Subscription[] = [];
  private data: DataChannelLike[] = [];
  private manifest: Manifest | undefined;
  private opened: OpenedTarget | undefined;
  private telemetry: Telemetry | undefined;
  /** The running receive pipeline (replaced when the sender asks for a restart from 0). */
  private pipeline: Subscription | undefined;
  /** `done`'s chunk count and digest, for repairChunks/reorder and verifyHash. */
  private end$ = new ReplaySubject<number>(1);
  private digest$ = new ReplaySubject<string>(1);
  private phase: ReceiverPhase = 'listening';
  private doneSeen = false;
  /** Bytes verified and persisted in this session, and where it started; idleness is no growth in them. */
  private persisted = 0;
  private from = 0;
  private lastProgressAt: number;
  /** When data started to flow (reset at `accept`), for `completed.seconds`. */
  private startedAt: number;
  /** The acks: the last total sent, bytes received (for `queued`), and chunks NACKed and not yet in. */
  private lastAck = 0;
  private receivedPayload = 0;
  private readonly nacked = new Set<number>();
  private nackedArrived = false;

  constructor(
    private readonly lanes: readonly PeerConnectionLike[],
    private readonly o: ReceiveOptions,
    private readonly subscriber: Subscriber<TransferEvent>,
  ) {
    this.sc = o.scheduler ?? asyncScheduler;
    this.startedAt = this.lastProgressAt = this.sc.now();
  }

  /** Listens for the sender's control channel. */
  start(): void {
    this.listen();
  }

  /** Unsubscribed: tells the sender (when there is one), then closes once it has. */
  cancel(): void {
    if (this.finished) return;
    if (this.manifest) this.send({ t: 'cancel', id: this.manifest.id, reason: 'cancelled by receiver' });
    this.cleanup();
    Promise.resolve(this.opened?.abort(new TransferCancelledError('local'))).catch(() => undefined);
    closeTransfer([this.control, ...this.data], Boolean(this.manifest), this.sc);
  }

  private get finished(): boolean {
    return this.phase === 'ended';
  }

  private send(msg: ControlMessage): boolean {
    return this.link?.send(msg) ?? false;
  }

  /**
   * One transfer per subscription: takes the first control channel the peer opens. If it dies before an
   * offer came on it (a sender retries a control channel that closed at birth), listens again.
   */
  private listen(): void {
    const incoming = incomingControlChannels(this.lanes[0]).subscribe((ch) => {
      incoming.unsubscribe();
      this.control = ch;
      this.link = controlLink(ch);
      this.subs.push(this.link.messages$.subscribe({ next: (m) => this.onControl(m), error: (err) => this.controlFailed(err) }));
    });
    this.subs.push(incoming);
  }

  private controlFailed(err: unknown): void {
    if (!this.manifest && !this.finished && err instanceof ChannelClosedError) {
      this.link?.dispose();
      this.link = this.control = undefined;
      return this.listen();
    }
    // A malformed message is answered with an `error` before this side closes.
    this.fail(err, !(err instanceof ChannelClosedError));
  }

  /** Dispatches a message the table allows in this phase; anything else is a ProtocolError. */
  private onControl(msg: ControlMessage): void {
    const m = this.manifest;
    if (this.finished || (m && 'id' in msg && msg.id !== m.id)) return; // ended, or another transfer's
    try {
      checkLegal(RECEIVER_TABLE, 'receiver', this.phase, msg.t, m?.id);
    } catch (err) {
      return this.fail(err, true);
    }
    switch (msg.t) {
      case 'offer':
        return this.onOffer(msg);
      case 'ping':
        return void this.send({ t: 'pong', n: msg.n, ts: msg.ts });
      case 'pong':
        // Our own pings: the receiver measures RTT and jitter too.
        return this.telemetry?.appRtt(this.sc.now() - msg.ts);
      case 'done':
        return this.onDone(m!, msg);
      case 'restart':
        return this.restart(m!);
      case 'cancel':
        return this.fail(new TransferCancelledError('remote', msg.reason), false);
      case 'error':
        return this.fail(remoteError(msg.code, `sender failed: ${msg.message}`, msg.cause), false);
    }
  }

  /** An offer: the limits, then the user's decision. */
  private onOffer(msg: Extract<ControlMessage, { t: 'offer' }>): void {
    const { t: _t, v: _v, ...m } = msg;
    this.manifest = m;
    const maxFileSize = this.o.maxFileSize ?? Number.MAX_SAFE_INTEGER;
    if (m.size > maxFileSize) {
      this.send({ t: 'reject', id: m.id, reason: `file of ${m.size} B exceeds the limit of ${maxFileSize} B` });
      return this.fail(new LimitExceededError('file size', m.size, maxFileSize), false);
    }
    if (m.lanes > this.lanes.length) {
      this.send({ t: 'reject', id: m.id, reason: `sender uses ${m.lanes} lanes, receiver has ${this.lanes.length}` });
      return this.fail(new InvalidConfigError(`sender uses ${m.lanes} lanes but only ${this.lanes.length} connections were given`), false);
    }
    this.phase = 'deciding';
    this.subscriber.next({ type: 'offer', manifest: m });
    this.subs.push(
      defer(() => settle(this.o.accept ? this.o.accept(m) : true))
        .pipe(take(1))
        .subscribe({ next: (yes) => (yes ? this.open(m, false) : this.decline(m)), error: (err) => this.fail(err, true) }),
    );
  }

  private decline(m: Manifest): void {
    if (this.finished) return;
    this.send({ t: 'reject', id: m.id, reason: 'declined by receiver' });
    this.subscriber.next({ type: 'rejected', manifest: m, reason: 'declined by receiver' });
    this.cleanup();
    closeAfterPeer([this.control], { scheduler: this.sc });
    this.subscriber.complete();
  }

  /** Opens the target, creates the data channels (once), proves the held prefix, then accepts. */
  private open(m: Manifest, fresh: boolean): void {
    if (this.finished) return;
    this.phase = 'opening';
    const target = this.o.target ?? blobTarget();
    this.subs.push(
      defer(() => settle(target.open(m)))
        .pipe(switchMap((t) => this.opened$(m, t, fresh)))
        .subscribe({ next: (held) => this.accept(m, held), error: (err) => this.fail(err, true) }),
    );
  }

  private opened$(m: Manifest, t: OpenedTarget, fresh: boolean): Observable<HeldPrefix> {
    this.opened = t;
    if (this.finished) return settle(t.abort(new TransferCancelledError('local'))).pipe(ignoreElements());
    const from = (this.from = t.from);
    if (!(from >= 0 && from <= m.size)) throw new InvalidConfigError(`target resumes at ${from}, outside the file`, { from });
    if (fresh && from !== 0) throw new InvalidConfigError(`target resumes at ${from} after the sender asked to restart from 0`, { from });
    this.openChannels(m);
    return hashHeldPrefix(from, this.o.createHash ?? createSha256, () => readPrefix(t, from));
  }

  /** Telemetry and the negotiated data channels, once per transfer (a restart keeps them). */
  private openChannels(m: Manifest): void {
    if (this.telemetry) return;
    const { o, sc } = this;
    this.telemetry = transferTelemetry({ channels: [], lanes: m.lanes, total: m.size, scheduler: sc, statsInterval: o.statsInterval, progressInterval: o.progressInterval, pc: this.lanes[0] });
    this.subs.push(this.telemetry.events$.subscribe((e) => this.subscriber.next(e)));
    this.data = createDataChannels(this.lanes, m.channels, m.lanes, m.reliability, m.idBase);
    this.telemetry.setChannels(this.data);
  }

  /** Listeners are attached: now the sender may send. Starts the idle watchdog and the pings. */
  private accept(m: Manifest, held: HeldPrefix): void {
    if (this.finished) return;
    this.pipeline = this.receive(m, held.hasher);
    this.phase = 'accepted';
    this.startedAt = this.lastProgressAt = this.sc.now();
    this.watch();
    const from = this.from;
    this.send(from > 0 ? { t: 'accept', id: m.id, from, prefixSha256: held.prefixSha256! } : { t: 'accept', id: m.id, from });
    this.subscriber.next({ type: 'started', manifest: m, from });
  }

  /** Idleness is no verified progress (pings, duplicates and control messages do not count); a ping a second for RTT. */
  private watch(): void {
    const timeoutMs = this.o.idleTimeout ?? 30_000;
    const accepted = () => !this.finished && this.phase === 'accepted';
    let n = 0;
    this.subs.push(
      idleWatchdog(this.sc, {
        timeoutMs,
        quietFor: () => (accepted() ? this.sc.now() - this.lastProgressAt : 0),
        onIdle: () =>
          this.fail(new IdleTimeoutError(timeoutMs, { side: 'receiver', measured: 'verified bytes', progress: this.from + this.persisted, total: this.manifest?.size }), true),
      }),
      repeatEvery(this.sc, 1000, () => accepted() && (this.send({ t: 'ping', n: n++ >>> 0, ts: this.sc.now() }), true)),
    );
  }

  /** The data path into the target; each persisted step is acknowledged. */
  private receive(m: Manifest, hasher: Sha256): Subscription {
    this.persisted = this.receivedPayload = 0;
    this.lastAck = this.from;
    this.nacked.clear();
    return this.chunks$(m)
      .pipe(
        // repairChunks checked every CRC-32 already; the SHA-256 still covers every byte.
        verifyHash({ expected: this.digest$, createHash: () => hasher, startOffset: this.from, checkChunks: false }),
        this.opened!.sink,
      )
      .subscribe({ next: (bytes) => this.persistedUpTo(m, bytes), error: (err) => this.fail(err, true), complete: () => this.finish(m) });
  }

  /** Frames from every data channel, decoded, bounded, repaired and in order, once each. */
  private chunks$(m: Manifest): Observable<Chunk> {
    const window = this.o.maxBufferedChunks ?? 1024;
    const maxMalformed = this.o.maxMalformedFrames ?? 64;
    let malformed = 0;
    return this.frames$().pipe(
      // A corrupted header loses the frame's index: drop it and let the gap NACK bring it back.
      decodeFrames({
        transferId: m.id,
        onMalformed: (err) => {
          if (++malformed > maxMalformed) throw err;
        },
      }),
      tap((f) => checkFrameBounds(f, this.from, m)),
      repairChunks({
        nack: (chunks) => this.nack(m, chunks, window),
        detectGaps: m.reliability === 'unreliable',
        end: this.end$,
        nackDelay: this.o.nackDelay,
        window,
        maxCorruptRetries: this.o.maxCorruptRetries,
        scheduler: this.sc,
      }),
      reorder({ end: this.end$, window, maxBufferedBytes: this.o.maxBufferedBytes ?? 64 * 1024 * 1024 }),
      // Progress and throughput count each chunk once: reorder has dropped duplicates and retransmissions.
      tap((c) => {
        this.receivedPayload += c.data.length;
        if (this.nacked.delete(c.index)) this.nackedArrived = true;
        this.telemetry!.input({ kind: 'progress', bytes: c.data.length });
      }),
    );
  }

  /**
   * Binary messages of every data channel. A channel may close mid-transfer: the others carry on (lost
   * frames are NACKed once `done` is known). When every one has closed before the end, that is an error,
   * after a grace of a second: a sender that cancels closes its data channels right after its `cancel`,
   * which travels on another stream and can arrive after the resets.
   */
  private frames$(): Observable<Uint8Array> {
    const closed = () => new ChannelClosedError('every data channel closed before the transfer ended', { channels: this.data.length });
    return merge(...this.data.map((ch) => fromChannelMessages(ch))).pipe(
      concatWith(timer(1000, this.sc).pipe(mergeMap(() => throwError(closed)))),
      filter((msg): msg is Uint8Array => typeof msg !== 'string'),
    );
  }

  /** NACKs `chunks`, remembering them: once one is in, the next ack goes out at once (bounded by the window). */
  private nack(m: Manifest, chunks: readonly number[], window: number): void {
    for (const c of chunks) if (this.nacked.size < window) this.nacked.add(c);
    this.send({ t: 'nack', id: m.id, chunks: [...chunks] });
  }

  /** Persisted `bytes` in this session: progress, and an ack every min(ackEvery, window / 4). */
  private persistedUpTo(m: Manifest, bytes: number): void {
    if (bytes > this.persisted) this.lastProgressAt = this.sc.now();
    this.persisted = bytes;
    this.telemetry!.progress(this.from + bytes);
    this.ack(m, this.nackedArrived);
    this.nackedArrived = false;
  }

  private ack(m: Manifest, force: boolean): void {
    // Acknowledge at least four times per window, so a sender never waits on its window for an ack.
    const every = Math.max(1, Math.min(this.o.ackEvery ?? 1024 * 1024, Math.floor(m.window / 4)));
    const bytes = this.from + this.persisted;
    if (!force && bytes - this.lastAck < every) return;
    this.lastAck = bytes;
    this.send({ t: 'ack', id: m.id, bytes, queued: Math.max(0, this.receivedPayload - this.persisted) });
  }

  /** Every byte verified and persisted: finish the target, then `ack` and `complete`; close once the sender has. */
  private finish(m: Manifest): void {
    const got = this.from + this.persisted;
    if (got !== m.size) return this.fail(new ProtocolError(`the sender delivered ${got} B of the ${m.size} B it declared`, { received: got, size: m.size }), true);
    this.subs.push(
      defer(() => settle(this.opened!.finish()))
        .pipe(switchMap((result) => this.digest$.pipe(take(1), map((sha256) => ({ result, sha256 })))))
        .subscribe({ next: ({ result, sha256 }) => this.completed(m, result, sha256), error: (err) => this.fail(err, true) }),
    );
  }

  private completed(m: Manifest, result: unknown, sha256: string): void {
    if (this.finished) return;
    this.ack(m, true);
    this.send({ t: 'complete', id: m.id, sha256 });
    this.telemetry!.progress(m.size);
    this.cleanup();
    this.subscriber.next({ type: 'completed', manifest: m, sha256, bytes: m.size, seconds: (this.sc.now() - this.startedAt) / 1000, result });
    // The sender closes when `complete` arrives; closing first could overtake it (see closeAfterPeer).
    closeAfterPeer([this.control, ...this.data], { scheduler: this.sc });
    this.subscriber.complete();
  }

  /** A `done` must come once, after `accept`, and fit the manifest: it sets how many chunks to wait for (and NACK). */
  private onDone(m: Manifest, msg: Extract<ControlMessage, { t: 'done' }>): void {
    if (this.doneSeen) return this.fail(new ProtocolError('a second done', { id: m.id }), true);
    const rest = m.size - this.from;
    const most = rest === 0 ? 0 : Math.ceil(rest / m.chunk.min) + 1;
    if (msg.bytes !== m.size || msg.chunks > most || (rest > 0 && msg.chunks === 0)) {
      const details = { chunks: msg.chunks, bytes: msg.bytes, most, size: m.size };
      return this.fail(new ProtocolError(`done announces ${msg.chunks} chunks / ${msg.bytes} B; the manifest allows at most ${most} chunks / ${m.size} B`, details), true);
    }
    this.doneSeen = true;
    this.end$.next(msg.chunks);
    this.digest$.next(msg.sha256);
  }

  /** `restart`: the sender's prefix differs from ours. Discard what we hold and accept again from 0. */
  private restart(m: Manifest): void {
    if (this.from === 0) return this.fail(new ProtocolError('restart without a resumed prefix', { id: m.id }), true);
    this.pipeline?.unsubscribe();
    this.end$ = new ReplaySubject<number>(1);
    this.digest$ = new ReplaySubject<string>(1);
    const stale = this.opened!;
    this.phase = 'opening';
    this.subs.push(
      defer(() => settle(stale.abort(new HashMismatchError(-1, "the sender's prefix", 'the held prefix', 'sha-256')))).subscribe({
        complete: () => this.open(m, true),
        error: (err) => this.fail(err, true),
      }),
    );
  }

  private fail(err: unknown, notifyPeer: boolean): void {
    if (this.finished) return;
    const e = asTallowError(err);
    const id = this.manifest?.id ?? (typeof e.details.id === 'number' ? e.details.id : undefined);
    const told = notifyPeer && id !== undefined;
    if (told) notifyFailure(this.link, id, e);
    this.cleanup();
    Promise.resolve(this.opened?.abort(e)).catch(() => undefined);
    closeTransfer([this.control, ...this.data], told && !(e instanceof ProtocolError), this.sc);
    this.subscriber.error(e);
  }

  private cleanup(): void {
    this.phase = 'ended';
    this.telemetry?.stop();
    this.pipeline?.unsubscribe();
    for (const sub of this.subs) sub.unsubscribe();
    this.link?.dispose();
  }
}

/**
 * A frame must lie inside `[from, size)` and carry at most `chunk.max` bytes: the manifest is a promise,
 * so maxFileSize holds on disk too.
 */
function checkFrameBounds(f: { index: number; offset: number; data: Uint8Array }, from: number, m: Manifest): void {
  const { size } = m;
  if (f.data.length > m.chunk.max) {
    throw new ProtocolError(`frame ${f.index} carries ${f.data.length} B, more than the manifest's chunk.max of ${m.chunk.max}`, { index: f.index, length: f.data.length, max: m.chunk.max });
  }
  if (f.offset < from || f.offset + f.data.length > size) {
    throw new ProtocolError(`frame ${f.index} covers bytes ${f.offset}..${f.offset + f.data.length}, outside the declared ${from}..${size}`, {
      index: f.index,
      offset: f.offset,
      length: f.data.length,
      size,
    });
  }
}

function readPrefix(opened: OpenedTarget, from: number): Observable<Bytes> {
  if (!opened.prefix) throw new InvalidConfigError('target resumes but cannot read its prefix', { from });
  return opened.prefix();
}
