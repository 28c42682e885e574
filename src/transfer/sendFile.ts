/**
 * Sends one file over one or more peer connections. Composed from the public
 * operators; docs/protocol.md gives the message sequence and README shows the
 * same pipeline written by hand.
 */
import { asyncScheduler, defer, catchError, map, of, race, take, timer, switchMap, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { InvalidConfigError } from '../errors';
import { type Sha256Factory } from '../hash/sha256';
import { type NetworkConditions } from '../operators/chooseChunkSize';
import { type Manifest } from '../protocol/control';
import { FRAME_HEADER_SIZE } from '../protocol/frame';
import { CHROME_MAX_MESSAGE_SIZE, MIN_CHUNK_SIZE, type Bytes, type Chunk, type DataChannelLike, type PeerConnectionLike, type Routed } from '../types';
import { settle } from './settle';
import { SenderSession, type SenderSettings } from './SenderSession';
import { describeFile, type FileDescriptor, type FileInput, type FileMeta } from './fileInput';
import { AUTO_START, resolveTuning, type ProfileName, type TransferTuning } from './profiles';
import { parseStatsReport } from '../stats/parseStatsReport';
import { pickProfile } from '../stats/pickProfile';
import type { TransferEvent } from './TransferEvent';
import { withViews, type TransferObservable } from './TransferObservable';
import { allocateIdBase, closeAll, createControlChannel, lanesOf, negotiatedMaxMessageSize } from './transferChannels';

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
  /** Fail when the receiver acknowledges no new bytes for this long once data flows, ms. Default 30000. */
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

export { MIN_RESEND_INTERVAL_MS } from './RetransmitStore';

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

function runSender(
  lanes: readonly PeerConnectionLike[],
  desc: FileDescriptor,
  manifest: Manifest,
  tuning: TransferTuning,
  settings: SenderSettings,
): Observable<TransferEvent> {
  return new Observable<TransferEvent>((subscriber) => {
    const session = new SenderSession(lanes, desc, manifest, tuning, settings, subscriber);
    session.start();
    return () => session.cancel();
  });
}
