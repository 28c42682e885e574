/**
 * How `laneController` turns its recent measurements into the one
 * {@link LaneSample} `decideLanes` judges: means over the time since the last
 * change (two stagger intervals at most), so one noisy interval decides nothing.
 */
import type { LaneSample } from './decideLanes';

/** One measurement as the controller keeps it. */
export interface TimedMeasurement {
  /** `scheduler.now()` when it arrived, ms. */
  readonly at: number;
  readonly goodputBytesPerSecond: number;
  readonly rttMs: number;
  readonly lossRate: number;
}

/** What the controller knows besides its measurements. */
export interface LaneState {
  readonly lanes: number;
  /** Lowest RTT seen, ms. */
  readonly rttMinMs: number;
  /** When the last change was made (the start until then), ms. */
  readonly changedAt: number;
  readonly lastChange?: 'add' | 'shed';
  /** The sample's goodput when the last change was decided. */
  readonly goodputBeforeChange?: number;
  /** Lanes when the last change was decided. */
  readonly lanesBeforeChange?: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Summarises `history` (oldest first, the newest last) at `now`.
 *
 * - goodput and loss: means over the measurements after the last change, within the last `2 × spanMs`;
 * - `rttMs`: the newest; `rttPeakMs`: the highest within the last `3 × spanMs` (a queue that filled and
 *   drained while the losses it caused were counted still shows); `rttRecentMinMs`: the lowest after the
 *   last change within the last `spanMs` (a standing queue).
 *
 * @param history Measurements of the last `3 × spanMs` at least, oldest first; must not be empty.
 * @param state Lane count, minimum RTT and the last change.
 * @param now The time of the newest measurement, ms.
 * @param spanMs One stagger interval, ms.
 * @return The sample for `decideLanes`.
 */
export function laneSampleOf(history: readonly TimedMeasurement[], state: LaneState, now: number, spanMs: number): LaneSample {
  const newest = history[history.length - 1];
  const recent = history.filter((m) => m.at > now - 2 * spanMs);
  const sinceChange = recent.filter((m) => m.at > state.changedAt);
  // The peak looks one interval further back than the losses, which go on being counted after it.
  const peakWindow = history.filter((m) => m.at > now - 3 * spanMs);
  const averaged = sinceChange.length ? sinceChange : [newest];
  const standing = averaged.filter((m) => m.at > now - spanMs);
  return {
    goodputBytesPerSecond: mean(averaged.map((m) => m.goodputBytesPerSecond)),
    rttMs: newest.rttMs,
    rttMinMs: state.rttMinMs,
    rttPeakMs: Math.max(...peakWindow.map((m) => m.rttMs)),
    rttRecentMinMs: Math.min(...(standing.length ? standing : [newest]).map((m) => m.rttMs)),
    lossRate: mean(averaged.map((m) => m.lossRate)),
    lanes: state.lanes,
    sinceChangeMs: now - state.changedAt,
    lastChange: state.lastChange,
    goodputBeforeChangeBytesPerSecond: state.goodputBeforeChange,
    lanesBeforeChange: state.lanesBeforeChange,
  };
}
