/**
 * Surviving a lost connection. A session runs on the connections it was given; when every lane dies (the
 * control channel, or every data channel, closes), and the caller gave a `reconnect`, both sides enter
 * `interrupted` instead of failing, wait up to `interruptionGraceMs` for new connections, and run the same
 * session again on them. The receiver answers the new offer from what it has verified: files it completed are
 * skipped, a file it holds in part resumes from its verified prefix (a target with `held()`, such as
 * `directoryTarget`), so confirmed bytes do not cross again. docs/protocol.md ("Resuming a session").
 */
import { asyncScheduler, defer, NEVER, Observable, race, take, throwError, timer, switchMap, type SchedulerLike, type Subscription } from 'rxjs';
import { asTallowError, ChannelClosedError, ConnectionLostError, InvalidConfigError } from '../errors';
import type { PeerConnectionLike } from '../types';
import type { FileResult, SessionEvent } from './SessionEvent';
import type { Manifest } from '../protocol/control';
import { settle } from './settle';
import { peerWasTold } from './peerFailure';

/** One connection or several (lanes), in the same order on both sides. */
export type Connections = PeerConnectionLike | readonly PeerConnectionLike[];

/** What both `sendFiles` and `receiveFiles` take to survive a lost connection. */
export interface ReconnectOptions {
  /**
   * New connections to the same peer once every lane of the session died: a value, a promise, or the first
   * value of an Observable. Both sides need one (each gets its own end of the new connections, in the same
   * lane order). Without it, a lost connection fails the session with `ChannelClosedError`.
   */
  readonly reconnect?: () => Connections | PromiseLike<Connections> | Observable<Connections>;
  /**
   * How long a lost session may take to run again, ms, from the loss until the session starts on new
   * connections (`reconnect`'s connections came and the offer was accepted on them); then
   * `ConnectionLostError`. New connections that fail before the session starts on them count against the
   * same time, and `reconnect` is asked again at most once a second. Default 60000.
   */
  readonly interruptionGraceMs?: number;
}

/**
 * Whether `err` says this side's own connection died (not a peer's report, not a protocol fault, and not a
 * channel lost while the control channel still carried this side's `error` to the peer: a data channel closed
 * before the first frame ends the session on both sides, and waiting for new connections only the sender asked
 * for held it for the whole grace).
 */
export const isConnectionLoss = (err: unknown): boolean => err instanceof ChannelClosedError && err.details.remote !== true && !peerWasTold(err);

/** The state carried from one run of the session to the next. */
interface Carried {
  /** Files complete so far, by index, and their bytes. */
  readonly done: Map<number, FileResult>;
  doneBytes: number;
  /** The files the first run that started took (the receiver's choice), by index. */
  taken?: ReadonlyMap<number, Manifest>;
  /** Whether a run showed the offer (the receiver's `offer` event): later runs' offers are the same session's. */
  offered?: boolean;
  total: number;
  retransmitted: number;
  startedAt: number;
}

/**
 * Runs `run(connections, attempt)` and, on a connection loss, again on `reconnect`'s connections, until the
 * session completes. `side` names the side in errors.
 */
export function resumeSession(
  first: Connections,
  run: (connections: Connections, attempt: number, carried: Pick<Carried, 'done' | 'taken'>) => Observable<SessionEvent>,
  o: ReconnectOptions & {
    readonly scheduler?: SchedulerLike;
    readonly side: 'sender' | 'receiver';
    /** Sender: the digest of file `index` if its `done` went out in an earlier run. */
    readonly arrived?: (index: number) => string | undefined;
  },
): Observable<SessionEvent> {
  if (!o.reconnect) return defer(() => run(first, 0, { done: new Map() }));
  const graceMs = o.interruptionGraceMs ?? 60_000;
  if (!(Number.isFinite(graceMs) && graceMs >= 0)) throw new InvalidConfigError('interruptionGraceMs must be a non-negative number of ms', { interruptionGraceMs: graceMs });
  const sc = o.scheduler ?? asyncScheduler;
  return new Observable<SessionEvent>((subscriber) => {
    const carried: Carried = { done: new Map(), doneBytes: 0, total: 0, retransmitted: 0, startedAt: sc.now() };
    let current: Subscription | undefined;
    // The end of the grace, from the loss until the session starts again (kept across failed attempts).
    let deadline: number | undefined;
    let watchdog: Subscription | undefined;
    // Bumped by every new attempt and every interruption: a run that failed while it was being subscribed
    // has been replaced already, and must not take `current` back.
    let generation = 0;
    const lostAfter = (cause: unknown, n: number, unanswered = false) => new ConnectionLostError(graceMs, { side: o.side, attempts: n + 1, ...(unanswered ? { unanswered } : {}) }, cause);
    const attempt = (connections: Connections, n: number) => {
      let doneBefore = carried.doneBytes;
      let countBefore = carried.done.size;
      let started = n === 0;
      const g = ++generation;
      const sub = run(connections, n, carried).subscribe({
        next: (e) => {
          if (e.type === 'started') {
            started = true;
            deadline = undefined;
            watchdog?.unsubscribe();
            // Files confirmed now count as done before this run, as those complete already do.
            for (const done of arrivedBefore(e.files, carried, o.arrived, sc)) subscriber.next(carry(done, carried, doneBefore, countBefore, sc)!);
            [doneBefore, countBefore] = [carried.doneBytes, carried.done.size];
          }
          const out = carry(e, carried, doneBefore, countBefore, sc);
          if (out) subscriber.next(out);
          if (e.type === 'completed') subscriber.complete();
        },
        error: (err) => (isConnectionLoss(err) ? interrupted(err, n, started) : subscriber.error(err)),
        complete: () => subscriber.complete(),
      });
      if (g !== generation) return;
      current = sub;
      // New connections that never carry the session (never connect, or nobody answers on them) end with the grace.
      if (!started && deadline !== undefined && !subscriber.closed) {
        watchdog = sc.schedule(() => {
          watchdog?.unsubscribe();
          current?.unsubscribe();
          subscriber.error(lostAfter(new ChannelClosedError(`the session did not start again on new connections within ${graceMs} ms`, { graceMs }), n, true));
        }, Math.max(0, deadline - sc.now()));
      }
    };
    const interrupted = (err: unknown, n: number, started: boolean) => {
      generation++;
      watchdog?.unsubscribe();
      subscriber.next({ type: 'interrupted', reason: (err as Error).message, code: (err as { code?: string }).code ?? 'ERR_CHANNEL_CLOSED', attempt: n });
      deadline ??= sc.now() + graceMs;
      const remaining = deadline - sc.now();
      if (remaining <= 0) return subscriber.error(lostAfter(err, n));
      // Connections that failed before the session started on them: ask again a second later, not at once
      // (and not at all when the grace ends first).
      const askIn = started ? 0 : RETRY_RECONNECT_MS;
      const lost = timer(remaining, sc).pipe(switchMap(() => throwError(() => lostAfter(err, n))));
      const ask = askIn < remaining ? timer(askIn, sc).pipe(switchMap(() => connectionsOf(o.reconnect!()))) : NEVER;
      current = race(lost, ask)
        .pipe(take(1))
        .subscribe({
          next: (c) => {
            subscriber.next({ type: 'resumed', attempt: n + 1 });
            attempt(c, n + 1);
          },
          // A `reconnect` that throws or rejects: the app's callback failed (ERR_INTERNAL, its error as cause).
          error: (e) => subscriber.error(asTallowError(e)),
        });
    };
    attempt(first, 0);
    return () => {
      watchdog?.unsubscribe();
      current?.unsubscribe();
    };
  });
}

/**
 * A later run's receiver skips every file it completed: the sender's files of the first run that are neither
 * complete nor taken again arrived, their `complete` lost with the connection. Each is confirmed with the digest
 * the sender sent in its `done` (`arrived`; a file without one is left out: no `done` of it went out).
 */
function arrivedBefore(files: readonly Manifest[], c: Carried, arrived: ((index: number) => string | undefined) | undefined, sc: SchedulerLike): SessionEvent[] {
  if (!arrived || !c.taken) return [];
  const again = new Set(files.map((m) => m.index));
  const out: SessionEvent[] = [];
  for (const [i, manifest] of c.taken) {
    const sha256 = again.has(i) || c.done.has(i) ? undefined : arrived(i);
    if (sha256 !== undefined) out.push({ type: 'file-completed', manifest, sha256, bytes: manifest.size, seconds: (sc.now() - c.startedAt) / 1000 });
  }
  return out;
}

/** After new connections failed before the session started on them, `reconnect` is asked again this much later, ms. */
export const RETRY_RECONNECT_MS = 1000;

/** A plain value stays synchronous (not through a promise): a `reconnect` giving one works inside `TestScheduler.run()`. */
const connectionsOf = (r: Connections | PromiseLike<Connections> | Observable<Connections>): Observable<Connections> => settle(r as Connections | PromiseLike<Connections>);

/**
 * One event of a run, as the whole session shows it: the first `offer` shown and the `started` of the first run
 * that started only; progress over every file of the session; `completed` with the files of every run, in offer
 * order.
 */
function carry(e: SessionEvent, c: Carried, doneBefore: number, countBefore: number, sc: SchedulerLike): SessionEvent | undefined {
  switch (e.type) {
    case 'offer':
      if (c.offered) return undefined;
      c.offered = true;
      return e;
    case 'started':
      // A run that ended before the receiver's answer reached the sender started nothing: the first that starts counts.
      if (c.taken !== undefined) return undefined;
      c.taken = new Map(e.files.map((m) => [m.index, m]));
      c.total = e.bytes;
      c.startedAt = sc.now();
      return e;
    case 'file-completed':
      c.done.set(e.manifest.index, { manifest: e.manifest, sha256: e.sha256, ...(e.result === undefined ? {} : { result: e.result }) });
      c.doneBytes += e.manifest.size;
      c.retransmitted += e.retransmittedBytes ?? 0;
      return e;
    case 'progress': {
      const bytes = doneBefore + e.bytes;
      const sent = e.sent === undefined ? undefined : doneBefore + e.sent;
      const percent = c.total > 0 ? Math.min(100, (bytes / c.total) * 100) : 100;
      const files = { completed: countBefore + e.files.completed, total: c.taken?.size ?? e.files.total };
      return { ...e, bytes, total: c.total, percent, acked: bytes, ...(sent === undefined ? {} : { sent }), files };
    }
    case 'completed': {
      const files = [...c.done.values()].sort((x, y) => x.manifest.index - y.manifest.index);
      return { type: 'completed', files, bytes: c.total, seconds: (sc.now() - c.startedAt) / 1000, retransmittedBytes: c.retransmitted };
    }
    default:
      return e;
  }
}
