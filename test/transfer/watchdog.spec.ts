/**
 * The transfer's timers in virtual time (an outside check of 7 Dec 2026): a timer that re-armed itself with
 * `this.schedule()` built one new action per tick on a TestScheduler, each added to the one before, and a virtual
 * transfer of 220 s overflowed the stack when it was torn down ("Maximum call stack size exceeded"; longer ones ran
 * out of memory). And the idle watchdog, a hair short of its deadline by float rounding, re-armed at the same
 * instant for good: the virtual clock stopped at 135 s.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { scheduleChain } from '../../src/scheduleChain';
import { idleWatchdog, repeatEvery } from '../../src/transfer/watchdog';

const scheduler = () => new TestScheduler((a, b) => expect(a).toEqual(b));

describe('scheduleChain', () => {
  it('runs a step after each delay it returns, until it returns undefined', () => {
    const ts = scheduler();
    const at: number[] = [];
    ts.run(() => {
      scheduleChain(ts, 5, () => (at.push(ts.now()), at.length < 4 ? 10 : undefined));
    });
    expect(at).toEqual([5, 15, 25, 35]);
  });

  it('stops when unsubscribed, between steps', () => {
    const ts = scheduler();
    const at: number[] = [];
    ts.run(() => {
      const s = scheduleChain(ts, 10, () => (at.push(ts.now()), 10));
      ts.schedule(() => s.unsubscribe(), 35);
    });
    expect(at).toEqual([10, 20, 30]);
  });

  it('holds one action however long it runs: 200,000 ticks, then torn down without overflowing the stack', () => {
    const ts = scheduler();
    let ticks = 0;
    let pendingAtEnd = -1;
    ts.run(() => {
      const s = repeatEvery(ts, 1, () => ++ticks < 200_000);
      ts.schedule(() => {
        pendingAtEnd = ts.actions.length;
        s.unsubscribe();
      }, 150_000);
    });
    expect(ticks).toBeGreaterThanOrEqual(149_999);
    expect(pendingAtEnd).toBeLessThanOrEqual(2);
  });
});

describe('idleWatchdog', () => {
  it('fires once at the deadline even when the time left is a float hair: the clock moves on (it used to re-arm at the same instant)', () => {
    const ts = scheduler();
    const fired: number[] = [];
    let looks = 0;
    ts.run(() => {
      // Quiet a hair short of the timeout until 1 ms past the deadline, as float subtraction can leave it
      // (29999.99999999998 of 30000). More than 10,000 looks is the spin: give up and say so.
      const quietFor = () => (++looks > 10_000 ? 30_000 : ts.now() >= 30_001 ? 30_000 : Math.min(ts.now(), 30_000 - 1e-9));
      idleWatchdog(ts, { timeoutMs: 30_000, quietFor, onIdle: () => void fired.push(ts.now()) });
    });
    expect(looks).toBeLessThan(100);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(30_000);
    expect(fired[0]).toBeLessThanOrEqual(30_002);
  });
});
