/**
 * Settings of the lane controller (`decideLanes`, `laneController`): when to
 * add a lane (another peer connection, so another SCTP association with its
 * own congestion window), when to hold, and when to shed one. Every field is
 * optional and documented with its default and unit.
 */
import { InvalidConfigError } from '../errors';

/** Options of {@link laneController} and {@link decideLanes}. */
export interface LaneControllerConfig {
  /** Most lanes the controller will use. Default `16`. */
  readonly maxLanes?: number;
  /** Fewest lanes it will shed down to. Default `1`. */
  readonly minLanes?: number;
  /** Lanes at subscription (the connections the app gave). Default `minLanes`. */
  readonly initialLanes?: number;
  /**
   * `auto` in `sendFiles`: in-band lanes to open when the transfer starts, before data flows, on a path whose
   * probed RTT is at least 5 ms (a LAN starts with the connections it was given). Once one has joined, they
   * carry the data and the given connection carries the control channel only, so control messages (and
   * later lane offers) do not wait behind data. `0`: none (the controller adds them one at a time). Default `8`;
   * on a path whose probed RTT is 100 ms or more, every lane the receiver took (15 by default), since there the
   * controller's ramp (a lane per 8 RTTs) leaves a transfer below 16 lanes for its first 10-15 s.
   */
  readonly startLanes?: number;
  /** Segment size for the one-association bound `mssBytes × 1.22 / (RTT × √loss)`, bytes. Default `1200`. */
  readonly mssBytes?: number;
  /** At most one change per this many RTTs (the measured RTT), so each new lane's slow start ends before the next. Default `8`. */
  readonly staggerRtts?: number;
  /** …and never more often than every this many ms. Default `500`. */
  readonly minIntervalMs?: number;
  /** RTT over its minimum by this share (0.25: 25 %) means the bottleneck queue is filling: add no lane. Default `0.25`. */
  readonly holdInflation?: number;
  /** RTT over its minimum by this share means the queue is full: shed a lane. Default `0.5`. */
  readonly shedInflation?: number;
  /** RTT inflation below this many ms is ignored (jitter on short paths). Default `5`. */
  readonly inflationFloorMs?: number;
  /** The path looks loss-bound when goodput ≥ this share of `lanes ×` the one-association bound. Default `0.7`. */
  readonly nearBoundShare?: number;
  /**
   * An added lane counts as a gain when goodput rose by at least this share of one lane's
   * average before it (`goodputBefore / lanesBefore`); otherwise the controller stops adding. Default `0.3`.
   */
  readonly minGainShare?: number;
  /** After a shed, add nothing for this long, ms. Default `10_000`. */
  readonly holdAfterShedMs?: number;
  /** After an add that brought no gain, try again after this long, ms (the path may have changed). Default `10_000`. */
  readonly probeAgainAfterMs?: number;
  /**
   * Lanes one `add` opens, as a share of the lanes in use (rounded up; at least 1, at most up to `maxLanes`):
   * while goodput keeps rising and the RTT does not inflate, the lane count grows by this share per stagger
   * interval instead of by one (9 lanes: +3, then +4 to 16). `0`: one lane per add. Default `1 / 3`.
   */
  readonly rampShare?: number;
  /**
   * `auto` in `sendFiles`, with start lanes: the controller judges nothing until data has flowed this long, ms
   * (and 25 probed RTTs), so the start lanes' slow starts have overshot and settled. Default `2000`.
   */
  readonly settleMs?: number;
}

/** A config with every default filled in. */
export type ResolvedLaneControllerConfig = { readonly [K in keyof LaneControllerConfig]-?: number };

/** Default lanes at the start of a transfer on a path with an RTT (see {@link LaneControllerConfig.startLanes}). */
export const DEFAULT_START_LANES = 8;

/** Default {@link LaneControllerConfig.rampShare}. */
export const DEFAULT_RAMP_SHARE = 1 / 3;

/**
 * Default {@link LaneControllerConfig.settleMs}. The start lanes' slow starts overshoot and settle meanwhile,
 * and an add judged against that overshoot looked like no gain (virtual 100 Mbit/s, 40 ms, 0.5 %: 6.3 MB/s in
 * the first second, 5 MB/s from the fourth).
 */
export const DEFAULT_SETTLE_MS = 2000;

/** Default cap on lanes. */
export const DEFAULT_MAX_LANES = 16;

const check = (field: string, value: number, ok: boolean, rule: string): number => {
  if (!ok) throw new InvalidConfigError(`lane controller ${field} ${rule}, got ${String(value)}`, { field, value });
  return value;
};

const count = (field: string, value: number): number => check(field, value, Number.isInteger(value) && value >= 1, 'must be an integer >= 1');
const nonNegative = (field: string, value: number): number => check(field, value, typeof value === 'number' && Number.isFinite(value) && value >= 0, 'must be a finite number >= 0');

/**
 * Fills in the defaults of a {@link LaneControllerConfig} and validates every field.
 *
 * @param config The user's options.
 * @return The complete configuration.
 * @throws InvalidConfigError naming the first bad field (`details.field`).
 */
export function resolveLaneControllerConfig(config: LaneControllerConfig = {}): ResolvedLaneControllerConfig {
  const maxLanes = count('maxLanes', config.maxLanes ?? DEFAULT_MAX_LANES);
  const minLanes = count('minLanes', config.minLanes ?? 1);
  check('minLanes', minLanes, minLanes <= maxLanes, `must be <= maxLanes (${maxLanes})`);
  const initialLanes = count('initialLanes', config.initialLanes ?? minLanes);
  const holdInflation = nonNegative('holdInflation', config.holdInflation ?? 0.25);
  const shedInflation = nonNegative('shedInflation', config.shedInflation ?? 0.5);
  check('shedInflation', shedInflation, shedInflation >= holdInflation, `must be >= holdInflation (${holdInflation})`);
  const startLanes = config.startLanes ?? DEFAULT_START_LANES;
  return {
    maxLanes,
    minLanes,
    initialLanes,
    startLanes: check('startLanes', startLanes, Number.isInteger(startLanes) && startLanes >= 0, 'must be an integer >= 0'),
    mssBytes: check('mssBytes', config.mssBytes ?? 1200, (config.mssBytes ?? 1200) > 0 && Number.isFinite(config.mssBytes ?? 1200), 'must be a finite number > 0'),
    staggerRtts: nonNegative('staggerRtts', config.staggerRtts ?? 8),
    minIntervalMs: nonNegative('minIntervalMs', config.minIntervalMs ?? 500),
    holdInflation,
    shedInflation,
    inflationFloorMs: nonNegative('inflationFloorMs', config.inflationFloorMs ?? 5),
    nearBoundShare: nonNegative('nearBoundShare', config.nearBoundShare ?? 0.7),
    minGainShare: nonNegative('minGainShare', config.minGainShare ?? 0.3),
    holdAfterShedMs: nonNegative('holdAfterShedMs', config.holdAfterShedMs ?? 10_000),
    probeAgainAfterMs: nonNegative('probeAgainAfterMs', config.probeAgainAfterMs ?? 10_000),
    rampShare: nonNegative('rampShare', config.rampShare ?? DEFAULT_RAMP_SHARE),
    settleMs: nonNegative('settleMs', config.settleMs ?? DEFAULT_SETTLE_MS),
  };
}
