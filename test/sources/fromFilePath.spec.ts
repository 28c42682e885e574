import { execFileSync } from 'node:child_process';
import { readdirSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SourceReadError } from '../../src/errors';
import { Demand } from '../../src/flow/Demand';
import { fromFilePath } from '../../src/sources/fromFilePath';
import { pattern } from '../helpers/marbles';
import { describeSourceConformance, expectPieces, record, settle } from './sourceConformance';
import { InvalidConfigError } from '../../src/errors';
import { thrownBy } from '../helpers/thrown';

/** Every handle the source opens is wrapped: reads are counted and closes recorded. */
const hooks = vi.hoisted(() => ({
  /** Where reads add their bytes, for the test that runs now. */
  counting: undefined as { read: number } | undefined,
  /** `close()` calls per handle opened, in opening order. */
  closes: [] as number[],
  /** Makes the nth read (1-based, counted per handle) fail with this error. */
  failRead: undefined as { nth: number; error: Error } | undefined,
  /** Runs after the nth read (1-based, counted per handle) has read its bytes. */
  afterRead: undefined as { nth: number; run: () => void } | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const slot = hooks.closes.push(0) - 1;
      const close = handle.close.bind(handle);
      const read = handle.read.bind(handle) as (...a: any[]) => Promise<{ bytesRead: number }>;
      let reads = 0;
      Object.assign(handle, {
        close: () => {
          hooks.closes[slot]++;
          return close();
        },
        read: async (...a: any[]) => {
          if (++reads === hooks.failRead?.nth) throw hooks.failRead.error;
          const result = await read(...a);
          if (reads === hooks.afterRead?.nth) hooks.afterRead.run();
          if (hooks.counting) hooks.counting.read += result.bytesRead;
          return result;
        },
      });
      return handle;
    },
  };
});

let dir: string;
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tallow-fromFilePath-'));
});
afterEach(() => {
  hooks.counting = undefined;
  hooks.failRead = undefined;
  hooks.afterRead = undefined;
  hooks.closes.length = 0;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fileWith = async (data: Uint8Array): Promise<string> => {
  const path = join(dir, `f${files++}.bin`);
  await writeFile(path, data);
  return path;
};

/** Open file descriptors of this process. */
const openFds = () => readdirSync('/proc/self/fd').length;

describeSourceConformance('fromFilePath', async (data, config, counter) => {
  const path = await fileWith(data);
  hooks.counting = counter;
  return fromFilePath(path, config);
});

describe('fromFilePath', () => {
  it('fails with SourceReadError carrying the path and the cause for a missing file', async () => {
    const path = join(dir, 'missing.bin');
    const rec = record(fromFilePath(path));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    const err = rec.error as SourceReadError;
    expect(err.code).toBe('ERR_SOURCE_READ');
    expect(err.details).toMatchObject({ path, code: 'ENOENT' });
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(err.message).toContain(path);
  });

  it('a FIFO where the file was: SourceReadError "not a regular file" at once, the handle closed (the open used to block a libuv thread for good)', async () => {
    const path = join(dir, `fifo-${files++}`);
    execFileSync('mkfifo', [path]);
    const rec = record(fromFilePath(path));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    expect((rec.error as SourceReadError).details).toMatchObject({ path, code: 'ENOTREG' });
    expect(hooks.closes).toEqual([1]);
  });

  it('a file written while it is read: SourceReadError ECHANGED after that read, not bytes of two versions', async () => {
    const data = pattern(5000);
    const path = await fileWith(data);
    // Another process rewrites the file in place after the second read (same size, a new mtime).
    hooks.afterRead = { nth: 2, run: () => (writeFileSync(path, pattern(5000).fill(0xee)), utimesSync(path, new Date(), new Date(Date.now() + 5000))) };
    const rec = record(fromFilePath(path, { readSize: 1000 }));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    expect((rec.error as SourceReadError).details).toMatchObject({ path, code: 'ECHANGED' });
    expectPieces(rec.pieces, data.subarray(0, 1000), 1000);
    expect(hooks.closes).toEqual([1]);
  });

  /** Returns once the file system's clock is past `ns` (a probe file's ctime), so a change made now gets another ctime. */
  const fsClockPast = (ns: bigint): void => {
    const probe = join(dir, 'clock-probe');
    do writeFileSync(probe, '');
    while (statSync(probe, { bigint: true }).ctimeNs <= ns);
  };

  /** Sets `path`'s mtime to `ns`, to the nanosecond (`touch -d @s.ns`: utimes from a Date keeps only ms). */
  const setMtimeNs = (path: string, ns: bigint): void =>
    void execFileSync('touch', ['-m', '-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, path]);

  it('a file written while it is read and its mtime put back to the nanosecond (touch -d): ECHANGED by its ctime', async () => {
    const data = pattern(5000);
    const path = await fileWith(data);
    const { mtimeNs, ctimeNs } = statSync(path, { bigint: true });
    // Same size, other bytes, the old mtime restored exactly: only the ctime moved.
    hooks.afterRead = {
      nth: 2,
      run: () => {
        fsClockPast(ctimeNs);
        writeFileSync(path, pattern(5000).fill(0xee));
        setMtimeNs(path, mtimeNs);
        expect(statSync(path, { bigint: true }).mtimeNs).toBe(mtimeNs);
      },
    };
    const rec = record(fromFilePath(path, { readSize: 1000 }));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    expect((rec.error as SourceReadError).details).toMatchObject({ path, code: 'ECHANGED' });
    expectPieces(rec.pieces, data.subarray(0, 1000), 1000);
  });

  it('a file replaced after it was listed by one of the same size and mtime (cp -p): ECHANGED at the open by the listed ctime', async () => {
    const path = await fileWith(pattern(3000));
    const listed = statSync(path);
    fsClockPast(statSync(path, { bigint: true }).ctimeNs);
    const other = await fileWith(pattern(3000).fill(0x11));
    setMtimeNs(other, statSync(path, { bigint: true }).mtimeNs);
    renameSync(other, path);
    expect(statSync(path).mtimeMs).toBe(listed.mtimeMs);
    const rec = record(fromFilePath(path, { mtimeMs: listed.mtimeMs, ctimeMs: listed.ctimeMs }));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    expect((rec.error as SourceReadError).details).toMatchObject({ path, code: 'ECHANGED' });
    expect(rec.bytes).toBe(0);
  });

  it('a file whose mtime is not the one given (written after it was listed): SourceReadError ECHANGED at the open, nothing read', async () => {
    const path = await fileWith(pattern(3000));
    const listed = statSync(path).mtimeMs;
    utimesSync(path, new Date(), new Date(listed + 1000));
    const rec = record(fromFilePath(path, { mtimeMs: listed }));
    await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
    expect((rec.error as SourceReadError).details).toMatchObject({ path, code: 'ECHANGED' });
    expect(rec.bytes).toBe(0);
    expect(hooks.closes).toEqual([1]);
    // The same mtime reads it all.
    const again = record(fromFilePath(path, { mtimeMs: statSync(path).mtimeMs }));
    await again.done;
    expect(again.bytes).toBe(3000);
  });

  it('reads into a fresh buffer every time', async () => {
    const data = pattern(10_000);
    const rec = record(fromFilePath(await fileWith(data), { readSize: 1000 }));
    await rec.done;
    expect(new Set(rec.pieces.map((p) => p.buffer)).size).toBe(10);
    // Scribbling over an emitted piece changes nothing else.
    rec.pieces[0].fill(0);
    expectPieces(rec.pieces.slice(1), data.subarray(1000), 1000);
  });

  it('is cold: each subscription opens the file again', async () => {
    const data = pattern(3000);
    const source = fromFilePath(await fileWith(data), { readSize: 1000, start: 500 });
    for (let i = 0; i < 2; i++) {
      const rec = record(source);
      await rec.done;
      expectPieces(rec.pieces, data.subarray(500), 1000);
    }
  });

  describe('closes the handle exactly once', () => {
    it('on completion', async () => {
      const path = await fileWith(pattern(5000));
      const fds = openFds();
      await record(fromFilePath(path, { readSize: 1000 })).done;
      await vi.waitFor(() => expect(openFds()).toBe(fds));
      expect(hooks.closes).toEqual([1]);
    });

    it('on early unsubscribe', async () => {
      const path = await fileWith(pattern(50_000));
      const fds = openFds();
      const demand = new Demand();
      const rec = record(fromFilePath(path, { readSize: 1000, demand }));
      demand.request(2000);
      await vi.waitFor(() => expect(rec.bytes).toBe(2000));
      expect(openFds()).toBe(fds + 1);
      rec.subscription.unsubscribe();
      await vi.waitFor(() => expect(openFds()).toBe(fds));
      await settle();
      expect(hooks.closes).toEqual([1]);
    });

    it('on unsubscribe while the file is still opening', async () => {
      const path = await fileWith(pattern(5000));
      const fds = openFds();
      record(fromFilePath(path)).subscription.unsubscribe();
      await settle();
      expect(openFds()).toBe(fds);
      expect(hooks.closes).toEqual([1]);
    });

    it('on a read error, reported with the path and offset', async () => {
      const path = await fileWith(pattern(5000));
      const fds = openFds();
      const cause = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      hooks.failRead = { nth: 3, error: cause };
      const rec = record(fromFilePath(path, { readSize: 1000 }));
      await expect(rec.done).rejects.toBeInstanceOf(SourceReadError);
      expect((rec.error as SourceReadError).cause).toBe(cause);
      expect((rec.error as SourceReadError).details).toMatchObject({ path, offset: 2000, code: 'EIO' });
      expect(rec.bytes).toBe(2000);
      await vi.waitFor(() => expect(openFds()).toBe(fds));
      expect(hooks.closes).toEqual([1]);
    });
  });
});

describe('fromFilePath: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => fromFilePath('in.bin', null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'fromFilePath: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
