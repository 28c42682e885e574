/**
 * subscribeChained: the public-API way operators subscribe to their source. A `next` handler that throws
 * must error the chain (source torn down, `error` handler called), not escape as an unhandled error thrown
 * from a timer, which crashes a Node process.
 */
import { Observable, Subscription, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { subscribeChained } from '../../src/operators/subscribeChained';

describe('subscribeChained', () => {
  it('a next handler that throws: the error handler gets it, the source is torn down, later values are not delivered', () => {
    const seen: unknown[] = [];
    let tornDown = false;
    const source = new Observable<number>((s) => {
      s.next(1);
      s.next(2);
      s.next(3);
      return () => (tornDown = true);
    });
    const boom = new TypeError('boom');
    subscribeChained(source, new Subscription(), {
      next: (v) => {
        seen.push(v);
        if (v === 2) throw boom;
      },
      error: (e) => seen.push(e),
      complete: () => seen.push('complete'),
    });
    expect(seen).toEqual([1, 2, boom]);
    expect(tornDown).toBe(true);
  });

  it('unsubscribing downstream stops a synchronous source mid-loop (why it exists)', () => {
    const downstream = new Subscription();
    const seen: number[] = [];
    const endless = new Observable<number>((s) => {
      for (let i = 0; !s.closed; i++) s.next(i);
    });
    subscribeChained(endless, downstream, {
      next: (v) => {
        seen.push(v);
        if (v === 2) downstream.unsubscribe();
      },
    });
    expect(seen).toEqual([0, 1, 2]);
  });

  it('values, errors and completion pass through unchanged', () => {
    const seen: unknown[] = [];
    subscribeChained(of(1, 2), new Subscription(), { next: (v) => seen.push(v), complete: () => seen.push('done') });
    expect(seen).toEqual([1, 2, 'done']);
  });
});
