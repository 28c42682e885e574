/** The laneController operator in virtual time: staggering, counting, averaging, the stats' laneChange, teardown. */
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { laneController, type LaneDecision, type LaneMeasurement } from '../../src/transfer/laneController';
import { testScheduler } from '../helpers/marbles';
import { thrownBy } from '../helpers/thrown';

/** Loss-bound at 1 % and 100 ms: two lanes carry 280 kB/s (one is capped near 146 kB/s). */
const lossBound: LaneMeasurement = { goodputBytesPerSecond: 280_000, rttMs: 100, lossRate: 0.01 };
const brief = (d: LaneDecision): string => `${d.action} ${d.reason} ${d.lanes}`;

describe('laneController', () => {
  it('holds until one stagger interval (8 RTTs, 800 ms) has passed, then adds, then waits again', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const m = cold('a 249ms a 249ms a 249ms a 249ms a 249ms a 249ms a 249ms a 249ms a|', { a: lossBound });
      const decisions = m.pipe(laneController({ scheduler, initialLanes: 2 }), map(brief));
      const hold = 'hold stagger 2';
      expectObservable(decisions).toBe('a 249ms a 249ms a 249ms a 249ms b 249ms c 249ms c 249ms c 249ms d|', {
        a: hold,
        b: 'add loss-bound 3',
        c: 'hold stagger 3',
        // 3 lanes need 0.7 × 3 × 146,400 = 307,440 B/s: 280,000 is below the bound.
        d: 'hold below-bound 3',
      });
    });
  });

  it('ramps: an add opens a third of the lanes in use (rampShare, default 1/3) while goodput rises, up to maxLanes', () => {
    const scheduler = testScheduler();
    const seen: LaneDecision[] = [];
    scheduler.run(({ cold }) => {
      // 8 lanes at 1.1 MB/s are loss-bound (0.7 × 8 × 146,400 = 819,840); at 11 lanes 1.7 MB/s is a gain.
      cold('a 999ms a 999ms b 999ms b|', { a: { ...lossBound, goodputBytesPerSecond: 1_100_000 }, b: { ...lossBound, goodputBytesPerSecond: 1_700_000 } })
        .pipe(laneController({ scheduler, initialLanes: 8, maxLanes: 14 }))
        .subscribe((d) => seen.push(d));
    });
    expect(seen.map((d) => `${brief(d)} +${d.step}`)).toEqual(['hold stagger 8 +0', 'add loss-bound 11 +3', 'add loss-bound 14 +3', 'hold at-cap 14 +0']);
  });

  it('after a ramp, a gain of less than one lane\'s share (of the lanes before it) stops the adding', () => {
    const scheduler = testScheduler();
    const seen: LaneDecision[] = [];
    scheduler.run(({ cold }) => {
      // 8 → 11 lanes; goodput rose by 60 kB/s, under 0.3 × 1,800,000 / 8 = 67,500 (one of the 8 lanes' share;
      // judged against 11 − 1 = 10 lanes, 54,000, it would pass).
      cold('a 999ms a 999ms b|', { a: { ...lossBound, goodputBytesPerSecond: 1_800_000 }, b: { ...lossBound, goodputBytesPerSecond: 1_860_000 } })
        .pipe(laneController({ scheduler, initialLanes: 8, maxLanes: 16 }))
        .subscribe((d) => seen.push(d));
    });
    expect(seen.map(brief)).toEqual(['hold stagger 8', 'add loss-bound 11', 'hold no-gain 11']);
  });

  it('holds instead of shedding when the caller says no lane could close now (sheddable 0), and counts no change', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // RTT 160 ms: the stagger interval is 8 × 160 = 1280 ms.
      const m = cold('a 1999ms b 1999ms b|', { a: { ...lossBound, sheddable: 0 }, b: { ...lossBound, rttMs: 160, sheddable: 0 } });
      expectObservable(m.pipe(laneController({ scheduler, initialLanes: 4 }), map(brief))).toBe('a 1999ms b 1999ms b|', {
        a: 'hold stagger 4',
        b: 'hold rtt-inflated 4',
      });
    });
  });

  it('reports the last change and the evidence with every decision', () => {
    const scheduler = testScheduler();
    const seen: LaneDecision[] = [];
    scheduler.run(({ cold }) => {
      cold('a 499ms b 499ms c|', { a: { ...lossBound, goodputBytesPerSecond: 260_000 }, b: { ...lossBound, goodputBytesPerSecond: 300_000, rttMs: 110 }, c: lossBound })
        .pipe(laneController({ scheduler, initialLanes: 2 }))
        .subscribe((d) => seen.push(d));
    });
    expect(seen.map(brief)).toEqual(['hold stagger 2', 'hold stagger 2', 'add loss-bound 3']);
    expect(seen[0].laneChange).toBeUndefined();
    expect(seen[2].laneChange).toEqual({ action: 'add', reason: 'loss-bound', lanes: 3, atMs: 1000 });
    // Goodput and loss are averaged over the measurements after the start (b and c); the minimum RTT is the
    // lowest seen, the peak the highest.
    expect(seen[2].sample).toMatchObject({ goodputBytesPerSecond: 290_000, rttMs: 100, rttMinMs: 100, rttPeakMs: 110, lossRate: 0.01, sinceChangeMs: 1000 });
  });

  it('sheds on a standing queue and counts down', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // RTT 100 at first, then a queue that stands at 160 ms (60 % over the minimum); the interval is 8 × 160 ms.
      const m = cold('a 999ms b 999ms b 999ms b 999ms b|', { a: lossBound, b: { ...lossBound, rttMs: 160 } });
      expectObservable(m.pipe(laneController({ scheduler, initialLanes: 4 }), map(brief))).toBe('a 999ms a 999ms b 999ms c 999ms d|', {
        a: 'hold stagger 4',
        b: 'shed queue-filling 3',
        c: 'hold stagger 3',
        d: 'shed queue-filling 2',
      });
    });
  });

  it('takes the lane count from a measurement that gives it', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const m = cold('a 999ms b|', { a: lossBound, b: { ...lossBound, lanes: 1, goodputBytesPerSecond: 150_000 } });
      expectObservable(m.pipe(laneController({ scheduler, initialLanes: 2 }), map(brief))).toBe('a 999ms b|', { a: 'hold stagger 2', b: 'add loss-bound 2' });
    });
  });

  it('passes errors and completion on, and unsubscribes from its source', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failing = cold('a 9ms #', { a: lossBound });
      expectObservable(failing.pipe(laneController({ scheduler }), map((d) => d.action))).toBe('a 9ms #', { a: 'hold' });
      expectObservable(cold<LaneMeasurement>('|').pipe(laneController({ scheduler }))).toBe('|');
      const endless = cold('a 99ms a 99ms a', { a: lossBound });
      expectObservable(endless.pipe(laneController({ scheduler }), map((d) => d.action)), '^ 150ms !').toBe('a 99ms a', { a: 'hold' });
      expectSubscriptions(endless.subscriptions).toBe('^ 150ms !');
    });
  });

  it('rejects a bad config at once', () => {
    expect(() => laneController({ maxLanes: 0 })).toThrow(InvalidConfigError);
  });
});

describe('laneController: an options argument that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming options (it threw a TypeError)', () => {
    const error = thrownBy(() => laneController(null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'laneController: options must be an object, got null', details: { field: 'options', value: null } });
  });
});
