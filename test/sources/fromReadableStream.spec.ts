import { describe, expect, it, vi } from 'vitest';
import { SourceReadError } from '../../src/errors';
import { Demand } from '../../src/flow/Demand';
import { DEFAULT_READ_SIZE } from '../../src/sources/pullSource';
import { fromReadableStream } from '../../src/sources/fromReadableStream';
import { pattern } from '../helpers/marbles';
import { describeSourceConformance, expectPieces, record, settle, type ReadCounter } from './sourceConformance';
import { InvalidConfigError } from '../../src/errors';
import { thrownBy } from '../helpers/thrown';

/**
 * A pull-based byte stream over `data` in chunks of `chunkSize`, with no read-ahead
 * (highWaterMark 0), counting the bytes it enqueues.
 */
const streamOf = (data: Uint8Array, chunkSize: number, counter: ReadCounter = { read: 0 }, cancel = vi.fn()) => {
  let pos = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull: (controller) => {
        if (pos >= data.length) return controller.close();
        const chunk = data.slice(pos, pos + chunkSize);
        pos += chunk.length;
        counter.read += chunk.length;
        controller.enqueue(chunk);
      },
      cancel,
    },
    { highWaterMark: 0 },
  );
};

describeSourceConformance('fromReadableStream', async (data, config, counter) =>
  fromReadableStream(streamOf(data, Math.ceil(0.7 * (config.readSize ?? DEFAULT_READ_SIZE)), counter), config),
);

describe('fromReadableStream', () => {
  it('splits chunks larger than the read and holds the rest', async () => {
    const data = pattern(10_000);
    const counter: ReadCounter = { read: 0 };
    const demand = new Demand();
    const rec = record(fromReadableStream(streamOf(data, 10_000, counter), { readSize: 3000, demand }));
    demand.request(1000);
    await vi.waitFor(() => expect(rec.bytes).toBe(1000));
    expect(counter.read).toBe(10_000);
    demand.request(20_000);
    await rec.done;
    expect(rec.pieces.map((p) => p.length)).toEqual([1000, 3000, 3000, 3000]);
    expectPieces(rec.pieces, data, 3000);
    // The split pieces are views of the stream's chunk, not copies.
    expect(new Set(rec.pieces.map((p) => p.buffer)).size).toBe(1);
  });

  it('calls reader.read() once per read, not ahead of credit', async () => {
    const stream = streamOf(pattern(10_000), 1000);
    const getReader = stream.getReader.bind(stream);
    let reads = 0;
    vi.spyOn(stream, 'getReader').mockImplementation((() => {
      const reader = getReader();
      const read = reader.read.bind(reader);
      reader.read = () => (reads++, read());
      return reader;
    }) as typeof stream.getReader);
    const demand = new Demand();
    const rec = record(fromReadableStream(stream, { readSize: 1000, demand }));
    await settle();
    expect(reads).toBe(0);
    demand.request(2000);
    await vi.waitFor(() => expect(rec.bytes).toBe(2000));
    await settle();
    expect(reads).toBe(2);
    rec.subscription.unsubscribe();
  });

  it('skips start bytes across chunk boundaries', async () => {
    const data = pattern(5000);
    const rec = record(fromReadableStream(streamOf(data, 700), { readSize: 1000, start: 1500 }));
    await rec.done;
    expectPieces(rec.pieces, data.subarray(1500), 1000);
    expect(rec.pieces[0].length).toBe(600);
  });

  it('releases the lock on completion without cancelling', async () => {
    const cancel = vi.fn();
    const stream = streamOf(pattern(100), 30, undefined, cancel);
    await record(fromReadableStream(stream)).done;
    await settle();
    expect(stream.locked).toBe(false);
    expect(cancel).not.toHaveBeenCalled();
  });

  it('cancels the stream and releases the lock on early unsubscribe', async () => {
    const cancel = vi.fn();
    const stream = streamOf(pattern(100_000), 1000, undefined, cancel);
    const demand = new Demand();
    const rec = record(fromReadableStream(stream, { readSize: 1000, demand }));
    demand.request(2000);
    await vi.waitFor(() => expect(rec.bytes).toBe(2000));
    expect(stream.locked).toBe(true);
    rec.subscription.unsubscribe();
    await vi.waitFor(() => expect(cancel).toHaveBeenCalledTimes(1));
    expect(stream.locked).toBe(false);
  });

  it('cancels a read that is waiting for the stream', async () => {
    const cancel = vi.fn();
    // A stream that never produces anything.
    const stream = new ReadableStream<Uint8Array>({ cancel });
    const rec = record(fromReadableStream(stream));
    await settle();
    rec.subscription.unsubscribe();
    await vi.waitFor(() => expect(cancel).toHaveBeenCalledTimes(1));
    expect(stream.locked).toBe(false);
  });

  it('fails with SourceReadError when the stream errors', async () => {
    const cause = new Error('network gone');
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull: (controller) => {
        if (sent) return controller.error(cause);
        sent = true;
        controller.enqueue(pattern(10));
      },
    });
    const rec = record(fromReadableStream(stream));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    expect((rec.error as SourceReadError).cause).toBe(cause);
    expect((rec.error as SourceReadError).details).toMatchObject({ offset: 10 });
    expect(rec.bytes).toBe(10);
    await settle();
    expect(stream.locked).toBe(false);
  });

  it('fails on a chunk that is not a Uint8Array, and cancels the stream', async () => {
    const cancel = vi.fn();
    const stream = new ReadableStream<any>({ start: (c) => c.enqueue('text'), cancel });
    const rec = record(fromReadableStream(stream));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    await vi.waitFor(() => expect(cancel).toHaveBeenCalledTimes(1));
  });

  it('fails with SourceReadError on a locked stream', async () => {
    const stream = streamOf(pattern(10), 10);
    const reader = stream.getReader();
    const rec = record(fromReadableStream(stream));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    expect((rec.error as SourceReadError).details).toMatchObject({ locked: true });
    reader.releaseLock();
  });

  it('reads a Blob.stream()', async () => {
    const data = pattern(300_000);
    const rec = record(fromReadableStream(new Blob([data as Uint8Array<ArrayBuffer>]).stream(), { readSize: 50_000 }));
    await rec.done;
    expectPieces(rec.pieces, data, 50_000);
  });
});

describe('fromReadableStream: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => fromReadableStream(new Blob([]).stream(), null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'fromReadableStream: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
