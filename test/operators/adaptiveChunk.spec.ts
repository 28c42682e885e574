import fc from 'fast-check';
import { from, map, mergeMap, NEVER, Observable, of, Subject, take, type Observable as Obs } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { FrameDecodeError, InvalidConfigError } from '../../src/errors';
import { adaptiveChunk } from '../../src/operators/adaptiveChunk';
import type { NetworkConditions } from '../../src/operators/chooseChunkSize';
import type { Chunk } from '../../src/types';
import { pattern, testScheduler } from '../helpers/marbles';
import { thrownBy } from '../helpers/thrown';

const KiB = 1024;
/** A chunk as `index@offset+length`, so marbles stay readable. */
const show = (c: Chunk) => `${c.index}@${c.offset}+${c.data.length}`;
const shown = (o: Obs<Chunk>) => o.pipe(map(show));
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
/** Runs synchronously and collects chunks, completion and error. */
const collect = (o: Obs<Chunk>) => {
  const r = { chunks: [] as Chunk[], done: false, error: undefined as unknown };
  o.subscribe({ next: (c) => r.chunks.push(c), complete: () => (r.done = true), error: (e) => (r.error = e) });
  return r;
};

describe('adaptiveChunk', () => {
  const A = pattern(64 * KiB, 1);
  const B = pattern(64 * KiB, 2);

  it('a change in conditions$ changes the size of the FOLLOWING chunks', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const conditions = hot('----r-------------', { r: 150 }); // 150 ms → 32 KiB
      const source = cold('   -A-------B---------|', { A, B });
      const subs = '          ^------------------!';
      const expected = '      -a-------(bc)------|';
      expectObservable(shown(source.pipe(adaptiveChunk(conditions)))).toBe(expected, {
        a: `0@0+${64 * KiB}`,
        b: `1@${64 * KiB}+${32 * KiB}`,
        c: `2@${96 * KiB}+${32 * KiB}`,
      });
      expectSubscriptions(source.subscriptions).toBe(subs);
      expectSubscriptions(conditions.subscriptions).toBe(subs);
    });
  });

  it('accepts full NetworkConditions and uses initialSize before the first one', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const conditions = hot<NetworkConditions>('---r------', { r: { rttMs: 30, lossRate: 0.05 } }); // 128 KiB one step down → 64 KiB
      const source = cold('-A------B--|', { A, B });
      expectObservable(shown(source.pipe(adaptiveChunk(conditions, { initialSize: 16 * KiB })))).toBe('-(abcd)-e--|', {
        a: `0@0+${16 * KiB}`,
        b: `1@${16 * KiB}+${16 * KiB}`,
        c: `2@${32 * KiB}+${16 * KiB}`,
        d: `3@${48 * KiB}+${16 * KiB}`,
        e: `4@${64 * KiB}+${64 * KiB}`,
      });
    });
  });

  it('keeps the last condition after conditions$ completes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const conditions = cold('r|', { r: 300 }); // 16 KiB
      const source = cold('---A----|', { A: A.subarray(0, 32 * KiB) });
      expectObservable(shown(source.pipe(adaptiveChunk(conditions)))).toBe('---(ab)-|', { a: `0@0+${16 * KiB}`, b: `1@${16 * KiB}+${16 * KiB}` });
    });
  });

  it('flushes the remainder as a final short chunk', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-A-B-|', { A, B: B.subarray(0, 100) });
      expectObservable(shown(source.pipe(adaptiveChunk(NEVER)))).toBe('-a---(b|)', { a: `0@0+${64 * KiB}`, b: `1@${64 * KiB}+100` });
    });
  });

  it('fixedSize disables adaptation and never subscribes conditions$', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const conditions = hot('r-----', { r: 300 });
      const source = cold('-A-|', { A });
      const result = source.pipe(adaptiveChunk(conditions, { fixedSize: 40_000 }));
      expectObservable(shown(result)).toBe('-a-(b|)', { a: '0@0+40000', b: `1@40000+${64 * KiB - 40_000}` });
      expectSubscriptions(conditions.subscriptions).toBe([]);
    });
  });

  it('empty: an empty input, or only empty pieces, emits nothing', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Uint8Array>('|').pipe(adaptiveChunk(NEVER))).toBe('|');
      expectObservable(cold('-e-e-|', { e: new Uint8Array(0) }).pipe(adaptiveChunk(NEVER))).toBe('-----|');
    });
  });

  it('never: a silent source emits nothing and stays subscribed', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = cold<Uint8Array>('-');
      const conditions = hot('--r--', { r: 10 });
      expectObservable(source.pipe(adaptiveChunk(conditions))).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('error: a source error is forwarded after the chunks already cut', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const err = new Error('disk');
      const source = cold('-A-#', { A }, err);
      expectObservable(shown(source.pipe(adaptiveChunk(NEVER)))).toBe('-a-#', { a: `0@0+${64 * KiB}` }, err);
    });
  });

  it('error: an error in conditions$ errors the output and unsubscribes the source', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const err = new Error('stats gone');
      const conditions = hot<number>('---#', undefined, err);
      const source = cold('-A------|', { A });
      expectObservable(shown(source.pipe(adaptiveChunk(conditions)))).toBe('-a-#', { a: `0@0+${64 * KiB}` }, err);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('error: invalid conditions error with InvalidConfigError; non-binary pieces with FrameDecodeError', () => {
    const bad = collect(of(A).pipe(adaptiveChunk(of(-5))));
    expect(bad.error).toBeInstanceOf(InvalidConfigError);
    const junk = collect((of('text') as unknown as Obs<Uint8Array>).pipe(adaptiveChunk(NEVER)));
    expect(junk.error).toBeInstanceOf(FrameDecodeError);
  });

  it('rejects a bad config at call time', () => {
    expect(() => adaptiveChunk(NEVER, { initialSize: 0 })).toThrow(InvalidConfigError);
    expect(() => adaptiveChunk(NEVER, { fixedSize: 1.5 })).toThrow(InvalidConfigError);
    expect(() => adaptiveChunk(NEVER, { maxMessageSize: 1000 })).toThrow(InvalidConfigError);
  });

  it('early unsubscribe tears down the source and conditions$', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const conditions = hot('-------r--', { r: 150 });
      const source = cold('-A---A---A--|', { A });
      const unsub = '      ------!';
      expectObservable(shown(source.pipe(adaptiveChunk(conditions))), unsub).toBe('-a---b', { a: `0@0+${64 * KiB}`, b: `1@${64 * KiB}+${64 * KiB}` });
      expectSubscriptions(source.subscriptions).toBe('^-----!');
      expectSubscriptions(conditions.subscriptions).toBe('^-----!');
    });
  });

  it('does not break unsubscription chains', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const conditions = hot('--r-------', { r: 300 });
      const source = cold('-A---A---A--|', { A: A.subarray(0, 16 * KiB) });
      const unsub = '      ------!';
      const result = source.pipe(
        mergeMap((x) => of(x)),
        adaptiveChunk(conditions),
        mergeMap((x) => of(x)),
      );
      expectObservable(shown(result), unsub).toBe('-----(ab)', { a: `0@0+${16 * KiB}`, b: `1@${16 * KiB}+${16 * KiB}` });
      expectSubscriptions(source.subscriptions).toBe('^-----!');
      expectSubscriptions(conditions.subscriptions).toBe('^-----!');
    });
  });

  it('stops a synchronous infinite source when unsubscribed', () => {
    let produced = 0;
    const infinite = new Observable<Uint8Array>((s) => {
      while (!s.closed && produced < 1e6) {
        produced++;
        s.next(pattern(10 * KiB));
      }
    });
    const got: Chunk[] = [];
    infinite.pipe(adaptiveChunk(NEVER, { initialSize: 16 * KiB }), take(3)).subscribe((c) => got.push(c));
    expect(got.map((c) => c.data.length)).toEqual([16 * KiB, 16 * KiB, 16 * KiB]);
    expect(produced).toBe(5);
  });

  it('is zero-copy inside one piece and copies only across pieces', () => {
    const piece = pattern(40 * KiB);
    const { chunks } = collect(of(piece, pattern(8 * KiB)).pipe(adaptiveChunk(NEVER, { initialSize: 16 * KiB })));
    expect(chunks.map((c) => c.data.length)).toEqual([16 * KiB, 16 * KiB, 16 * KiB]);
    expect(chunks[0].data.buffer).toBe(piece.buffer);
    expect(chunks[1].data.buffer).toBe(piece.buffer);
    expect(chunks[2].data.buffer).not.toBe(piece.buffer);
    expect(chunks[2].data.byteLength).toBe(chunks[2].data.buffer.byteLength);
  });

  it('re-cuts a held partial when the size shrinks below it', () => {
    const conditions = new Subject<number>();
    const source = new Subject<Uint8Array>();
    const r = collect(source.pipe(adaptiveChunk(conditions)));
    source.next(pattern(40 * KiB)); // partial of 40 KiB (size 64 KiB)
    expect(r.chunks).toEqual([]);
    conditions.next(300); // 16 KiB
    source.next(pattern(1));
    expect(r.chunks.map((c) => c.data.length)).toEqual([16 * KiB, 16 * KiB]);
    conditions.next(150); // 32 KiB
    source.complete();
    expect(r.chunks.map((c) => c.data.length)).toEqual([16 * KiB, 16 * KiB, 8 * KiB + 1]);
    expect(r.done).toBe(true);
    expect(conditions.observed).toBe(false);
  });

  it('cuts contiguous views of one buffer without copying: every chunk is a view of that buffer', () => {
    const buffer = pattern(10_000, 5);
    const chunks: Chunk[] = [];
    const pieces = Array.from({ length: 10 }, (_, i) => buffer.subarray(i * 1000, (i + 1) * 1000));
    from(pieces)
      .pipe(adaptiveChunk(NEVER, { fixedSize: 4096, minChunk: 1000 }))
      .subscribe((c) => chunks.push(c));
    expect(chunks.map((c) => c.data.length)).toEqual([4096, 4096, 1808]);
    for (const c of chunks) expect(c.data.buffer).toBe(buffer.buffer);
    expect(Buffer.from(concat(chunks.map((c) => c.data))).equals(Buffer.from(buffer))).toBe(true);
    // A piece from another buffer in between ends the view: the chunk that spans it is a copy.
    const mixed: Chunk[] = [];
    from([buffer.subarray(0, 1000), pattern(1000, 6), buffer.subarray(1000, 3048)])
      .pipe(adaptiveChunk(NEVER, { fixedSize: 4096, minChunk: 1000 }))
      .subscribe((c) => mixed.push(c));
    expect(mixed).toHaveLength(1);
    expect(mixed[0].data.buffer).not.toBe(buffer.buffer);
    expect(Buffer.from(mixed[0].data).equals(Buffer.from(concat([buffer.subarray(0, 1000), pattern(1000, 6), buffer.subarray(1000, 3048)])))).toBe(true);
  });

  it('never splits wrong, drops or duplicates a byte (property)', () => {
    const step = fc.oneof(
      // `view`: the piece continues the previous view of one shared buffer (as fromBytes reads are), so
      // adaptiveChunk may widen a view instead of copying; otherwise a fresh buffer.
      fc.record({ piece: fc.integer({ min: 0, max: 100_000 }), view: fc.boolean() }),
      fc.record({ rtt: fc.constantFrom(1, 30, 60, 150, 300) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), fc.boolean(), (steps, unreliable) => {
        const conditions = new Subject<NetworkConditions>();
        const source = new Subject<Uint8Array>();
        const config = { minChunk: 1000, maxMessageSize: 200_032, reliable: !unreliable };
        const sizes: number[] = [];
        let size = 64 * KiB;
        const r = { chunks: [] as Chunk[], done: false };
        source.pipe(adaptiveChunk(conditions, config)).subscribe({
          next: (c) => (r.chunks.push(c), sizes.push(size)),
          complete: () => (r.done = true),
        });
        const inputs: Uint8Array[] = [];
        let seed = 0;
        const shared = pattern(30 * 100_000, 99);
        let cursor = 0;
        for (const s of steps) {
          if ('piece' in s) {
            const p = s.view ? shared.subarray(cursor, (cursor += s.piece)) : pattern(s.piece, seed++);
            inputs.push(p);
            source.next(p);
          } else {
            conditions.next({ rttMs: s.rtt, lossRate: unreliable ? 0.001 : 0 });
            size = Math.min(200_000, { 1: 1 << 22, 30: 128 * KiB, 60: 64 * KiB, 150: 32 * KiB, 300: 16 * KiB }[s.rtt]!);
            if (unreliable) size = Math.min(size, 61_489);
          }
        }
        source.complete();
        expect(r.done).toBe(true);
        expect(Buffer.from(concat(r.chunks.map((c) => c.data))).equals(Buffer.from(concat(inputs)))).toBe(true);
        let offset = 0;
        r.chunks.forEach((c, i) => {
          expect(c.index).toBe(i);
          expect(c.offset).toBe(offset);
          offset += c.data.length;
          if (i < r.chunks.length - 1) expect(c.data.length).toBe(sizes[i]);
          else expect(c.data.length).toBeLessThanOrEqual(sizes[i]);
          expect(c.data.length).toBeGreaterThan(0);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('adaptiveChunk startOffset', () => {
  it('numbers offsets from startOffset (a resumed transfer) and rejects bad values', async () => {
    const { of, lastValueFrom, toArray, NEVER } = await import('rxjs');
    const { adaptiveChunk } = await import('../../src/operators/adaptiveChunk');
    const chunks = await lastValueFrom(of(new Uint8Array(40_000)).pipe(adaptiveChunk(NEVER, { fixedSize: 16_384, startOffset: 1000 }), toArray()));
    expect(chunks.map((c) => [c.index, c.offset, c.data.length])).toEqual([
      [0, 1000, 16_384],
      [1, 17_384, 16_384],
      [2, 33_768, 7232],
    ]);
    expect(() => adaptiveChunk(NEVER, { startOffset: -1 })).toThrow(/startOffset/);
  });
});

describe('adaptiveChunk: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => adaptiveChunk(undefined as never, null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'adaptiveChunk: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
