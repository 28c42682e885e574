/**
 * One reading of a connection's round-trip time from `getStats()` (`reportRtt`), as `auto`'s probe takes it.
 */
import { catchError, defer, map, of, type Observable } from 'rxjs';
import { reportRtt, type StatsReportLike } from '../stats/reportRtt';
import type { PeerConnectionLike } from '../types';
import { settle } from './settle';

/**
 * Reads `pc.getStats()` once and emits its RTT in ms (a finite number ≥ 0), or `undefined` when the report has
 * none, `getStats` is missing, throws or rejects. Emits once, then completes; never errors.
 *
 * @param pc The connection.
 * @return The RTT, ms, or `undefined`.
 */
export function readRttMs(pc: PeerConnectionLike): Observable<number | undefined> {
  if (typeof pc.getStats !== 'function') return of(undefined);
  return defer(() => settle(pc.getStats!())).pipe(
    map((report) => {
      const ms = report ? reportRtt(report as StatsReportLike)?.ms : undefined;
      return ms !== undefined && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
    }),
    catchError(() => of(undefined)),
  );
}
