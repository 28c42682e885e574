import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SourceReadError } from '../../src/errors';
import { Demand } from '../../src/flow/Demand';
import { DEFAULT_READ_SIZE } from '../../src/sources/pullSource';
import { fromNodeReadable } from '../../src/sources/fromNodeReadable';
import { pattern } from '../helpers/marbles';
import { describeSourceConformance, expectPieces, record, settle, type ReadCounter } from './sourceConformance';
import { InvalidConfigError } from '../../src/errors';
import { thrownBy } from '../helpers/thrown';

/**
 * A Readable over `data` that pushes one chunk of `chunkSize` per `_read`, buffers
 * at most `highWaterMark` ahead, and counts the bytes it pushes.
 */
const readableOf = (data: Uint8Array, chunkSize: number, counter: ReadCounter = { read: 0 }, autoDestroy = true) => {
  let pos = 0;
  return new Readable({
    highWaterMark: chunkSize,
    autoDestroy,
    read() {
      if (pos >= data.length) return void this.push(null);
      const chunk = Buffer.from(data.subarray(pos, pos + chunkSize));
      pos += chunk.length;
      counter.read += chunk.length;
      this.push(chunk);
    },
  });
};

const eventNames = ['readable', 'end', 'error', 'close'] as const;
const listeners = (r: Readable) => eventNames.map((e) => r.listenerCount(e));

describeSourceConformance('fromNodeReadable', async (data, config, counter) =>
  fromNodeReadable(readableOf(data, Math.ceil((config.readSize ?? DEFAULT_READ_SIZE) / 2), counter), config),
);

describe('fromNodeReadable', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tallow-fromNodeReadable-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads an fs.createReadStream', async () => {
    const data = pattern(1_000_000, 5);
    const path = join(dir, 'a.bin');
    await writeFile(path, data);
    const rec = record(fromNodeReadable(createReadStream(path), { readSize: 100_000 }));
    await rec.done;
    expectPieces(rec.pieces, data, 100_000);
  });

  it('keeps the stream paused: it never flows ahead of credit', async () => {
    const counter: ReadCounter = { read: 0 };
    const readable = readableOf(pattern(100_000), 1000, counter);
    const demand = new Demand();
    const rec = record(fromNodeReadable(readable, { readSize: 1000, demand }));
    demand.request(5000);
    await vi.waitFor(() => expect(rec.bytes).toBe(5000));
    await settle();
    expect(readable.readableFlowing).not.toBe(true);
    expect(counter.read).toBeLessThanOrEqual(6000);
    rec.subscription.unsubscribe();
  });

  it('destroys the stream and removes its listeners on early unsubscribe', async () => {
    const readable = readableOf(pattern(100_000), 1000);
    const before = listeners(readable);
    const demand = new Demand();
    const rec = record(fromNodeReadable(readable, { readSize: 1000, demand }));
    demand.request(1000);
    await vi.waitFor(() => expect(rec.bytes).toBe(1000));
    rec.subscription.unsubscribe();
    await vi.waitFor(() => expect(readable.destroyed).toBe(true));
    expect(readable.listenerCount('readable')).toBe(before[0]);
    expect(readable.listenerCount('end')).toBe(before[1]);
    expect(readable.listenerCount('close')).toBe(before[3]);
  });

  it('leaves the stream alive with destroyOnTeardown: false', async () => {
    const data = pattern(10_000);
    const readable = readableOf(data, 1000);
    const before = listeners(readable);
    const demand = new Demand();
    const rec = record(fromNodeReadable(readable, { readSize: 1000, demand, destroyOnTeardown: false }));
    demand.request(1000);
    await vi.waitFor(() => expect(rec.bytes).toBe(1000));
    rec.subscription.unsubscribe();
    await settle();
    expect(readable.destroyed).toBe(false);
    expect(listeners(readable)).toEqual(before);
    // The rest can still be read by someone else.
    const rest = record(fromNodeReadable(readable, { readSize: 1000 }));
    await rest.done;
    expectPieces(rest.pieces, data.subarray(1000), 1000);
  });

  it('does not destroy a stream that ended, and removes its listeners', async () => {
    // Without autoDestroy, so that any destroy() would be ours.
    const readable = readableOf(pattern(3000), 1000, undefined, false);
    const destroy = vi.spyOn(readable, 'destroy');
    await record(fromNodeReadable(readable, { readSize: 1000 })).done;
    await settle();
    expect(destroy).not.toHaveBeenCalled();
    expect(readable.listenerCount('readable')).toBe(0);
  });

  it('completes at once on a stream that already ended', async () => {
    const readable = Readable.from([Buffer.from('x')]);
    readable.resume();
    await new Promise((resolve) => readable.on('end', resolve));
    const rec = record(fromNodeReadable(readable));
    await rec.done;
    expect(rec.bytes).toBe(0);
  });

  it('fails with SourceReadError when the stream errors', async () => {
    const cause = new Error('EIO');
    let n = 0;
    const readable = new Readable({
      read() {
        if (n++ === 0) this.push(Buffer.alloc(10));
        else this.destroy(cause);
      },
    });
    const rec = record(fromNodeReadable(readable));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    expect((rec.error as SourceReadError).cause).toBe(cause);
  });

  it('fails when the stream closes before its end', async () => {
    const readable = new Readable({ read() {} });
    const rec = record(fromNodeReadable(readable));
    await settle();
    readable.destroy();
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    expect((rec.error as Error).message).toMatch(/closed before end/);
  });

  it('fails on a stream with an encoding, and destroys it', async () => {
    const readable = readableOf(pattern(100), 10);
    readable.setEncoding('utf8');
    const rec = record(fromNodeReadable(readable));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    await vi.waitFor(() => expect(readable.destroyed).toBe(true));
  });

  it('splits object-mode chunks larger than the read', async () => {
    const data = pattern(2500);
    const readable = Readable.from([data.subarray(0, 2100), data.subarray(2100)]);
    const rec = record(fromNodeReadable(readable, { readSize: 1000 }));
    await rec.done;
    expect(rec.pieces.map((p) => p.length)).toEqual([1000, 1000, 100, 400]);
    expectPieces(rec.pieces, data, 1000);
  });

  it('works with a duck-typed stream without readableLength', async () => {
    const inner = readableOf(pattern(5000), 700);
    const duck = {
      read: (n?: number) => inner.read(n),
      on: (e: string, l: (...a: any[]) => void) => inner.on(e, l),
      removeListener: (e: string, l: (...a: any[]) => void) => inner.removeListener(e, l),
    };
    const rec = record(fromNodeReadable(duck, { readSize: 1000 }));
    await rec.done;
    expectPieces(rec.pieces, pattern(5000), 1000);
  });
});

describe('fromNodeReadable: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => fromNodeReadable(Readable.from([]), null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'fromNodeReadable: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
