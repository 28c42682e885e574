/**
 * A 0..100 figure of merit for the path and the transfer's stability.
 */
import type { TransferSignals } from './statsTypes';

/** RTT up to this costs nothing, ms. */
export const RTT_FREE_MS = 20;
/** Each this many ms of RTT above `RTT_FREE_MS` costs one point … */
export const RTT_MS_PER_POINT = 10;
/** … up to this many points. */
export const RTT_MAX_PENALTY = 30;
/** Points per unit of loss rate (1 % costs 20) … */
export const LOSS_POINTS = 2000;
/** … up to this many. */
export const LOSS_MAX_PENALTY = 40;
/** Each this many ms of jitter costs one point … */
export const JITTER_MS_PER_POINT = 4;
/** … up to this many. */
export const JITTER_MAX_PENALTY = 15;
/** Points per unit of throughput CV (0.5 costs 15) … */
export const CV_POINTS = 30;
/** … up to this many. */
export const CV_MAX_PENALTY = 15;

/**
 * Scores the evidence: 100 minus four capped penalties, rounded and clamped.
 * Missing evidence costs nothing, so a fresh transfer starts at 100.
 *
 * - RTT: (rtt − 20) / 10 points, at most 30 (320 ms and up).
 * - Loss: 2000 × rate, at most 40 (2 % and up).
 * - Jitter: jitter / 4 points, at most 15 (60 ms and up).
 * - Stability: 30 × throughput CV, at most 15 (CV 0.5 and up).
 *
 * ## Example
 * ```ts
 * import { qualityScore } from './qualityScore'; // internal: TransferStats.quality carries its result
 * qualityScore({ samples: 5, throughputBps: 8e7, rttMs: 70, lossRate: 0.005 }); // 100 - 5 - 10 = 85
 * ```
 *
 * @param s The evidence, usually `TransferStats.signals`.
 * @return An integer 0..100.
 */
export function qualityScore(s: TransferSignals): number {
  const finite = (x: number | undefined): number => (x !== undefined && Number.isFinite(x) && x > 0 ? x : 0);
  const rtt = Math.min(RTT_MAX_PENALTY, Math.max(0, finite(s.rttMs) - RTT_FREE_MS) / RTT_MS_PER_POINT);
  const loss = Math.min(LOSS_MAX_PENALTY, finite(s.lossRate) * LOSS_POINTS);
  const jitter = Math.min(JITTER_MAX_PENALTY, finite(s.jitterMs) / JITTER_MS_PER_POINT);
  const cv = Math.min(CV_MAX_PENALTY, finite(s.throughputCv) * CV_POINTS);
  return Math.round(Math.max(0, Math.min(100, 100 - rtt - loss - jitter - cv)));
}
