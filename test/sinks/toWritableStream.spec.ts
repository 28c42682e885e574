import { lastValueFrom, mergeMap, NEVER, Observable, of, Subject, tap, throwError, toArray } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidConfigError, LimitExceededError, SinkWriteError, TransferCancelledError } from '../../src/errors';
import { Demand } from '../../src/flow/Demand';
import { toWritableStream } from '../../src/sinks/toWritableStream';
import { fromBytes } from '../../src/sources/fromBytes';
import type { Chunk } from '../../src/types';
import { firstDifference, pattern } from '../helpers/bytes';
import { concat, settle } from '../sources/sourceConformance';
import { thrownBy } from '../helpers/thrown';

/** A WritableStream that records what it receives, with spies on close and abort. */
const recorder = (options: { delayMs?: number; highWaterMark?: number; fail?: Error } = {}) => {
  const received: Uint8Array[] = [];
  const close = vi.fn();
  const abort = vi.fn();
  const stream = new WritableStream<Uint8Array>(
    {
      write: async (chunk) => {
        if (options.fail) throw options.fail;
        if (options.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
        received.push(chunk);
      },
      close,
      abort,
    },
    new CountQueuingStrategy({ highWaterMark: options.highWaterMark ?? 1 }),
  );
  return { stream, received, close, abort };
};

/** Pieces of `data` as chunks with offsets. */
const chunksOf = (data: Uint8Array, size: number): Chunk[] => {
  const out: Chunk[] = [];
  for (let offset = 0, index = 0; offset < data.length; offset += size, index++) out.push({ index, offset, data: data.subarray(offset, offset + size) });
  return out;
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('toWritableStream', () => {
  it('writes every byte in order, emits running totals, then closes the stream', async () => {
    const data = pattern(1_000_000);
    const { stream, received, close, abort } = recorder();
    const totals = await lastValueFrom(fromBytes(data, { readSize: 65_536 }).pipe(toWritableStream(stream), toArray()));
    expect(firstDifference(concat(received), data)).toBe(-1);
    expect(totals.length).toBe(16);
    expect(totals[0]).toBe(65_536);
    expect(totals.at(-1)).toBe(1_000_000);
    expect(close).toHaveBeenCalledTimes(1);
    expect(abort).not.toHaveBeenCalled();
    expect(stream.locked).toBe(false);
  });

  it('accepts chunks as well as byte arrays, and skips empty ones', async () => {
    const { stream, received } = recorder();
    const totals = await lastValueFrom(
      of<(Chunk | Uint8Array)[]>(pattern(3), new Uint8Array(0), { index: 1, offset: 3, data: pattern(2, 3) }).pipe(toWritableStream(stream), toArray()),
    );
    expect(totals).toEqual([3, 5]);
    expect(received.map((r) => r.length)).toEqual([3, 2]);
  });

  it('waits for writer.ready: a slow stream never holds more than its highWaterMark, and still gets every byte in order', async () => {
    const highWaterMark = 2;
    const data = pattern(200_000, 1);
    const { stream, received } = recorder({ delayMs: 1, highWaterMark });
    // Chunks handed to the stream minus chunks its sink finished: the stream's queue.
    let handed = 0;
    let maxQueued = 0;
    const write = WritableStreamDefaultWriter.prototype.write;
    vi.spyOn(WritableStreamDefaultWriter.prototype, 'write').mockImplementation(function (this: WritableStreamDefaultWriter, chunk) {
      handed++;
      maxQueued = Math.max(maxQueued, handed - received.length);
      return write.call(this, chunk);
    });
    // 50 chunks arrive at once; the stream takes them as it has room.
    const totals = await lastValueFrom(fromBytes(data, { readSize: 4000 }).pipe(toWritableStream(stream), toArray()));
    expect(handed).toBe(50);
    expect(maxQueued).toBeGreaterThan(1);
    // The one being written plus highWaterMark queued.
    expect(maxQueued).toBeLessThanOrEqual(highWaterMark + 1);
    expect(firstDifference(concat(received), data)).toBe(-1);
    expect(totals).toEqual(Array.from({ length: 50 }, (_, i) => (i + 1) * 4000));
  });

  it('completes without emitting for an empty source, and closes the stream', async () => {
    const { stream, close } = recorder();
    const totals = await lastValueFrom(of<Uint8Array>().pipe(toWritableStream(stream), toArray()));
    expect(totals).toEqual([]);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('never completes or closes for a source that never completes', async () => {
    const { stream, close, abort } = recorder();
    let completed = false;
    const sub = NEVER.pipe(toWritableStream(stream)).subscribe({ complete: () => (completed = true) });
    await settle();
    expect(completed).toBe(false);
    expect(close).not.toHaveBeenCalled();
    expect(abort).not.toHaveBeenCalled();
    sub.unsubscribe();
  });

  it('aborts the stream with the source error and passes the error through', async () => {
    const { stream, abort, close } = recorder();
    const boom = new Error('boom');
    const result = lastValueFrom(throwError(() => boom).pipe(toWritableStream(stream)));
    await expect(result).rejects.toBe(boom);
    await vi.waitFor(() => expect(abort).toHaveBeenCalledWith(boom));
    expect(close).not.toHaveBeenCalled();
    expect(stream.locked).toBe(false);
  });

  it('fails with SinkWriteError when a write fails', async () => {
    const cause = new Error('quota exceeded');
    const { stream } = recorder({ fail: cause });
    const result = lastValueFrom(of(pattern(10)).pipe(toWritableStream(stream)));
    await expect(result).rejects.toBeInstanceOf(SinkWriteError);
    await result.catch((err) => expect(err.cause).toBe(cause));
  });

  it('fails with SinkWriteError on a locked stream', async () => {
    const { stream } = recorder();
    stream.getWriter();
    await expect(lastValueFrom(of(pattern(1)).pipe(toWritableStream(stream)))).rejects.toBeInstanceOf(SinkWriteError);
  });

  it('aborts the stream on early unsubscribe', async () => {
    const { stream, abort, close } = recorder({ delayMs: 5 });
    const source = new Subject<Uint8Array>();
    const sub = source.pipe(toWritableStream(stream)).subscribe();
    source.next(pattern(10));
    source.next(pattern(10));
    sub.unsubscribe();
    await vi.waitFor(() => expect(abort).toHaveBeenCalledTimes(1));
    expect(abort.mock.calls[0][0]).toBeInstanceOf(TransferCancelledError);
    expect(close).not.toHaveBeenCalled();
    expect(source.observed).toBe(false);
    expect(stream.locked).toBe(false);
  });

  it('does not break unsubscription chains', async () => {
    const { stream, abort } = recorder();
    const source = new Subject<Uint8Array>();
    const totals: number[] = [];
    const sub = source
      .pipe(
        mergeMap((x) => of(x)),
        toWritableStream(stream),
        mergeMap((x) => of(x)),
      )
      .subscribe((n) => totals.push(n));
    source.next(pattern(7));
    await vi.waitFor(() => expect(totals).toEqual([7]));
    sub.unsubscribe();
    expect(source.observed).toBe(false);
    await vi.waitFor(() => expect(abort).toHaveBeenCalledTimes(1));
  });

  it('errors with LimitExceededError when more than maxQueuedBytes wait, aborts, and a synchronous source stops', async () => {
    const { stream, abort } = recorder({ delayMs: 1 });
    let sent = 0;
    const infinite = new Observable<Uint8Array>((s) => {
      while (!s.closed) {
        sent++;
        s.next(pattern(1000));
      }
    });
    const result = lastValueFrom(infinite.pipe(toWritableStream(stream, { maxQueuedBytes: 10_000 })));
    await expect(result).rejects.toBeInstanceOf(LimitExceededError);
    await result.catch((err) => expect(err.details).toEqual({ limit: 'toWritableStream queued bytes', value: 11_000, max: 10_000 }));
    expect(sent).toBe(11);
    await vi.waitFor(() => expect(abort).toHaveBeenCalledTimes(1));
  });

  it('keeps the queue bounded when the sender is paced by demand', async () => {
    // A source that reads only what the sink has written: the queue never fills.
    const data = pattern(300_000, 2);
    const { stream, received } = recorder({ delayMs: 0 });
    const demand = new Demand({ initial: 20_000 });
    const totals = await lastValueFrom(
      fromBytes(data, { readSize: 10_000, demand }).pipe(
        toWritableStream(stream, { maxQueuedBytes: 20_000 }),
        tap(() => demand.request(10_000)),
        toArray(),
      ),
    );
    expect(totals.at(-1)).toBe(300_000);
    expect(firstDifference(concat(received), data)).toBe(-1);
  });

  it('rejects maxQueuedBytes <= 0', () => {
    expect(() => toWritableStream(recorder().stream, { maxQueuedBytes: 0 })).toThrow(InvalidConfigError);
  });

  it('writes chunks by arrival, not by offset', async () => {
    const data = pattern(30);
    const [x, y, z] = chunksOf(data, 10);
    const { stream, received } = recorder();
    await lastValueFrom(of(z, x, y).pipe(toWritableStream(stream)));
    expect(received.map((r) => r[0])).toEqual([z.data[0], x.data[0], y.data[0]]);
  });
});

describe('toWritableStream: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => toWritableStream(new WritableStream<Uint8Array>(), null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'toWritableStream: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
