/**
 * Table tests of decideLanes: every rule, at and just past its boundary. The base sample is loss-bound:
 * at 1 % loss and 100 ms one association is capped at 1200 × 1.22 / (0.1 × 0.1) = 146,400 B/s, and two
 * lanes carry 280,000 B/s (at least 0.7 × 2 × 146,400 = 204,960), two seconds after the last change.
 */
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { associationBound, decideLanes, type LaneSample } from '../../src/transfer/decideLanes';
import { resolveLaneControllerConfig } from '../../src/transfer/laneControllerConfig';
import { thrownBy } from '../helpers/thrown';

const base: LaneSample = { goodputBytesPerSecond: 280_000, rttMs: 100, rttMinMs: 100, lossRate: 0.01, lanes: 2, sinceChangeMs: 2000 };
const nearBound = 0.7 * 2 * associationBound(1200, 100, 0.01);

const rows: [string, Partial<LaneSample>, string][] = [
  // 1. no-data
  ['goodput NaN', { goodputBytesPerSecond: NaN }, 'hold no-data'],
  ['RTT 0', { rttMs: 0 }, 'hold no-data'],
  ['minimum RTT 0', { rttMinMs: 0 }, 'hold no-data'],
  ['negative loss', { lossRate: -0.01 }, 'hold no-data'],
  ['lanes Infinity', { lanes: Infinity }, 'hold no-data'],
  ['negative time since the change', { sinceChangeMs: -1 }, 'hold no-data'],
  ['peak RTT NaN', { rttPeakMs: NaN }, 'hold no-data'],
  ['recent minimum RTT -1', { rttRecentMinMs: -1 }, 'hold no-data'],
  // 2. over-cap, even right after a change
  ['17 lanes (cap 16)', { lanes: 17, sinceChangeMs: 0 }, 'shed over-cap'],
  // 3. stagger: max(minIntervalMs 500, 8 × RTT)
  ['799 ms after a change at 100 ms RTT', { sinceChangeMs: 799 }, 'hold stagger'],
  ['800 ms after a change at 100 ms RTT', { sinceChangeMs: 800 }, 'add loss-bound'],
  ['499 ms at 50 ms RTT (the 500 ms floor)', { rttMs: 50, rttMinMs: 50, goodputBytesPerSecond: 420_000, sinceChangeMs: 499 }, 'hold stagger'],
  ['500 ms at 50 ms RTT', { rttMs: 50, rttMinMs: 50, goodputBytesPerSecond: 420_000, sinceChangeMs: 500 }, 'add loss-bound'],
  // 4. standing queue: the recent minimum RTT 50 % over the minimum
  ['RTT 150 ms over 100 (50 %)', { rttMs: 150 }, 'shed queue-filling'],
  ['recent minimum 150 ms', { rttMs: 160, rttRecentMinMs: 150 }, 'shed queue-filling'],
  ['recent minimum 149 ms', { rttMs: 160, rttRecentMinMs: 149 }, 'hold rtt-inflated'],
  ['RTT 150 ms with 1 lane (minLanes)', { rttMs: 150, lanes: 1 }, 'hold rtt-inflated'],
  ['RTT 150 ms, no lane could close now (sheddable 0)', { rttMs: 150, sheddable: 0 }, 'hold rtt-inflated'],
  ['RTT 150 ms, one lane could close (sheddable 1)', { rttMs: 150, sheddable: 1 }, 'shed queue-filling'],
  ['sheddable NaN', { sheddable: NaN }, 'hold no-data'],
  // 5. RTT peaks 25 % over the minimum: the queue fills
  ['peak 125 ms', { rttPeakMs: 125 }, 'hold rtt-inflated'],
  ['peak 124.9 ms', { rttPeakMs: 124.9 }, 'add loss-bound'],
  ['RTT itself 125 ms', { rttMs: 125, rttRecentMinMs: 100 }, 'hold rtt-inflated'],
  ['4.9 ms over 10 ms (below the 5 ms floor)', { rttMs: 10, rttMinMs: 10, rttPeakMs: 14.9, goodputBytesPerSecond: 2_100_000 }, 'add loss-bound'],
  ['5 ms over 10 ms', { rttMs: 10, rttMinMs: 10, rttPeakMs: 15, goodputBytesPerSecond: 2_100_000 }, 'hold rtt-inflated'],
  // 6. cooling down after a shed
  ['9,999 ms after a shed', { lastChange: 'shed', sinceChangeMs: 9999 }, 'hold cooling-down'],
  ['10,000 ms after a shed', { lastChange: 'shed', sinceChangeMs: 10_000 }, 'add loss-bound'],
  // 7. no loss: not loss-bound
  ['loss 0', { lossRate: 0 }, 'hold no-loss'],
  // 8. below the bound: something else limits
  ['goodput just under 0.7 × lanes × bound', { goodputBytesPerSecond: nearBound * 0.9999 }, 'hold below-bound'],
  ['goodput at 0.7 × lanes × bound', { goodputBytesPerSecond: nearBound }, 'add loss-bound'],
  // 9. at the cap
  ['16 lanes', { lanes: 16, goodputBytesPerSecond: 16 * 146_400 }, 'hold at-cap'],
  ['15 lanes', { lanes: 15, goodputBytesPerSecond: 15 * 146_400 }, 'add loss-bound'],
  // 10. the last add brought no gain: 0.3 × 200,000 / 1 lane before = 60,000 needed
  ['gain 59,999 after an add', { lastChange: 'add', goodputBeforeChangeBytesPerSecond: 200_000, goodputBytesPerSecond: 259_999 }, 'hold no-gain'],
  ['gain 60,000 after an add', { lastChange: 'add', goodputBeforeChangeBytesPerSecond: 200_000, goodputBytesPerSecond: 260_000 }, 'add loss-bound'],
  ['no gain, 10 s later: probe again', { lastChange: 'add', goodputBeforeChangeBytesPerSecond: 300_000, sinceChangeMs: 10_000 }, 'add loss-bound'],
  ['no gain, 9,999 ms later', { lastChange: 'add', goodputBeforeChangeBytesPerSecond: 300_000, sinceChangeMs: 9999 }, 'hold no-gain'],
  // 11. otherwise
  ['the base sample', {}, 'add loss-bound'],
];

describe('decideLanes', () => {
  it.each(rows.map(([name, change, expected]) => [`${name} → ${expected}`, change, expected] as const))('%s', (_, change, expected) => {
    const { action, reason } = decideLanes({ ...base, ...change });
    expect(`${action} ${reason}`).toBe(expected);
  });

  it('takes its thresholds from the config', () => {
    expect(decideLanes({ ...base, lanes: 4, goodputBytesPerSecond: 600_000 }, { maxLanes: 4 })).toEqual({ action: 'hold', reason: 'at-cap' });
    expect(decideLanes({ ...base, lanes: 5, goodputBytesPerSecond: 600_000 }, { maxLanes: 4 })).toEqual({ action: 'shed', reason: 'over-cap' });
    expect(decideLanes({ ...base, rttMs: 120 }, { holdInflation: 0.2 })).toEqual({ action: 'hold', reason: 'rtt-inflated' });
    expect(decideLanes({ ...base, rttMs: 120 }, { holdInflation: 0.2, shedInflation: 0.2 })).toEqual({ action: 'shed', reason: 'queue-filling' });
    expect(decideLanes({ ...base, rttMs: 150 }, { minLanes: 2 })).toEqual({ action: 'hold', reason: 'rtt-inflated' });
    expect(decideLanes({ ...base, sinceChangeMs: 1500 }, { staggerRtts: 16 })).toEqual({ action: 'hold', reason: 'stagger' });
    expect(decideLanes({ ...base, goodputBytesPerSecond: 150_000 }, { nearBoundShare: 0.5 })).toEqual({ action: 'add', reason: 'loss-bound' });
    expect(decideLanes(base, { mssBytes: 2400 })).toEqual({ action: 'hold', reason: 'below-bound' });
    expect(decideLanes(base, resolveLaneControllerConfig({ maxLanes: 2 }))).toEqual({ action: 'hold', reason: 'at-cap' });
  });

  it('computes the one-association bound mss × 1.22 / (RTT × √loss)', () => {
    expect(associationBound(1200, 100, 0.01)).toBeCloseTo(146_400, 6);
    expect(associationBound(1200, 50, 0.0001)).toBeCloseTo(2_928_000, 3);
  });

  it('rejects a bad config with InvalidConfigError naming the field', () => {
    const fieldOf = (config: object): unknown => {
      try {
        decideLanes(base, config);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidConfigError);
        return (err as InvalidConfigError).details.field;
      }
      return undefined;
    };
    expect(fieldOf({ maxLanes: 0 })).toBe('maxLanes');
    expect(fieldOf({ maxLanes: 2.5 })).toBe('maxLanes');
    expect(fieldOf({ minLanes: 3, maxLanes: 2 })).toBe('minLanes');
    expect(fieldOf({ holdInflation: 0.6 })).toBe('shedInflation');
    expect(fieldOf({ staggerRtts: -1 })).toBe('staggerRtts');
    expect(fieldOf({ mssBytes: 0 })).toBe('mssBytes');
    expect(fieldOf({ minIntervalMs: Infinity })).toBe('minIntervalMs');
    expect(fieldOf({ settleMs: -1 })).toBe('settleMs');
    expect(fieldOf({ settleMs: Number.NaN })).toBe('settleMs');
  });
});

describe('decideLanes: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => decideLanes(undefined as never, null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'decideLanes: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
