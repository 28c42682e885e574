/**
 * directoryTarget's shortcuts for many small files: a small file is written with O_SYNC instead of being
 * fsynced after (the same durability, one call less), and the folders files land in are checked once per
 * FOLDER_TRUST_MS, not per file, yet a folder that went away is created again, and one replaced by a link
 * is refused once the trust runs out.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, readdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SinkWriteError } from '../../src/errors';
import { directoryTarget, PARTIAL_SUFFIX, SYNC_WRITE_MAX_BYTES } from '../../src/transfer/directoryTarget';
import { FOLDER_TRUST_MS } from '../../src/transfer/targetFolders';
import { failure, manifestFor, spySync, tempDirs, write } from './directoryTargetFixtures';

const tempDir = tempDirs('tallow-dt-small-');
const linux = process.platform === 'linux';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The open flags of this process's descriptor for `path` (Linux: /proc/self/fdinfo), or undefined. */
async function openFlags(path: string): Promise<number | undefined> {
  for (const fd of await readdir('/proc/self/fd')) {
    const to = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (to !== path) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
    const flags = /^flags:\s+([0-7]+)/m.exec(info)?.[1];
    if (flags) return parseInt(flags, 8);
  }
  return undefined;
}

describe('directoryTarget: small files are written with O_SYNC', () => {
  it.skipIf(!linux)('a file up to SYNC_WRITE_MAX_BYTES: its part file is open with O_SYNC, never fsynced (only its folder is, once), and lands whole', async () => {
    const d = await tempDir();
    const sync = await spySync(d);
    const data = randomBytes(SYNC_WRITE_MAX_BYTES);
    const opened = await directoryTarget(d).open(manifestFor('small.bin', data.length, 1), { resume: false });
    const flags = await openFlags(join(d, `small.bin${PARTIAL_SUFFIX}`));
    expect(flags !== undefined && (flags & constants.O_SYNC) === constants.O_SYNC).toBe(true);
    await write(opened, data);
    expect(Buffer.compare(await readFile((await opened.finish()) as string), data)).toBe(0);
    // One sync: the folder's, for the name (directoryTarget.fsync.spec.ts checks it is the folder).
    expect(sync).toHaveBeenCalledTimes(1);
  });

  it.skipIf(!linux)('a larger file, and any file with fsync: false, is not opened with O_SYNC; the larger one is fsynced', async () => {
    const d = await tempDir();
    const sync = await spySync(d);
    const cases = [
      ['large.bin', SYNC_WRITE_MAX_BYTES + 1, {}, true],
      ['nosync.bin', 10, { fsync: false }, false],
    ] as const;
    for (const [name, size, config, synced] of cases) {
      sync.mockClear();
      const data = randomBytes(size);
      const opened = await directoryTarget(d, config).open(manifestFor(name, size, 1), { resume: false });
      const flags = await openFlags(join(d, `${name}${PARTIAL_SUFFIX}`));
      expect([name, flags !== undefined, (flags ?? 0) & constants.O_SYNC]).toEqual([name, true, 0]);
      await write(opened, data);
      expect(Buffer.compare(await readFile((await opened.finish()) as string), data)).toBe(0);
      expect([name, sync.mock.calls.length > 0]).toEqual([name, synced]);
    }
  });
});

describe('directoryTarget: folders are checked once per FOLDER_TRUST_MS', () => {
  it('a folder removed between two files of one target is created again for the second', async () => {
    const d = await tempDir();
    const target = directoryTarget(d);
    const first = await target.open(manifestFor('a/b/x.bin', 5));
    await write(first, randomBytes(5));
    await first.finish();
    await rm(join(d, 'a'), { recursive: true });
    const second = await target.open(manifestFor('a/b/y.bin', 7));
    const data = randomBytes(7);
    await write(second, data);
    expect(await second.finish()).toBe(join(d, 'a', 'b', 'y.bin'));
    expect(Buffer.compare(await readFile(join(d, 'a', 'b', 'y.bin')), data)).toBe(0);
  });

  it('the download folder removed between two files of one target is created again', async () => {
    const d = join(await tempDir(), 'inbox');
    const target = directoryTarget(d);
    await (await target.open(manifestFor('x.bin', 0))).finish();
    await rm(d, { recursive: true });
    const opened = await target.open(manifestFor('y.bin', 3));
    await write(opened, randomBytes(3));
    expect(await opened.finish()).toBe(join(d, 'y.bin'));
  });

  it('a folder replaced by a link to outside is refused (ELOOP) once its check is older than FOLDER_TRUST_MS', async () => {
    const root = await tempDir();
    const [dir, outside] = [join(root, 'inbox'), join(root, 'outside')];
    await mkdir(outside);
    const target = directoryTarget(dir);
    const first = await target.open(manifestFor('sub/x.bin', 5));
    await write(first, randomBytes(5));
    await first.finish();
    await rm(join(dir, 'sub'), { recursive: true });
    await symlink(outside, join(dir, 'sub'), 'dir');
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + FOLDER_TRUST_MS + 1);
    const err = await failure(target.open(manifestFor('sub/y.bin', 5)));
    expect(err).toBeInstanceOf(SinkWriteError);
    expect((err as SinkWriteError).details).toEqual({ path: 'sub', causeCode: 'ELOOP' });
    expect(await readdir(outside)).toEqual([]);
  });

  it('held() peeks at a folder that does not exist once, then trusts that for FOLDER_TRUST_MS; open() never trusts a miss', async () => {
    const d = await tempDir();
    const target = directoryTarget(d);
    const m = manifestFor('later/x.bin', 10, 1);
    expect(await target.held!(m)).toBe(0);
    // Created by someone else right after the peek: open() checks again and uses it.
    await mkdir(join(d, 'later'));
    const opened = await target.open(m);
    await write(opened, randomBytes(10));
    expect(await opened.finish()).toBe(join(d, 'later', 'x.bin'));
  });
});
