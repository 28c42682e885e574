/**
 * The connection's loss rate per poll interval, from counter deltas.
 */
import { map, pairwise, type Observable } from 'rxjs';
import type { PeerConnectionLike } from '../types';
import { sampleDelta } from './sampleDelta';
import { samplesOf, type StatsSamplesConfig } from './statsSamples';

/**
 * Emits, from the second poll on, the loss rate (0..1) of the interval since
 * the previous poll, computed from counter DELTAS (see `sampleDelta`), or
 * `undefined` when the stack exposes no loss counter for that interval.
 * node-datachannel never does; Chromium exposes only packets its socket
 * discarded on send (docs/stats.md).
 *
 * ```
 * samples: a----b----c
 * loss$:   -----x----y      (x: loss between a and b)
 * ```
 *
 * ## Example
 * ```ts
 * import { filter } from 'rxjs';
 * import { loss$ } from 'tallow-rx/stats';
 * loss$(pc).pipe(filter((r) => r !== undefined)).subscribe((r) => console.log(`${(r * 100).toFixed(2)} % lost`));
 * ```
 *
 * @param pc The peer connection.
 * @param config Poll options, as for `statsSamples`.
 * @return An Observable of per-interval loss rates.
 */
export function loss$(pc: PeerConnectionLike, config: StatsSamplesConfig = {}): Observable<number | undefined> {
  return samplesOf('loss$', pc, config).pipe(
    pairwise(),
    map(([a, b]) => sampleDelta(a, b).lossRate),
  );
}
