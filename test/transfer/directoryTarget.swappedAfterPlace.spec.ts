/**
 * A folder swapped for a link to another folder in the moment after directoryTarget placed a file (an outside
 * check of 7 Dec 2026, 2 runs of 21 with a local process swapping `sub` for a link during the transfer): the
 * check after placing found another file under the final name, through the link, and removed it, a file
 * of the same name that someone else kept in the folder the link pointed to. What bears the name is taken
 * away only when it is the file the target itself moved there. `place` is wrapped so that the swap falls
 * exactly between placing and that check.
 */
import { mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { SinkWriteError } from '../../src/errors';
import { directoryTarget } from '../../src/transfer/directoryTarget';
import { failure, manifestFor, tempDirs, write } from './directoryTargetFixtures';

/** Runs after the real place() returns, once (set by the case). */
const after: { swap?: () => Promise<void> } = {};
vi.mock('../../src/transfer/place', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/transfer/place')>();
  return {
    ...real,
    place: async (...args: Parameters<typeof real.place>) => {
      const saved = await real.place(...args);
      const swap = after.swap;
      after.swap = undefined;
      await swap?.();
      return saved;
    },
  };
});

const SIZE = 256 * 1024;
const DATA = new Uint8Array(SIZE).map((_, i) => (i * 13) & 0xff);
const tempDir = tempDirs('swapped-after-');

describe('directoryTarget: a folder swapped for a link right after the file was placed', () => {
  it("fails with EREPLACED and leaves the file of that name in the link's folder alone; the verified file stays where it was placed", async () => {
    const d = await tempDir();
    await mkdir(join(d, 'dl', 'sub'), { recursive: true });
    await mkdir(join(d, 'outside'));
    await writeFile(join(d, 'outside', 'f.bin'), 'VICTIM\n');
    const opened = await directoryTarget(join(d, 'dl')).open(manifestFor('sub/f.bin', SIZE));
    await write(opened, DATA);
    after.swap = async () => {
      await rename(join(d, 'dl', 'sub'), join(d, 'dl', 'sub.old'));
      await symlink(join(d, 'outside'), join(d, 'dl', 'sub'));
    };
    const error = await failure(opened.finish());
    expect(error).toBeInstanceOf(SinkWriteError);
    expect((error as SinkWriteError).details).toMatchObject({ causeCode: 'EREPLACED' });
    expect((error as Error).message).toMatch(/left alone/);
    expect(await readFile(join(d, 'outside', 'f.bin'), 'utf8')).toBe('VICTIM\n');
    expect(new Uint8Array(await readFile(join(d, 'dl', 'sub.old', 'f.bin')))).toEqual(DATA);
  });

  it('control: with no swap, the file is placed and finish gives its path', async () => {
    const d = await tempDir();
    await mkdir(join(d, 'dl'), { recursive: true });
    const opened = await directoryTarget(join(d, 'dl')).open(manifestFor('sub/f.bin', SIZE));
    await write(opened, DATA);
    expect(await opened.finish()).toBe(join(d, 'dl', 'sub', 'f.bin'));
    expect(new Uint8Array(await readFile(join(d, 'dl', 'sub', 'f.bin')))).toEqual(DATA);
  });
});
