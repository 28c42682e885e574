import { lastValueFrom, map, mergeMap, Observable, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, LimitExceededError } from '../../src/errors';
import { toBlob } from '../../src/sinks/toBlob';
import type { Chunk } from '../../src/types';
import { pattern, testScheduler } from '../helpers/marbles';
import { thrownBy } from '../helpers/thrown';

const bytesOf = async (blob: Blob) => new Uint8Array(await blob.arrayBuffer());
const a = pattern(3);
const b: Chunk = { index: 1, offset: 3, data: pattern(2, 3) };
const c = pattern(4, 5);

describe('toBlob', () => {
  it('emits one Blob holding every part, on completion', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Chunk | Uint8Array>('-a-b-c-|', { a, b, c });
      expectObservable(source.pipe(toBlob(), map((blob) => blob.size))).toBe('-------(s|)', { s: 9 });
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('concatenates chunks and byte arrays in arrival order, with the type', async () => {
    const blob = await lastValueFrom(of<(Chunk | Uint8Array)[]>(a, b, c).pipe(toBlob({ type: 'application/x-test' })));
    expect(blob.type).toBe('application/x-test');
    expect(Array.from(await bytesOf(blob))).toEqual([...a, ...b.data, ...c]);
  });

  it('copies each part as it arrives, so the producer may reuse its buffer', async () => {
    const buffer = new Uint8Array([1, 2, 3]);
    const reused = new Observable<Uint8Array>((s) => {
      s.next(buffer);
      buffer.fill(9);
      s.next(buffer);
      s.complete();
    });
    const blob = await lastValueFrom(reused.pipe(toBlob()));
    expect(Array.from(await bytesOf(blob))).toEqual([1, 2, 3, 9, 9, 9]);
  });

  it('emits an empty Blob for an empty source', async () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Uint8Array>('|').pipe(toBlob(), map((blob) => blob.size))).toBe('(s|)', { s: 0 });
    });
    const blob = await lastValueFrom(of(new Uint8Array(0)).pipe(toBlob()));
    expect(blob.size).toBe(0);
  });

  it('never emits for a source that never completes', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Uint8Array>('-a-', { a });
      expectObservable(source.pipe(toBlob())).toBe('---');
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('passes an error through and emits nothing', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Uint8Array>('-a-#', { a }, new Error('boom'));
      expectObservable(source.pipe(toBlob())).toBe('---#', undefined, new Error('boom'));
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('unsubscribes from the source on early unsubscribe', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot<Uint8Array>('-a-a-a-|', { a });
      expectObservable(source.pipe(toBlob()), '^--!').toBe('----');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('does not break unsubscription chains', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot<Uint8Array>('-a-a-a-|', { a });
      const result = source.pipe(
        mergeMap((x) => of(x)),
        toBlob(),
        mergeMap((x) => of(x)),
      );
      expectObservable(result, '^---!').toBe('-----');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('errors with LimitExceededError beyond maxBytes, and a synchronous source stops', () => {
    let sent = 0;
    const infinite = new Observable<Uint8Array>((s) => {
      while (!s.closed) {
        sent++;
        s.next(a);
      }
    });
    let error: unknown;
    infinite.pipe(toBlob({ maxBytes: 10 })).subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(LimitExceededError);
    expect((error as LimitExceededError).details).toEqual({ limit: 'toBlob size', value: 12, max: 10 });
    expect(sent).toBe(4);
  });

  it('rejects a negative maxBytes', () => {
    expect(() => toBlob({ maxBytes: -1 })).toThrow(InvalidConfigError);
  });
});

describe('toBlob: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => toBlob(null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'toBlob: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
