/**
 * directoryTarget with several transfers of one name at once: each transfer in
 * progress writes its own part file, resume continues only a partial nobody
 * holds, and the final name is taken atomically, never over an existing file.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastValueFrom, Subject, tap } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import type { Chunk } from '../../src/types';
import { directoryTarget, PARTIAL_SUFFIX } from '../../src/transfer/directoryTarget';
import { CHUNK, chunksOf, KiB, manifestFor, MiB, tempDirs, write } from './directoryTargetFixtures';
import { sha256Hex as sha } from '../helpers/sha256';

const tempDir = tempDirs('dirtarget-coll-');

describe('directoryTarget: transfers of one name at once', () => {
  it.each([
    ['report.bin', 'report.bin', 'report.bin'],
    ['../x.bin', 'x.bin', 'x.bin'],
  ])('%s and %s, 5 MiB each, written interleaved, both land intact under distinct names', async (n1, n2, saved) => {
    const d = await tempDir();
    const target = directoryTarget(d);
    const x = randomBytes(5 * MiB);
    const y = randomBytes(5 * MiB);
    const [a, b] = await Promise.all([target.open(manifestFor(n1, x.length)), target.open(manifestFor(n2, y.length))]);
    await Promise.all([write(a, x), write(b, y)]);
    const [pa, pb] = (await Promise.all([a.finish(), b.finish()])) as string[];
    expect(pa).not.toBe(pb);
    expect(sha(await readFile(pa))).toBe(sha(x));
    expect(sha(await readFile(pb))).toBe(sha(y));
    const stem = saved.slice(0, -4);
    expect((await readdir(d)).sort()).toEqual([`${stem} (1).bin`, saved].sort());
  });

  it('a second offer of the very file in progress does not resume the partial the first one holds', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const x = randomBytes(2 * MiB);
    const m = manifestFor('same.bin', x.length, 1234);
    const a = await target.open(m);
    // a's sink (subscribed once, as a transfer does) writes 1 MiB, then waits while b opens.
    const chunks = chunksOf(x);
    const feed = new Subject<Chunk>();
    const persisted: number[] = [];
    const aDone = lastValueFrom(feed.pipe(a.sink, tap((n) => persisted.push(n))));
    for (const c of chunks.filter((c) => c.offset < MiB)) feed.next(c);
    await vi.waitFor(() => expect(persisted.at(-1)).toBe(MiB));
    const b = await target.open(m);
    expect(b.from).toBe(0);
    for (const c of chunks.filter((c) => c.offset >= MiB)) feed.next(c);
    feed.complete();
    await Promise.all([aDone, write(b, x)]);
    const paths = (await Promise.all([a.finish(), b.finish()])) as string[];
    expect(new Set(paths).size).toBe(2);
    for (const p of paths) expect(sha(await readFile(p))).toBe(sha(x));
  });

  it('two directoryTarget instances on one directory never write one part file', async () => {
    const d = await tempDir();
    const x = randomBytes(MiB);
    const y = randomBytes(MiB);
    const a = await directoryTarget(d).open(manifestFor('r.bin', x.length));
    const b = await directoryTarget(`${d}/.`).open(manifestFor('r.bin', y.length));
    await Promise.all([write(a, x), write(b, y)]);
    const [pa, pb] = (await Promise.all([a.finish(), b.finish()])) as string[];
    expect(sha(await readFile(pa))).toBe(sha(x));
    expect(sha(await readFile(pb))).toBe(sha(y));
  });

  it("another file of the same name leaves an aborted transfer's partial and record alone, and it still resumes", async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const x = randomBytes(MiB);
    const mx = manifestFor('doc.bin', x.length, 1);
    const a = await target.open(mx);
    await write(a, x, MiB / 2);
    await a.abort(new Error('connection lost'));
    const partial = join(d, `doc.bin${PARTIAL_SUFFIX}`);
    const before = [await readFile(partial), await readFile(`${partial}.json`, 'utf8')] as const;

    const y = randomBytes(MiB);
    const b = await target.open(manifestFor('doc.bin', y.length, 2));
    expect(b.from).toBe(0);
    await write(b, y);
    const pb = (await b.finish()) as string;
    expect(sha(await readFile(pb))).toBe(sha(y));
    expect(sha(await readFile(partial))).toBe(sha(before[0]));
    expect(await readFile(`${partial}.json`, 'utf8')).toBe(before[1]);

    const again = await target.open(mx);
    expect(again.from).toBe(MiB / 2);
    await write(again, x);
    expect(sha(await readFile((await again.finish()) as string))).toBe(sha(x));
  });

  it('resume finds a partial that is not in the first part-file slot', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const x = randomBytes(MiB);
    const y = randomBytes(MiB);
    const my = manifestFor('v.bin', y.length, 2);
    const a = await target.open(manifestFor('v.bin', x.length, 1));
    const b = await target.open(my);
    await Promise.all([write(a, x, 3 * CHUNK), write(b, y, 5 * CHUNK)]);
    await Promise.all([a.abort(new Error('stop')), b.abort(new Error('stop'))]);
    expect((await readdir(d)).filter((f) => f.endsWith(PARTIAL_SUFFIX))).toHaveLength(2);
    const again = await target.open(my);
    expect(again.from).toBe(5 * CHUNK);
    await write(again, y);
    expect(sha(await readFile((await again.finish()) as string))).toBe(sha(y));
  });
});

describe('directoryTarget: choosing the final name', () => {
  it('r.bin exists; r.bin and r (1).bin finishing together never share a name or replace a file (50 rounds)', async () => {
    const wrong: string[] = [];
    const kept = randomBytes(1000);
    for (let round = 0; round < 50; round++) {
      const d = await tempDir();
      await writeFile(join(d, 'r.bin'), kept);
      const target = directoryTarget(d);
      const x = randomBytes(256 * KiB);
      const y = randomBytes(256 * KiB);
      const [a, b] = await Promise.all([target.open(manifestFor('r.bin', x.length)), target.open(manifestFor('r (1).bin', y.length))]);
      await Promise.all([write(a, x), write(b, y)]);
      const settled = await Promise.allSettled([a.finish(), b.finish()]);
      const paths = settled.map((s) => (s.status === 'fulfilled' ? (s.value as string) : ''));
      const ok =
        paths[0] !== paths[1] &&
        settled.every((s) => s.status === 'fulfilled') &&
        sha(await readFile(join(d, 'r.bin'))) === sha(kept) &&
        sha(await readFile(paths[0])) === sha(x) &&
        sha(await readFile(paths[1])) === sha(y) &&
        (await readdir(d)).length === 3;
      if (!ok) wrong.push(`round ${round}: ${paths.join(' | ')}`);
    }
    expect(wrong).toEqual([]);
  });

  it('adds (2) when r.bin and r (1).bin are both taken, and never replaces either', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'r.bin'), 'zero');
    await writeFile(join(d, 'r (1).bin'), 'one');
    const x = randomBytes(100);
    const a = await directoryTarget(d).open(manifestFor('r.bin', x.length));
    await write(a, x);
    expect(await a.finish()).toBe(join(d, 'r (2).bin'));
    expect(await readFile(join(d, 'r.bin'), 'utf8')).toBe('zero');
    expect(await readFile(join(d, 'r (1).bin'), 'utf8')).toBe('one');
    expect(sha(await readFile(join(d, 'r (2).bin')))).toBe(sha(x));
  });

  it('overwrite: true replaces the existing file', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'r.bin'), 'old');
    const x = randomBytes(100);
    const a = await directoryTarget(d, { overwrite: true }).open(manifestFor('r.bin', x.length));
    await write(a, x);
    expect(await a.finish()).toBe(join(d, 'r.bin'));
    expect(sha(await readFile(join(d, 'r.bin')))).toBe(sha(x));
    expect(await readdir(d)).toEqual(['r.bin']);
  });
});
