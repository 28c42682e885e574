import { createHash, randomBytes } from 'node:crypto';
import { catchError, map, mergeMap, NEVER, Observable, of, Subject, take, type Observable as Obs } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { HashMismatchError, InvalidConfigError, ReorderError } from '../../src/errors';
import { crc32 } from '../../src/hash/crc32';
import { createSha256, createSha256Wasm, type Sha256 } from '../../src/hash/sha256';
import { verifyHash, type VerifyHashConfig } from '../../src/operators/verifyHash';
import type { Chunk } from '../../src/types';
import { pattern, testScheduler } from '../helpers/marbles';
import { thrownBy } from '../helpers/thrown';

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
/** Splits `data` into chunks of `size` with their CRC-32. */
const chunksOf = (data: Uint8Array, size: number): Chunk[] => {
  const out: Chunk[] = [];
  for (let offset = 0, index = 0; offset < data.length; offset += size, index++) {
    const d = data.subarray(offset, offset + size);
    out.push({ index, offset, data: d, checksum: crc32(d) });
  }
  return out;
};
/** Indexes as letters and an error as `!Name:index`, for marbles. */
const show = (o: Obs<Chunk>) =>
  o.pipe(
    map((c) => 'abcdefgh'[c.index]),
    catchError((e) => of(`!${(e as Error).name}${e instanceof HashMismatchError ? `:${e.index}` : ''}`)),
  );
/** Subscribes and waits for the end; returns what happened. */
const settle = (o: Obs<Chunk>) =>
  new Promise<{ chunks: Chunk[]; error?: any }>((resolve) => {
    const chunks: Chunk[] = [];
    o.subscribe({ next: (c) => chunks.push(c), complete: () => resolve({ chunks }), error: (error) => resolve({ chunks, error }) });
  });

const DATA = pattern(300, 7);
const CH = chunksOf(DATA, 100);
const C = { a: CH[0], b: CH[1], c: CH[2] };
const DIGEST = sha(DATA);
const WRONG = 'ff'.repeat(32);

describe('verifyHash', () => {
  it('passes chunks through unchanged and reports the digest of real data (vs node:crypto)', async () => {
    const data = new Uint8Array(randomBytes(3 * 1024 * 1024 + 17));
    const chunks = chunksOf(data, 64 * 1024);
    const digests: Array<[string, number]> = [];
    const r = await settle(of(...chunks).pipe(verifyHash({ expected: sha(data), onDigest: (hex, n) => digests.push([hex, n]) })));
    expect(r.error).toBeUndefined();
    expect(r.chunks).toHaveLength(chunks.length);
    r.chunks.forEach((c, i) => expect(c).toBe(chunks[i]));
    expect(digests).toEqual([[sha(data), data.length]]);
  });

  it('passes through in marble time and completes after the source', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', C);
      expectObservable(show(source.pipe(verifyHash({ expected: DIGEST.toUpperCase() })))).toBe('-a-b-c-|');
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('hashes chunks without a checksum, and checks the CRC of those that have one', async () => {
    const plain = CH.map(({ index, offset, data }) => ({ index, offset, data }));
    let digest = '';
    await settle(of(...plain).pipe(verifyHash({ onDigest: (h) => (digest = h) })));
    expect(digest).toBe(DIGEST);
  });

  it('a flipped bit errors with HashMismatchError carrying that index', () => {
    const flipped = CH[1].data.slice();
    flipped[42] ^= 0x10;
    const bad: Chunk = { ...CH[1], data: flipped };
    let error: any;
    const got: number[] = [];
    of(CH[0], bad, CH[2]).pipe(verifyHash()).subscribe({ next: (c) => got.push(c.index), error: (e) => (error = e) });
    expect(got).toEqual([0]);
    expect(error).toBeInstanceOf(HashMismatchError);
    expect(error).toMatchObject({ index: 1, algorithm: 'crc32', expected: CH[1].checksum!.toString(16).padStart(8, '0'), actual: crc32(flipped).toString(16).padStart(8, '0') });
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { ...C, b: bad });
      expectObservable(show(source.pipe(verifyHash()))).toBe('-a-(x|)', { a: 'a', x: '!HashMismatchError:1' });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('a wrong expected digest errors with HashMismatchError(-1, …, sha-256) at completion', async () => {
    const r = await settle(of(...CH).pipe(verifyHash({ expected: WRONG })));
    expect(r.chunks).toHaveLength(3);
    expect(r.error).toBeInstanceOf(HashMismatchError);
    expect(r.error).toMatchObject({ index: -1, expected: WRONG, actual: DIGEST, algorithm: 'sha-256', code: 'ERR_HASH_MISMATCH' });
  });

  it('expected as an Observable that emits after the source completed', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-b-c-|', C);
      const expected = hot('----------e', { e: DIGEST });
      expectObservable(show(source.pipe(verifyHash({ expected })))).toBe('-a-b-c----|');
      expectSubscriptions(expected.subscriptions).toBe('^---------!');
      const wrong = hot('------------w', { w: WRONG });
      expectObservable(show(source.pipe(verifyHash({ expected: wrong })))).toBe('-a-b-c------(x|)', { a: 'a', b: 'b', c: 'c', x: '!HashMismatchError:-1' });
    });
  });

  it('expected as an Observable that emitted before completion: completes with the source; later values are ignored', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const expected = hot('--e-w', { e: DIGEST, w: WRONG });
      expectObservable(show(cold('-a-b-c-|', C).pipe(verifyHash({ expected })))).toBe('-a-b-c-|');
    });
  });

  it('expected that completes without a value errors with ProtocolError; an error in it errors the output', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(show(cold('-a-b-c-|', C).pipe(verifyHash({ expected: cold<string>('---------|') })))).toBe('-a-b-c---(x|)', {
        a: 'a',
        b: 'b',
        c: 'c',
        x: '!ProtocolError',
      });
      expectObservable(show(cold('-a-b-c-|', C).pipe(verifyHash({ expected: cold<string>('--#', undefined, new Error('ctl')) })))).toBe('-a(x|)', {
        a: 'a',
        x: '!Error',
      });
    });
  });

  it('chunks out of order or not contiguous are a ReorderError', () => {
    const errs: any[] = [];
    of(CH[1]).pipe(verifyHash()).subscribe({ error: (e) => errs.push(e) });
    of(CH[0], { ...CH[1], offset: 101 }).pipe(verifyHash()).subscribe({ error: (e) => errs.push(e) });
    of(CH[0], CH[0]).pipe(verifyHash()).subscribe({ error: (e) => errs.push(e) });
    expect(errs.map((e) => [e instanceof ReorderError, e.code, e.details.missing])).toEqual([
      [true, 'ERR_REORDER_GAP', 0],
      [true, 'ERR_REORDER_GAP', 1],
      [true, 'ERR_REORDER_GAP', 1],
    ]);
  });

  it('an asynchronous hasher: chunks wait in order, then pass through; digest matches node:crypto', async () => {
    const data = new Uint8Array(randomBytes(1024 * 1024 + 5));
    const chunks = chunksOf(data, 50_000);
    const source = new Subject<Chunk>();
    const seen: number[] = [];
    let digest = '';
    const done = settle(
      source.pipe(
        verifyHash({ createHash: createSha256Wasm, expected: sha(data), onDigest: (h) => (digest = h) }),
        map((c) => (seen.push(c.index), c)),
      ),
    );
    chunks.slice(0, 5).forEach((c) => source.next(c));
    expect(seen).toEqual([]); // WASM still loading: queued
    await new Promise((r) => setTimeout(r, 50));
    chunks.slice(5).forEach((c) => source.next(c));
    source.complete();
    const r = await done;
    expect(r.error).toBeUndefined();
    expect(seen).toEqual(chunks.map((c) => c.index));
    expect(digest).toBe(sha(data));
  });

  it('an asynchronous hasher that resolves after the source completed still hashes every chunk in order', async () => {
    let resolve!: (h: Sha256) => void;
    const pending = new Promise<Sha256>((r) => (resolve = r));
    const r = settle(of(...CH).pipe(verifyHash({ createHash: () => pending, expected: DIGEST })));
    resolve(createSha256() as Sha256);
    const out = await r;
    expect(out.error).toBeUndefined();
    expect(out.chunks.map((c) => c.index)).toEqual([0, 1, 2]);
  });

  it('a hasher that fails to load (or throws) errors the output', async () => {
    const boom = new Error('wasm');
    expect((await settle(of(...CH).pipe(verifyHash({ createHash: () => Promise.reject(boom) })))).error).toBe(boom);
    expect(
      (
        await settle(
          of(...CH).pipe(
            verifyHash({
              createHash: () => {
                throw boom;
              },
            }),
          ),
        )
      ).error,
    ).toBe(boom);
  });

  it('unsubscribing while the hasher loads emits nothing later', async () => {
    let resolve!: (h: Sha256) => void;
    const got: Chunk[] = [];
    const sub = of(...CH)
      .pipe(verifyHash({ createHash: () => new Promise<Sha256>((r) => (resolve = r)) }))
      .subscribe((c) => got.push(c));
    sub.unsubscribe();
    resolve(createSha256() as Sha256);
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([]);
  });

  it('onDigest throwing errors the output', async () => {
    const boom = new Error('sink');
    const r = await settle(
      of(...CH).pipe(
        verifyHash({
          onDigest: () => {
            throw boom;
          },
        }),
      ),
    );
    expect(r.error).toBe(boom);
  });

  it('rejects a malformed expected digest at call time', () => {
    expect(() => verifyHash({ expected: 'abc' })).toThrow(InvalidConfigError);
    expect(() => verifyHash({ expected: DIGEST + '0' })).toThrow(InvalidConfigError);
  });

  it('empty: completes with the digest of nothing, and still compares', async () => {
    const digests: Array<[string, number]> = [];
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Chunk>('|').pipe(verifyHash({ onDigest: (h, n) => digests.push([h, n]) }))).toBe('|');
    });
    expect(digests).toEqual([[sha(new Uint8Array(0)), 0]]);
    expect((await settle(of<Chunk>().pipe(verifyHash({ expected: WRONG } as VerifyHashConfig)))).error).toBeInstanceOf(HashMismatchError);
  });

  it('never', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Chunk>('-').pipe(verifyHash({ expected: NEVER }))).toBe('-');
    });
  });

  it('error: forwards a source error without computing the digest', () => {
    const digests: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(show(cold('-a-#', C, new Error('net')).pipe(verifyHash({ onDigest: (h) => digests.push(h) })))).toBe('-a-(x|)', { a: 'a', x: '!Error' });
    });
    expect(digests).toEqual([]);
  });

  it('early unsubscribe tears down the source and expected', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', C);
      const expected = hot('---------e', { e: DIGEST });
      expectObservable(show(source.pipe(verifyHash({ expected }))), '--!').toBe('-a');
      expectSubscriptions(source.subscriptions).toBe('^-!');
      expectSubscriptions(expected.subscriptions).toBe('^-!');
    });
  });

  it('does not break unsubscription chains', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', C);
      const result = source.pipe(
        mergeMap((x) => of(x)),
        verifyHash(),
        mergeMap((x) => of(x)),
      );
      expectObservable(show(result), '----!').toBe('-a-b');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('stops a synchronous infinite source when unsubscribed', () => {
    let produced = 0;
    const piece = pattern(10);
    const infinite = new Observable<Chunk>((s) => {
      while (!s.closed && produced < 1e6) {
        s.next({ index: produced, offset: produced * 10, data: piece, checksum: crc32(piece) });
        produced++;
      }
    });
    const got: number[] = [];
    infinite.pipe(verifyHash(), take(3)).subscribe((c) => got.push(c.index));
    expect(got).toEqual([0, 1, 2]);
    expect(produced).toBe(3);
  });
});

describe('verifyHash startOffset', () => {
  it('expects the first chunk at startOffset and counts bytes from there', async () => {
    const { of, lastValueFrom, toArray } = await import('rxjs');
    const { verifyHash } = await import('../../src/operators/verifyHash');
    const data = new Uint8Array([1, 2, 3]);
    const ok = await lastValueFrom(of({ index: 0, offset: 500, data }).pipe(verifyHash({ startOffset: 500 }), toArray()));
    expect(ok).toHaveLength(1);
    await expect(lastValueFrom(of({ index: 0, offset: 0, data }).pipe(verifyHash({ startOffset: 500 })))).rejects.toMatchObject({ code: 'ERR_REORDER_GAP' });
    expect(() => verifyHash({ startOffset: -5 })).toThrow(/startOffset/);
  });
});

describe('verifyHash checkChunks: false', () => {
  it('skips the per-chunk CRC but still fails on the file digest', async () => {
    const { of, lastValueFrom } = await import('rxjs');
    const data = new Uint8Array([1, 2, 3]);
    const bad = { index: 0, offset: 0, data, checksum: crc32(data) ^ 1 };
    const want = createHash('sha256').update(data).digest('hex');
    await expect(lastValueFrom(of(bad).pipe(verifyHash({ expected: want })))).rejects.toBeInstanceOf(HashMismatchError);
    await expect(lastValueFrom(of(bad).pipe(verifyHash({ expected: want, checkChunks: false })))).resolves.toEqual(bad);
    await expect(lastValueFrom(of(bad).pipe(verifyHash({ expected: 'a'.repeat(64), checkChunks: false })))).rejects.toBeInstanceOf(HashMismatchError);
  });
});

describe('verifyHash: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => verifyHash(null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'verifyHash: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
