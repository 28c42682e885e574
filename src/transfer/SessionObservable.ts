/**
 * The Observable `sendFiles` and `receiveFiles` return: session events, plus
 * `stats$` and `progress$` views of the same session for UIs.
 */
import { filter, map, share, type Observable } from 'rxjs';
import type { TransferStats } from '../stats/statsTypes';
import type { SessionEvent } from './SessionEvent';
import type { TransferProgress } from './TransferObservable';

/** Progress of a session as a UI shows it: {@link TransferProgress} over all taken files, plus file counts. */
export interface SessionProgress extends TransferProgress {
  readonly files: { readonly completed: number; readonly total: number };
}

/**
 * Session events with two views. All three share one session: the first subscription (to any of them)
 * starts it, and it is cancelled when the last one unsubscribes.
 */
export interface SessionObservable<R = unknown> extends Observable<SessionEvent<R>> {
  /** `TransferStats` once per sample interval. */
  readonly stats$: Observable<TransferStats>;
  /** Session progress, throttled to `progressIntervalMs`. */
  readonly progress$: Observable<SessionProgress>;
}

/** Wraps a cold session event stream so that its views share one session. */
export function withSessionViews(events$: Observable<SessionEvent>): SessionObservable {
  const shared = events$.pipe(share());
  const stats$ = shared.pipe(
    filter((e): e is Extract<SessionEvent, { type: 'stats' }> => e.type === 'stats'),
    map((e) => e.stats),
  );
  const progress$ = shared.pipe(
    filter((e): e is Extract<SessionEvent, { type: 'progress' }> => e.type === 'progress'),
    map(({ type: _t, ...p }): SessionProgress => p),
  );
  return Object.assign(shared, { stats$, progress$ });
}
