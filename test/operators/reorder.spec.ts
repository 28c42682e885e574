import fc from 'fast-check';
import { catchError, map, mergeMap, NEVER, Observable, of, Subject, take, type Observable as Obs } from 'rxjs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, ReorderError } from '../../src/errors';
import { reorder, reorderBudget, type ReorderConfig } from '../../src/operators/reorder';
import type { Chunk } from '../../src/types';
import { pattern, testScheduler } from '../helpers/marbles';
import { thrownBy } from '../helpers/thrown';

/** Chunk `i` of 4 bytes. */
const ch = (i: number): Chunk => ({ index: i, offset: i * 4, data: pattern(4, i) });
/** Marble values: a..h are chunks 0..7. */
const C = Object.fromEntries('abcdefgh'.split('').map((k, i) => [k, ch(i)]));
/** Indexes as letters again, and an error as `!CODE`, so marbles compare plain strings. */
const show = (o: Obs<Chunk>) =>
  o.pipe(
    map((c) => 'abcdefgh'[c.index]),
    catchError((e) => of(e instanceof ReorderError ? `!${e.code}` : `!${(e as Error).message}`)),
  );
const OVERFLOW = { x: '!ERR_REORDER_OVERFLOW' };
/** Runs synchronously; returns emitted indexes and the error. */
const run = (chunks: number[], config: ReorderConfig = {}) => {
  const out = { indexes: [] as number[], error: undefined as ReorderError | undefined, done: false };
  of(...chunks.map(ch))
    .pipe(reorder(config))
    .subscribe({ next: (c) => out.indexes.push(c.index), error: (e) => (out.error = e), complete: () => (out.done = true) });
  return out;
};

describe('reorder', () => {
  it('a shared budget bounds two reorders together: the second overflows when both hold more than it; bytes come back', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      // 10 bytes shared; each buffered chunk is 4 bytes. First: b, c held (8). Second: its c would make 12.
      const budget = reorderBudget(10);
      expectObservable(show(cold('-b-c-(a|)', C).pipe(reorder({ budget })))).toBe('-----(abc|)');
      expectObservable(show(cold('----c|', C).pipe(reorder({ budget })))).toBe('----(x|)', OVERFLOW);
      // After the first released its chunks and the second's subscription ended, the budget is whole again.
      expectObservable(show(cold('------c-b-(a|)', C).pipe(reorder({ budget })))).toBe('----------(abc|)');
    });
  });

  it('emits chunks in index order from unordered arrival', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-c-a-b----d-|', C);
      expectObservable(show(source.pipe(reorder()))).toBe('---a-(bc)-d-|');
      expectSubscriptions(source.subscriptions).toBe('^-----------!');
    });
  });

  it('passes chunk objects through unchanged', () => {
    const got: Chunk[] = [];
    const chunks = [ch(1), ch(0)];
    of(...chunks).pipe(reorder()).subscribe((c) => got.push(c));
    expect(got[0]).toBe(chunks[1]);
    expect(got[1]).toBe(chunks[0]);
  });

  it('starts at config.start', () => {
    expect(run([6, 5, 7], { start: 5 })).toMatchObject({ indexes: [5, 6, 7], done: true });
  });

  it('drops and reports duplicates (already emitted or already buffered)', () => {
    const dups: number[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-a-c-c-b-a-|', C);
      expectObservable(show(source.pipe(reorder({ onDuplicate: (i) => dups.push(i) })))).toBe('-a-------(bc)|');
    });
    expect(dups).toEqual([0, 2, 0]);
  });

  it('errors when onDuplicate throws', () => {
    const r = run([0, 0], {
      onDuplicate: () => {
        throw new Error('dup');
      },
    });
    expect(r.indexes).toEqual([0]);
    expect((r.error as unknown as Error).message).toBe('dup');
  });

  it('window: an index >= next + window is ERR_REORDER_OVERFLOW', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-b-c-a-|', C);
      expectObservable(show(source.pipe(reorder({ window: 2 })))).toBe('---(x|)', OVERFLOW);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    const r = run([2, 1, 0, 3], { window: 3 });
    expect(r.indexes).toEqual([0, 1, 2, 3]);
    expect(run([3], { window: 3 }).error).toMatchObject({ code: 'ERR_REORDER_OVERFLOW', details: { index: 3, window: 3, next: 0 } });
  });

  it('maxBufferedBytes bounds the buffered payload', () => {
    expect(run([1, 2, 0], { maxBufferedBytes: 8 })).toMatchObject({ indexes: [0, 1, 2], done: true });
    const r = run([1, 2, 3, 0], { maxBufferedBytes: 8 });
    expect(r.indexes).toEqual([]);
    expect(r.error).toBeInstanceOf(ReorderError);
    expect(r.error).toMatchObject({ code: 'ERR_REORDER_OVERFLOW', details: { index: 3, maxBufferedBytes: 8, bufferedBytes: 8 } });
  });

  it('chunkOverheadBytes: each held chunk counts its payload and the overhead, against maxBufferedBytes and the budget; all of it comes back', () => {
    // 4-byte chunks with 6 B of overhead: 10 each. A bound of 20 holds two, not five.
    expect(run([1, 2, 0], { maxBufferedBytes: 20, chunkOverheadBytes: 6 })).toMatchObject({ indexes: [0, 1, 2], done: true });
    const r = run([1, 2, 3, 0], { maxBufferedBytes: 20, chunkOverheadBytes: 6 });
    expect(r.error).toMatchObject({ code: 'ERR_REORDER_OVERFLOW', details: { index: 3, maxBufferedBytes: 20, buffered: 2, bufferedBytes: 8 } });
    const budget = reorderBudget(25);
    const shared = run([1, 2, 3, 0], { budget, chunkOverheadBytes: 6 });
    expect(shared.error).toMatchObject({ code: 'ERR_REORDER_OVERFLOW', details: { index: 3, sharedMaxBytes: 25 } });
    // Torn down: every counted byte went back.
    expect(budget.take(25)).toBe(true);
    const after = reorderBudget(20);
    expect(run([2, 1, 0], { budget: after, chunkOverheadBytes: 6 })).toMatchObject({ indexes: [0, 1, 2], done: true });
    expect(after.take(20)).toBe(true);
  });

  it('end: completes once every chunk below it is out, without waiting for the source', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const end = hot('-----n----', { n: 3 });
      const source = cold('-c-a-b--------|', C);
      const expected = '   ---a-(bc|)';
      expectObservable(show(source.pipe(reorder({ end })))).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe('^----!');
      expectSubscriptions(end.subscriptions).toBe('^----!');
    });
  });

  it('end: completes when end arrives after the last chunk', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const end = hot('-------n--', { n: 2 });
      const source = cold('-b-a-------|', C);
      expectObservable(show(source.pipe(reorder({ end })))).toBe('---(ab)|');
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('end: the first value counts; an end of 0 completes at once', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(show(cold<Chunk>('-----|').pipe(reorder({ end: cold('--(n|)', { n: 0 }) })))).toBe('--|');
      expectObservable(show(cold('-a-b-c-|', C).pipe(reorder({ end: cold('n-m', { n: 2, m: 5 }) })))).toBe('-a-(b|)');
    });
  });

  it('end: an index >= end is ERR_REORDER_OVERFLOW', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(show(cold('--c-|', C).pipe(reorder({ end: cold('n', { n: 2 }) })))).toBe('--(x|)', OVERFLOW);
      // A buffered chunk beyond an end that arrives later.
      expectObservable(show(cold('-d---|', C).pipe(reorder({ end: cold('---n', { n: 2 }) })))).toBe('---(x|)', OVERFLOW);
      // An end below what was already emitted.
      expectObservable(show(cold('ab---|', C).pipe(reorder({ end: cold('---n', { n: 1 }) })))).toBe('ab-(x|)', { a: 'a', b: 'b', ...OVERFLOW });
    });
  });

  it('end: an error in end errors the output', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(show(cold('-a----|', C).pipe(reorder({ end: cold('--#', undefined, new Error('ctl')) })))).toBe('-a(x|)', { a: 'a', x: '!ctl' });
    });
  });

  it('ERR_REORDER_GAP when the source completes with chunks waiting, or before end', () => {
    const r = run([0, 2, 3]);
    expect(r.indexes).toEqual([0]);
    expect(r.error).toBeInstanceOf(ReorderError);
    expect(r.error).toMatchObject({ code: 'ERR_REORDER_GAP', details: { missing: 1 } });
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(show(cold('-a-b-|', C).pipe(reorder({ end: cold('n', { n: 3 }) })))).toBe('-a-b-(x|)', { a: 'a', b: 'b', x: '!ERR_REORDER_GAP' });
    });
  });

  it('end not known yet when the source completes: the total decides (it completed: a truncated file came out whole)', () => {
    // An outside check: chunks 0 and 1 of 5, the channels closed, and `end` (sent by the sender once it finished)
    // later said 5: reorder had completed at the source's end, and toBlob() made an 8-byte file of a 20-byte one.
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const GAP = { a: 'a', b: 'b', x: '!ERR_REORDER_GAP' };
      // The total comes later and says chunks are missing: ERR_REORDER_GAP then, not a completion before it.
      expectObservable(show(cold('-a-b-|', C).pipe(reorder({ end: cold('--------n', { n: 5 }) })))).toBe('-a-b----(x|)', GAP);
      // The total comes later and says every chunk is there: it completes then.
      expectObservable(show(cold('-a-b-|', C).pipe(reorder({ end: cold('--------n', { n: 2 }) })))).toBe('-a-b----|', GAP);
      // `end` completes without a value, after the source or before it: no total will come, and the source's end
      // is the end, as without `end`.
      expectObservable(show(cold('-a-b-|', C).pipe(reorder({ end: cold('-------|') })))).toBe('-a-b---|', GAP);
      expectObservable(show(cold('-a-b-|', C).pipe(reorder({ end: cold('--|') })))).toBe('-a-b-|', GAP);
      // With gapTimeoutMs, the wait for the total is bounded: ERR_REORDER_TIMEOUT.
      expectObservable(show(cold('-a-b-|', C).pipe(reorder({ end: NEVER, gapTimeoutMs: 10 })))).toBe('-a-b- 10ms (y|)', { ...GAP, y: '!ERR_REORDER_TIMEOUT' });
      // Without `end`, the source's completion is the end, as before.
      expectObservable(show(cold('-a-b-|', C).pipe(reorder()))).toBe('-a-b-|', GAP);
      const end = hot('----------n', { n: 3 });
      expectObservable(show(cold('-a-b-|', C).pipe(reorder({ end })))).toBe('-a-b------(x|)', GAP);
      expectSubscriptions(end.subscriptions).toBe('^---------!');
    });
    const r = run([0, 1]);
    expect(r.error).toBeUndefined();
  });

  it('gapTimeoutMs: a head-of-line gap that persists errors with ERR_REORDER_TIMEOUT', () => {
    testScheduler().run(({ cold, expectObservable, time }) => {
      const t = time('-----|');
      // Gap at 1 from frame 1 (chunk 2 waits): times out at 1 + 5.
      expectObservable(show(cold('-c------', C).pipe(reorder({ gapTimeoutMs: t })))).toBe('------(x|)', { x: '!ERR_REORDER_TIMEOUT' });
      // Chunk 0 at frame 3 moves the gap to 1 (chunk 2 still waits): the timer restarts, 3 + 5.
      expectObservable(show(cold('-c-a-----', C).pipe(reorder({ gapTimeoutMs: t })))).toBe('---a----(x|)', { a: 'a', x: '!ERR_REORDER_TIMEOUT' });
      // More chunks arriving behind the same gap do not restart the timer.
      expectObservable(show(cold('-c-d-e-----', C).pipe(reorder({ gapTimeoutMs: t })))).toBe('------(x|)', { x: '!ERR_REORDER_TIMEOUT' });
      // Nothing waiting: no timeout however long the source is silent.
      expectObservable(show(cold('-a-----------', C).pipe(reorder({ gapTimeoutMs: t })))).toBe('-a-----------');
      // The gap filled in time: no timeout.
      expectObservable(show(cold('-c--b-------|', C).pipe(reorder({ gapTimeoutMs: t, start: 1 })))).toBe('----(bc)----|');
    });
  });

  it('gapTimeoutMs uses the given scheduler', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(show(cold('-c--', C).pipe(reorder({ gapTimeoutMs: 3, scheduler })))).toBe('----(x|)', { x: '!ERR_REORDER_TIMEOUT' });
    });
    const r = run([2], { gapTimeoutMs: 1, scheduler: { now: () => 0, schedule: (work: any) => (work(), { unsubscribe: () => undefined, closed: false }) } as any });
    expect(r.error).toMatchObject({ code: 'ERR_REORDER_TIMEOUT', details: { missing: 0, gapTimeoutMs: 1 } });
  });

  it('releases buffered chunks on teardown', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const source = new Subject<Chunk>();
    const sub = source.pipe(reorder()).subscribe();
    const refs = (() => {
      const early = { index: 5, offset: 20, data: new Uint8Array(1 << 20) };
      source.next(early);
      return new WeakRef(early);
    })();
    sub.unsubscribe();
    for (let i = 0; i < 10 && refs.deref(); i++) {
      await new Promise((r) => setTimeout(r, 0));
      gc();
    }
    expect(refs.deref()).toBeUndefined();
    expect(sub.closed).toBe(true);
  });

  it('rejects a bad config at call time', () => {
    expect(() => reorder({ window: 0 })).toThrow(InvalidConfigError);
    expect(() => reorder({ start: -1 })).toThrow(InvalidConfigError);
    expect(() => reorder({ gapTimeoutMs: 0 })).toThrow(InvalidConfigError);
    expect(() => reorder({ maxBufferedBytes: NaN })).toThrow(InvalidConfigError);
    for (const chunkOverheadBytes of [-1, 0.5, NaN]) expect(() => reorder({ chunkOverheadBytes })).toThrow(InvalidConfigError);
  });

  it('empty', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Chunk>('|').pipe(reorder())).toBe('|');
    });
  });

  it('never', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Chunk>('-').pipe(reorder({ end: NEVER }))).toBe('-');
    });
  });

  it('error: forwards a source error', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(show(cold('-a-c-#', C, new Error('net')).pipe(reorder()))).toBe('-a---(x|)', { a: 'a', x: '!net' });
    });
  });

  it('early unsubscribe tears down the source, end and the gap timer', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const end = hot('--------n', { n: 9 });
      const source = cold('-a-c-b-----|', C);
      expectObservable(show(source.pipe(reorder({ end, gapTimeoutMs: 3 }))), '---!').toBe('-a--');
      expectSubscriptions(source.subscriptions).toBe('^--!');
      expectSubscriptions(end.subscriptions).toBe('^--!');
    });
  });

  it('does not break unsubscription chains', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-b-a-c-|', C);
      const result = source.pipe(
        mergeMap((x) => of(x)),
        reorder(),
        mergeMap((x) => of(x)),
      );
      expectObservable(show(result), '----!').toBe('---(ab)');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('stops a synchronous infinite source when unsubscribed', () => {
    let produced = 0;
    const infinite = new Observable<Chunk>((s) => {
      while (!s.closed && produced < 1e6) s.next(ch(produced++ ^ 1)); // 1, 0, 3, 2, …
    });
    const got: number[] = [];
    infinite.pipe(reorder(), take(3)).subscribe((c) => got.push(c.index));
    expect(got).toEqual([0, 1, 2]);
    expect(produced).toBe(4);
  });

  it('restores order from any arrival with duplicates (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys(), ...Array(n).keys()], { minLength: 2 * n, maxLength: 2 * n }), fc.boolean()),
        ),
        ([n, arrival, withEnd]) => {
          const end = new Subject<number>();
          const source = new Subject<Chunk>();
          const out = { indexes: [] as number[], done: false, dups: 0 };
          source.pipe(reorder(withEnd ? { end, onDuplicate: () => out.dups++ } : { onDuplicate: () => out.dups++ })).subscribe({ next: (c) => out.indexes.push(c.index), complete: () => (out.done = true) });
          if (withEnd) end.next(n);
          for (const i of arrival) source.next(ch(i));
          if (!withEnd) source.complete();
          expect(out.indexes).toEqual([...Array(n).keys()]);
          expect(out.done).toBe(true);
          // With `end`, completion comes with the last new chunk: later copies are never seen.
          if (!withEnd) expect(out.dups).toBe(n);
          expect(source.observed).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('reorder: a config that is not an object (an outside check)', () => {
  it('null or a number is an InvalidConfigError naming config, not a TypeError ("reading \'start\'")', () => {
    for (const [config, value] of [[null, null], [5, 5], ['strict', 'strict']] as const) {
      const error = thrownBy(() => reorder(config as never));
      expect(error).toBeInstanceOf(InvalidConfigError);
      expect(error).toMatchObject({ details: { field: 'config', value } });
    }
    expect(() => reorder(null as never)).toThrow('reorder: config must be an object, got null');
    expect(() => reorder(undefined)).not.toThrow();
  });
});
