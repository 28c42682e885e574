/**
 * blobTarget folds what it receives into its Blob every BLOB_FOLD_BYTES (16 MiB), so it holds the file plus
 * 16 MiB instead of twice the file at the end (an outside check: a 256 MiB file peaked at 512 MiB of
 * ArrayBuffers). What it gives must be the same bytes in the same order across folds, with the file's type.
 * The memory itself is measured in bench/blobTargetMemory.ts, not here.
 */
import { createHash } from 'node:crypto';
import { lastValueFrom, from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { blobTarget } from '../../src/index';
import { BLOB_FOLD_BYTES } from '../../src/transfer/ReceiveTarget';
import type { Manifest } from '../../src/protocol/control';
import { manifestOf } from '../limits/hostileSender';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('blobTarget', () => {
  it.each([
    ['chunks that end on the fold', 1 * MiB],
    ['chunks that straddle it', 3 * MiB + 17],
  ])('gives the bytes in order across folds (%s), with the manifest type', async (_, chunkBytes) => {
    const size = 2 * BLOB_FOLD_BYTES + 5 * MiB + 3;
    const file = new Uint8Array(size).map((_, i) => (i * 131 + (i >>> 13)) & 255);
    const m: Manifest = manifestOf({ size, type: 'application/x-test' });
    const opened = await blobTarget().open(m);
    const chunks = [];
    for (let offset = 0, index = 0; offset < size; offset += chunkBytes, index++) chunks.push({ index, offset, data: file.slice(offset, offset + chunkBytes) });
    expect(await lastValueFrom(opened.sink(from(chunks)))).toBe(size);
    const blob = await opened.finish();
    expect(blob.type).toBe('application/x-test');
    expect(blob.size).toBe(size);
    expect(sha(new Uint8Array(await blob.arrayBuffer()))).toBe(sha(file));
  });

  it('counts persisted bytes as it goes, and an abort drops what it held', async () => {
    const opened = await blobTarget().open(manifestOf({ size: 10 }));
    const seen: number[] = [];
    opened.sink(from([{ index: 0, offset: 0, data: new Uint8Array(4) }, { index: 1, offset: 4, data: new Uint8Array(6) }])).subscribe((n) => seen.push(n));
    expect(seen).toEqual([4, 10]);
    await opened.abort(new Error('stop'));
    expect((await opened.finish()).size).toBe(0);
  });
});
