/**
 * Sends one file over one or more peer connections. Composed from the public
 * operators; docs/protocol.md gives the message sequence and README shows the
 * same pipeline written by hand.
 */
import { asyncScheduler, defer, map, of, race, take, timer, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { type Sha256Factory } from '../hash/sha256';
import { type NetworkConditions } from '../operators/chooseChunkSize';
import type { RouteConfig } from '../operators/routeInternals';
import { type Bytes, type Chunk, type DataChannelLike, type PeerConnectionLike, type Routed } from '../types';
import { describeFile, type FileInput, type FileMeta } from './fileInput';
import { AUTO_START, resolveTuning, type ProfileName, type TransferTuning } from './profiles';
import { pickProfile } from '../stats/pickProfile';
import { readRttMs } from './readRttMs';
import { withViews, type TransferObservable } from './TransferObservable';
import type { LaneOptions } from './laneSignal';
import type { LaneControllerConfig } from './laneControllerConfig';
import type { LaneDecision } from './laneController';
import { toFileEvents } from './toFileEvents';
import type { ReconnectOptions } from './resumeSession';
import { checkSendOptions, resumableSend } from './sendFiles';

/**
 * Options for {@link sendFile}. Every field is optional. A value of the wrong type or out of range (a negative
 * timeout, `strategy: 'random'`, a `route` that is not a function) fails the send at subscription with
 * `InvalidConfigError`, before anything is created or sent.
 */
export interface SendOptions extends Partial<TransferTuning>, FileMeta, ReconnectOptions, LaneOptions {
  /**
   * Extra peer connections the sender opens itself, signalled over the control channel (`createConnection`
   * builds them; the receiver answers with its own), each a lane of its own (0-15), all at once. Default: 0,
   * except with `auto` given one connection and no `lanes` option: the lane controller opens them as the path
   * needs ({@link autoInbandLanes}). Capped by `maxLanes`. A profile other than `auto` opens none unless this
   * is set.
   */
  readonly inbandLanes?: number;
  /** Most lanes in all (connections given plus opened in band), 1-16. Default 16. */
  readonly maxLanes?: number;
  /** Gap between the starts of two lanes opened in band with a fixed `inbandLanes`, ms. Default 250. */
  readonly laneStaggerMs?: number;
  /** `auto`: the lane controller's thresholds (its `maxLanes` is this `maxLanes`). Default: its defaults. */
  readonly laneController?: Omit<LaneControllerConfig, 'maxLanes' | 'minLanes' | 'initialLanes'>;
  /**
   * `auto` with the lane controller: called with each of its decisions as it is made, holds included (about
   * one per `stats` event once data has flowed `laneController.settleMs`), for a log or a dashboard. The
   * `sample` says what it judged, `reason` why (docs/stats.md, "The lane controller"). Only the lane count
   * and the last change reach the `stats` events; this is the whole record. What it throws fails the
   * transfer with `TallowError` `ERR_INTERNAL`, the thrown value as its `cause`. Default: none.
   */
  readonly onLaneDecision?: (decision: LaneDecision) => void;
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
   * conditions and the bounds it must keep. Default: `adaptiveChunk`. Its chunks are checked (`data` a
   * `Uint8Array`, indexes dense from 0, offsets contiguous, `minChunk` to `maxChunk` bytes but the last, which
   * may be smaller, ending at the file size): a bad one fails the transfer with `InvalidConfigError`. Do not
   * change a chunk's `data` after emitting it (it is kept for retransmission). Acks, the window, NACKs, resume
   * and stats work as with the default.
   */
  readonly chunking?: (conditions$: Observable<number | NetworkConditions>, bounds: ChunkBounds) => OperatorFunction<Bytes, Chunk>;
  /**
   * Your own router: an operator from encoded frames to `{ channel, frame }`, given the transfer's data
   * channels. Default: `roundRobin` (or `leastBuffered`). Every frame must go to one of `channels`
   * (else `InvalidConfigError`). Backpressure comes after it, and the sender never reads more than
   * `window` bytes past the last ack, so whatever your router holds counts against the window: it cannot
   * break the memory bound. Retransmissions pass through it too. `config` has `high`, and with `auto`'s
   * in-band lanes also each channel's watermark (`highOf`) and the channels to hold back (`reserved`).
   */
  readonly route?: (channels: readonly DataChannelLike[], config: RouteConfig & { readonly high: number }) => OperatorFunction<Bytes, Routed>;
  /** The session's id (file `i`'s frames carry `(id + i) mod 2^32`). Default: random. */
  readonly transferId?: number;
  /** Negotiated id of data channel 0 (announced in the offer; ids up to 1023). Default: a free block of 16 ids from 512 up, rotating per connection. */
  readonly channelIdBase?: number;
  /** Cap on message size when the stack reports none or more. Default 262144 (Chrome). */
  readonly maxMessageSize?: number;
  /**
   * Most frame bytes handed to the channels' `send()` in one task of the event loop; the rest go out in the
   * next tasks (at least one frame per task). In a page each `send()` waits for the browser's WebRTC thread,
   * so a refill of several 256 KiB frames is one long task of the main thread. Default: 262144 (one frame)
   * where `document` exists (a browser page), `Infinity` (no limit) elsewhere.
   */
  readonly sendBytesPerTask?: number;
  /** Network conditions for the chunk policy. Default: derived from this transfer's stats. */
  readonly conditions$?: Observable<number | NetworkConditions>;
  /** Fail when the receiver acknowledges no new bytes (and completes no file) for this long once data flows, ms. Default 30000. */
  readonly idleTimeoutMs?: number;
  /** How long to wait for the control channel to open and the receiver to answer the offer, ms; then `IdleTimeoutError`. Default 120000. */
  readonly acceptTimeoutMs?: number;
  /** Progress event spacing, ms. Default 100. */
  readonly progressIntervalMs?: number;
  /** Stats sample spacing, ms. Default 1000. */
  readonly sampleIntervalMs?: number;
  /**
   * `sendFiles`: most files started and not yet confirmed at once (`offer.parallel`, 1-64). Only one file is
   * read at a time; the others wait for the receiver's `complete`, so its verification and fsync overlap with
   * the next file's data. Default 8.
   */
  readonly filesInFlight?: number;
  /** Largest single read from the source. Default: the largest chunk, so reads line up with chunks. */
  readonly readSize?: number;
  /** SHA-256 implementation. Default: node:crypto in Node; elsewhere WebAssembly in the page's hash worker (pure JS where no worker can start). */
  readonly createHash?: Sha256Factory;
  /** `auto`: how long to wait for `getStats()` when picking the starting profile, ms. Default 500. */
  readonly probeTimeoutMs?: number;
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

/**
 * Sends `file` to the peer that runs {@link receiveFile} (or `receiveFiles`) on the same connection(s): a
 * session of one file. Shared while it runs: subscriptions at the same
 * time (and the `stats$` and `progress$` views) see one transfer, which starts with the first and is cancelled on
 * both sides when the last unsubscribes; a subscription after it ended starts a new one. To run two at once,
 * call the function twice.
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
 * @return an Observable of {@link TransferEvent}, with `stats$` and `progress$` views of the same transfer
 */
export function sendFile(connection: PeerConnectionLike | readonly PeerConnectionLike[], file: FileInput, options: SendOptions = {}): TransferObservable {
  return withViews(
    defer(() => {
      const o = checkSendOptions('sendFile', options);
      return resumableSend(connection, { files: [describeFile(file, o)] }, o, 'sendFile').pipe(toFileEvents());
    }),
  );
}

/** Most lanes (and channels) one transfer uses; the protocol's limit on data channels. */
export const MAX_AUTO_LANES = 16;

/**
 * `auto`'s lanes and channels: every connection offered (up to {@link MAX_AUTO_LANES}) becomes a
 * lane, with at least the profile's channel count (in a browser page: one channel per lane, see below).
 * Loss-based congestion control caps one SCTP association near MSS / (RTT × √loss) (about 4 Mbit/s at
 * 40 ms and 0.5 % loss), so separate associations are the lever a transport-agnostic library has; an
 * explicit `lanes` or `channels` wins. In Chromium a second channel on one association costs its SCTP
 * stack more CPU per byte for no gain (docs/benchmarks.md, "Two channels on one association in Chromium"),
 * so `onePerLane` (a page) gives each lane one channel.
 */
export function autoLanes(profile: ProfileName, offered: number, overrides: Partial<TransferTuning> = {}, onePerLane = false): Pick<TransferTuning, 'lanes' | 'channels'> {
  const wanted = overrides.lanes ?? Math.max(1, Math.min(offered, MAX_AUTO_LANES));
  const channels = overrides.channels ?? Math.max(onePerLane ? 1 : resolveTuning(profile).channels, wanted);
  return { channels, lanes: Math.min(wanted, channels) };
}

/**
 * `auto`'s lanes opened in band: given one connection, the lane controller may open up to `maxLanes - 1` more
 * (15 by default): the start lanes before data on a path with an RTT, then one at a time while the path looks
 * loss-bound and goodput rises (`laneController`). None when the app chose its lanes: it gave several
 * connections, or set `lanes` (a lane count is a lane count: `lanes: 1` means one association). `channels`
 * alone leaves them on (it sizes the given connection's channels; each in-band lane gets one).
 */
export function autoInbandLanes(given: number, maxLanes: number, overrides: Partial<Pick<TransferTuning, 'lanes'>> = {}): number {
  return given === 1 && overrides.lanes === undefined ? Math.max(0, maxLanes - 1) : 0;
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
    readRttMs(pc).pipe(map((rttMs) => (rttMs === undefined ? fallback : { profile: pickProfile({ rttMs }), rttMs }))),
    timer(timeoutMs, scheduler).pipe(map(() => fallback)),
  ).pipe(take(1));
}

