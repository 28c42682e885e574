/**
 * The connection's bit rates per poll interval, from byte-counter deltas.
 */
import { filter, map, pairwise, type Observable } from 'rxjs';
import type { PeerConnectionLike } from '../types';
import { sampleDelta } from './sampleDelta';
import { samplesOf, type StatsSamplesConfig } from './statsSamples';

/** Bit rates over one poll interval, bits/s. */
export interface Bitrate {
  /** Interval length, ms. */
  readonly intervalMs: number;
  /** Bytes on the wire (Chromium: with DTLS/SCTP overhead and retransmissions; node-datachannel: payload). */
  readonly sendBps: number;
  readonly receiveBps: number;
  /** Data-channel payload only, on stacks with data-channel stats (Chromium, Firefox). */
  readonly payloadSendBps?: number;
  readonly payloadReceiveBps?: number;
}

/**
 * Emits, from the second poll on, the bit rates of the interval since the
 * previous poll. An interval whose counters went backwards (a reset) or that
 * lasted 0 ms is skipped.
 *
 * ```
 * samples:  a----b----c
 * bitrate$: -----x----y
 * ```
 *
 * ## Example
 * ```ts
 * import { bitrate$ } from 'tallow-rx/stats';
 * bitrate$(pc).subscribe((b) => console.log(`${(b.sendBps / 1e6).toFixed(1)} Mbit/s up`));
 * ```
 *
 * @param pc The peer connection.
 * @param config Poll options, as for `statsSamples`.
 * @return An Observable of bit rates.
 */
export function bitrate$(pc: PeerConnectionLike, config: StatsSamplesConfig = {}): Observable<Bitrate> {
  return samplesOf('bitrate$', pc, config).pipe(
    pairwise(),
    map(([a, b]) => sampleDelta(a, b)),
    filter((d) => d.sendBps !== undefined && d.receiveBps !== undefined),
    map((d) => ({
      intervalMs: d.intervalMs,
      sendBps: d.sendBps!,
      receiveBps: d.receiveBps!,
      payloadSendBps: d.payloadSendBps,
      payloadReceiveBps: d.payloadReceiveBps,
    })),
  );
}
