/**
 * The lane controller's decision, as a pure function of one sample: add a
 * lane, hold, or shed one, and why. `laneController` feeds it; tests call it
 * with hand-made samples.
 */
import { resolveLaneControllerConfig, type LaneControllerConfig, type ResolvedLaneControllerConfig } from './laneControllerConfig';
import { configObject } from '../configObject';

/** What the controller does. */
export type LaneAction = 'add' | 'hold' | 'shed';

/**
 * Why, as a code (docs/stats.md lists them):
 * - add: `loss-bound`;
 * - shed: `over-cap`, `queue-filling`;
 * - hold: `no-data`, `stagger`, `rtt-inflated`, `cooling-down`, `no-loss`, `below-bound`, `at-cap`, `no-gain`.
 */
export type LaneReason = 'loss-bound' | 'over-cap' | 'queue-filling' | 'no-data' | 'stagger' | 'rtt-inflated' | 'cooling-down' | 'no-loss' | 'below-bound' | 'at-cap' | 'no-gain';

/** The evidence for one decision. */
export interface LaneSample {
  /** Payload bytes per second delivered over the last interval (across all lanes). */
  readonly goodputBytesPerSecond: number;
  /** Round-trip time now, ms (queueing included). */
  readonly rttMs: number;
  /** Lowest round-trip time seen, ms: the path without queueing. */
  readonly rttMinMs: number;
  /**
   * Highest round-trip time over the last interval, ms; RTT inflation is judged on it, since a queue
   * that fills once per sawtooth shows in its peaks more than in a mean. Default `rttMs`.
   */
  readonly rttPeakMs?: number;
  /**
   * Lowest round-trip time over the last interval, ms; when even it is inflated, the queue is standing
   * (not just the top of a sawtooth) and a lane is shed. Default `rttMs`.
   */
  readonly rttRecentMinMs?: number;
  /** Loss rate over the last interval, 0..1. */
  readonly lossRate: number;
  /** Lanes in use. */
  readonly lanes: number;
  /**
   * Lanes a shed could close now. At 0 a standing queue holds (`rtt-inflated`) instead of shedding a lane
   * that would not close. Default: every lane above `minLanes`.
   */
  readonly sheddable?: number;
  /** Time since the last change (or since the controller started), ms. */
  readonly sinceChangeMs: number;
  /** The last change, if any. */
  readonly lastChange?: 'add' | 'shed';
  /** Goodput just before the last change, bytes per second. */
  readonly goodputBeforeChangeBytesPerSecond?: number;
  /** Lanes just before the last change. Default `lanes − 1` (one lane per add). */
  readonly lanesBeforeChange?: number;
}

/** A decision and its reason. */
export interface LaneVerdict {
  readonly action: LaneAction;
  readonly reason: LaneReason;
}

/**
 * One association's ceiling on a path with random loss (Mathis et al.): `mss × 1.22 / (RTT × √loss)`.
 *
 * @param mssBytes Segment size, bytes.
 * @param rttMs Round-trip time, ms.
 * @param lossRate Loss rate, 0..1 (> 0).
 * @return Bytes per second.
 */
export const associationBound = (mssBytes: number, rttMs: number, lossRate: number): number => (mssBytes * 1.22) / ((rttMs / 1000) * Math.sqrt(lossRate));

const verdict = (action: LaneAction, reason: LaneReason): LaneVerdict => ({ action, reason });

const isValid = (s: LaneSample): boolean =>
  [s.goodputBytesPerSecond, s.rttMs, s.rttMinMs, s.lossRate, s.lanes].every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0) &&
  s.rttMs > 0 &&
  s.rttMinMs > 0 &&
  !(s.sinceChangeMs < 0) &&
  [s.rttPeakMs, s.rttRecentMinMs, s.sheddable].every((x) => x === undefined || (Number.isFinite(x) && x >= 0));

/**
 * Decides whether to add a lane, hold or shed one. The rules, first match wins:
 *
 * | # | when | verdict |
 * |---|---|---|
 * | 1 | a figure is missing, negative or not finite, or an RTT is 0 | hold `no-data` |
 * | 2 | `lanes > maxLanes` | shed `over-cap` |
 * | 3 | `sinceChangeMs < max(minIntervalMs, staggerRtts × rttMs)` | hold `stagger` |
 * | 4 | inflation of `rttRecentMinMs` ≥ `shedInflation` (a standing queue), `lanes > minLanes` and `sheddable > 0` | shed `queue-filling` |
 * | 5 | inflation of the peak (`max(rttMs, rttPeakMs)`) ≥ `holdInflation` (the queue fills) | hold `rtt-inflated` |
 * | 6 | last change was a shed, less than `holdAfterShedMs` ago | hold `cooling-down` |
 * | 7 | `lossRate` is 0 | hold `no-loss` |
 * | 8 | goodput < `nearBoundShare × lanes × mss × 1.22 / (RTT × √loss)` | hold `below-bound` |
 * | 9 | `lanes ≥ maxLanes` | hold `at-cap` |
 * | 10 | last change was an add less than `probeAgainAfterMs` ago, and goodput rose by less than `minGainShare × before / lanesBeforeChange` (one lane's share) | hold `no-gain` |
 * | 11 | otherwise | add `loss-bound` |
 *
 * The inflation of an RTT `x` is `(x − rttMinMs) / rttMinMs`, and 0 while `x − rttMinMs < inflationFloorMs`.
 *
 * ## Example
 * ```ts
 * import { decideLanes } from 'tallow-rx';
 * // 1 % loss at 100 ms caps one association near 146 kB/s; two lanes carry 280 kB/s: add a third.
 * decideLanes({ goodputBytesPerSecond: 280_000, rttMs: 100, rttMinMs: 100, lossRate: 0.01, lanes: 2, sinceChangeMs: 2000 });
 * // { action: 'add', reason: 'loss-bound' }
 * ```
 *
 * @param sample The evidence.
 * @param config Thresholds; see {@link LaneControllerConfig}. A resolved config is used as is.
 * @return The verdict and its reason.
 */
export function decideLanes(sample: LaneSample, config: LaneControllerConfig | ResolvedLaneControllerConfig = {}): LaneVerdict {
  config = configObject('decideLanes', config);
  const c = resolveLaneControllerConfig(config);
  if (!isValid(sample)) return verdict('hold', 'no-data');
  const { goodputBytesPerSecond: goodput, rttMs, rttMinMs, lossRate, lanes, sinceChangeMs } = sample;
  if (lanes > c.maxLanes) return verdict('shed', 'over-cap');
  if (sinceChangeMs < Math.max(c.minIntervalMs, c.staggerRtts * rttMs)) return verdict('hold', 'stagger');
  const inflation = (ms: number): number => (ms - rttMinMs < c.inflationFloorMs ? 0 : (ms - rttMinMs) / rttMinMs);
  if (inflation(sample.rttRecentMinMs ?? rttMs) >= c.shedInflation && lanes > c.minLanes && (sample.sheddable ?? 1) > 0) return verdict('shed', 'queue-filling');
  if (inflation(Math.max(rttMs, sample.rttPeakMs ?? 0)) >= c.holdInflation) return verdict('hold', 'rtt-inflated');
  if (sample.lastChange === 'shed' && sinceChangeMs < c.holdAfterShedMs) return verdict('hold', 'cooling-down');
  if (lossRate <= 0) return verdict('hold', 'no-loss');
  if (goodput < c.nearBoundShare * lanes * associationBound(c.mssBytes, rttMs, lossRate)) return verdict('hold', 'below-bound');
  if (lanes >= c.maxLanes) return verdict('hold', 'at-cap');
  const before = sample.goodputBeforeChangeBytesPerSecond;
  if (sample.lastChange === 'add' && before !== undefined && sinceChangeMs < c.probeAgainAfterMs) {
    if (goodput - before < (c.minGainShare * before) / Math.max(1, sample.lanesBeforeChange ?? lanes - 1)) return verdict('hold', 'no-gain');
  }
  return verdict('add', 'loss-bound');
}
