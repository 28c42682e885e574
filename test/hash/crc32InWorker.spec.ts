/**
 * crc32InWorker: each chunk's CRC-32, synchronously here in Node, or asynchronously from a worker (a fake
 * batcher here; test/hash/hashWorker.spec.ts runs it against the worker protocol), in order.
 */
import { Subject, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { crc32 as zlibCrc } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { HashWorkerError } from '../../src/hash/HashWorkerError';
import { crc32InWorker, type Crc32Batcher } from '../../src/hash/crc32InWorker';
import type { Bytes, Chunk } from '../../src/types';
import { pattern } from '../helpers/bytes';

const chunk = (index: number, size = 1000): Chunk => ({ index, offset: index * size, data: pattern(size, index + 1) });
const attach = (c: Chunk, crc: number) => ({ index: c.index, crc });

/** A batcher whose answers the test releases; it records each batch's piece sizes. */
function fakeBatcher(options: { fail?: boolean } = {}) {
  const batches: number[][] = [];
  const answers: (() => void)[] = [];
  const batcher: Crc32Batcher = {
    crc32Batch: (parts: readonly Bytes[]) => {
      batches.push(parts.map((p) => p.length));
      return new Promise((resolve, reject) =>
        answers.push(() => (options.fail ? reject(new HashWorkerError('hash worker failed: gone')) : resolve(parts.map((p) => zlibCrc(p))))),
      );
    },
  };
  return { batcher, batches, answer: () => answers.shift()!() };
}

/** Collects what an observable emits, and how it ended. */
function collect<T>(o: Observable<T>) {
  const out: { values: T[]; done: boolean; error?: unknown } = { values: [], done: false };
  const sub = o.subscribe({ next: (v) => out.values.push(v), error: (e) => (out.error = e), complete: () => (out.done = true) });
  return { out, sub };
}
// One macrotask turn: every promise and microtask queued so far (the batch flush, the answers) has run. Not a sleep.
const settled = () => new Promise((r) => setImmediate(r));

describe('crc32InWorker', () => {
  it('without a worker (Node: native CRC-32) attaches each CRC synchronously, under virtual time', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable }) => {
      const c = [chunk(0), chunk(1)];
      expectObservable(cold('-a-b-|', { a: c[0], b: c[1] }).pipe(crc32InWorker({ attach }))).toBe('-x-y-|', {
        x: { index: 0, crc: zlibCrc(c[0].data) },
        y: { index: 1, crc: zlibCrc(c[1].data) },
      });
      expectObservable(cold<Chunk>('-#', {}, new Error('read')).pipe(crc32InWorker({ attach }))).toBe('-#', {}, new Error('read'));
      expectObservable(cold<Chunk>('|').pipe(crc32InWorker({ attach }))).toBe('|');
    });
  });

  it("sends the chunks of one task as one batch and emits them in order once it answers; completes after the last", async () => {
    const fake = fakeBatcher();
    const source = new Subject<Chunk>();
    const { out } = collect(source.pipe(crc32InWorker({ attach, worker: async () => fake.batcher })));
    source.next(chunk(0));
    source.next(chunk(1, 500));
    await settled();
    source.next(chunk(2));
    source.complete();
    await settled();
    // Two tasks, two batches; nothing emitted before the worker answered, nor completed.
    expect(fake.batches).toEqual([[1000, 500], [1000]]);
    expect(out).toEqual({ values: [], done: false });
    fake.answer();
    await settled();
    expect(out.values).toEqual([0, 1].map((i) => ({ index: i, crc: zlibCrc(chunk(i, i === 1 ? 500 : 1000).data) })));
    expect(out.done).toBe(false);
    fake.answer();
    await settled();
    expect(out.values.map((v) => v.index)).toEqual([0, 1, 2]);
    expect(out.done).toBe(true);
  });

  it('a later batch answered first still comes out after the earlier one', async () => {
    const answers: ((v: number[]) => void)[] = [];
    const worker: Crc32Batcher = { crc32Batch: (parts) => new Promise((r) => answers.push(() => r(parts.map((p) => zlibCrc(p))))) as Promise<number[]> };
    const source = new Subject<Chunk>();
    const { out } = collect(source.pipe(crc32InWorker({ attach, worker: async () => worker, batchBytes: 1000 })));
    source.next(chunk(0));
    source.next(chunk(1));
    source.complete();
    await settled();
    expect(answers).toHaveLength(2);
    answers[1]([]);
    await settled();
    expect(out.values).toEqual([]);
    answers[0]([]);
    await settled();
    expect(out.values.map((v) => v.index)).toEqual([0, 1]);
    expect(out.done).toBe(true);
  });

  it('batches hold at most batchBytes (one chunk at least), and what came while the worker started goes then', async () => {
    const fake = fakeBatcher();
    let started!: (w: Crc32Batcher) => void;
    const source = new Subject<Chunk>();
    const { out } = collect(source.pipe(crc32InWorker({ attach, worker: () => new Promise((r) => (started = r)), batchBytes: 2500 })));
    for (let i = 0; i < 5; i++) source.next(chunk(i));
    source.next(chunk(5, 4000));
    source.complete();
    await settled();
    expect(fake.batches).toEqual([]);
    started(fake.batcher);
    await settled();
    expect(fake.batches).toEqual([[1000, 1000], [1000, 1000], [1000], [4000]]);
    for (let i = 0; i < 4; i++) fake.answer();
    await settled();
    expect(out.values.map((v) => v.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(out.done).toBe(true);
  });

  it('a batch the worker cannot take (behind: no buffer free) is computed here, and waits for earlier ones', async () => {
    const fake = fakeBatcher();
    let busy = false;
    const batcher: Crc32Batcher = { crc32Batch: (parts) => (busy ? undefined : fake.batcher.crc32Batch(parts)) };
    const source = new Subject<Chunk>();
    const { out } = collect(source.pipe(crc32InWorker({ attach, worker: async () => batcher })));
    source.next(chunk(0));
    await settled();
    busy = true;
    source.next(chunk(1));
    await settled();
    source.next(chunk(2));
    source.complete();
    // Chunks 1 and 2 were computed here, but wait behind chunk 0, still at the worker.
    expect(fake.batches).toEqual([[1000]]);
    expect(out.values).toEqual([]);
    fake.answer();
    await settled();
    expect(out.values).toEqual([0, 1, 2].map((i) => ({ index: i, crc: zlibCrc(chunk(i).data) })));
    expect(out.done).toBe(true);
  });

  it('where no worker starts (it says undefined) computes here, in order', async () => {
    const source = new Subject<Chunk>();
    const { out } = collect(source.pipe(crc32InWorker({ attach, worker: async () => undefined })));
    source.next(chunk(0));
    source.next(chunk(1));
    await settled();
    source.next(chunk(2));
    source.complete();
    expect(out.values).toEqual([0, 1, 2].map((i) => ({ index: i, crc: zlibCrc(chunk(i).data) })));
    expect(out.done).toBe(true);
  });

  it('a worker that fails errors the output with its HashWorkerError, and nothing of the batch comes out', async () => {
    const fake = fakeBatcher({ fail: true });
    const source = new Subject<Chunk>();
    const { out } = collect(source.pipe(crc32InWorker({ attach, worker: async () => fake.batcher })));
    source.next(chunk(0));
    await settled();
    fake.answer();
    await settled();
    expect(out.values).toEqual([]);
    expect(out.error).toBeInstanceOf(HashWorkerError);
    expect((out.error as HashWorkerError).code).toBe('ERR_HASH_WORKER');
  });

  it('unsubscribed while a batch is out: its answer emits nothing, and the source is unsubscribed', async () => {
    const fake = fakeBatcher();
    const source = new Subject<Chunk>();
    const { out, sub } = collect(source.pipe(crc32InWorker({ attach, worker: async () => fake.batcher })));
    source.next(chunk(0));
    await settled();
    sub.unsubscribe();
    expect(source.observed).toBe(false);
    fake.answer();
    await settled();
    expect(out).toEqual({ values: [], done: false });
  });

  it('a source error passes through at once, before answers still out', async () => {
    const fake = fakeBatcher();
    const source = new Subject<Chunk>();
    const { out } = collect(source.pipe(crc32InWorker({ attach, worker: async () => fake.batcher })));
    source.next(chunk(0));
    source.error(new Error('read failed'));
    expect((out.error as Error).message).toBe('read failed');
  });
});
