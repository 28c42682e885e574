/**
 * The lane controller: from measurements of the transfer (goodput, RTT, loss)
 * it decides when to open another lane (peer connection) and when to close
 * one, so lanes fill a loss-bound path without overflowing its bottleneck queue.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { LaneChange } from '../stats/statsTypes';
import { decideLanes, type LaneAction, type LaneReason, type LaneSample } from './decideLanes';
import { resolveLaneControllerConfig, type LaneControllerConfig } from './laneControllerConfig';
import { laneSampleOf, type LaneState, type TimedMeasurement } from './laneControllerSample';
import { configObject } from '../configObject';

/**
 * One measurement, every sampling interval (e.g. every RTT or 250 ms), over that interval alone: the
 * controller averages them since its last change (see `laneSampleOf`).
 */
export interface LaneMeasurement {
  /** Payload bytes per second delivered (acked) over the last interval, all lanes together. */
  readonly goodputBytesPerSecond: number;
  /** Round-trip time now, ms (queueing included, e.g. the transport's `currentRoundTripTime`). */
  readonly rttMs: number;
  /** Loss rate over the last interval, 0..1 (retransmitted or lost share of what was sent). */
  readonly lossRate: number;
  /**
   * Lanes really in use, when it differs from the controller's own count (a lane failed to open or was lost).
   * Default: the controller's count (`initialLanes`, plus its adds, minus its sheds).
   */
  readonly lanes?: number;
  /**
   * Lanes a shed could close now (a caller that keeps lanes which carry data: those still connecting). At 0
   * the controller holds (`rtt-inflated`) where it would shed. Default: every lane above `minLanes`.
   */
  readonly sheddable?: number;
}

/** What the controller decided for one measurement. */
export interface LaneDecision {
  readonly action: LaneAction;
  readonly reason: LaneReason;
  /** Lanes after the decision: open `step` lanes on `add`, close one on `shed`. */
  readonly lanes: number;
  /** Lanes this decision opens (`add`: 1, or more with `rampShare`) or closes (`shed`: 1); 0 on `hold`. */
  readonly step: number;
  /** `scheduler.now()` at the decision, ms. */
  readonly atMs: number;
  /** The evidence it was made on. */
  readonly sample: LaneSample;
  /** The last change (this one when it is an `add` or a `shed`), for the stats; absent while there was none. */
  readonly laneChange?: LaneChange;
}

/** Options of {@link laneController}: the thresholds, plus the scheduler whose `now()` dates decisions. */
export interface LaneControllerOptions extends LaneControllerConfig {
  /** Clock of the decisions. Default `asyncScheduler`; pass your `TestScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Lanes one `add` opens: `ceil(rampShare × lanes)`, at least 1, and no further than `maxLanes`. */
const addStep = (lanes: number, rampShare: number, maxLanes: number): number => Math.max(1, Math.min(maxLanes - lanes, Math.ceil(rampShare * lanes)));

/**
 * Turns measurements into lane decisions: one {@link LaneDecision} per
 * measurement (most are `hold`). The caller opens a lane on `add` and closes
 * one on `shed`. State (lane count, minimum RTT, the last change and the
 * goodput before it, the measurements of the last three stagger intervals)
 * lives in the subscription. See `decideLanes` for the rules and
 * `laneSampleOf` for the averaging.
 *
 * ```
 * measurements  --m--m--m--m--m--m--m--m--|
 * decisions     --h--h--a--h--h--a--h--s--|     h hold, a add, s shed
 * ```
 *
 * ## Example
 * ```ts
 * import { filter } from 'rxjs';
 * import { laneController } from 'tallow-rx';
 * measurements$.pipe(laneController({ maxLanes: 8 }), filter((d) => d.action !== 'hold'))
 *   .subscribe((d) => { for (let k = 0; k < d.step; k++) (d.action === 'add' ? openLane() : closeLane()); });
 * ```
 *
 * @param options Thresholds, cap (`maxLanes`, default 16) and scheduler.
 * @return An operator from measurements to decisions.
 * @throws InvalidConfigError for a bad option, at once.
 */
export function laneController(options: LaneControllerOptions = {}): OperatorFunction<LaneMeasurement, LaneDecision> {
  options = configObject('laneController', options, 'options');
  const { scheduler = asyncScheduler, ...thresholds } = options;
  const config = resolveLaneControllerConfig(thresholds);
  return (source) =>
    new Observable<LaneDecision>((subscriber) => {
      // Lane count, minimum RTT and the last change.
      let state: LaneState = { lanes: config.initialLanes, rttMinMs: Infinity, changedAt: scheduler.now() };
      // Measurements of the last three stagger intervals, oldest first.
      let history: TimedMeasurement[] = [];
      // The last change, for the stats.
      let lastChange: LaneChange | undefined;
      const sub = source.subscribe({
        next: (m) => {
          const now = scheduler.now();
          const lanes = m.lanes !== undefined && Number.isInteger(m.lanes) && m.lanes >= 0 ? m.lanes : state.lanes;
          state = { ...state, lanes, rttMinMs: m.rttMs > 0 ? Math.min(state.rttMinMs, m.rttMs) : state.rttMinMs };
          const spanMs = Math.max(config.minIntervalMs, config.staggerRtts * (m.rttMs > 0 ? m.rttMs : state.rttMinMs));
          history = [...history.filter((h) => h.at > now - 3 * spanMs), { at: now, goodputBytesPerSecond: m.goodputBytesPerSecond, rttMs: m.rttMs, lossRate: m.lossRate }];
          const sheddable = m.sheddable !== undefined && Number.isFinite(m.sheddable) ? { sheddable: Math.max(0, m.sheddable) } : {};
          const sample = { ...laneSampleOf(history, state, now, spanMs), ...sheddable };
          const { action, reason } = decideLanes(sample, config);
          const step = action === 'hold' ? 0 : action === 'shed' ? 1 : addStep(lanes, config.rampShare, config.maxLanes);
          if (action !== 'hold') {
            const after = lanes + (action === 'add' ? step : -1);
            state = { ...state, lanes: after, changedAt: now, lastChange: action, goodputBeforeChange: sample.goodputBytesPerSecond, lanesBeforeChange: lanes };
            lastChange = { action, reason, lanes: after, atMs: now };
          }
          subscriber.next({ action, reason, lanes: state.lanes, step, atMs: now, sample, ...(lastChange && { laneChange: lastChange }) });
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => sub.unsubscribe();
    });
}
