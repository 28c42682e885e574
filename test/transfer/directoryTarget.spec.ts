/**
 * directoryTarget's progress record: rewritten in place at one width, so a kill
 * in the middle of an update never leaves an empty or torn record behind.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, tap } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/protocol/control';
import { directoryTarget, PARTIAL_SUFFIX } from '../../src/transfer/directoryTarget';
import type { Chunk } from '../../src/types';

const KiB = 1024;
const manifest = {
  id: 1,
  name: 'file.bin',
  size: 64 * KiB,
  type: 'application/octet-stream',
  channels: 1,
  lanes: 1,
  idBase: 512,
  reliability: 'reliable',
  chunk: { min: 4 * KiB, max: 4 * KiB },
  digest: 'sha-256',
  window: 16 * 1024 * 1024,
} as Manifest;
const chunks = (n: number, start = 0): Chunk[] =>
  Array.from({ length: n }, (_, i) => ({ index: i, offset: start + i * 4 * KiB, data: new Uint8Array(4 * KiB).fill(i + 1) }));

describe('directoryTarget progress record', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const dir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'dirtarget-'));
    dirs.push(d);
    return d;
  };

  it('keeps one byte length through every checkpoint, always parses, and resumes from the last one', async () => {
    const d = await dir();
    const recordPath = join(d, `file.bin${PARTIAL_SUFFIX}.json`);
    const opened = await directoryTarget(d, { checkpointEvery: 4 * KiB }).open(manifest);
    expect(opened.from).toBe(0);
    const seen: Array<{ length: number; persisted: number }> = [];
    await lastValueFrom(
      from(chunks(6)).pipe(
        opened.sink,
        tap(async () => {
          const text = await readFile(recordPath, 'utf8').catch(() => undefined);
          if (text) seen.push({ length: Buffer.byteLength(text), persisted: (JSON.parse(text) as { persisted: number }).persisted });
        }),
      ),
    );
    await opened.abort(new Error('stop'));
    const final = JSON.parse(await readFile(recordPath, 'utf8')) as { persisted: number };
    expect(final.persisted).toBe(6 * 4 * KiB);
    const width = Buffer.byteLength(await readFile(recordPath, 'utf8'));
    expect(width).toBe(Buffer.byteLength(JSON.stringify({ v: 1, name: 'file.bin', size: 64 * KiB, lastModified: null, persisted: 64 * KiB })));
    for (const s of seen) expect(s.length).toBe(width);
    expect((await directoryTarget(d).open(manifest)).from).toBe(6 * 4 * KiB);
  });

  it('replaces a longer record left by another file whole', async () => {
    const d = await dir();
    const recordPath = join(d, `file.bin${PARTIAL_SUFFIX}.json`);
    // A record whose part file is gone: the slot is free, and the new transfer's record replaces it.
    await writeFile(recordPath, JSON.stringify({ v: 1, name: 'file.bin', size: 10 ** 15, lastModified: 123456789, persisted: 10 ** 14, pad: 'x'.repeat(500) }));
    const opened = await directoryTarget(d, { checkpointEvery: 4 * KiB }).open(manifest);
    expect(opened.from).toBe(0);
    await lastValueFrom(from(chunks(2)).pipe(opened.sink));
    await opened.abort(new Error('stop'));
    const text = await readFile(recordPath, 'utf8');
    expect(JSON.parse(text)).toEqual({ v: 1, name: 'file.bin', size: 64 * KiB, lastModified: null, persisted: 8 * KiB });
  });
});
