/**
 * filesFromPaths on real temporary folders: names, folders kept, what is skipped (symlinks, a FIFO), the
 * typed errors, reading a descriptor back, and a 10,000-file folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, reduce } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigError, LimitExceededError, SourceReadError, type FileDescriptor, type FileSet } from '../../src/index';
import { filesFromPaths } from '../../src/node';

let dir: string;

/** A file (parents created) with `text` in it. */
const put = async (path: string, text = ''): Promise<void> => {
  await mkdir(join(dir, path, '..'), { recursive: true });
  await writeFile(join(dir, path), text);
};

const names = (set: FileSet): string[] => set.files.map((f) => f.name);

const readAll = (file: FileDescriptor, range: { start?: number; end?: number } = {}): Promise<string> =>
  lastValueFrom(file.read(range).pipe(reduce((text, bytes) => text + Buffer.from(bytes).toString('utf8'), '')));

/** Whether `mkfifo` works here (absent on Windows, and on some minimal images). */
const makeFifo = (path: string): boolean => {
  try {
    execFileSync('mkfifo', [path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tallow-filesFromPaths-'));
  // tree/: nested folders, an empty folder, an empty file, links to a file and to a folder.
  await put('tree/b.txt', 'bee');
  await put('tree/a.txt', 'hello, world');
  await put('tree/sub/deeper/c.txt', 'sea');
  await put('tree/sub/empty.bin');
  await put('tree/Z.txt', 'upper case sorts first');
  await mkdir(join(dir, 'tree/nothing-here'));
  await symlink(join(dir, 'tree/a.txt'), join(dir, 'tree/link-to-file'));
  await symlink(join(dir, 'tree/sub'), join(dir, 'tree/link-to-folder'));
  await put('single.txt', 'just one');
  await put('other/tree/x.txt', 'same basename as tree/');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('filesFromPaths', () => {
  it('walks a folder: names under the folder, sorted within each folder, every folder kept', async () => {
    const set = await filesFromPaths([join(dir, 'tree')]);
    expect(names(set)).toEqual(['tree/Z.txt', 'tree/a.txt', 'tree/b.txt', 'tree/sub/deeper/c.txt', 'tree/sub/empty.bin']);
    expect(set.folders).toEqual(['tree', 'tree/nothing-here', 'tree/sub', 'tree/sub/deeper']);
  });

  it('keeps an empty file, with its size and mtime from the disk', async () => {
    const set = await filesFromPaths([join(dir, 'tree')]);
    const empty = set.files.find((f) => f.name === 'tree/sub/empty.bin')!;
    expect(empty).toMatchObject({ size: 0, seekable: true, type: 'application/octet-stream' });
    expect(empty.lastModified).toBeGreaterThan(Date.now() - 3_600_000);
    expect(await readAll(empty)).toBe('');
  });

  it('reports symbolic links as skipped and does not follow them', async () => {
    const set = await filesFromPaths([join(dir, 'tree')]);
    expect(set.skipped).toEqual([
      { path: 'tree/link-to-file', reason: 'symbolic link (not followed)' },
      { path: 'tree/link-to-folder', reason: 'symbolic link (not followed)' },
    ]);
    // Nothing reached through the folder link.
    expect(names(set).filter((n) => n.startsWith('tree/link-to-folder'))).toEqual([]);
    expect(set.folders).not.toContain('tree/link-to-folder');
  });

  it('skips a symbolic link given as an argument', async () => {
    const set = await filesFromPaths([join(dir, 'tree/link-to-file'), join(dir, 'single.txt')]);
    expect(names(set)).toEqual(['single.txt']);
    expect(set.skipped).toEqual([{ path: 'link-to-file', reason: 'symbolic link (not followed)' }]);
  });

  it('skips a FIFO (named pipe) without opening it', async (ctx) => {
    const fifoDir = join(dir, 'with-fifo');
    await put('with-fifo/plain.txt', 'plain');
    if (!makeFifo(join(fifoDir, 'pipe'))) ctx.skip('mkfifo is not available here');
    const set = await filesFromPaths([fifoDir]);
    expect(names(set)).toEqual(['with-fifo/plain.txt']);
    expect(set.skipped).toEqual([{ path: 'with-fifo/pipe', reason: 'named pipe (FIFO), not a regular file' }]);
  });

  it('names a file argument by its basename, and keeps the arguments in their order', async () => {
    const set = await filesFromPaths([join(dir, 'single.txt'), join(dir, 'tree/sub')]);
    expect(names(set)).toEqual(['single.txt', 'sub/deeper/c.txt', 'sub/empty.bin']);
    expect(set.folders).toEqual(['sub', 'sub/deeper']);
    expect(set.skipped).toEqual([]);
  });

  it("reads a descriptor's bytes back, whole and by range", async () => {
    const set = await filesFromPaths([join(dir, 'tree')]);
    const a = set.files.find((f) => f.name === 'tree/a.txt')!;
    expect(a.size).toBe(12);
    expect(await readAll(a)).toBe('hello, world');
    expect(await readAll(a, { start: 7, end: 10 })).toBe('wor');
  });

  it('rejects two arguments with the same basename with an InvalidConfigError naming both', async () => {
    const first = join(dir, 'tree');
    const second = join(dir, 'other/tree');
    const err = await filesFromPaths([first, second]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).code).toBe('ERR_INVALID_CONFIG');
    expect((err as InvalidConfigError).message).toContain(first);
    expect((err as InvalidConfigError).message).toContain(second);
    expect((err as InvalidConfigError).details).toEqual({ name: 'tree', paths: [first, second] });
  });

  it('rejects a missing path with a SourceReadError', async () => {
    const missing = join(dir, 'no-such-thing');
    const err = await filesFromPaths([join(dir, 'single.txt'), missing]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceReadError);
    expect((err as SourceReadError).details).toMatchObject({ path: missing, code: 'ENOENT' });
  });

  it('rejects more files than maxFiles with a LimitExceededError; exactly maxFiles is fine', async () => {
    const tree = join(dir, 'tree');
    await expect(filesFromPaths([tree], { maxFiles: 5 })).resolves.toMatchObject({ files: { length: 5 } });
    const err = await filesFromPaths([tree], { maxFiles: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).details).toMatchObject({ max: 4 });
    expect((err as LimitExceededError).details.value).toBeGreaterThan(4);
  });

  it('rejects a bad config before reading anything', async () => {
    await expect(filesFromPaths([join(dir, 'no-such-thing')], { concurrency: 0 })).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(filesFromPaths([join(dir, 'no-such-thing')], { maxFiles: -1 })).rejects.toBeInstanceOf(InvalidConfigError);
  });

  it('returns an empty set for no paths', async () => {
    expect(await filesFromPaths([])).toEqual({ files: [], folders: [], skipped: [] });
  });

  it('collects a folder of 10,000 empty files', async () => {
    const many = join(dir, 'many');
    await mkdir(many);
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => writeFile(join(many, `f${String(i + j).padStart(5, '0')}`), '')));
    }
    const began = performance.now();
    const set = await filesFromPaths([many]);
    console.log(`filesFromPaths: 10,000 files in ${Math.round(performance.now() - began)} ms`);
    expect(set.files).toHaveLength(10_000);
    expect(set.files[0].name).toBe('many/f00000');
    expect(set.files[9_999].name).toBe('many/f09999');
    expect(set.folders).toEqual(['many']);
    expect(set.skipped).toEqual([]);
  });
});

describe('filesFromPaths: arguments of the wrong type (an outside check)', () => {
  it('a string instead of an array of paths is an InvalidConfigError naming paths ("paths.map is not a function")', async () => {
    const error = await filesFromPaths('data' as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'filesFromPaths: paths must be an array of paths (`[path]` for one), got "data"', details: { field: 'paths', value: 'data' } });
  });

  it('a null config is an InvalidConfigError naming config (it threw a TypeError)', async () => {
    const error = await filesFromPaths([], null as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'filesFromPaths: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
