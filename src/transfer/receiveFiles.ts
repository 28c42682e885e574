/**
 * Receives a session of files (docs/protocol.md, version 3): waits for an offer and its file list, checks
 * the limits, asks `accept`, then receives the taken files one after another (a few at a time), each
 * through `frames → repairChunks → reorder → verifyHash → target`.
 */
import { asyncScheduler, defer, finalize, isObservable, Observable, shareReplay, take, tap, type SchedulerLike } from 'rxjs';
import type { Sha256Factory } from '../hash/sha256';
import { MAX_NAME_LENGTH, type Manifest } from '../protocol/control';
import type { PeerConnectionLike } from '../types';
import { ReceiverSession, type ReceiverSessionConfig } from './ReceiverSession';
import type { ReceiveTarget } from './ReceiveTarget';
import type { SessionEvent, SessionOffer } from './SessionEvent';
import { withSessionViews, type SessionObservable } from './SessionObservable';
import { resumeSession, type ReconnectOptions } from './resumeSession';
import { lanesOf } from './transferChannels';
import type { LaneOptions } from './laneSignal';
import { ReceiverLanePool } from './ReceiverLanePool';
import { checkConnections, checkOpen, checkOptions, fn, intIn, limit, objectWith, positive, positiveMs, SHARED_RULES, type RuleTable } from './checkOptions';
import { changedListing } from './changedListing';

/** What `accept` may answer: `true` takes every file, `false` rejects the offer, an array takes those files and skips the rest. */
export type AcceptDecision = boolean | readonly Manifest[];

/**
 * Options for {@link receiveFiles}. A value of the wrong type or out of range (a negative limit or timeout, a
 * `target` without `open`) fails the receive at subscription with `InvalidConfigError`, before it listens.
 */
export interface ReceiveFilesOptions extends ReconnectOptions, LaneOptions {
  /** Where the files go. Default `blobTarget()` (in memory). */
  readonly target?: ReceiveTarget;
  /**
   * Decides on an offer (after the limits passed). Default: take every file. An Observable's first value
   * decides (handy in virtual time).
   */
  readonly accept?: (offer: SessionOffer) => AcceptDecision | Promise<AcceptDecision> | Observable<AcceptDecision>;
  /**
   * Most files one offer may list, and most folders (listed, or that its paths go through) (more: reject,
   * `LimitExceededError`). Default 10000.
   */
  readonly maxFiles?: number;
  /** Largest sum of the offered files' sizes, bytes. Default `Number.MAX_SAFE_INTEGER`. */
  readonly maxTotalSize?: number;
  /** Largest single file, bytes. Default `Number.MAX_SAFE_INTEGER`. */
  readonly maxFileSize?: number;
  /** Longest file or folder path, characters: an integer from 0 to 1024 (the protocol's longest name). Default 1024. */
  readonly maxPathLength?: number;
  /**
   * Most out-of-order chunks held per file while waiting for a gap to fill. Default 1024, and never less than an
   * offer lets its sender have in flight (ceil(window / chunk.min) + 1); an offer needing more than 65,536 is
   * refused with `LimitExceededError`. The memory bound is `maxBufferedBytes`.
   */
  readonly maxBufferedChunks?: number;
  /**
   * Most out-of-order bytes held per file, and by all the files of a session together (a sender may start up
   * to `parallel` files, 64, at once). Each held chunk counts its payload plus 1 KiB, about what holding it costs,
   * so tiny chunks cannot hold far more memory than this says. Default 64 MiB.
   */
  readonly maxBufferedBytes?: number;
  /**
   * Fail when no bytes are verified and no file completes for this long once accepted, ms. Default 30000. In
   * reliable mode a chunk missing behind later ones is NACKed after 15 s, or half of this when shorter.
   */
  readonly idleTimeoutMs?: number;
  /** Unreliable mode: how long a gap waits before it is NACKed, ms. Default 100. */
  readonly nackDelayMs?: number;
  /** Re-requests of a corrupted chunk before failing. Default 3. */
  readonly maxCorruptRetries?: number;
  /** Malformed frames tolerated in a session (dropped and re-requested) before it fails with `FrameDecodeError`. Default 64. */
  readonly maxMalformedFrames?: number;
  /**
   * Acknowledge every this many persisted bytes of a file. Default 1 MiB, and at most a quarter of the sender's
   * `window`. Whatever it is, the receiver also acks once a second while bytes are persisted (a slow link).
   */
  readonly ackEvery?: number;
  /** Spacing of `progress` and `file-progress` events, ms. Default 100. */
  readonly progressIntervalMs?: number;
  /** Stats sample interval, ms. Default 1000. */
  readonly sampleIntervalMs?: number;
  /** SHA-256 factory. Default: node:crypto where available, else a portable implementation. */
  readonly createHash?: Sha256Factory;
  /** Drives every timer. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Receives the next session the peer offers with `sendFiles` (or `sendFile`). Shared while it runs: subscriptions at the same
 * time (and the `stats$` and `progress$` views) see one transfer, which starts with the first and is cancelled on
 * both sides when the last unsubscribes; a subscription after it ended starts a new one. To run two at once,
 * call the function twice.
 *
 * ```
 * events: --offer--started--file-started--progress--file-completed--…--completed|
 * ```
 *
 * ## Example
 * ```ts
 * import { receiveFiles } from 'tallow-rx';
 * receiveFiles(pc, { maxFiles: 100 }).subscribe((e) => e.type === 'file-completed' && save(e.manifest.name, e.result!)); // a Blob
 * ```
 * @param connection one RTCPeerConnection, or several (lanes), in the same order as the sender's
 * @param options see {@link ReceiveFilesOptions}
 * @return an Observable of {@link SessionEvent}, with `stats$` and `progress$` views of the same session
 */
export function receiveFiles<R = Blob>(connection: PeerConnectionLike | readonly PeerConnectionLike[], options: ReceiveFilesOptions & { readonly target?: ReceiveTarget<R> } = {}): SessionObservable<R> {
  return <SessionObservable<R>>withSessionViews(defer(() => runReceiveFiles(connection, checkReceiveOptions('receiveFiles', options), 'receiveFiles')));
}

/**
 * What each {@link ReceiveFilesOptions} field must be, checked at subscription (`accept` as `receiveFile`'s too).
 * Built when asked: a table at module level (a spread, calls) would stay in every app bundle of the package,
 * tree-shaken or not.
 */
const receiveRules = (): RuleTable => ({
  ...SHARED_RULES,
  target: objectWith('open', 'a ReceiveTarget'),
  maxFiles: limit,
  maxTotalSize: limit,
  maxFileSize: limit,
  // The protocol carries names of at most 1,024 characters: a longer one is a malformed message, never a limit.
  maxPathLength: intIn(0, MAX_NAME_LENGTH),
  maxBufferedChunks: intIn(1),
  maxBufferedBytes: limit,
  maxCorruptRetries: limit,
  maxMalformedFrames: limit,
  ackEvery: positive,
  nackDelayMs: positiveMs,
  accept: fn,
});

/** `options` checked against {@link receiveRules} (`InvalidConfigError` naming the option; a key that is none is refused too); `undefined` is `{}`. */
export const checkReceiveOptions = <T extends Omit<ReceiveFilesOptions, 'accept'>>(where: string, options: T | undefined): T =>
  checkOptions(where, options, receiveRules(), 'options', []);

/**
 * The session as a cold Observable; `receiveFile` adds its one-file rule through `config.refuse`. With
 * `reconnect`, a lost connection runs the session again on new connections: the continued offer (same id) is
 * answered from what this side verified, without asking the user again.
 */
export function runReceiveFiles(connection: PeerConnectionLike | readonly PeerConnectionLike[], config: ReceiverSessionConfig, caller: string): Observable<SessionEvent> {
  return defer(() => {
    // A connection closed already fails the receive, even with `reconnect`: no offer can come on it.
    checkOpen(caller, checkConnections(caller, lanesOf(connection)));
    let sessionId: number | undefined;
    // The offer the user answered: a continuation must list the same files and folders (changedListing).
    let answered: SessionOffer | undefined;
    // Answers the sender's in-band lanes; they outlive each run of the session and close with the whole receive.
    const lanePool = new ReceiverLanePool({ ...config, scheduler: config.scheduler ?? asyncScheduler });
    const askOnce = askedOnce(config.accept);
    return resumeSession(
      connection,
      (c, attempt, carried) => {
        // Until a run started (the sender heard the answer; in the first run, always), the user's answer is what
        // counts, asked once: a loss while it was pending must neither lose it nor take "nothing taken yet" for it
        // (that completed with 0 files).
        const accept: ReceiverSessionConfig['accept'] =
          carried.taken === undefined
            ? askOnce
            : (offer) => (offer.id === sessionId ? offer.files.filter((m) => carried.taken?.has(m.index) && !carried.done.has(m.index)) : false);
        return new Observable<SessionEvent>((subscriber) => {
          // `reconnect`'s connections are checked here, as this run's error.
          // On new connections, an offer of another id is not this session going on: another session resumed on
          // the same connections, whose receiver listens there too. The channel goes to it (refusing it failed
          // that session, an outside check; taking it as a decline completed this receive, another).
          const passOn = (offer: SessionOffer) => attempt > 0 && answered !== undefined && offer.id !== sessionId;
          const refuse = (offer: SessionOffer) => config.refuse?.(offer) ?? (attempt > 0 && answered ? changedListing(answered, offer) : undefined);
          const completed = (i: number) => carried.done.get(i)?.sha256;
          const session = new ReceiverSession(checkOpen(caller, checkConnections(caller, lanesOf(c))), { ...config, accept, refuse, passOn, lanePool, completed }, subscriber);
          session.start();
          return () => session.cancel();
        }).pipe(tap((e) => e.type === 'offer' && sessionId === undefined && ((sessionId = e.offer.id), (answered = e.offer))));
      },
      { ...config, side: 'receiver' },
    ).pipe(finalize(() => lanePool.close()));
  });
}

/**
 * `accept`, asked at most once per offer id (a continued session keeps its id): the answer, a value, a promise or
 * the first value of an Observable (shared, so one still pending when a run ends reaches the next run).
 */
function askedOnce(accept: ReceiveFilesOptions['accept']): ReceiveFilesOptions['accept'] {
  if (!accept) return undefined;
  const answers = new Map<number, ReturnType<NonNullable<ReceiveFilesOptions['accept']>>>();
  return (offer) => {
    if (!answers.has(offer.id)) {
      const answer = accept(offer);
      answers.set(offer.id, isObservable(answer) ? answer.pipe(take(1), shareReplay(1)) : answer);
    }
    return answers.get(offer.id)!;
  };
}
