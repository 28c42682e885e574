/**
 * Sends many files and folders in one session: one offer lists them, one
 * accept answers, and the files flow one after another over the same channels
 * (docs/protocol.md). `sendFile` is the one-file case.
 */
import { asyncScheduler, defer, finalize, Observable, switchMap } from 'rxjs';
import { InvalidConfigError } from '../errors';
import { resolveLaneControllerConfig } from './laneControllerConfig';
import { defaultSendBytesPerTask } from './sendBytesPerTask';
import { isBrowserPage } from './isBrowserPage';
import { MAX_INBAND_LANES, MAX_NAME_LENGTH, MAX_PARALLEL, type SessionSettings } from '../protocol/control';
import { FRAME_HEADER_SIZE } from '../protocol/frame';
import { CHROME_MAX_MESSAGE_SIZE, MIN_CHUNK_SIZE, type PeerConnectionLike } from '../types';
import { describeFile, type FileDescriptor, type FileInput } from './fileInput';
import type { FileSet } from './FileSet';
import { AUTO_START, PROFILES, resolveTuning, type ProfileName, type TransferTuning } from './profiles';
import { autoInbandLanes, autoLanes, MAX_AUTO_LANES, probeConditions, type SendOptions } from './sendFile';
import { SenderSession, type SenderSettings } from './SenderSession';
import type { SessionEvent } from './SessionEvent';
import { withSessionViews, type SessionObservable } from './SessionObservable';
import { resumeSession } from './resumeSession';
import { LANE_STAGGER_MS, SenderLanePool } from './SenderLanePool';
import type { LaneRule } from './SenderLanes';
import { allocateIdBase, closeAll, createControlChannel, lanesOf, MAX_CHANNEL_ID, negotiatedMaxMessageSize } from './transferChannels';
import { checkConnections, checkOpen, checkOptions, fn, intIn, invalid, nonNegativeMs, object, observable, oneOf, positive, positiveMs, SHARED_RULES, text, type RuleTable } from './checkOptions';

/** Most files one `sendFiles` offers (each is one control message before the receiver can answer). */
export const MAX_SESSION_FILES = 100_000;

const randomId = (): number => (Math.random() * 0xffff_ffff) >>> 0;

/**
 * Sends `files` to the peer that runs `receiveFiles` on the same connection(s), as one session. Shared while it runs: subscriptions at the same
 * time (and the `stats$` and `progress$` views) see one transfer, which starts with the first and is cancelled on
 * both sides when the last unsubscribes; a subscription after it ended starts a new one. To run two at once,
 * call the function twice.
 *
 * ```
 * events: --started--file-started--progress--file-progress--file-completed--file-started--…--completed|
 * ```
 *
 * ## Example
 * ```ts
 * import { sendFiles } from 'tallow-rx';
 * import { filesFromPaths } from 'tallow-rx/node';
 * sendFiles(pc, await filesFromPaths(['photos', 'notes.txt'])).subscribe((e) => console.log(e.type));
 * ```
 * @param connection one RTCPeerConnection, or several to use as lanes
 * @param files a {@link FileSet} (files named by relative path, plus empty folders), or an array of inputs
 * @param options see {@link SendOptions}
 * @return an Observable of {@link SessionEvent}, with `stats$` and `progress$` views
 */
export function sendFiles(connection: PeerConnectionLike | readonly PeerConnectionLike[], files: FileSet | readonly FileInput[], options: SendOptions = {}): SessionObservable {
  return withSessionViews(
    defer(() => {
      const o = checkSendOptions('sendFiles', options);
      return resumableSend(connection, fileSetOf(files), o, 'sendFiles');
    }),
  );
}

/**
 * What each {@link SendOptions} field must be, checked at subscription. The tuning (`channels` … `reliability`,
 * with the bounds that tie two together), `profile` and `laneController`'s fields are checked where they are
 * resolved ({@link sendSession}), also before anything is created.
 */
const sendRules = (): RuleTable => ({
  ...SHARED_RULES,
  transferId: intIn(0, 0xffff_ffff),
  maxMessageSize: { ...intIn(FRAME_HEADER_SIZE + 1), says: `an integer >= ${FRAME_HEADER_SIZE + 1} (a ${FRAME_HEADER_SIZE}-byte frame header and 1 byte of data)` },
  channelIdBase: intIn(0, MAX_CHANNEL_ID),
  strategy: oneOf('round-robin', 'least-buffered'),
  acceptTimeoutMs: positiveMs,
  probeTimeoutMs: nonNegativeMs,
  laneStaggerMs: nonNegativeMs,
  readSize: intIn(1),
  name: text,
  type: text,
  lastModified: { test: (v) => typeof v === 'number' && Number.isFinite(v), says: 'a finite number (ms since 1970)' },
  route: fn,
  chunking: fn,
  onLaneDecision: fn,
  conditions$: observable,
  filesInFlight: intIn(1, MAX_PARALLEL),
  sendBytesPerTask: { ...positive, says: 'a number of bytes > 0 (Infinity for no limit)' },
  maxLanes: intIn(1, MAX_AUTO_LANES),
  inbandLanes: intIn(0, MAX_INBAND_LANES),
  laneController: object,
});

/**
 * `options` checked against {@link sendRules} (`InvalidConfigError` naming the option); `undefined` is `{}`. A key
 * that is no option (neither there, a {@link TransferTuning} field nor `profile`) is refused too.
 */
export const checkSendOptions = (where: string, options: SendOptions | undefined): SendOptions =>
  checkOptions(where, options, sendRules(), 'options', [...Object.keys(PROFILES.lan), 'profile']);

/** `files` as a set: an array of inputs, or a {@link FileSet} as given. */
function fileSetOf(files: FileSet | readonly FileInput[]): FileSet {
  if (Array.isArray(files)) return { files: files.map((f) => describeFile(f)) };
  if (typeof files !== 'object' || files === null || !Array.isArray((files as FileSet).files)) throw invalid('sendFiles', 'files', 'an array of files or a FileSet', files);
  return files as FileSet;
}

/**
 * {@link sendSession}, and with `reconnect` the same session again (same id, every file offered again: the
 * receiver skips what it completed and resumes what it holds in part) on new connections after a loss.
 */
export function resumableSend(connection: PeerConnectionLike | readonly PeerConnectionLike[], set: FileSet, options: SendOptions, where = 'sendFiles'): Observable<SessionEvent> {
  // A connection closed already fails the send, even with `reconnect`: nothing was lost, nothing is resumed.
  checkOpen(where, checkConnections(where, lanesOf(connection)));
  const transferId = options.transferId ?? randomId();
  return defer(() => {
    // The in-band lanes outlive each run of the session (reused by the next) and close with the whole send.
    const pool = new SenderLanePool({ ...options, scheduler: options.scheduler ?? asyncScheduler, staggerMs: options.laneStaggerMs ?? LANE_STAGGER_MS });
    // `reconnect`'s connections are checked in each run: a closed one is another loss, within the grace.
    // The digest of each file whose `done` went out: a later run whose receiver skips a file it completed (its
    // `complete` lost with the connection) confirms it with this digest.
    const digests = new Map<number, string>();
    // Files a later run's receiver skipped with that same digest: they arrived.
    const confirmed = new Set<number>();
    const hooks = {
      onDigest: (i: number, sha256: string) => void digests.set(i, sha256),
      priorDigest: (i: number) => digests.get(i),
      onConfirmedBySkip: (i: number) => void confirmed.add(i),
    };
    const run = (c: PeerConnectionLike | readonly PeerConnectionLike[]) => defer(() => sendSession(c, set, { ...options, transferId, ...hooks }, pool, where));
    const arrived = (i: number) => (confirmed.has(i) ? digests.get(i) : undefined);
    return resumeSession(connection, run, { ...options, side: 'sender', arrived }).pipe(finalize(() => pool.close()));
  });
}

/** What a run of a resumable send reports to the next (the digests of its `done`s, the files a `skip` confirmed). */
type RunHooks = Pick<SenderSettings, 'onDigest' | 'priorDigest' | 'onConfirmedBySkip'>;

/** Validates the connections, the options and the set, then (with `auto`) probes the RTT and runs one {@link SenderSession}. */
export function sendSession(
  connection: PeerConnectionLike | readonly PeerConnectionLike[],
  set: FileSet,
  options: SendOptions & RunHooks,
  pool?: SenderLanePool,
  where = 'sendFiles',
): Observable<SessionEvent> {
  const lanes = checkOpen(where, checkConnections(where, lanesOf(connection)));
  const files = set.files.map((f) => describeFile(f));
  if (files.length > MAX_SESSION_FILES) throw new InvalidConfigError(`a session offers at most ${MAX_SESSION_FILES} files (got ${files.length})`, { files: files.length });
  // A name the protocol cannot carry: the receiver would take the offer for a malformed message (ProtocolError).
  const long = [...files.map((f) => f.name), ...(set.folders ?? [])].find((name) => name.length > MAX_NAME_LENGTH);
  if (long !== undefined) throw new InvalidConfigError(`a name of ${long.length} characters: the protocol carries at most ${MAX_NAME_LENGTH}`, { name: long.slice(0, 64), length: long.length });
  const parallel = options.filesInFlight ?? 8;
  const { profile = 'auto' } = options;
  const overrides: Partial<TransferTuning> = {};
  for (const k of ['channels', 'lanes', 'minChunk', 'maxChunk', 'high', 'low', 'window', 'reliability'] as const) {
    if (options[k] !== undefined) (overrides as any)[k] = options[k];
  }
  // Validate the overrides now, so bad input fails before anything is created.
  resolveTuning(profile === 'auto' ? AUTO_START : profile, overrides, where);
  const folders = set.folders ?? [];
  const maxLanes = options.maxLanes ?? MAX_AUTO_LANES;
  const room = Math.max(0, Math.min(MAX_INBAND_LANES, maxLanes - lanes.length));
  const inband = options.inbandLanes;
  // The lane controller reads its options only once the receiver accepted: a bad one must fail here, as this observable's error.
  if (options.laneController !== undefined) resolveLaneControllerConfig(options.laneController);
  const withPool = (o: SendOptions, n: number, laneRule: LaneRule) => ({ ...o, filesInFlight: parallel, lanePool: pool, inbandLanes: Math.min(n, room), laneRule, where });
  if (profile !== 'auto') return runSession(lanes, files, folders, profile, overrides, withPool(options, inband ?? 0, 'fixed'));
  return probeConditions(lanes[0], options.probeTimeoutMs ?? 500, options.scheduler ?? asyncScheduler).pipe(
    switchMap(({ profile: picked, rttMs }) => {
      // `auto` lets the chunk size roam the whole range the link allows; the adaptive policy picks within it.
      const roam: Partial<TransferTuning> = {
        minChunk: Math.min(MIN_CHUNK_SIZE, overrides.maxChunk ?? MIN_CHUNK_SIZE),
        ...(overrides.reliability === 'unreliable' ? {} : { maxChunk: CHROME_MAX_MESSAGE_SIZE }),
        ...autoLanes(picked, lanes.length, overrides, isBrowserPage()),
        ...overrides,
      };
      // The probed RTT also picks the first chunk size, instead of waiting a stats interval for it.
      const lanePlan = inband === undefined ? withPool(options, autoInbandLanes(lanes.length, maxLanes, overrides), 'controller') : withPool(options, inband, 'fixed');
      return runSession(lanes, files, folders, picked, roam, { ...lanePlan, initialRttMs: rttMs });
    }),
  );
}

/** Resolves the tuning, the channel ids and the session settings, then runs the session per subscription. */
function runSession(
  lanes: readonly PeerConnectionLike[],
  files: readonly FileDescriptor[],
  folders: readonly string[],
  profile: ProfileName,
  overrides: Partial<TransferTuning>,
  options: SendOptions & { readonly filesInFlight: number; readonly initialRttMs?: number; readonly lanePool?: SenderLanePool; readonly inbandLanes: number; readonly laneRule: LaneRule; readonly where: string },
): Observable<SessionEvent> {
  const base = resolveTuning(profile, overrides, options.where);
  const tuning: TransferTuning = { ...base, lanes: Math.min(base.lanes, lanes.length, base.channels) };
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
  const maxMessageSize = negotiatedMaxMessageSize(lanes, options.maxMessageSize);
  const maxChunk = Math.min(tuning.maxChunk, maxMessageSize - FRAME_HEADER_SIZE);
  const minChunk = Math.min(tuning.minChunk, maxChunk);
  const session: SessionSettings = {
    channels: tuning.channels,
    lanes: tuning.lanes,
    idBase: ids.idBase,
    reliability: tuning.reliability,
    chunk: { min: minChunk, max: maxChunk },
    digest: 'sha-256',
    window: tuning.window,
    parallel: options.filesInFlight,
  };
  const settings = {
    ...options,
    scheduler: options.scheduler ?? asyncScheduler,
    idBase: ids.idBase,
    releaseIds: ids.release,
    control,
    sessionId: options.transferId ?? randomId(),
    maxMessageSize,
    minChunk,
    maxChunk,
    sendBytesPerTask: options.sendBytesPerTask ?? defaultSendBytesPerTask(),
    strategy: options.strategy ?? 'round-robin',
    profileName: profile,
  } as const;
  return new Observable<SessionEvent>((subscriber) => {
    const s = new SenderSession(lanes, files, folders, tuning, session, settings, subscriber);
    s.start();
    return () => s.cancel();
  });
}
