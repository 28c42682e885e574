import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { SourceReadError } from '../../src/errors';
import { Demand } from '../../src/flow/Demand';
import { fromBlob } from '../../src/sources/fromBlob';
import { firstDifference, pattern } from '../helpers/bytes';
import { concat, describeSourceConformance, record, settle, type ReadCounter } from './sourceConformance';
import { InvalidConfigError } from '../../src/errors';
import { thrownBy } from '../helpers/thrown';

/** `pattern()` bytes as a BlobPart (they always own an ArrayBuffer). */
const part = (bytes: Uint8Array) => bytes as Uint8Array<ArrayBuffer>;

/** A Blob stand-in whose slices count the bytes they hand out. */
const countingBlob = (blob: Blob, counter: ReadCounter): Blob =>
  ({
    size: blob.size,
    type: blob.type,
    slice: (start?: number, end?: number) => {
      const part = blob.slice(start, end);
      return {
        size: part.size,
        arrayBuffer: async () => {
          const buffer = await part.arrayBuffer();
          counter.read += buffer.byteLength;
          return buffer;
        },
      };
    },
  }) as unknown as Blob;

describeSourceConformance('fromBlob', async (data, config, counter) => fromBlob(countingBlob(new Blob([part(data)]), counter), config));

describe('fromBlob', () => {
  it('reads a File', async () => {
    const data = pattern(100_000);
    const file = new File([part(data)], 'a.bin', { type: 'application/octet-stream' });
    const pieces = await lastValueFrom(fromBlob(file, { readSize: 30_000 }).pipe(toArray()));
    expect(pieces.map((p) => p.length)).toEqual([30_000, 30_000, 30_000, 10_000]);
    expect(firstDifference(concat(pieces), data)).toBe(-1);
  });

  it('emits a fresh buffer per piece', async () => {
    const pieces = await lastValueFrom(fromBlob(new Blob([part(pattern(10))]), { readSize: 4 }).pipe(toArray()));
    expect(new Set(pieces.map((p) => p.buffer)).size).toBe(3);
  });

  it('is cold: a second subscription reads again', async () => {
    const source = fromBlob(new Blob([part(pattern(10))]), { readSize: 4, start: 2 });
    const first = concat(await lastValueFrom(source.pipe(toArray())));
    const second = concat(await lastValueFrom(source.pipe(toArray())));
    expect(Array.from(first)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(second).toEqual(first);
  });

  it('reads nothing before credit, and never completes without it', async () => {
    const counter: ReadCounter = { read: 0 };
    const rec = record(fromBlob(countingBlob(new Blob([part(pattern(10))]), counter), { demand: new Demand() }));
    await settle();
    expect(counter.read).toBe(0);
    expect(rec.completed).toBe(false);
    rec.subscription.unsubscribe();
  });

  it('fails with SourceReadError carrying the cause and the offset', async () => {
    const cause = new Error('NotReadableError');
    const broken = {
      size: 100,
      slice: (start: number) => ({ arrayBuffer: () => (start >= 50 ? Promise.reject(cause) : Promise.resolve(new ArrayBuffer(50))) }),
    } as unknown as Blob;
    const rec = record(fromBlob(broken, { readSize: 50 }));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    const err = rec.error as SourceReadError;
    expect(err.cause).toBe(cause);
    expect(err.details).toMatchObject({ offset: 50, size: 100 });
    expect(rec.bytes).toBe(50);
  });
});

describe('fromBlob: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => fromBlob(new Blob([]), null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'fromBlob: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
