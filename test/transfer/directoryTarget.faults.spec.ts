/**
 * directoryTarget under file-system faults that a test cannot cause for real:
 * a full disk, a file system without hard links, a part file that cannot be
 * created. node:fs/promises is wrapped; everything else is real.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SinkWriteError } from '../../src/errors';
import { directoryTarget, PARTIAL_SUFFIX } from '../../src/transfer/directoryTarget';
import { CHUNK, failure, manifestFor, tempDirs, write } from './directoryTargetFixtures';
import { sha256Hex as sha } from '../helpers/sha256';

/** Faults to inject: an fs error code per operation, or none. */
const faults = vi.hoisted(() => ({
  /** `link()` fails with this code. */
  link: undefined as string | undefined,
  /** `link()` calls seen. */
  links: 0,
  /** Writes to part files fail with this code. */
  write: undefined as string | undefined,
  /** Opening a part file fails with this code. */
  openPart: undefined as string | undefined,
  /** Writes to progress records (`.tallow-part.json`) fail with this code. */
  record: undefined as string | undefined,
  /** Creating a folder under this path fails as on a read-only mount: EROFS, but ENOENT from a recursive mkdir (as Node's is). */
  readOnly: undefined as string | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  // Like Node's own errors, the message holds the absolute path.
  const fsError = (code: string, path: unknown) => Object.assign(new Error(`${code}: simulated, '${String(path)}'`), { code });
  // vi.mock runs before the imports, so PARTIAL_SUFFIX is spelled out.
  const isPart = (path: unknown) => String(path).endsWith('.tallow-part');
  return {
    ...actual,
    mkdir: async (...args: Parameters<typeof actual.mkdir>) => {
      const [path, options] = args;
      if (faults.readOnly && String(path).startsWith(faults.readOnly + '/')) {
        throw fsError(typeof options === 'object' && options?.recursive ? 'ENOENT' : 'EROFS', path);
      }
      return actual.mkdir(...args);
    },
    link: async (...args: Parameters<typeof actual.link>) => {
      faults.links++;
      if (faults.link) throw fsError(faults.link, args[1]);
      return actual.link(...args);
    },
    open: async (...args: Parameters<typeof actual.open>) => {
      if (faults.openPart && isPart(args[0])) throw fsError(faults.openPart, args[0]);
      const handle = await actual.open(...args);
      if (faults.write && isPart(args[0])) {
        const code = faults.write;
        Object.assign(handle, { write: async () => Promise.reject(fsError(code, args[0])) });
      }
      if (faults.record && String(args[0]).endsWith('.tallow-part.json')) {
        const code = faults.record;
        Object.assign(handle, { write: async () => Promise.reject(fsError(code, args[0])) });
      }
      return handle;
    },
  };
});

afterEach(() => {
  Object.assign(faults, { link: undefined, links: 0, write: undefined, openPart: undefined, record: undefined, readOnly: undefined });
});
const tempDir = tempDirs('dirtarget-faults-');

describe('directoryTarget under fs faults', () => {
  it('a full disk fails the sink with SinkWriteError { path: relative, causeCode: ENOSPC } and the fs error as cause', async () => {
    const d = await tempDir();
    faults.write = 'ENOSPC';
    const opened = await directoryTarget(d).open(manifestFor('big.bin', 4 * CHUNK));
    const err = await failure(write(opened, randomBytes(4 * CHUNK)));
    expect(err).toBeInstanceOf(SinkWriteError);
    const e = err as SinkWriteError;
    expect(e.details).toEqual({ path: `big.bin${PARTIAL_SUFFIX}`, causeCode: 'ENOSPC' });
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(e.message).toContain('ENOSPC');
    expect(e.message).not.toContain(d);
    await opened.abort(e);
  });

  it('a new part file whose progress record cannot be written (a full disk) is removed at abort, record and all: it could never resume, and every retry used to leave another one', async () => {
    const d = await tempDir();
    const opened = await directoryTarget(d).open(manifestFor('full.bin', 4 * CHUNK));
    await write(opened, randomBytes(4 * CHUNK), 2 * CHUNK);
    faults.record = 'ENOSPC';
    await opened.abort(new Error('the session failed'));
    expect(await readdir(d)).toEqual([]);
  });

  it('with the record written, the same abort keeps the part file and its record for resume (the control case)', async () => {
    const d = await tempDir();
    const opened = await directoryTarget(d).open(manifestFor('kept.bin', 4 * CHUNK));
    await write(opened, randomBytes(4 * CHUNK), 2 * CHUNK);
    await opened.abort(new Error('the session failed'));
    expect((await readdir(d)).sort()).toEqual([`kept.bin${PARTIAL_SUFFIX}`, `kept.bin${PARTIAL_SUFFIX}.json`]);
  });

  it("a download folder that cannot be created on a read-only mount says EROFS, not the ENOENT of Node's recursive mkdir", async () => {
    const d = await tempDir();
    faults.readOnly = d;
    const err = await failure(directoryTarget(join(d, 'sub', 'deeper')).open(manifestFor('a.bin', 10)));
    expect(err).toBeInstanceOf(SinkWriteError);
    expect((err as SinkWriteError).details).toMatchObject({ causeCode: 'EROFS' });
    expect((err as SinkWriteError).message).toBe('cannot create the download folder (EROFS)');
  });

  it('a part file that cannot be created is a SinkWriteError naming it relative to the directory', async () => {
    const d = await tempDir();
    faults.openPart = 'EACCES';
    const err = await failure(directoryTarget(d).open(manifestFor('locked.bin', 10)));
    expect(err).toBeInstanceOf(SinkWriteError);
    expect((err as SinkWriteError).details).toEqual({ path: `locked.bin${PARTIAL_SUFFIX}`, causeCode: 'EACCES' });
    expect((err as SinkWriteError).message).not.toContain(d);
  });

  it.each(['EPERM', 'ENOTSUP', 'EXDEV'])(
    'without hard links (%s) the name is still reserved exclusively: r.bin exists, r.bin and r (1).bin finish together (20 rounds)',
    async (code) => {
      faults.link = code;
      const kept = randomBytes(100);
      const wrong: string[] = [];
      for (let round = 0; round < 20; round++) {
        const d = await tempDir();
        await writeFile(join(d, 'r.bin'), kept);
        const target = directoryTarget(d);
        const x = randomBytes(3 * CHUNK);
        const y = randomBytes(3 * CHUNK);
        const [a, b] = await Promise.all([target.open(manifestFor('r.bin', x.length)), target.open(manifestFor('r (1).bin', y.length))]);
        await Promise.all([write(a, x), write(b, y)]);
        const [pa, pb] = (await Promise.all([a.finish(), b.finish()])) as string[];
        const ok =
          pa !== pb &&
          sha(await readFile(join(d, 'r.bin'))) === sha(kept) &&
          sha(await readFile(pa)) === sha(x) &&
          sha(await readFile(pb)) === sha(y) &&
          // r (1).bin's own transfer may find its name taken and save as r (1) (1).bin.
          (await readdir(d)).length === 3;
        if (!ok) wrong.push(`round ${round}: ${pa} | ${pb}`);
      }
      expect(faults.links).toBeGreaterThan(0);
      expect(wrong).toEqual([]);
    },
  );
});
