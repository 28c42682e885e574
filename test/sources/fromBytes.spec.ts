import { map, mergeMap, of, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { Demand } from '../../src/flow/Demand';
import { fromBytes } from '../../src/sources/fromBytes';
import { pattern, testScheduler } from '../helpers/marbles';
import { describeSourceConformance, type ReadCounter } from './sourceConformance';
import { thrownBy } from '../helpers/thrown';

/** A Uint8Array whose `subarray` (all fromBytes uses to read) counts the bytes it hands out. */
const countingBytes = (data: Uint8Array, counter: ReadCounter): Uint8Array => {
  class CountingBytes extends Uint8Array {
    static get [Symbol.species]() {
      return Uint8Array;
    }
    override subarray(begin?: number, end?: number): Uint8Array<ArrayBuffer> {
      const piece = super.subarray(begin, end);
      counter.read += piece.length;
      return piece as Uint8Array<ArrayBuffer>;
    }
  }
  return new CountingBytes(data);
};

describeSourceConformance('fromBytes', async (data, config, counter) => fromBytes(countingBytes(data, counter), config));

describe('fromBytes', () => {
  const bytes = pattern(5);
  const a = bytes.subarray(0, 2);
  const b = bytes.subarray(2, 4);
  const c = bytes.subarray(4, 5);

  it('emits every piece synchronously, then completes', () => {
    testScheduler().run(({ expectObservable }) => {
      expectObservable(fromBytes(bytes, { readSize: 2 })).toBe('(abc|)', { a, b, c });
    });
  });

  it('completes at once when empty, or when start is past the end', () => {
    testScheduler().run(({ expectObservable }) => {
      expectObservable(fromBytes(new Uint8Array(0))).toBe('|');
      expectObservable(fromBytes(bytes, { start: 9 })).toBe('|');
    });
  });

  it('is cold: each subscription reads from start again', () => {
    testScheduler().run(({ expectObservable }) => {
      const source = fromBytes(bytes, { readSize: 2, start: 1 });
      const x = bytes.subarray(1, 3);
      const y = bytes.subarray(3, 5);
      expectObservable(source).toBe('(xy|)', { x, y });
      expectObservable(source).toBe('(xy|)', { x, y });
    });
  });

  it('emits zero-copy views of the input', () => {
    const pieces: Uint8Array[] = [];
    fromBytes(bytes, { readSize: 2 }).subscribe((p) => pieces.push(p));
    expect(pieces.map((p) => p.buffer === bytes.buffer)).toEqual([true, true, true]);
    expect(pieces.map((p) => p.byteOffset)).toEqual([0, 2, 4]);
  });

  it('emits as credit is granted, in pieces no larger than the credit', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const demand = new Demand();
      // 3 B of credit at frame 2, 10 B at frame 8.
      cold('--x-----y|', { x: 3, y: 10 }).subscribe((n) => demand.request(n));
      expectObservable(fromBytes(bytes, { readSize: 2, demand })).toBe('--(ab)--(c|)', {
        a: bytes.subarray(0, 2),
        b: bytes.subarray(2, 3),
        c: bytes.subarray(3, 5),
      });
    });
  });

  it('never emits without credit', () => {
    testScheduler().run(({ expectObservable }) => {
      expectObservable(fromBytes(bytes, { demand: new Demand() })).toBe('-');
    });
  });

  it('stops a synchronous read loop when unsubscribed (take)', () => {
    const counter: ReadCounter = { read: 0 };
    const pieces: number[] = [];
    fromBytes(countingBytes(new Uint8Array(1_000_000), counter), { readSize: 1 })
      .pipe(take(3))
      .subscribe((p) => pieces.push(p.length));
    expect(pieces).toEqual([1, 1, 1]);
    expect(counter.read).toBeLessThanOrEqual(4);
  });

  it('unsubscribes through a mergeMap chain', () => {
    const demand = new Demand();
    testScheduler().run(({ cold, expectObservable }) => {
      // 1 B of credit at frames 1, 3, 5, 7 and 9.
      cold('-x-x-x-x-x', { x: 1 }).subscribe((n) => demand.request(n));
      const result = of(0).pipe(
        mergeMap(() => fromBytes(bytes, { readSize: 1, demand })),
        map((p) => p[0]),
        mergeMap((v) => of(v)),
      );
      expectObservable(result, '^---!').toBe('-a-b-', { a: 0, b: 1 });
    });
    // The three grants after the unsubscribe were not taken.
    expect(demand.available).toBe(3);
  });

  it('rejects a bad readSize at once', () => {
    expect(() => fromBytes(bytes, { readSize: 0 })).toThrow(InvalidConfigError);
  });
});

describe('fromBytes: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => fromBytes(new Uint8Array(1), null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'fromBytes: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
