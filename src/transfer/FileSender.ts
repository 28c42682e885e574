/**
 * One file of a sending session: its resumed-prefix check, its data path
 * (read → hash → chunk → CRC → keep → frame → route → backpressure → send), its
 * retransmit store, and the checks on its `ack`, `nack` and `complete`
 * (docs/protocol.md). The session (SenderSession) owns the channels, the
 * control link, the window and the order of files; it hands each file a
 * {@link FileSendContext}.
 */
import { catchError, defer, map, mergeWith, Subject, tap, throwError, type Observable, type OperatorFunction, type SchedulerLike, Subscription } from 'rxjs';
import { HashMismatchError, InvalidConfigError, ProtocolError, SourceReadError } from '../errors';
import { Demand } from '../flow/Demand';
import { FramePool } from '../flow/FramePool';
import { crc32InWorker, isCrcBatcher } from '../hash/crc32InWorker';
import { createSha256, type Sha256 } from '../hash/sha256';
import { adaptiveChunk } from '../operators/adaptiveChunk';
import { backpressure } from '../operators/backpressure';
import { chooseChunkSize, type NetworkConditions } from '../operators/chooseChunkSize';
import { encodeFrames } from '../operators/encodeFrames';
import { leastBuffered } from '../operators/leastBuffered';
import { roundRobin } from '../operators/roundRobin';
import type { ControlMessage, Manifest } from '../protocol/control';
import { encodeFrame, FLAG_RETRANSMIT, FRAME_HEADER_SIZE, frameIndexOf, isRetransmission } from '../protocol/frame';
import { sendToChannels } from '../sinks/sendToChannels';
import type { Chunk, DataChannelLike } from '../types';
import { checkChunks } from './checkChunks';
import { checkRouted } from './checkRouted';
import type { FileDescriptor } from './fileInput';
import { hashHeldPrefix } from './hashHeldPrefix';
import { settle } from './settle';
import type { TransferTuning } from './profiles';
import { MAX_NACKED_COPIES, MIN_RESEND_INTERVAL_MS, RetransmitStore } from './RetransmitStore';
import type { ChunkBounds, SendOptions } from './sendFile';
import { Timers } from './watchdog';

/** How often a file checks whether its ack frontier stalled, ms. */
export const FRONTIER_CHECK_MS = 500;

/** What a file needs from its session. */
export interface FileSendContext {
  readonly sc: SchedulerLike;
  readonly data: readonly DataChannelLike[];
  readonly tuning: TransferTuning;
  /** Bytes handed to each data channel by every file of the session (the retransmit stores add to it). */
  readonly handed: Map<DataChannelLike, number>;
  /** What the session's retransmit stores know of the receiver (whether it repeats its NACKs). */
  readonly peer: { repeats: boolean };
  /** Each data channel's own watermark (in time, see `LaneWatermarks`); default `tuning.high`. */
  readonly highOf?: (channel: DataChannelLike) => number;
  /** `backpressure`'s `frameCredit`: watermarks that may be below a frame. */
  readonly frameCredit?: boolean;
  /** Channels the router gives frames only when no other is left (the control connection's, under in-band lanes). */
  readonly reserved?: (channel: DataChannelLike) => boolean;
  readonly settings: SendOptions & {
    readonly maxMessageSize: number;
    readonly minChunk: number;
    readonly maxChunk: number;
    readonly strategy: 'round-robin' | 'least-buffered';
    readonly initialRttMs?: number;
  };
  /** Sends a control message on the session's control channel. */
  send(msg: ControlMessage): boolean;
  /** Bytes this file may still read: the session's window minus what every file holds unacknowledged. */
  credit(): number;
  /** The chunk policy's input (the session's stats, or the user's `conditions$`). */
  readonly conditions$: Observable<number | NetworkConditions>;
  /** The latest RTT estimate, ms. */
  rttMs(): number;
  /**
   * A send on `channel` failed as closed while it may still read `open` (node-datachannel): true when other data
   * channels carry on (the frame is skipped; the channel is made to read closed, and what it carried goes again
   * on the others), false when it was the last (the transfer fails with `ChannelClosedError`).
   */
  sendFailed(channel: DataChannelLike): boolean;
  /** How long the ack frontier may stand still before a stalled lane's chunks are re-injected, ms (Infinity: never). */
  frontierStallMs(): number;
  /** Counters and callbacks into the session. */
  onChunk(c: Chunk): void;
  onNacked(count: number): void;
  onProgress(): void;
  /** Data starts (after the prefix check, or its restart), at byte `from`. */
  onStarted(file: FileSender, from: number): void;
  onAcked(bytes: number): void;
  onDoneSent(file: FileSender, sha256: string): void;
  onCompleted(file: FileSender, sha256: string): void;
  fail(err: unknown, notifyPeer: boolean): void;
}

/** Where a file is: checking a resumed prefix, waiting for `resume` 0 after a `restart`, sending, complete. */
type FileState = 'checking' | 'restarting' | 'sending' | 'complete';

/**
 * The first chunk size: what the chunk policy picks for the RTT `auto` probed, or 64 KiB (within the
 * bounds) when no RTT is known or the caller supplies its own `conditions$`.
 */
const initialChunkSize = (s: FileSendContext['settings'], reliable: boolean): number =>
  s.initialRttMs === undefined || s.conditions$
    ? Math.min(s.maxChunk, Math.max(s.minChunk, 64 * 1024))
    : chooseChunkSize({ rttMs: s.initialRttMs }, { maxMessageSize: s.maxMessageSize, minChunk: s.minChunk, maxChunk: s.maxChunk, reliable });

/**
 * The most bytes a file reads ahead of its CRC step, unless its reads or chunks are larger: eight of the hash
 * worker's 1 MiB batches, so the worker still has work queued while an answer waits for the page's busy main
 * thread (on a loaded machine, tens of ms), instead of the session's whole window (16 MiB on a LAN). Each answer
 * frees a batch, so a task on the page reads, copies and posts about one.
 */
export const READ_AHEAD_BYTES = 8 * 1024 * 1024;

export class FileSender {
  private state: FileState = 'checking';
  private readonly store: RetransmitStore;
  /** Re-injections since the frontier last moved. */
  private fruitlessReinjections = 0;
  /** Bytes the receiver's last ack said it holds in order but has not persisted yet (its disk's backlog). */
  private receiverBacklog = 0;
  /** When the ack frontier last moved (or data started, or the last re-injection), scheduler ms. */
  private frontierAt = 0;
  /** The channel a stalled frontier waited on: the router passes it by until `until`. */
  private avoided: { readonly channel: DataChannelLike; readonly until: number; readonly ms: number } | undefined;
  private readonly retransmit$ = new Subject<Uint8Array>();
  /** Each frame's chunk index and whether it is a resend, carried from where it was made to its hand-off. */
  private readonly framed = new WeakMap<Uint8Array, { readonly index: number; readonly retransmit: boolean }>();
  private readonly timers: Timers;
  private readonly subs = new Subscription();
  private demand: Demand | undefined;
  /** Where this file's bytes start (the receiver's verified prefix). */
  private startFrom = 0;
  /** Bytes the receiver verified and persisted (its acks), and bytes read from the source. */
  acked = 0;
  readBytes = 0;
  // Bytes that came out of the CRC step (framed or about to be): `readBytes - checkedBytes` wait for their CRC.
  private checkedBytes = 0;
  /** Payload handed to channels the first time, and again as retransmissions. */
  private sentPayload = 0;
  retransmittedPayload = 0;
  private chunkCount = 0;
  // The file's SHA-256, once the hasher answered (after the last chunk's CRC; a worker's digest is a promise).
  private sha256: string | undefined;
  doneSent = false;
  startedAt: number;

  constructor(
    private readonly ctx: FileSendContext,
    readonly manifest: Manifest,
    private readonly desc: FileDescriptor,
    private readonly resume: { readonly from: number; readonly prefixSha256?: string },
  ) {
    this.timers = new Timers(ctx.sc);
    this.startedAt = ctx.sc.now();
    this.store = new RetransmitStore({ minResendIntervalMs: MIN_RESEND_INTERVAL_MS, handed: ctx.handed, peer: ctx.peer });
  }

  get sentBytes(): number {
    return Math.min(this.sentPayload + this.startFrom, this.manifest.size);
  }

  /** Bytes read and not yet acknowledged (what this file holds against the window). */
  get outstanding(): number {
    return this.state === 'complete' ? 0 : Math.max(0, this.readBytes - this.acked);
  }

  /** Starts: data from 0, or (resume) after checking the receiver's prefix against ours. */
  start(): void {
    const { from } = this.resume;
    if (from > this.manifest.size) return this.protocolError(`receiver resumes at ${from}, past the end of ${this.manifest.size} B`, { from });
    if (from > 0 && !this.desc.seekable) {
      // A stream cannot read the receiver's prefix back to check it: that file starts over from 0 (restart).
      this.state = 'restarting';
      this.ctx.send({ t: 'restart', id: this.manifest.session, i: this.manifest.index });
      return;
    }
    const held$ = hashHeldPrefix(from, this.ctx.settings.createHash ?? createSha256, () => this.desc.read({ start: 0, end: from }));
    this.subs.add(
      held$.subscribe({
        next: ({ hasher, prefixSha256 }) => {
          if (this.state !== 'checking') return;
          if (from === 0 || prefixSha256 === this.resume.prefixSha256) return this.startData(from, hasher);
          // The receiver holds other bytes than ours (the source changed): this file starts over from 0.
          this.state = 'restarting';
          this.ctx.send({ t: 'restart', id: this.manifest.session, i: this.manifest.index });
        },
        error: (err) => this.ctx.fail(err, true),
      }),
    );
  }

  /** `resume` with `from: 0`, the answer to our `restart`. */
  onResume(msg: Extract<ControlMessage, { t: 'resume' }>): void {
    if (this.state !== 'restarting' || msg.from !== 0) return this.protocolError(`unexpected resume of file ${msg.i} at ${msg.from}`, { i: msg.i, from: msg.from });
    this.state = 'checking';
    const factory = this.ctx.settings.createHash ?? createSha256;
    this.subs.add(hashHeldPrefix(0, factory, () => this.desc.read({ start: 0, end: 0 })).subscribe({ next: ({ hasher }) => this.startData(0, hasher), error: (err) => this.ctx.fail(err, true) }));
  }

  /** Data flows from byte `from`: the window opens. */
  private startData(from: number, hasher: Sha256): void {
    this.state = 'sending';
    this.startedAt = this.ctx.sc.now();
    this.startFrom = this.readBytes = this.checkedBytes = this.acked = from;
    this.ctx.onStarted(this, from);
    // The app unsubscribed in its `file-started` handler: the session stopped this file; nothing more starts.
    if (this.subs.closed) return;
    this.frontierAt = this.ctx.sc.now();
    this.watchFrontier();
    // The session's window, and at most `readAhead` bytes between the read and the CRC step (with a hash worker,
    // chunks wait there for its answer: without a bound the channels' free room would be read again and again).
    const s = this.ctx.settings;
    const readAhead = Math.max(READ_AHEAD_BYTES, 2 * ((s.readSize ?? s.maxChunk) + s.maxChunk));
    this.demand = new Demand({ limit: () => Math.min(this.ctx.credit(), readAhead - (this.readBytes - this.checkedBytes)) });
    // `defer`: a `chunking` or `route` of the app's that throws while the pipeline is built fails the transfer
    // (ERR_INTERNAL, the receiver told) like one that errors later, instead of escaping from this handler.
    this.subs.add(defer(() => this.sendFrames(from, hasher)).subscribe({ error: (err) => this.ctx.fail(err, true) }));
  }

  /** Asks the source for more when the session's window reopened. */
  recheck(): void {
    this.demand?.recheck();
  }

  /** The data path from byte `from` on: read → hash → chunk → keep → frame → route → backpressure → send. */
  private sendFrames(from: number, hasher: Sha256): Observable<unknown> {
    const { settings: s, tuning, data, sc } = this.ctx;
    const route = s.route ?? (s.strategy === 'least-buffered' ? leastBuffered : roundRobin);
    const chunking = s.chunking ?? ((c$: Observable<number | NetworkConditions>, b: ChunkBounds) => adaptiveChunk(c$, b));
    // Frames are dead once sent (channels copy them): their buffers carry the next frames. Neither a frame
    // buffer nor a read is larger than what is left of the file (a 4 KiB file does not allocate 256 KiB twice).
    const left = Math.max(1, this.manifest.size - from);
    const framePool = new FramePool({ bufferSize: Math.min(s.maxChunk, left) + FRAME_HEADER_SIZE });
    // A hasher in the page's hash worker takes each chunk once for both hashes (SHA-256 and the chunk's CRC-32);
    // any other hasher is fed as the bytes are read, and the CRCs come from the worker or are computed here.
    const both = isCrcBatcher(hasher) ? hasher : undefined;
    return this.desc.read({ demand: this.demand, start: from, readSize: Math.min(s.readSize ?? s.maxChunk, left) }).pipe(
      catchError((err: unknown) => throwError(() => this.sourceError(err))),
      tap({ next: (b) => this.onRead(b, both ? undefined : hasher), complete: () => this.onSourceEnd() }),
      operatorOf('chunking', chunking(this.ctx.conditions$, this.bounds(from))),
      checkChunks({ startOffset: from, size: this.manifest.size, maxChunk: s.maxChunk, minChunk: s.minChunk }),
      // Each chunk's CRC-32: in the page's hash worker in a browser (the chunks wait for it, in order), here in Node.
      crc32InWorker({ attach: (c: Chunk, crc) => ({ ...c, checksum: crc }), batcher: both }),
      // Every chunk has its CRC, so every byte reached the hasher: the digest now, then `done`.
      tap({ next: (c) => this.onChunk(c), complete: () => this.onChunksEnd(hasher) }),
      encodeFrames({ transferId: this.manifest.id, pool: framePool }),
      // encodeFrames maps one chunk to one frame, at once: the frame is the last chunk's.
      tap((frame) => this.framed.set(frame, { index: this.chunkCount - 1, retransmit: false })),
      mergeWith(this.retransmit$),
      operatorOf('route', route(data, { high: tuning.high, highOf: this.ctx.highOf, reserved: (ch) => this.ctx.reserved?.(ch) === true || this.isAvoided(ch) })),
      checkRouted(data),
      // The largest frame this file sends (a chunk and its header): with frameCredit, the opening credit.
      backpressure({ high: tuning.high, highOf: this.ctx.highOf, frameCredit: this.ctx.frameCredit, low: tuning.low, demand: this.demand, maxMessageSize: Math.min(s.maxMessageSize, s.maxChunk + FRAME_HEADER_SIZE), maxBytesPerTask: s.sendBytesPerTask, scheduler: sc, channels: data, allClosed: 'wait' }),
      tap(({ channel, frame }) => this.onHandedOff(channel, frame)),
      // A lane's node-datachannel channel can read 'open' after its connection went: a send that fails as
      // closed there skips the frame, and the channel's close event resends it (channelLost).
      sendToChannels({ maxMessageSize: s.maxMessageSize, pool: framePool, skipClosed: (ch) => this.ctx.sendFailed(ch) }),
      map(() => undefined),
    );
  }

  /**
   * A read error names the file as offered, not its local path: its message goes to the peer. The path stays in
   * `details` and the original error is the `cause`.
   */
  private sourceError(err: unknown): unknown {
    // A size check (`ESIZE`, streamFile's) names the file as offered already and no path.
    if (!(err instanceof SourceReadError) || err.details.code === 'ESIZE') return err;
    const code = typeof err.details.code === 'string' ? ` (${err.details.code})` : '';
    return new SourceReadError(`${this.manifest.name} cannot be read${code}`, err.details, err);
  }

  private bounds(from: number): ChunkBounds {
    const s = this.ctx.settings;
    const reliable = this.ctx.tuning.reliability === 'reliable';
    return { maxMessageSize: s.maxMessageSize, minChunk: s.minChunk, maxChunk: s.maxChunk, initialSize: initialChunkSize(s, reliable), startOffset: from, reliable };
  }

  private onRead(bytes: Uint8Array, hasher: Sha256 | undefined): void {
    hasher?.update(bytes);
    this.readBytes += bytes.length;
  }

  /** A source that ends early (a file truncated while being read) fails here, before the receiver sees a gap. */
  private onSourceEnd(): void {
    const { size, name } = this.manifest;
    if (this.readBytes !== size) {
      const how = this.readBytes < size ? 'shrank' : 'grew';
      throw new SourceReadError(`${name} ended after ${this.readBytes} of its ${size} B (it ${how} while being read)`, { code: 'ESIZE', read: this.readBytes, size });
    }
  }

  /** Every chunk is out of the CRC step: asks for the file's SHA-256, then sends `done`. */
  private onChunksEnd(hasher: Sha256): void {
    this.sha256 = undefined;
    this.subs.add(
      settle(hasher.digestHex()).subscribe({
        next: (hex) => {
          this.sha256 = hex;
          this.sendDone();
        },
        error: (err) => this.ctx.fail(err, true),
      }),
    );
  }

  private onChunk(c: Chunk): void {
    this.checkedBytes += c.data.length;
    this.demand?.recheck();
    this.store.add(c);
    this.chunkCount = c.index + 1;
    this.ctx.onChunk(c);
  }

  private sendDone(): void {
    const { session, index, size } = this.manifest;
    this.doneSent = this.ctx.send({ t: 'done', id: session, i: index, chunks: this.chunkCount, bytes: size, sha256: this.sha256! });
    this.ctx.onDoneSent(this, this.sha256!);
  }

  /** A frame went to a channel. Progress counts first transmissions only; retransmitted bytes apart. */
  private onHandedOff(channel: DataChannelLike, frame: Uint8Array): void {
    const payload = frame.length - FRAME_HEADER_SIZE;
    // What the frame carries, from when it was made; a router that handed on a copy instead: from its header.
    const meta = this.framed.get(frame) ?? { index: frameIndexOf(frame), retransmit: isRetransmission(frame) };
    this.framed.delete(frame);
    this.store.handedOff(channel, meta.index, frame.length, this.ctx.sc.now());
    if (meta.retransmit) this.retransmittedPayload += payload;
    else {
      this.sentPayload += payload;
      this.ctx.onProgress();
    }
  }

  onAck(msg: Extract<ControlMessage, { t: 'ack' }>): void {
    const { size } = this.manifest;
    if (msg.bytes > size || msg.bytes > this.readBytes) {
      return this.protocolError(`ack of ${msg.bytes} B exceeds the ${Math.min(this.readBytes, size)} B sent of ${size}`, { bytes: msg.bytes, read: this.readBytes, size });
    }
    this.receiverBacklog = msg.queued;
    if (msg.bytes <= this.acked) return;
    const grown = msg.bytes - this.acked;
    this.acked = msg.bytes;
    this.frontierAt = this.ctx.sc.now();
    this.fruitlessReinjections = 0;
    this.store.ack(this.acked);
    this.ctx.onAcked(grown);
  }

  /** Answers NACKs the store says are due; while it holds postponed ones, asks it again every 50 ms. */
  onNack(indexes: readonly number[]): void {
    if (this.state === 'complete') return;
    const wasIdle = this.store.postponed === 0;
    this.resendNacked(this.store.nack(indexes, this.ctx.sc.now(), this.ctx.rttMs()));
    if (wasIdle && this.store.postponed) this.timers.later(MIN_RESEND_INTERVAL_MS / 2, () => this.servePostponed());
  }

  private servePostponed(): void {
    if (this.state === 'complete') return;
    this.resendNacked(this.store.due(this.ctx.sc.now(), this.ctx.rttMs()));
    if (this.store.postponed) this.timers.later(MIN_RESEND_INTERVAL_MS / 2, () => this.servePostponed());
  }

  /** Resends what NACKs asked for, unless one chunk was asked for more than {@link MAX_NACKED_COPIES} times. */
  private resendNacked(chunks: readonly Chunk[]): void {
    const over = chunks.find((c) => this.store.timesNacked(c.index) > MAX_NACKED_COPIES);
    // The loss the stats show: copies sent again for a NACK, not NACK entries (a receiver repeats its NACK every
    // 100 ms while the copy waits in a queue; counted, they read as 50-100 % loss on a 5 % link).
    if (!over) return this.ctx.onNacked(chunks.length), this.resend(chunks);
    this.protocolError(`chunk ${over.index} of ${this.manifest.name} NACKed over ${MAX_NACKED_COPIES} times`, { index: over.index, copies: this.store.timesNacked(over.index) });
  }

  /** Checks the ack frontier every {@link FRONTIER_CHECK_MS} while data flows. */
  private watchFrontier(): void {
    this.timers.later(FRONTIER_CHECK_MS, () => {
      if (this.state !== 'sending') return;
      this.reinjectStalled();
      this.watchFrontier();
    });
  }

  /**
   * Re-injection, as multipath TCP does it: when no ack moved the frontier for the session's `frontierStallMs`, the
   * chunk it waits for sits on one lane that delivers nothing (an association in retransmission back-off,
   * which no event shows; the receiver's own stall NACK comes only after 15 s). That lane's unacknowledged
   * chunks go again on the others, and the router passes that lane by for four stall times (twice as long each
   * time the frontier stalls on it again). A duplicate costs a chunk; the receiver drops it.
   */
  private reinjectStalled(): void {
    const now = this.ctx.sc.now();
    const stallMs = this.ctx.frontierStallMs();
    // A receiver whose disk is behind holds the frontier itself: nothing is missing, and resending would not help.
    // Each re-injection that brought no ack doubles the wait for the next (a receiver gone silent costs a window
    // or so, not one per stall until the idle timeout).
    const waitMs = stallMs * 2 ** this.fruitlessReinjections;
    if (this.store.size === 0 || now - this.frontierAt < waitMs || this.receiverBacklog > 0) return;
    this.frontierAt = now;
    this.fruitlessReinjections++;
    const { channel, chunks } = this.store.frontier(now, this.ctx.rttMs());
    if (!chunks.length) return;
    if (channel) {
      // A lane in retransmission back-off stays there for seconds: it is passed by for 4 stall times, and twice
      // as long each time the frontier stalls on it again (at most a minute).
      const ms = this.avoided?.channel === channel ? Math.min(2 * this.avoided.ms, 60_000) : 4 * stallMs;
      this.avoided = { channel, until: now + ms, ms };
    }
    this.resend(chunks);
  }

  private isAvoided(channel: DataChannelLike): boolean {
    return this.avoided?.channel === channel && this.ctx.sc.now() < this.avoided.until;
  }

  /** A data channel closed: what this file had in flight on it goes again on the others. */
  channelLost(channel: DataChannelLike): void {
    if (this.state === 'sending') this.resend(this.store.lostOn(channel));
  }

  private resend(chunks: readonly Chunk[]): void {
    for (const c of chunks) {
      const frame = encodeFrame({ transferId: this.manifest.id, index: c.index, offset: c.offset, checksum: c.checksum, flags: FLAG_RETRANSMIT }, c.data);
      this.framed.set(frame, { index: c.index, retransmit: true });
      this.retransmit$.next(frame);
    }
  }

  /** `complete` is believed only after `done`, with every byte acknowledged and our own digest. */
  onComplete(msg: Extract<ControlMessage, { t: 'complete' }>): void {
    const { size } = this.manifest;
    if (!this.doneSent || this.sha256 === undefined) return this.protocolError(`complete of file ${msg.i} before the sender sent its done`);
    if (this.acked !== size) return this.protocolError(`complete of file ${msg.i} with ${this.acked} of ${size} B acknowledged`, { acked: this.acked, size });
    if (msg.sha256 !== this.sha256) return this.ctx.fail(new HashMismatchError(-1, this.sha256, msg.sha256, 'sha-256'), true);
    this.stop();
    this.state = 'complete';
    this.ctx.onCompleted(this, this.sha256);
  }

  private protocolError(message: string, details: Record<string, unknown> = {}): void {
    this.ctx.fail(new ProtocolError(message, { id: this.manifest.session, i: this.manifest.index, ...details }), true);
  }

  /** Ends this file's data path, timers and store (the session ended, or the file is complete). */
  stop(): void {
    this.retransmit$.complete();
    this.timers.unsubscribe();
    this.subs.unsubscribe();
    this.store.clear();
  }
}

/** What an app's `chunking` or `route` returned, checked to be an operator (else "fn is not a function", ERR_INTERNAL). */
function operatorOf<A, B>(option: string, made: OperatorFunction<A, B>): OperatorFunction<A, B> {
  if (typeof made === 'function') return made;
  throw new InvalidConfigError(`${option} must return an operator (source => Observable), got ${made === null ? 'null' : typeof made}`, { option, got: made === null ? 'null' : typeof made });
}
