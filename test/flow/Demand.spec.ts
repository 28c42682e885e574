import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { Demand } from '../../src/flow/Demand';

describe('Demand', () => {
  it('hands out at most the granted credit', () => {
    const d = new Demand({ initial: 10 });
    expect(d.take(4)).toBe(4);
    expect(d.take(100)).toBe(6);
    expect(d.take(1)).toBe(0);
    d.request(5);
    expect(d.available).toBe(5);
    expect(d.totalGranted).toBe(15);
  });

  it('wakes a waiter once when credit arrives, and can be cancelled', () => {
    const d = new Demand();
    let woken = 0;
    d.whenAvailable(() => woken++);
    const cancel = d.whenAvailable(() => woken += 100);
    cancel();
    d.request(0);
    expect(woken).toBe(0);
    d.request(1);
    d.request(1);
    expect(woken).toBe(1);
  });

  it('respects a limit and rechecks it on demand', () => {
    let room = 0;
    const d = new Demand({ initial: 1000, limit: () => room });
    expect(d.take(100)).toBe(0);
    let woken = 0;
    d.whenAvailable(() => woken++);
    d.recheck();
    expect(woken).toBe(0);
    room = 30;
    d.recheck();
    expect(woken).toBe(1);
    expect(d.take(100)).toBe(30);
  });

  it('refund returns unused credit without counting it as granted', () => {
    const d = new Demand({ initial: 10 });
    d.take(10);
    d.refund(4);
    expect(d.available).toBe(4);
    expect(d.totalGranted).toBe(10);
  });

  it('rejects bad input with a typed error', () => {
    expect(() => new Demand({ initial: -1 })).toThrow(InvalidConfigError);
    expect(() => new Demand().request(Number.NaN)).toThrow(InvalidConfigError);
    expect(() => new Demand().request(Infinity)).toThrow(InvalidConfigError);
  });
});
