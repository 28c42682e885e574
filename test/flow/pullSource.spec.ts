import { describe, expect, it } from 'vitest';
import { SourceReadError } from '../../src/errors';
import { Demand } from '../../src/flow/Demand';
import { pullSource, type ByteReader } from '../../src/sources/pullSource';
import { pattern } from '../helpers/marbles';
import { InvalidConfigError } from '../../src/errors';
import { thrownBy } from '../helpers/thrown';

/** A synchronous reader over a buffer that counts what it has read. */
const counting = (data: Uint8Array) => {
  const state = { read: 0, closed: 0 };
  const open = (): ByteReader => ({
    read: (max) => {
      if (state.read >= data.length) return null;
      const out = data.subarray(state.read, state.read + max);
      state.read += out.length;
      return out;
    },
    close: () => void state.closed++,
  });
  return { state, open };
};

describe('pullSource', () => {
  it('reads only what demand grants', () => {
    const { state, open } = counting(pattern(10_000));
    const demand = new Demand();
    const got: number[] = [];
    let completed = false;
    pullSource(open, { demand, readSize: 1000 }).subscribe({ next: (b) => got.push(b.length), complete: () => (completed = true) });
    expect(state.read).toBe(0);
    demand.request(2500);
    expect(got).toEqual([1000, 1000, 500]);
    expect(state.read).toBe(2500);
    demand.request(100_000);
    expect(state.read).toBe(10_000);
    expect(completed).toBe(true);
    expect(demand.available).toBe(100_000 - 7500);
  });

  it('without demand reads everything, and closes the reader once', async () => {
    const { state, open } = counting(pattern(5000));
    const got: number[] = [];
    pullSource(open, { readSize: 2048 }).subscribe((b) => got.push(b.length));
    expect(got).toEqual([2048, 2048, 904]);
    await Promise.resolve();
    await Promise.resolve();
    expect(state.closed).toBe(1);
  });

  it('stops reading and closes on unsubscribe', async () => {
    const { state, open } = counting(pattern(5000));
    const demand = new Demand();
    const sub = pullSource(open, { demand, readSize: 100 }).subscribe();
    demand.request(300);
    sub.unsubscribe();
    demand.request(1000);
    expect(state.read).toBe(300);
    await Promise.resolve();
    await Promise.resolve();
    expect(state.closed).toBe(1);
  });

  it('wraps reader failures in SourceReadError', async () => {
    const err = await new Promise<unknown>((resolve) =>
      pullSource(() => ({ read: () => Promise.reject(new Error('disk gone')) })).subscribe({ error: resolve }),
    );
    expect(err).toBeInstanceOf(SourceReadError);
    expect((err as SourceReadError).cause).toBeInstanceOf(Error);
  });

  it('works with asynchronous readers', async () => {
    const data = pattern(3000);
    let pos = 0;
    const out: number[] = [];
    await new Promise<void>((resolve) =>
      pullSource(
        () => ({
          read: async (max) => {
            if (pos >= data.length) return null;
            const b = data.subarray(pos, pos + max);
            pos += b.length;
            return b;
          },
        }),
        { readSize: 1024 },
      ).subscribe({ next: (b) => out.push(b.length), complete: resolve }),
    );
    expect(out).toEqual([1024, 1024, 952]);
  });
});

describe('pullSource with a synchronous, endless reader', () => {
  it('stops reading when unsubscribed during subscribe (take)', async () => {
    const { take } = await import('rxjs');
    let reads = 0;
    const got: number[] = [];
    pullSource(() => ({ read: () => (reads++, new Uint8Array(1)) }))
      .pipe(take(2))
      .subscribe((b) => got.push(b.length));
    expect(got).toEqual([1, 1]);
    expect(reads).toBe(2);
  });
});

describe('pullSource: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => pullSource(undefined as never, null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'pullSource: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
