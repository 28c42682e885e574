import { map, mergeMap, Observable, of, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { FrameDecodeError, InvalidConfigError } from '../../src/errors';
import { decodeFrames } from '../../src/operators/decodeFrames';
import { encodeFrame, type DataFrame } from '../../src/protocol/frame';
import { pattern, testScheduler } from '../helpers/marbles';
import { thrownBy } from '../helpers/thrown';

const f0 = encodeFrame({ transferId: 7, index: 0, offset: 0 }, pattern(10, 1));
const f1 = encodeFrame({ transferId: 7, index: 1, offset: 10 }, pattern(5, 2));
const other = encodeFrame({ transferId: 9, index: 0, offset: 0 }, pattern(3));
/** A frame as `transferId/index@offset+length`. */
const show = (f: DataFrame) => `${f.transferId}/${f.index}@${f.offset}+${f.data.length}`;

describe('decodeFrames', () => {
  it('decodes every message shape a channel delivers', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-d-|', {
        a: f0, // Uint8Array
        b: f1.slice().buffer, // ArrayBuffer
        c: Buffer.from(f0), // Node Buffer
        d: { data: f1.slice().buffer }, // MessageEvent-like
      });
      expectObservable(source.pipe(decodeFrames(), map(show))).toBe('-a-b-c-d-|', { a: '7/0@0+10', b: '7/1@10+5', c: '7/0@0+10', d: '7/1@10+5' });
    });
  });

  it('returns the payload as a view into the received buffer', () => {
    const got: DataFrame[] = [];
    of(f0).pipe(decodeFrames()).subscribe((f) => got.push(f));
    expect(got[0].data.buffer).toBe(f0.buffer);
    expect(Array.from(got[0].data)).toEqual(Array.from(pattern(10, 1)));
  });

  it('drops frames of another transfer and reports them', () => {
    const unknown: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-x-b-|', { a: f0, x: other, b: f1 });
      expectObservable(source.pipe(decodeFrames({ transferId: 7, onUnknownTransfer: (f) => unknown.push(show(f)) }), map(show))).toBe('-a---b-|', {
        a: '7/0@0+10',
        b: '7/1@10+5',
      });
    });
    expect(unknown).toEqual(['9/0@0+3']);
  });

  it('without a transferId accepts every transfer', () => {
    const ids: number[] = [];
    of(f0, other).pipe(decodeFrames()).subscribe((f) => ids.push(f.transferId));
    expect(ids).toEqual([7, 9]);
  });

  it('errors with FrameDecodeError on a malformed message and unsubscribes', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-a-|', { a: f0, b: f0.subarray(0, 20) });
      expectObservable(source.pipe(decodeFrames(), map(show))).toBe(
        '-a-#',
        { a: '7/0@0+10' },
        new FrameDecodeError('ERR_FRAME_TOO_SHORT', 'frame of 20 B is shorter than the 32 B header', { length: 20 }),
      );
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    const errs: unknown[] = [];
    of('text', { data: 'text' }, null).pipe(decodeFrames()).subscribe({ error: (e) => errs.push(e) });
    expect(errs).toHaveLength(1);
    expect((errs[0] as FrameDecodeError).code).toBe('ERR_FRAME_INPUT');
  });

  it('errors when onUnknownTransfer throws', () => {
    const boom = new Error('boom');
    let error: unknown;
    of(other).pipe(decodeFrames({ transferId: 7, onUnknownTransfer: () => { throw boom; } })).subscribe({ error: (e) => (error = e) });
    expect(error).toBe(boom);
  });

  it('rejects a bad transferId at call time', () => {
    expect(() => decodeFrames({ transferId: 1.5 })).toThrow(InvalidConfigError);
  });

  it('empty', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('|').pipe(decodeFrames())).toBe('|');
    });
  });

  it('never', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-').pipe(decodeFrames())).toBe('-');
    });
  });

  it('error: forwards a source error', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-#', { a: f0 }).pipe(decodeFrames(), map(show))).toBe('-a-#', { a: '7/0@0+10' });
    });
  });

  it('early unsubscribe', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b--|', { a: f0, b: f1 });
      expectObservable(source.pipe(decodeFrames(), map(show)), '--!').toBe('-a', { a: '7/0@0+10' });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('does not break unsubscription chains', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b--|', { a: f0, b: f1 });
      const result = source.pipe(
        mergeMap((x) => of(x)),
        decodeFrames(),
        mergeMap((x) => of(x)),
        map(show),
      );
      expectObservable(result, '---!').toBe('-a', { a: '7/0@0+10' });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('stops a synchronous infinite source when unsubscribed', () => {
    let produced = 0;
    const infinite = new Observable<Uint8Array>((s) => {
      while (!s.closed && produced < 1e6) {
        produced++;
        s.next(f0);
      }
    });
    const got: DataFrame[] = [];
    infinite.pipe(decodeFrames(), take(3)).subscribe((f) => got.push(f));
    expect(got).toHaveLength(3);
    expect(produced).toBe(3);
  });
});

describe('decodeFrames onMalformed', () => {
  it('drops malformed messages and reports them, or errors when the callback throws', async () => {
    const { of, lastValueFrom, toArray } = await import('rxjs');
    const { decodeFrames } = await import('../../src/operators/decodeFrames');
    const { encodeFrame } = await import('../../src/protocol/frame');
    const { FrameDecodeError } = await import('../../src/errors');
    const good = encodeFrame({ transferId: 1, index: 0, offset: 0 }, new Uint8Array([1, 2, 3]));
    const broken = good.slice();
    broken[9] ^= 1;
    const seen: string[] = [];
    const out = await lastValueFrom(of(broken, new Uint8Array(3), good).pipe(decodeFrames({ onMalformed: (e) => seen.push(e.code) }), toArray()));
    expect(out.map((f) => f.index)).toEqual([0]);
    expect(seen).toEqual(['ERR_FRAME_HEADER', 'ERR_FRAME_TOO_SHORT']);
    await expect(
      lastValueFrom(of(broken).pipe(decodeFrames({ onMalformed: (e) => { throw e; } }))),
    ).rejects.toBeInstanceOf(FrameDecodeError);
  });
});

describe('decodeFrames: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => decodeFrames(null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'decodeFrames: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
