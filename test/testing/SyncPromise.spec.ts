/** SyncPromise: settled at once, so signalling chains run inside TestScheduler.run(). */
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { SyncPromise } from '../../src/testing';

describe('SyncPromise', () => {
  it('runs then-callbacks at once and chains their results, adopting returned SyncPromises', () => {
    const seen: unknown[] = [];
    SyncPromise.resolve(1)
      .then((x) => x + 1)
      .then((x) => SyncPromise.resolve(x * 10))
      .then((x) => seen.push(x));
    expect(seen).toEqual([20]);
  });

  it('turns a throw into a rejection that catch sees at once, and skips fulfilment handlers', () => {
    const seen: unknown[] = [];
    SyncPromise.try(() => {
      throw new Error('no');
    })
      .then(() => seen.push('skipped'))
      .catch((err: Error) => seen.push(err.message))
      .finally(() => seen.push('finally'));
    expect(seen).toEqual(['no', 'finally']);
  });

  it('emits synchronously through from(), and can be awaited', async () => {
    const seen: unknown[] = [];
    from(SyncPromise.resolve('x')).subscribe((v) => seen.push(v));
    expect(seen).toEqual(['x']);
    await expect(SyncPromise.resolve(5)).resolves.toBe(5);
    await expect(SyncPromise.reject(new Error('r'))).rejects.toThrow('r');
  });
});
