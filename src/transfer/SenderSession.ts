/**
 * One sending transfer: the sender's control session (the table in sessionTable.ts), its retransmit
 * store and its data path. `sendFile` validates the options, builds the manifest and runs one of these
 * per subscription; each method is one step of the protocol (docs/protocol.md).
 */
import { forkJoin, map, mergeWith, Subject, tap, type Observable, type Subscriber, type Subscription } from 'rxjs';
import {
  asTallowError,
  ChannelClosedError,
  HashMismatchError,
  IdleTimeoutError,
  InvalidConfigError,
  ProtocolError,
  SourceReadError,
  TransferCancelledError,
  TransferRejectedError,
} from '../errors';
import { Demand } from '../flow/Demand';
import { FramePool } from '../flow/FramePool';
import { createSha256, type Sha256 } from '../hash/sha256';
import { adaptiveChunk } from '../operators/adaptiveChunk';
import { backpressure } from '../operators/backpressure';
import { chooseChunkSize, type NetworkConditions } from '../operators/chooseChunkSize';
import { encodeFrames } from '../operators/encodeFrames';
import { leastBuffered } from '../operators/leastBuffered';
import { roundRobin } from '../operators/roundRobin';
import { CONTROL_VERSION, type ControlMessage, type Manifest } from '../protocol/control';
import { encodeFrame, FLAG_RETRANSMIT, FRAME_HEADER_SIZE, frameIndexOf, isRetransmission } from '../protocol/frame';
import { sendToChannels } from '../sinks/sendToChannels';
import type { Chunk, DataChannelLike, PeerConnectionLike } from '../types';
import { checkChunks } from './checkChunks';
import { checkRouted } from './checkRouted';
import { controlLink, whenOpen, type ControlLink } from './controlLink';
import type { FileDescriptor } from './fileInput';
import { hashHeldPrefix } from './hashHeldPrefix';
import { notifyFailure, remoteError } from './peerFailure';
import type { ProfileName, TransferTuning } from './profiles';
import { MIN_RESEND_INTERVAL_MS, RetransmitStore } from './RetransmitStore';
import type { ChunkBounds, SendOptions } from './sendFile';
import { checkLegal, SENDER_TABLE, type SenderPhase } from './sessionTable';
import { closeAll, closeTransfer, createControlChannel, createDataChannels, whenAllClosed } from './transferChannels';
import { transferTelemetry, type Telemetry } from './transferTelemetry';
import type { TransferEvent } from './TransferEvent';
import { idleWatchdog, repeatEvery, Timers } from './watchdog';

/** What `sendFile` resolved before the session starts. */
export interface SenderSettings extends SendOptions {
  readonly scheduler: import('rxjs').SchedulerLike;
  readonly idBase: number;
  readonly releaseIds: () => void;
  /** The control channel, created before the ids were allocated. */
  readonly control: DataChannelLike;
  readonly maxMessageSize: number;
  readonly minChunk: number;
  readonly maxChunk: number;
  readonly strategy: 'round-robin' | 'least-buffered';
  readonly profileName?: ProfileName;
  /** The RTT `auto` probed before the transfer, ms: it picks the first chunk size. */
  readonly initialRttMs?: number;
}

/** A control channel that closes before it opens is replaced up to this many times, 200 ms apart. */
const CONTROL_ATTEMPTS = 3;

/**
 * The first chunk size: what the chunk policy picks for the RTT `auto` probed, or 64 KiB (within the
 * bounds) when no RTT is known or the caller supplies its own `conditions$`.
 */
const initialChunkSize = (s: SenderSettings, reliable: boolean): number =>
  s.initialRttMs === undefined || s.conditions$
    ? Math.min(s.maxChunk, Math.max(s.minChunk, 64 * 1024))
    : chooseChunkSize({ rttMs: s.initialRttMs }, { maxMessageSize: s.maxMessageSize, minChunk: s.minChunk, maxChunk: s.maxChunk, reliable });

export class SenderSession {
  private readonly id: number;
  private readonly sc: import('rxjs').SchedulerLike;
  /** The control channel and its message stream; replaced if a fresh channel dies before it opens. */
  private control: DataChannelLike;
  private link: ControlLink;
  private readonly data: DataChannelLike[];
  private readonly subs: Subscription[] = [];
  private readonly timers: Timers;
  private readonly telemetry: Telemetry;
  /** Unacknowledged chunks, where their copies went, postponed NACKs. */
  private readonly store = new RetransmitStore({ minResendIntervalMs: MIN_RESEND_INTERVAL_MS });
  private readonly retransmit$ = new Subject<Uint8Array>();
  private phase: SenderPhase = 'offered';
  /** When data started to flow (reset at `accept`), for `completed.seconds`. */
  private startedAt: number;
  /** Bytes the receiver verified and persisted (its acks), and bytes read from the source. */
  private acked = 0;
  private readBytes = 0;
  /** When `acked` last grew (or data started): the idle timeout measures acknowledged progress. */
  private lastProgressAt: number;
  /** Payload handed to channels the first time, and again as retransmissions. */
  private sentPayload = 0;
  private retransmittedPayload = 0;
  /** The latest RTT estimate, ms (0 until the first stats sample). */
  private rttMs = 0;
  /** Chunks cut so far, the digest once the source is read, and whether `done` went out. */
  private chunkCount = 0;
  private sha256: string | undefined;
  private doneSent = false;
  private demand: Demand | undefined;
  /** Where this session's bytes start (the receiver's verified prefix), and whether we said `restart`. */
  private startFrom = 0;
  private restarted = false;
  private readonly onChannelClose = () => this.channelClosed();

  constructor(
    private readonly lanes: readonly PeerConnectionLike[],
    private readonly desc: FileDescriptor,
    private readonly manifest: Manifest,
    private readonly tuning: TransferTuning,
    private readonly s: SenderSettings,
    private readonly subscriber: Subscriber<TransferEvent>,
  ) {
    this.id = manifest.id;
    this.sc = s.scheduler;
    this.startedAt = this.lastProgressAt = this.sc.now();
    this.timers = new Timers(this.sc);
    this.control = s.control;
    this.link = controlLink(this.control);
    this.data = createDataChannels(lanes, tuning.channels, tuning.lanes, tuning.reliability, s.idBase);
    whenAllClosed(this.data, s.releaseIds);
    for (const ch of this.data) ch.addEventListener('close', this.onChannelClose);
    this.telemetry = transferTelemetry({
      channels: this.data,
      lanes: tuning.lanes,
      total: manifest.size,
      scheduler: this.sc,
      statsInterval: s.statsInterval,
      progressInterval: s.progressInterval,
      pc: lanes[0],
      bufferFullBytes: tuning.low,
      profile: s.profileName,
    });
  }

  /** Opens the control channel, offers, and starts the ping and the idle watchdog. */
  start(): void {
    this.connectControl(1);
    // Liveness and application-level RTT: a ping every second, answered by the receiver.
    let n = 0;
    this.subs.push(
      repeatEvery(this.sc, 1000, () => !this.finished && (this.link.send({ t: 'ping', n: n++ >>> 0, ts: this.sc.now() }), true)),
    );
    // Idleness is no acknowledged progress once data flows: pongs, NACKs and duplicate acks do not count.
    const timeoutMs = this.s.idleTimeout ?? 30_000;
    this.subs.push(
      idleWatchdog(this.sc, {
        timeoutMs,
        quietFor: () => (this.phase === 'sending' ? this.sc.now() - this.lastProgressAt : 0),
        onIdle: () =>
          this.fail(new IdleTimeoutError(timeoutMs, { side: 'sender', measured: 'acknowledged bytes', progress: this.acked, total: this.manifest.size }), true),
      }),
    );
  }

  /** Unsubscribed: tells the receiver, then closes once it has. */
  cancel(): void {
    if (this.finished) return;
    this.link.send({ t: 'cancel', id: this.id, reason: 'cancelled by sender' });
    this.cleanup();
    closeTransfer([this.control, ...this.data], true, this.sc);
  }

  private get finished(): boolean {
    return this.phase === 'ended';
  }

  private get sentBytes(): number {
    return Math.min(this.sentPayload + this.startFrom, this.manifest.size);
  }

  /** Creates (or replaces) the control channel; offers once it opens; waits `acceptTimeout` for an answer. */
  private connectControl(attempt: number): void {
    const acceptTimeout = this.s.acceptTimeout ?? 120_000;
    let opened = false;
    let retried = false;
    const retryOrFail = (err: unknown) => {
      if (this.finished || retried) return;
      // Right after a connection comes up, a new in-band channel sometimes closes before it opens (seen with
      // node-datachannel, a few per cent of fresh connections). Nothing was sent on it: a new one is safe.
      if (!opened && attempt < CONTROL_ATTEMPTS && err instanceof ChannelClosedError) {
        retried = true;
        this.link.dispose();
        this.timers.later(200, () => this.replaceControl(attempt + 1));
        return;
      }
      // A malformed message is answered with an `error` before this side closes; a closed channel cannot be.
      this.fail(err, !(err instanceof ChannelClosedError));
    };
    this.subs.push(this.link.messages$.subscribe({ next: (m) => this.onControl(m), error: retryOrFail }));
    const waitMs = attempt < CONTROL_ATTEMPTS ? Math.min(5000, acceptTimeout) : acceptTimeout;
    this.subs.push(
      whenOpen(this.control, waitMs, this.sc).subscribe({
        next: () => {
          opened = true;
          this.link.send({ t: 'offer', v: CONTROL_VERSION, ...this.manifest });
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
    if (this.finished) return;
    this.control = createControlChannel(this.lanes[0]);
    this.link = controlLink(this.control);
    this.connectControl(attempt);
  }

  /** Dispatches a message the table allows in this phase; anything else is a ProtocolError. */
  private onControl(msg: ControlMessage): void {
    if (this.finished || ('id' in msg && msg.id !== this.id)) return;
    try {
      checkLegal(SENDER_TABLE, 'sender', this.phase, msg.t, this.id);
    } catch (err) {
      return this.fail(err, true);
    }
    switch (msg.t) {
      case 'ping':
        return void this.link.send({ t: 'pong', n: msg.n, ts: msg.ts });
      case 'pong':
        return this.telemetry.appRtt(this.sc.now() - msg.ts);
      case 'cancel':
        return this.fail(new TransferCancelledError('remote', msg.reason), false);
      case 'error':
        return this.fail(remoteError(msg.code, `receiver failed: ${msg.message}`, msg.cause), false);
      case 'reject':
        this.cleanup();
        closeAll([...this.data, this.control]);
        return this.subscriber.error(new TransferRejectedError(msg.reason));
      case 'accept':
        return this.onAccept(msg);
      case 'ack':
        return this.onAck(msg);
      case 'nack':
        this.telemetry.countChunks(0, msg.chunks.length);
        return this.serveNacks(msg.chunks);
      case 'complete':
        return this.onComplete(msg);
    }
  }

  /** `accept`: start, or (resume) check the receiver's prefix against ours first. */
  private onAccept(msg: Extract<ControlMessage, { t: 'accept' }>): void {
    const { from } = msg;
    if (from > this.manifest.size) return this.protocolError(`receiver resumes at ${from}, past the end of ${this.manifest.size} B`, { from });
    if (from > 0 && this.restarted) return this.protocolError(`receiver resumes at ${from} after it was told to restart from 0`, { from });
    if (from > 0 && !this.desc.seekable) return this.fail(new InvalidConfigError('this input cannot resume: it is not seekable'), true);
    this.phase = 'checking';
    const held$ = hashHeldPrefix(from, this.s.createHash ?? createSha256, () => this.desc.read({ start: 0, end: from }));
    this.subs.push(
      held$.subscribe({
        next: ({ hasher, prefixSha256 }) => {
          if (this.finished) return;
          if (from === 0 || prefixSha256 === msg.prefixSha256) return this.startData(from, hasher);
          // The receiver holds other bytes than ours (the source changed): both start over from 0.
          this.phase = 'offered';
          this.restarted = true;
          this.link.send({ t: 'restart', id: this.id });
        },
        error: (err) => this.fail(err, true),
      }),
    );
  }

  /** Data flows from byte `from`: stats start, the window opens, frames go once every data channel is open. */
  private startData(from: number, hasher: Sha256): void {
    this.phase = 'sending';
    this.startedAt = this.lastProgressAt = this.sc.now();
    this.subscriber.next({ type: 'started', manifest: this.manifest, from });
    this.startFrom = this.readBytes = this.acked = from;
    this.demand = new Demand({ limit: () => this.acked + this.tuning.window - this.readBytes });
    // Stats and progress start at accept: the time waiting for the user to accept is not a transfer's.
    this.subs.push(this.telemetry.events$.subscribe((e) => this.subscriber.next(e)));
    this.subs.push(this.telemetry.stats$.subscribe((st) => void (this.rttMs = st.rtt.current ?? this.rttMs)));
    this.subs.push(
      forkJoin(this.data.map((ch) => whenOpen(ch, 15_000, this.sc))).subscribe({
        error: (err) => this.fail(err, true),
        complete: () => {
          if (!this.finished) this.subs.push(this.sendFrames(from, hasher).subscribe({ error: (err) => this.fail(err, true) }));
        },
      }),
    );
  }

  /** The data path from byte `from` on: read → hash → chunk → keep → frame → route → backpressure → send. */
  private sendFrames(from: number, hasher: Sha256): Observable<unknown> {
    const { s, tuning, manifest } = this;
    const route = s.route ?? (s.strategy === 'least-buffered' ? leastBuffered : roundRobin);
    const chunking = s.chunking ?? ((c$: Observable<number | NetworkConditions>, b: ChunkBounds) => adaptiveChunk(c$, b));
    // Frames are dead once sent (channels copy them): their buffers carry the next frames.
    const framePool = new FramePool({ bufferSize: s.maxChunk + FRAME_HEADER_SIZE });
    return this.desc.read({ demand: this.demand, start: from, readSize: s.readSize ?? s.maxChunk }).pipe(
      tap({ next: (b) => this.onRead(b, hasher), complete: () => this.onSourceEnd(hasher) }),
      chunking(this.conditions$(), this.bounds(from)),
      checkChunks({ startOffset: from, size: manifest.size, maxChunk: s.maxChunk }),
      tap({ next: (c) => this.onChunk(c), complete: () => this.sendDone() }),
      encodeFrames({ transferId: this.id, pool: framePool }),
      mergeWith(this.retransmit$),
      route(this.data, { high: tuning.high }),
      checkRouted(this.data),
      backpressure({ high: tuning.high, low: tuning.low, demand: this.demand, maxMessageSize: s.maxMessageSize, scheduler: this.sc }),
      tap(({ channel, frame }) => this.onHandedOff(channel, frame)),
      sendToChannels({ maxMessageSize: s.maxMessageSize, pool: framePool }),
    );
  }

  /** The chunk policy's input: the user's `conditions$`, or this transfer's RTT, loss and bitrate. */
  private conditions$(): Observable<number | NetworkConditions> {
    // An application RTT includes time queued behind data: its minimum is the closer estimate of the path.
    return (
      this.s.conditions$ ??
      this.telemetry.stats$.pipe(
        map((st) => ({ rttMs: (st.rtt.source === 'application' ? st.rtt.min : st.rtt.current) ?? 0, lossRate: st.loss ?? 0, bitrateBps: st.throughput.current || undefined })),
      )
    );
  }

  private bounds(from: number): ChunkBounds {
    const { s } = this;
    const reliable = this.tuning.reliability === 'reliable';
    return { maxMessageSize: s.maxMessageSize, minChunk: s.minChunk, maxChunk: s.maxChunk, initialSize: initialChunkSize(s, reliable), startOffset: from, reliable };
  }

  private onRead(bytes: Uint8Array, hasher: Sha256): void {
    hasher.update(bytes);
    this.readBytes += bytes.length;
  }

  /** A source that ends early (a file truncated while being read) fails here, before the receiver sees a gap. */
  private onSourceEnd(hasher: Sha256): void {
    const { size } = this.manifest;
    if (this.readBytes !== size) throw new SourceReadError(`the source ended after ${this.readBytes} of its ${size} B (it shrank while being read)`, { read: this.readBytes, size });
    this.sha256 = hasher.digestHex();
  }

  private onChunk(c: Chunk): void {
    this.store.add(c);
    this.chunkCount = c.index + 1;
    this.telemetry.countChunks(1, 0);
    // The last chunk is usually a short tail: it says nothing about the size in use.
    if (c.data.length >= this.s.minChunk || c.index === 0) this.telemetry.input({ kind: 'chunk-size', bytes: c.data.length });
  }

  private sendDone(): void {
    this.doneSent = this.link.send({ t: 'done', id: this.id, chunks: this.chunkCount, bytes: this.manifest.size, sha256: this.sha256! });
  }

  /** A frame went to a channel. Progress counts first transmissions only; retransmitted bytes apart. */
  private onHandedOff(channel: DataChannelLike, frame: Uint8Array): void {
    const payload = frame.length - FRAME_HEADER_SIZE;
    this.store.handedOff(channel, frameIndexOf(frame), frame.length, this.sc.now());
    if (isRetransmission(frame)) this.retransmittedPayload += payload;
    else {
      this.sentPayload += payload;
      this.telemetry.progress(this.acked, this.sentBytes);
    }
  }

  private onAck(msg: Extract<ControlMessage, { t: 'ack' }>): void {
    const { size } = this.manifest;
    if (msg.bytes > size || msg.bytes > this.readBytes) {
      return this.protocolError(`ack of ${msg.bytes} B exceeds the ${Math.min(this.readBytes, size)} B sent of ${size}`, { bytes: msg.bytes, read: this.readBytes, size });
    }
    if (msg.bytes > this.acked) {
      const before = this.acked;
      this.acked = msg.bytes;
      this.lastProgressAt = this.sc.now();
      this.store.ack(this.acked);
      this.demand?.recheck();
      // Throughput, ETA and percent follow what the receiver confirmed, not what left this side.
      this.telemetry.input({ kind: 'progress', bytes: msg.bytes - before });
      this.telemetry.progress(this.acked, this.sentBytes);
    }
    this.telemetry.input({ kind: 'receiver', queuedBytes: msg.queued });
  }

  /** Answers NACKs the store says are due; while it holds postponed ones, asks it again every 50 ms. */
  private serveNacks(indexes: Iterable<number>): void {
    const wasIdle = this.store.postponed === 0;
    this.resend(this.store.nack(indexes, this.sc.now(), this.rttMs));
    if (wasIdle && this.store.postponed) this.timers.later(MIN_RESEND_INTERVAL_MS / 2, () => this.servePostponed());
  }

  private servePostponed(): void {
    if (this.finished) return;
    this.resend(this.store.due(this.sc.now(), this.rttMs));
    if (this.store.postponed) this.timers.later(MIN_RESEND_INTERVAL_MS / 2, () => this.servePostponed());
  }

  private resend(chunks: readonly Chunk[]): void {
    for (const c of chunks) this.retransmit$.next(encodeFrame({ transferId: this.id, index: c.index, offset: c.offset, flags: FLAG_RETRANSMIT }, c.data));
  }

  /** `complete` is believed only after `done`, with every byte acknowledged and our own digest. */
  private onComplete(msg: Extract<ControlMessage, { t: 'complete' }>): void {
    const { size } = this.manifest;
    if (!this.doneSent || this.sha256 === undefined) return this.protocolError('complete before the sender sent done');
    if (this.acked !== size) return this.protocolError(`complete with ${this.acked} of ${size} B acknowledged`, { acked: this.acked, size });
    if (msg.sha256 !== this.sha256) return this.fail(new HashMismatchError(-1, this.sha256, msg.sha256, 'sha-256'), true);
    this.telemetry.progress(size, size);
    const seconds = (this.sc.now() - this.startedAt) / 1000;
    this.cleanup();
    this.subscriber.next({ type: 'completed', manifest: this.manifest, sha256: this.sha256, bytes: size, seconds, retransmittedBytes: this.retransmittedPayload });
    // Nothing more to say: close at once, which also tells the receiver (waiting for our close) we have it.
    closeAll([...this.data, this.control]);
    this.subscriber.complete();
  }

  /**
   * One closed channel is routed around (its lost frames come back through NACKs); when every data channel
   * has closed, no credit can ever return: fail, unless `done` is out. Then the receiver may have verified
   * the file and be closing, with `complete` on its way: that, an `error`, a close or the idle timeout decides.
   */
  private channelClosed(): void {
    if (this.finished || this.data.some((ch) => ch.readyState !== 'closed' && ch.readyState !== 'closing')) return;
    this.timers.later(1000, () => {
      if (!this.finished && !this.doneSent) this.fail(new ChannelClosedError('every data channel closed during the transfer', { channels: this.data.length }), true);
    });
  }

  private protocolError(message: string, details: Record<string, unknown> = {}): void {
    this.fail(new ProtocolError(message, { id: this.id, ...details }), true);
  }

  private fail(err: unknown, notifyPeer: boolean): void {
    if (this.finished) return;
    const e = asTallowError(err);
    if (notifyPeer) notifyFailure(this.link, this.id, e);
    this.cleanup();
    closeTransfer([this.control, ...this.data], notifyPeer && !(e instanceof ProtocolError), this.sc);
    this.subscriber.error(e);
  }

  private cleanup(): void {
    this.phase = 'ended';
    for (const ch of this.data) ch.removeEventListener('close', this.onChannelClose);
    this.retransmit$.complete();
    this.telemetry.stop();
    this.timers.unsubscribe();
    for (const sub of this.subs) sub.unsubscribe();
    this.link.dispose();
    this.store.clear();
  }
}
