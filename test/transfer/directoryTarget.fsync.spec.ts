/**
 * directoryTarget's `fsync` option: by default every file is fsynced before it is reported complete (and at
 * each checkpoint); with `fsync: false` nothing is, and the file still lands whole. Counted on FileHandle's
 * own `sync`, so the test says what reaches the disk API, not how long it took.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { directoryTarget } from '../../src/transfer/directoryTarget';
import { CHUNK, manifestFor, partialOf, spySync, tempDirs, write } from './directoryTargetFixtures';

const tempDir = tempDirs('tallow-dt-fsync-');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('directoryTarget fsync', () => {
  it.each([
    [undefined, true],
    [true, true],
    [false, false],
  ])('fsync: %s → files fsynced: %s; the file lands whole either way', async (fsync, synced) => {
    const d = await tempDir();
    const sync = await spySync(d);
    const data = randomBytes(5 * CHUNK);
    const opened = await directoryTarget(d, { checkpointEvery: 2 * CHUNK, ...(fsync === undefined ? {} : { fsync }) }).open(manifestFor('x.bin', data.length, 1));
    await write(opened, data);
    const path = (await opened.finish()) as string;
    expect(sync.mock.calls.length > 0).toBe(synced);
    // Two checkpoints and the end, when fsyncing.
    if (synced) expect(sync.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(Buffer.compare(await readFile(path), data)).toBe(0);
  });

  it.each([
    ['a file of 5 chunks (fsynced by its handle)', 5 * CHUNK],
    ['a small file (written through O_SYNC)', 1000],
    ['an empty file', 0],
  ])('with fsync, the folder is fsynced after %s takes its name, before finish resolves; without, it is not', async (_, size) => {
    // An outside check traced 40 fsyncs for 12 files and none on their folder: the link to the final name and
    // the removal of the part name were not durable when the file was reported complete.
    for (const fsync of [true, false]) {
      const d = await tempDir();
      const sync = await spySync(d);
      const kinds: string[] = [];
      // Which handle each sync was for (the real sync is not needed to say so).
      sync.mockImplementation(async function (this: { stat: () => Promise<{ isDirectory: () => boolean }> }) {
        kinds.push((await this.stat()).isDirectory() ? 'folder' : 'file');
      });
      const data = randomBytes(size);
      const opened = await directoryTarget(d, { fsync }).open(manifestFor('z.bin', data.length, 3));
      await write(opened, data);
      const path = (await opened.finish()) as string;
      expect(Buffer.compare(await readFile(path), data)).toBe(0);
      if (fsync) expect(kinds.at(-1)).toBe('folder');
      else expect(kinds).not.toContain('folder');
      sync.mockRestore();
    }
  });

  it('fsync: false still records checkpoints, and a resume continues from them', async () => {
    const d = await tempDir();
    const data = randomBytes(6 * CHUNK);
    const target = directoryTarget(d, { checkpointEvery: CHUNK, fsync: false });
    const m = manifestFor('y.bin', data.length, 2);
    await partialOf(target, m, data, 3 * CHUNK);
    const again = await target.open(m);
    expect(again.from).toBe(3 * CHUNK);
    await write(again, data);
    expect(Buffer.compare(await readFile((await again.finish()) as string), data)).toBe(0);
  });
});
