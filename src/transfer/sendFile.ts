/**
 * Sends one file over one or more peer connections. Composed from the public
 * operators; docs/protocol.md gives the message sequence and README shows the
 * same pipeline written by hand.
 */
import {
  asyncScheduler,
  defer,
  catchError,
  firstValueFrom,
  forkJoin,
  map,
  of,
  race,
  take,
  timer,
  switchMap,
  mergeWith,
  Observable,
  Subject,
  Subscription,
  tap,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
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
import { createSha256, type Sha256, type Sha256Factory } from '../hash/sha256';
import { adaptiveChunk } from '../operators/adaptiveChunk';
import { chooseChunkSize, type NetworkConditions } from '../operators/chooseChunkSize';
import { backpressure } from '../operators/backpressure';
import { encodeFrames } from '../operators/encodeFrames';
import { leastBuffered } from '../operators/leastBuffered';
import { roundRobin } from '../operators/roundRobin';
import { CONTROL_VERSION, type ControlMessage, type Manifest } from '../protocol/control';
import { encodeFrame, FLAG_RETRANSMIT, FRAME_HEADER_SIZE, frameIndexOf, isRetransmission } from '../protocol/frame';
import { sendToChannels } from '../sinks/sendToChannels';
import { CHROME_MAX_MESSAGE_SIZE, MIN_CHUNK_SIZE, type Bytes, type Chunk, type DataChannelLike, type PeerConnectionLike, type Routed } from '../types';
import { controlLink, whenOpen } from './controlLink';
import { hashHeldPrefix } from './hashHeldPrefix';
import { RetransmitStore } from './RetransmitStore';
import { checkChunks } from './checkChunks';
import { checkRouted } from './checkRouted';
import { checkLegal, SENDER_TABLE, type SenderPhase } from './sessionTable';
import { settle } from './settle';
import { describeFile, type FileDescriptor, type FileInput, type FileMeta } from './fileInput';
import { AUTO_START, resolveTuning, type ProfileName, type TransferTuning } from './profiles';
import { parseStatsReport } from '../stats/parseStatsReport';
import { pickProfile } from '../stats/pickProfile';
import { notifyFailure, remoteError } from './peerFailure';
import { transferTelemetry } from './transferTelemetry';
import type { TransferEvent } from './TransferEvent';
import { withViews, type TransferObservable } from './TransferObservable';
import { allocateIdBase, closeAll, closeTransfer, closeWhenDrained, createControlChannel, createDataChannels, negotiatedMaxMessageSize, whenAllClosed } from './transferChannels';

/** Options for {@link sendFile}. Every field is optional. */
export interface SendOptions extends Partial<TransferTuning>, FileMeta {
  /**
   * A built-in profile, or `auto` (default): start from the profile that the measured RTT picks, adapt
   * the chunk size to RTT, loss and bitrate, and use every peer connection passed as a lane (up to 16,
   * with at least one channel each): each lane is its own SCTP association with its own congestion
   * window, which is what lifts throughput on lossy or long paths. `lanes` and `channels` override.
   */
  readonly profile?: ProfileName | 'auto';
  /** Built-in frame routing: `round-robin` (default) or `least-buffered`. `route` replaces it. */
  readonly strategy?: 'round-robin' | 'least-buffered';
  /**
   * Your own chunk sizing: an operator from the file's bytes to chunks, given this transfer's network
   * conditions and the bounds it must keep. Default: `adaptiveChunk`. Its chunks are checked (indexes dense
   * from 0, offsets contiguous, 1 to `maxChunk` bytes, ending at the file size): a bad one fails the
   * transfer with `InvalidConfigError`. Acks, the window, NACKs, resume and stats work as with the default.
   */
  readonly chunking?: (conditions$: Observable<number | NetworkConditions>, bounds: ChunkBounds) => OperatorFunction<Bytes, Chunk>;
  /**
   * Your own router: an operator from encoded frames to `{ channel, frame }`, given the transfer's data
   * channels. Default: `roundRobin` (or `leastBuffered`). Every frame must go to one of `channels`
   * (else `InvalidConfigError`). Backpressure comes after it, and the sender never reads more than
   * `window` bytes past the last ack, so whatever your router holds counts against the window: it cannot
   * break the memory bound. Retransmissions pass through it too.
   */
  readonly route?: (channels: readonly DataChannelLike[], config: { readonly high: number }) => OperatorFunction<Bytes, Routed>;
  /** Transfer id carried in every frame. Default: random. */
  readonly transferId?: number;
  /** Negotiated id of data channel 0 (announced in the offer; ids up to 1023). Default: a free block of 16 ids from 512 up, rotating per connection. */
  readonly channelIdBase?: number;
  /** Cap on message size when the stack reports none or more. Default 262144 (Chrome). */
  readonly maxMessageSize?: number;
  /** Network conditions for the chunk policy. Default: derived from this transfer's stats. */
  readonly conditions$?: Observable<number | NetworkConditions>;
  /** Fail when no control message arrives for this long, ms. Default 30000. */
  readonly idleTimeout?: number;
  /** How long to wait for the control channel to open and the receiver to answer the offer, ms; then `IdleTimeoutError`. Default 120000. */
  readonly acceptTimeout?: number;
  /** Progress event spacing, ms. Default 100. Stats come every `statsInterval` ms (default 1000). */
  readonly progressInterval?: number;
  readonly statsInterval?: number;
  /** Largest single read from the source. Default: the largest chunk, so reads line up with chunks. */
  readonly readSize?: number;
  /** SHA-256 implementation. Default: node:crypto in Node, hash-wasm elsewhere. */
  readonly createHash?: Sha256Factory;
  /** `auto`: how long to wait for `getStats()` when picking the starting profile, ms. Default 500. */
  readonly probeTimeout?: number;
  readonly scheduler?: SchedulerLike;
}

/**
 * The first chunk size: what the chunk policy picks for the RTT `auto` probed, or 64 KiB (within the
 * bounds) when no RTT is known or the caller supplies its own `conditions$`.
 */
const initialChunkSize = (s: { initialRttMs?: number; conditions$?: unknown; minChunk: number; maxChunk: number; maxMessageSize: number }, reliable: boolean): number =>
  s.initialRttMs === undefined || s.conditions$
    ? Math.min(s.maxChunk, Math.max(s.minChunk, 64 * 1024))
    : chooseChunkSize({ rttMs: s.initialRttMs }, { maxMessageSize: s.maxMessageSize, minChunk: s.minChunk, maxChunk: s.maxChunk, reliable });

/** The bounds a `chunking` operator must keep (see {@link SendOptions.chunking}). */
export interface ChunkBounds {
  /** Smallest and largest payload, bytes; only the last chunk may be below `minChunk`. */
  readonly minChunk: number;
  readonly maxChunk: number;
  /** Offset of the first chunk (> 0 when resuming); chunk indexes start at 0 either way. */
  readonly startOffset: number;
  /** The size the built-in policy would start with, bytes. */
  readonly initialSize: number;
  readonly maxMessageSize: number;
  readonly reliable: boolean;
}

/** A chunk is resent at most this often, ms (1.5 × RTT when that is longer). */
export const MIN_RESEND_INTERVAL_MS = 100;

const lanesOf = (c: PeerConnectionLike | readonly PeerConnectionLike[]): readonly PeerConnectionLike[] => (Array.isArray(c) ? c : [c as PeerConnectionLike]);
const randomId = (): number => (Math.random() * 0xffff_ffff) >>> 0;

/**
 * Sends `file` to the peer that runs {@link receiveFile} on the same
 * connection(s). Cold: each subscription is one transfer; unsubscribing cancels
 * it on both sides.
 *
 * ```
 * events: --started--progress--progress--stats--…--completed|
 * ```
 *
 * ## Example
 * ```ts
 * import { sendFile } from 'tallow-rx';
 * sendFile(pc, fileInput.files[0], { profile: 'auto' }).subscribe((e) => console.log(e.type));
 * ```
 * @param connection one RTCPeerConnection, or several to use as lanes
 * @param file a Blob/File, bytes, or a FileDescriptor (`fileFromPath` in Node)
 * @param options see {@link SendOptions}
 * @return a cold Observable of {@link TransferEvent}, with `stats$` and `progress$` views of the same transfer
 */
export function sendFile(connection: PeerConnectionLike | readonly PeerConnectionLike[], file: FileInput, options: SendOptions = {}): TransferObservable {
  return withViews(defer(() => {
    const lanes = lanesOf(connection);
    if (!lanes.length) throw new InvalidConfigError('sendFile needs at least one peer connection');
    const desc = describeFile(file, options);
    const { profile = 'auto' } = options;
    const overrides: Partial<TransferTuning> = {};
    for (const k of ['channels', 'lanes', 'minChunk', 'maxChunk', 'high', 'low', 'window', 'reliability'] as const) {
      if (options[k] !== undefined) (overrides as any)[k] = options[k];
    }
    // Validate the overrides now, so bad input fails before anything is created.
    resolveTuning(profile === 'auto' ? AUTO_START : profile, overrides);
    if (profile !== 'auto') return prepareSender(lanes, desc, profile, overrides, options);
    return probeConditions(lanes[0], options.probeTimeout ?? 500, options.scheduler ?? asyncScheduler).pipe(
      switchMap(({ profile: picked, rttMs }) => {
        // `auto` lets the chunk size roam the whole range the link allows; the adaptive policy picks within it.
        const roam: Partial<TransferTuning> = {
          minChunk: MIN_CHUNK_SIZE,
          ...(overrides.reliability === 'unreliable' ? {} : { maxChunk: CHROME_MAX_MESSAGE_SIZE }),
          ...autoLanes(picked, lanes.length, overrides),
          ...overrides,
        };
        // The probed RTT also picks the first chunk size, instead of waiting a stats interval for it.
        return prepareSender(lanes, desc, picked, roam, { ...options, initialRttMs: rttMs });
      }),
    );
  }));
}

/** Most lanes (and channels) one transfer uses; the protocol's limit on data channels. */
export const MAX_AUTO_LANES = 16;

/**
 * `auto`'s lanes and channels: every connection offered (up to {@link MAX_AUTO_LANES}) becomes a
 * lane, with at least the profile's channel count. Loss-based congestion control caps one SCTP
 * association near MSS / (RTT × √loss) (about 4 Mbit/s at 40 ms and 0.5 % loss), so separate
 * associations are the lever a transport-agnostic library has; an explicit `lanes` or `channels` wins.
 */
export function autoLanes(profile: ProfileName, offered: number, overrides: Partial<TransferTuning> = {}): Pick<TransferTuning, 'lanes' | 'channels'> {
  const wanted = overrides.lanes ?? Math.max(1, Math.min(offered, MAX_AUTO_LANES));
  const channels = overrides.channels ?? Math.max(resolveTuning(profile).channels, wanted);
  return { channels, lanes: Math.min(wanted, channels) };
}

/**
 * `auto`: picks a starting profile from the RTT that `getStats()` reports for
 * the connection (`lan` when it reports none within `timeoutMs`).
 */
export async function probeProfile(pc: PeerConnectionLike, timeoutMs = 500): Promise<ProfileName> {
  return (await firstValueFrom(probeConditions(pc, timeoutMs))).profile;
}

/**
 * `auto`'s probe: the RTT that `getStats()` reports for the connection within
 * `timeoutMs` on `scheduler` (undefined when none), and the profile it picks
 * (`lan` without one). Emits once; never errors.
 */
export function probeConditions(pc: PeerConnectionLike, timeoutMs = 500, scheduler: SchedulerLike = asyncScheduler): Observable<{ profile: ProfileName; rttMs?: number }> {
  const fallback = { profile: AUTO_START as ProfileName };
  if (typeof pc.getStats !== 'function') return of(fallback);
  return race(
    defer(() => settle(pc.getStats!())).pipe(
      map((report) => {
        const rttMs = report ? parseStatsReport(report as any, scheduler.now())?.rttMs : undefined;
        return rttMs !== undefined && Number.isFinite(rttMs) && rttMs >= 0 ? { profile: pickProfile({ rttMs }), rttMs } : fallback;
      }),
      catchError(() => of(fallback)),
    ),
    timer(timeoutMs, scheduler).pipe(map(() => fallback)),
  ).pipe(take(1));
}

function prepareSender(
  lanes: readonly PeerConnectionLike[],
  desc: FileDescriptor,
  profile: ProfileName,
  overrides: Partial<TransferTuning>,
  options: SendOptions & { readonly initialRttMs?: number },
): Observable<TransferEvent> {
  {
    const strategy = options.strategy ?? 'round-robin';
    const base = resolveTuning(profile, overrides);
    const tuning: TransferTuning = { ...base, lanes: Math.min(base.lanes, lanes.length, base.channels) };
    const scheduler = options.scheduler ?? asyncScheduler;
    // The control channel exists before the data-channel ids are picked: its stream id's parity keeps two
    // peers that send to each other at once on disjoint ids.
    const control = createControlChannel(lanes[0]);
    let ids: ReturnType<typeof allocateIdBase>;
    try {
      ids = allocateIdBase(lanes.slice(0, tuning.lanes), options.channelIdBase, control.id);
    } catch (err) {
      // No ids left (a 17th transfer on one connection): the control channel must not outlive the failure.
      closeAll([control]);
      throw err;
    }
    const idBase = ids.idBase;
    const maxMessageSize = negotiatedMaxMessageSize(lanes, options.maxMessageSize);
    const maxChunk = Math.min(tuning.maxChunk, maxMessageSize - FRAME_HEADER_SIZE);
    const minChunk = Math.min(tuning.minChunk, maxChunk);
    const id = options.transferId ?? randomId();
    const manifest: Manifest = {
      id,
      name: desc.name,
      size: desc.size,
      type: desc.type,
      ...(desc.lastModified === undefined ? {} : { lastModified: Math.max(0, Math.floor(desc.lastModified)) }),
      channels: tuning.channels,
      lanes: tuning.lanes,
      idBase,
      reliability: tuning.reliability,
      chunk: { min: minChunk, max: maxChunk },
      digest: 'sha-256',
      window: tuning.window,
    };
    return runSender(lanes, desc, manifest, tuning, { ...options, scheduler, idBase, maxMessageSize, minChunk, maxChunk, strategy, releaseIds: ids.release, profileName: profile, control });
  }
}

interface SenderSettings extends SendOptions {
  readonly scheduler: SchedulerLike;
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

function runSender(
  lanes: readonly PeerConnectionLike[],
  desc: ReturnType<typeof describeFile>,
  manifest: Manifest,
  tuning: TransferTuning,
  s: SenderSettings,
): Observable<TransferEvent> {
  return new Observable<TransferEvent>((subscriber) => {
    const id = manifest.id;
    const sc = s.scheduler;
    // When data started to flow (reset at `accept`), for `completed.seconds`.
    let startedAt = sc.now();
    // The control channel and its message stream; replaced if a fresh channel dies before it opens.
    let control = s.control;
    let link = controlLink(control);
    const data: DataChannelLike[] = createDataChannels(lanes, tuning.channels, tuning.lanes, tuning.reliability, s.idBase);
    whenAllClosed(data, s.releaseIds);
    const subs: Subscription[] = [];
    // Timers that have not fired yet; a timer removes itself when it fires.
    const timers = new Subscription();
    const later = (ms: number, fn: () => void) => {
      const t = sc.schedule(() => {
        timers.remove(t);
        fn();
      }, ms);
      timers.add(t);
    };
    // Where the handshake is: waiting for `accept`, checking a resumed prefix, sending, or ended.
    let phase: SenderPhase = 'offered';
    // Bytes the receiver has verified and persisted (from its acks), and bytes read from the source.
    let acked = 0;
    let readBytes = 0;
    // When `acked` last grew (or data started): the idle timeout measures acknowledged progress.
    let lastProgressAt = sc.now();
    // Payload bytes handed to channels for the first time, and again as retransmissions.
    let sentPayload = 0;
    let retransmittedPayload = 0;
    // Chunks sent and not yet acknowledged, where their copies went, and the NACKs postponed.
    const store = new RetransmitStore({ minResendIntervalMs: MIN_RESEND_INTERVAL_MS });
    // The latest RTT estimate, ms (0 until the first stats sample).
    let rttMs = 0;
    // Chunks cut so far (indexes are dense from 0), the digest once the source is read, and `done` sent.
    let chunkCount = 0;
    let sha256: string | undefined;
    let doneSent = false;
    let demand: Demand | undefined;
    // Where this session's bytes start (the receiver's verified prefix), and whether we told it to restart.
    let startFrom = 0;
    let restartedOnce = false;
    const sentBytes = () => Math.min(sentPayload + startFrom, manifest.size);
    const retransmit$ = new Subject<Uint8Array>();
    const telemetry = transferTelemetry({
      channels: data,
      lanes: tuning.lanes,
      total: manifest.size,
      scheduler: sc,
      statsInterval: s.statsInterval,
      progressInterval: s.progressInterval,
      pc: lanes[0],
      bufferFullBytes: tuning.low,
      profile: s.profileName,
    });
    const finished = () => phase === 'ended';

    const resend = (chunks: readonly Chunk[]) => {
      for (const c of chunks) retransmit$.next(encodeFrame({ transferId: id, index: c.index, offset: c.offset, flags: FLAG_RETRANSMIT }, c.data));
    };
    /** Answers NACKs the store says are due; while it holds postponed ones, asks it again every 50 ms. */
    const serveNacks = (indexes: Iterable<number>) => {
      const wasIdle = store.postponed === 0;
      resend(store.nack(indexes, sc.now(), rttMs));
      if (wasIdle && store.postponed) later(MIN_RESEND_INTERVAL_MS / 2, servePostponed);
    };
    const servePostponed = () => {
      if (finished()) return;
      resend(store.due(sc.now(), rttMs));
      if (store.postponed) later(MIN_RESEND_INTERVAL_MS / 2, servePostponed);
    };

    // One closed channel is routed around (its lost frames come back through NACKs); when every data
    // channel has closed, no credit can ever return: fail, unless `done` is out. Then the receiver may have
    // verified the file and be closing, with `complete` still queued on the control channel, which it drains
    // before closing: its `complete`, `error` or close (or the idle timeout) ends the transfer instead.
    const onChannelClose = () => {
      if (finished() || data.some((ch) => ch.readyState !== 'closed' && ch.readyState !== 'closing')) return;
      later(1000, () => {
        if (!finished() && !doneSent) fail(new ChannelClosedError('every data channel closed during the transfer', { channels: data.length }), true);
      });
    };
    for (const ch of data) ch.addEventListener('close', onChannelClose);

    const cleanup = () => {
      phase = 'ended';
      for (const ch of data) ch.removeEventListener('close', onChannelClose);
      retransmit$.complete();
      telemetry.stop();
      timers.unsubscribe();
      for (const sub of subs) sub.unsubscribe();
      link.dispose();
      store.clear();
    };
    const fail = (err: unknown, notifyPeer: boolean) => {
      if (finished()) return;
      const e = asTallowError(err);
      if (notifyPeer) notifyFailure(link, id, e);
      cleanup();
      closeTransfer([control, ...data], notifyPeer && !(e instanceof ProtocolError), sc);
      subscriber.error(e);
    };
    const protocolError = (message: string, details: Record<string, unknown> = {}) => fail(new ProtocolError(message, { id, ...details }), true);

    const hashPrefix = (from: number) => hashHeldPrefix(from, s.createHash ?? createSha256, () => desc.read({ start: 0, end: from }));

    /** Builds the data path from byte `from` on: read → chunk → frame → route → backpressure → channels. */
    const sendFrames = (from: number, hasher: Sha256) => {
      const conditions$ =
        s.conditions$ ??
        // An application RTT includes time queued behind data: its minimum is the closer estimate of the path.
        telemetry.stats$.pipe(map((st) => ({ rttMs: (st.rtt.source === 'application' ? st.rtt.min : st.rtt.current) ?? 0, lossRate: st.loss ?? 0, bitrateBps: st.throughput.current || undefined })));
      const route = s.route ?? (s.strategy === 'least-buffered' ? leastBuffered : roundRobin);
      const bounds: ChunkBounds = {
        maxMessageSize: s.maxMessageSize,
        minChunk: s.minChunk,
        maxChunk: s.maxChunk,
        initialSize: initialChunkSize(s, tuning.reliability === 'reliable'),
        startOffset: from,
        reliable: tuning.reliability === 'reliable',
      };
      const chunking = s.chunking ?? ((c$: Observable<number | NetworkConditions>, b: ChunkBounds) => adaptiveChunk(c$, b));
      // Frames are dead once sent (channels copy them): their buffers carry the next frames.
      const framePool = new FramePool({ bufferSize: s.maxChunk + FRAME_HEADER_SIZE });
      return desc.read({ demand, start: from, readSize: s.readSize ?? s.maxChunk }).pipe(
        tap({
          next: (b) => {
            hasher.update(b);
            readBytes += b.length;
          },
          complete: () => {
            // A source that ends early (a file truncated while being read) fails here, before the receiver sees a gap.
            if (readBytes !== manifest.size) {
              throw new SourceReadError(`the source ended after ${readBytes} of its ${manifest.size} B (it shrank while being read)`, { read: readBytes, size: manifest.size });
            }
            sha256 = hasher.digestHex();
          },
        }),
        chunking(conditions$, bounds),
        checkChunks({ startOffset: from, size: manifest.size, maxChunk: s.maxChunk }),
        tap({
          next: (c) => {
            store.add(c);
            chunkCount = c.index + 1;
            telemetry.countChunks(1, 0);
            // The last chunk is usually a short tail: it says nothing about the size in use.
            if (c.data.length >= s.minChunk || c.index === 0) telemetry.input({ kind: 'chunk-size', bytes: c.data.length });
          },
          complete: () => {
            doneSent = link.send({ t: 'done', id, chunks: chunkCount, bytes: manifest.size, sha256: sha256! });
          },
        }),
        encodeFrames({ transferId: id, pool: framePool }),
        mergeWith(retransmit$),
        route(data, { high: tuning.high }),
        checkRouted(data),
        backpressure({ high: tuning.high, low: tuning.low, demand, maxMessageSize: s.maxMessageSize, scheduler: sc }),
        tap(({ channel, frame }) => noteHandedOff(channel, frame)),
        sendToChannels({ maxMessageSize: s.maxMessageSize, pool: framePool }),
      );
    };
    // Progress counts first transmissions only; retransmitted bytes are counted apart.
    const noteHandedOff = (channel: DataChannelLike, frame: Uint8Array) => {
      const payload = frame.length - FRAME_HEADER_SIZE;
      const index = frameIndexOf(frame);
      store.handedOff(channel, index, frame.length, sc.now());
      if (isRetransmission(frame)) retransmittedPayload += payload;
      else {
        sentPayload += payload;
        telemetry.progress(acked, sentBytes());
      }
    };

    const startData = (from: number, hasher: Sha256) => {
      phase = 'sending';
      startedAt = sc.now();
      lastProgressAt = sc.now();
      subscriber.next({ type: 'started', manifest, from });
      startFrom = from;
      readBytes = from;
      acked = from;
      demand = new Demand({ limit: () => acked + tuning.window - readBytes });
      // Stats and progress start at accept: the time waiting for the user to accept is not a transfer's.
      subs.push(telemetry.events$.subscribe((e) => subscriber.next(e)));
      subs.push(telemetry.stats$.subscribe((st) => void (rttMs = st.rtt.current ?? rttMs)));
      const opened$ = forkJoin(data.map((ch) => whenOpen(ch, 15_000, sc)));
      subs.push(
        opened$.subscribe({
          error: (err) => fail(err, true),
          complete: () => {
            if (finished()) return;
            subs.push(
              sendFrames(from, hasher).subscribe({
                next: () => undefined,
                error: (err) => fail(err, true),
              }),
            );
          },
        }),
      );
    };

    /** `accept`: start, or (resume) check the receiver's prefix against ours first. */
    const onAccept = (msg: Extract<ControlMessage, { t: 'accept' }>, restarted: boolean) => {
      if (msg.from > manifest.size) return protocolError(`receiver resumes at ${msg.from}, past the end of ${manifest.size} B`, { from: msg.from });
      if (msg.from > 0 && restarted) return protocolError(`receiver resumes at ${msg.from} after it was told to restart from 0`, { from: msg.from });
      if (msg.from > 0 && !desc.seekable) return fail(new InvalidConfigError('this input cannot resume: it is not seekable'), true);
      phase = 'checking';
      subs.push(
        hashPrefix(msg.from).subscribe({
          next: ({ hasher, prefixSha256 }) => {
            if (finished()) return;
            if (msg.from > 0 && prefixSha256 !== msg.prefixSha256) {
              // The receiver holds other bytes than ours (the source changed): both start over from 0.
              phase = 'offered';
              restartedOnce = true;
              link.send({ t: 'restart', id });
              return;
            }
            startData(msg.from, hasher);
          },
          error: (err) => fail(err, true),
        }),
      );
    };

    const onAck = (msg: Extract<ControlMessage, { t: 'ack' }>) => {
      if (msg.bytes > manifest.size || msg.bytes > readBytes) {
        return protocolError(`ack of ${msg.bytes} B exceeds the ${Math.min(readBytes, manifest.size)} B sent of ${manifest.size}`, { bytes: msg.bytes, read: readBytes, size: manifest.size });
      }
      if (msg.bytes > acked) {
        const before = acked;
        acked = msg.bytes;
        lastProgressAt = sc.now();
        store.ack(acked);
        demand?.recheck();
        // Throughput, ETA and percent follow what the receiver confirmed, not what left this side.
        telemetry.input({ kind: 'progress', bytes: msg.bytes - before });
        telemetry.progress(acked, sentBytes());
      }
      telemetry.input({ kind: 'receiver', queuedBytes: msg.queued });
    };

    /** `complete` is believed only after `done`, with every byte acknowledged and our own digest. */
    const onComplete = (msg: Extract<ControlMessage, { t: 'complete' }>) => {
      if (!doneSent || sha256 === undefined) return protocolError('complete before the sender sent done');
      if (acked !== manifest.size) return protocolError(`complete with ${acked} of ${manifest.size} B acknowledged`, { acked, size: manifest.size });
      if (msg.sha256 !== sha256) return fail(new HashMismatchError(-1, sha256, msg.sha256, 'sha-256'), true);
      telemetry.progress(manifest.size, manifest.size);
      const event: TransferEvent = {
        type: 'completed',
        manifest,
        sha256,
        bytes: manifest.size,
        seconds: (sc.now() - startedAt) / 1000,
        retransmittedBytes: retransmittedPayload,
      };
      cleanup();
      subscriber.next(event);
      closeWhenDrained([...data, control], { scheduler: sc });
      subscriber.complete();
    };

    /** Dispatches a message the table allows in this phase; anything else is a ProtocolError. */
    const onControl = (msg: ControlMessage) => {
      if (finished()) return;
      if ('id' in msg && msg.id !== id) return;
      try {
        checkLegal(SENDER_TABLE, 'sender', phase, msg.t, id);
      } catch (err) {
        return fail(err, true);
      }
      switch (msg.t) {
        case 'ping':
          return void link.send({ t: 'pong', n: msg.n, ts: msg.ts });
        case 'pong':
          return telemetry.appRtt(sc.now() - msg.ts);
        case 'cancel':
          return fail(new TransferCancelledError('remote', msg.reason), false);
        case 'error':
          return fail(remoteError(msg.code, `receiver failed: ${msg.message}`, msg.cause), false);
        case 'reject':
          cleanup();
          closeAll([...data, control]);
          return subscriber.error(new TransferRejectedError(msg.reason));
        case 'accept':
          return onAccept(msg, restartedOnce);
        case 'ack':
          return onAck(msg);
        case 'nack':
          telemetry.countChunks(0, msg.chunks.length);
          return serveNacks(msg.chunks);
        case 'complete':
          return onComplete(msg);
      }
    };

    const acceptTimeout = s.acceptTimeout ?? 120_000;
    // Right after a connection comes up, a new in-band channel sometimes closes before it ever opens
    // (seen with node-datachannel, a few per cent of fresh connections). Nothing was sent on it yet, so
    // a new control channel is safe: up to CONTROL_ATTEMPTS, 200 ms apart.
    const CONTROL_ATTEMPTS = 3;
    const connectControl = (attempt: number) => {
      let opened = false;
      let retried = false;
      const retryOrFail = (err: unknown) => {
        if (finished() || retried) return;
        if (!opened && attempt < CONTROL_ATTEMPTS && err instanceof ChannelClosedError) {
          retried = true;
          link.dispose();
          later(200, () => {
            if (finished()) return;
            control = createControlChannel(lanes[0]);
            link = controlLink(control);
            connectControl(attempt + 1);
          });
          return;
        }
        // A malformed message is answered with an `error` before this side closes; a closed channel cannot be.
        fail(err, !(err instanceof ChannelClosedError));
      };
      subs.push(link.messages$.subscribe({ next: onControl, error: retryOrFail }));
      subs.push(
        // A channel that neither opens nor closes within 5 s is retried too (the last attempt waits acceptTimeout).
        whenOpen(control, attempt < CONTROL_ATTEMPTS ? Math.min(5000, acceptTimeout) : acceptTimeout, sc).subscribe({
          next: () => {
            opened = true;
            link.send({ t: 'offer', v: CONTROL_VERSION, ...manifest });
            // Nobody answered (no receiver listening, or the user never decided).
            later(acceptTimeout, () => {
              if (phase === 'offered') fail(new IdleTimeoutError(acceptTimeout, { side: 'sender', waitingFor: 'accept', measured: 'an answer to the offer' }), true);
            });
          },
          error: retryOrFail,
        }),
      );
    };
    connectControl(1);
    // Liveness and application-level RTT: a ping every second, answered by the receiver.
    let pingN = 0;
    subs.push(
      sc.schedule(function (this: any) {
        if (finished()) return;
        link.send({ t: 'ping', n: pingN++ >>> 0, ts: sc.now() });
        this.schedule(undefined, 1000);
      }, 1000),
    );
    // Idleness is no acknowledged progress once data flows: pongs, NACKs and duplicate acks do not count.
    const idle = s.idleTimeout ?? 30_000;
    subs.push(
      sc.schedule(function (this: any) {
        if (finished()) return;
        const quiet = phase === 'sending' ? sc.now() - lastProgressAt : 0;
        if (quiet >= idle) {
          return fail(new IdleTimeoutError(idle, { side: 'sender', measured: 'acknowledged bytes', progress: acked, total: manifest.size }), true);
        }
        this.schedule(undefined, Math.min(idle - quiet, 1000));
      }, Math.min(idle, 1000)),
    );

    return () => {
      if (!finished()) {
        link.send({ t: 'cancel', id, reason: 'cancelled by sender' });
        cleanup();
        closeTransfer([control, ...data], true, sc);
      }
    };
  });
}
