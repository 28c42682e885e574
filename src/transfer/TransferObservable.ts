/**
 * The Observable `sendFile` and `receiveFile` return: transfer events, plus
 * `stats$` and `progress$` views of the same transfer for UIs.
 */
import { filter, map, share, type Observable } from 'rxjs';
import type { TransferStats } from '../stats/statsTypes';
import type { TransferEvent } from './TransferEvent';

/** Progress as a UI shows it. */
export interface TransferProgress {
  /** Confirmed bytes: acknowledged by the receiver (sender), verified and written (receiver). */
  readonly bytes: number;
  readonly total: number;
  /** `bytes / total`, 0..100. */
  readonly percent: number;
  /** The same as `bytes` (kept for older code). */
  readonly acked: number;
  /** Sender only: bytes handed to the channels, up to a window ahead of `bytes`. */
  readonly sent?: number;
}

/**
 * Transfer events with two views. All three share one transfer: the first
 * subscription (to any of them) starts it, and it is cancelled when the last
 * one unsubscribes. Subscribe to the views before, or together with, the
 * events if you need every sample.
 */
export interface TransferObservable<R = unknown> extends Observable<TransferEvent<R>> {
  /** `TransferStats` once per sample interval: pipe it into any UI. */
  readonly stats$: Observable<TransferStats>;
  /** Progress, throttled to `progressIntervalMs`. */
  readonly progress$: Observable<TransferProgress>;
}

/** Wraps a cold event stream so that its views share one transfer. */
export function withViews(events$: Observable<TransferEvent>): TransferObservable {
  const shared = events$.pipe(share());
  const stats$ = shared.pipe(
    filter((e): e is Extract<TransferEvent, { type: 'stats' }> => e.type === 'stats'),
    map((e) => e.stats),
  );
  const progress$ = shared.pipe(
    filter((e): e is Extract<TransferEvent, { type: 'progress' }> => e.type === 'progress'),
    map(({ bytes, total, percent, acked, sent }): TransferProgress => ({ bytes, total, percent, acked, ...(sent === undefined ? {} : { sent }) })),
  );
  return Object.assign(shared, { stats$, progress$ });
}
