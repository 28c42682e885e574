/**
 * directoryTarget for multi-file sessions, on a real file system: `held()`
 * peeks at what `open()` would resume without touching anything, `open(m,
 * { resume: false })` starts from 0 and leaves partials alone, `folder()`
 * makes (empty) folders, and nested paths land in their subfolders, never
 * outside the target directory and never through a symbolic link.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProtocolError, SinkWriteError } from '../../src/errors';
import { directoryTarget, PARTIAL_SUFFIX } from '../../src/transfer/directoryTarget';
import { CHUNK, failure, manifestFor as baseManifest, partialOf, tempDirs, write } from './directoryTargetFixtures';
import { sha256Hex as sha } from '../helpers/sha256';

/** `readdir()` calls seen, to show that `held` lists a quiet folder once. */
const calls = vi.hoisted(() => ({ readdir: 0 }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const readdir = (...args: Parameters<typeof actual.readdir>) => {
    calls.readdir++;
    return actual.readdir(...args);
  };
  return { ...actual, readdir: readdir as typeof actual.readdir };
});

afterEach(() => {
  calls.readdir = 0;
});

const tempDir = tempDirs('dirtarget-tree-');
/** These manifests carry a lastModified, so a partial is resumable only for the same file. */
const manifestFor = (name: string, size: number) => baseManifest(name, size, 42);

/** A sandbox holding the target directory `inbox` (not created yet), to show nothing lands beside it. */
const sandbox = async () => {
  const root = await tempDir();
  return { root, dir: join(root, 'inbox') };
};

/** Every entry under `root`, '/'-separated, with what identifies its state: kind, size, mtime, a file's bytes. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, p));
      if (st.isDirectory()) {
        out[p] = `folder ${st.mtimeMs}`;
        await walk(p);
      } else out[p] = `${st.isFile() ? sha(await readFile(join(root, p))) : 'link'} ${st.size} ${st.mtimeMs}`;
    }
  };
  await walk('');
  return out;
}

/** Every path under `root`, '/'-separated and sorted, folders included. */
const tree = async (root: string) => Object.keys(await snapshot(root)).sort();

/** Open file descriptors of this process (Linux). */
const openFds = async () => (await readdir('/proc/self/fd')).length;

/** Receives `data` as `name` into `target` and returns where it landed, relative to `dir`. */
const receive = async (dir: string, target: ReturnType<typeof directoryTarget>, name: string, data: Uint8Array) => {
  const opened = await target.open(manifestFor(name, data.length));
  await write(opened, data);
  const saved = (await opened.finish()) as string;
  expect(sha(await readFile(saved))).toBe(sha(data));
  return saved.slice(dir.length + 1).split(/[\\/]/).join('/');
};

describe('directoryTarget.held()', () => {
  it('is 0 for a file never offered, and creates nothing, not even the missing download folder', async () => {
    const { root, dir } = await sandbox();
    const target = directoryTarget(dir);
    expect(await target.held!(manifestFor('a.bin', 4 * CHUNK))).toBe(0);
    expect(await target.held!(manifestFor('photos/2024/a.jpg', 4 * CHUNK))).toBe(0);
    expect(await readdir(root)).toEqual([]);
    await mkdir(dir);
    expect(await target.held!(manifestFor('photos/2024/a.jpg', 4 * CHUNK))).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('is the verified byte count of a partial left by an aborted transfer, nested or not, and changes nothing', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const m = manifestFor('photos/2024/a.jpg', 8 * CHUNK);
    const top = manifestFor('b.bin', 8 * CHUNK);
    const data = randomBytes(m.size);
    await partialOf(target, m, data, 3 * CHUNK);
    await partialOf(target, top, data, 5 * CHUNK);
    const before = await snapshot(d);
    const fds = await openFds();
    expect(await target.held!(m)).toBe(3 * CHUNK);
    expect(await target.held!(top)).toBe(5 * CHUNK);
    // Another instance on the same folder sees the same.
    expect(await directoryTarget(d).held!(m)).toBe(3 * CHUNK);
    expect(await openFds()).toBe(fds);
    expect(await snapshot(d)).toEqual(before);
  });

  it('does not claim: the open that follows resumes the partial from exactly that count and the file lands whole', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const m = manifestFor('docs/r.bin', 8 * CHUNK);
    const data = randomBytes(m.size);
    await partialOf(target, m, data, 3 * CHUNK);
    const held = await target.held!(m);
    expect(await target.held!(m)).toBe(held);
    const opened = await target.open(m);
    expect(opened.from).toBe(held);
    await write(opened, data);
    expect(await opened.finish()).toBe(join(d, 'docs', 'r.bin'));
    expect(sha(await readFile(join(d, 'docs', 'r.bin')))).toBe(sha(data));
    // The placed file carries the sender's mtime, so the same offer again finds all of it held.
    expect(await target.held!(m)).toBe(m.size);
  });

  it('skips a partial a transfer in progress holds, and one of another file of that name, as open does', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const m = manifestFor('a/x.bin', 8 * CHUNK);
    const data = randomBytes(m.size);
    await partialOf(target, m, data, 2 * CHUNK);
    const holding = await target.open(m);
    expect(holding.from).toBe(2 * CHUNK);
    expect(await target.held!(m)).toBe(0);
    const second = await target.open(m);
    expect(second.from).toBe(0);
    await second.abort(new Error('stop'));
    expect(await target.held!(baseManifest('a/x.bin', m.size, 43))).toBe(0);
    expect(await target.held!(manifestFor('a/x.bin', m.size + 1))).toBe(0);
    expect(await target.held!(manifestFor('x.bin', m.size))).toBe(0);
    await holding.abort(new Error('stop'));
    expect(await target.held!(m)).toBe(2 * CHUNK);
  });

  it('is 0 with resume: false, and refuses a NUL name with ERR_UNSAFE_NAME as open does', async () => {
    const d = await tempDir();
    const m = manifestFor('k.bin', 4 * CHUNK);
    await partialOf(directoryTarget(d, { checkpointEvery: CHUNK }), m, randomBytes(m.size), 2 * CHUNK);
    expect(await directoryTarget(d, { checkpointEvery: CHUNK }).held!(m)).toBe(2 * CHUNK);
    expect(await directoryTarget(d, { resume: false }).held!(m)).toBe(0);
    const err = await failure(directoryTarget(d).held!(manifestFor('a/b\u0000.bin', 1)));
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('ERR_UNSAFE_NAME');
  });

  it('10,000 offered files into a folder of 2,000: one listing, the right counts, no descriptor left open, nothing written', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const big = join(d, 'big');
    await mkdir(big);
    for (let i = 0; i < 2_000; i += 200) await Promise.all(Array.from({ length: 200 }, (_, j) => writeFile(join(big, `f${i + j}.bin`), 'done')));
    const data = randomBytes(4 * CHUNK);
    for (const i of [5, 500, 9_999]) await partialOf(target, manifestFor(`big/f${i}.bin`, data.length), data, (i % 3) * CHUNK + CHUNK);
    // A folder quiet for longer than any mtime resolution, as one is when the receiver peeks.
    await utimes(big, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const before = await snapshot(d);
    const fds = await openFds();
    calls.readdir = 0;
    const held = new Map<number, number>();
    for (let i = 0; i < 10_000; i++) {
      const n = await target.held!(manifestFor(`big/f${i}.bin`, data.length));
      if (n) held.set(i, n);
    }
    expect(calls.readdir).toBe(1);
    expect([...held]).toEqual([
      [5, 3 * CHUNK],
      [500, 3 * CHUNK],
      [9_999, CHUNK],
    ]);
    expect(await openFds()).toBe(fds);
    expect(await snapshot(d)).toEqual(before);
  }, 60_000);

  it('lists the folder again once it changed: a partial that appears after a peek is seen', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    await mkdir(join(d, 'q'));
    await utimes(join(d, 'q'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const m = manifestFor('q/late.bin', 4 * CHUNK);
    expect(await target.held!(m)).toBe(0);
    expect(await target.held!(m)).toBe(0);
    await partialOf(target, m, randomBytes(m.size), 2 * CHUNK);
    expect(await target.held!(m)).toBe(2 * CHUNK);
  });
});

describe('directoryTarget.open(manifest, { resume: false })', () => {
  it('starts from 0 in a part file of its own; the old partial and its record stay as they were, and resume later', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const m = manifestFor('p/f.bin', 8 * CHUNK);
    const data = randomBytes(m.size);
    await partialOf(target, m, data, 3 * CHUNK);
    const old = join(d, 'p', `f.bin${PARTIAL_SUFFIX}`);
    const before = [sha(await readFile(old)), await readFile(`${old}.json`, 'utf8')];

    const fresh = await target.open(m, { resume: false });
    expect(fresh.from).toBe(0);
    // Not claimed by the fresh transfer: still what a later open would resume.
    expect(await target.held!(m)).toBe(3 * CHUNK);
    await write(fresh, data);
    expect(await fresh.finish()).toBe(join(d, 'p', 'f.bin'));
    expect(sha(await readFile(join(d, 'p', 'f.bin')))).toBe(sha(data));
    expect([sha(await readFile(old)), await readFile(`${old}.json`, 'utf8')]).toEqual(before);

    // While f.bin is in place the same offer finds it whole; once it is moved away, the old partial resumes.
    expect((await target.open(m)).from).toBe(m.size);
    await rename(join(d, 'p', 'f.bin'), join(d, 'moved.bin'));
    const again = await target.open(m);
    expect(again.from).toBe(3 * CHUNK);
    await write(again, data);
    expect(await again.finish()).toBe(join(d, 'p', 'f.bin'));
    expect(await tree(d)).toEqual(['moved.bin', 'p', 'p/f.bin']);
  });

  it('aborted, it leaves a second partial; held and the next open agree on which one resumes', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const m = manifestFor('g.bin', 8 * CHUNK);
    const data = randomBytes(m.size);
    await partialOf(target, m, data, 2 * CHUNK);
    const fresh = await target.open(m, { resume: false });
    await write(fresh, data, 6 * CHUNK);
    await fresh.abort(new Error('connection lost'));
    expect((await readdir(d)).filter((f) => f.endsWith(PARTIAL_SUFFIX))).toHaveLength(2);
    const held = await target.held!(m);
    expect([2 * CHUNK, 6 * CHUNK]).toContain(held);
    const again = await target.open(m);
    expect(again.from).toBe(held);
    await write(again, data);
    expect(sha(await readFile((await again.finish()) as string))).toBe(sha(data));
  });

  it('{ resume: true } and no hints resume as before', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const m = manifestFor('h.bin', 4 * CHUNK);
    const data = randomBytes(m.size);
    await partialOf(target, m, data, CHUNK);
    const a = await target.open(m, { resume: true });
    expect(a.from).toBe(CHUNK);
    await a.abort(new Error('stop'));
    const b = await target.open(m, {});
    expect(b.from).toBe(CHUNK);
    await b.abort(new Error('stop'));
  });
});

describe('directoryTarget.folder()', () => {
  it('creates nested empty folders; calling it again, or over an existing folder with files, is fine', async () => {
    const { root, dir } = await sandbox();
    const target = directoryTarget(dir);
    await target.folder!('empty/deeper/deepest');
    await target.folder!('empty/deeper/deepest');
    await target.folder!('empty/');
    await target.folder!('other');
    await writeFile(join(dir, 'other', 'keep.txt'), 'kept');
    await target.folder!('other');
    expect(await tree(dir)).toEqual(['empty', 'empty/deeper', 'empty/deeper/deepest', 'other', 'other/keep.txt']);
    expect(await readFile(join(dir, 'other', 'keep.txt'), 'utf8')).toBe('kept');
    expect(await readdir(root)).toEqual(['inbox']);
  });

  it.each([
    ['../escape', 'escape'],
    ['../../etc', 'etc'],
    ['/abs/olute', 'olute'],
    ['a/../../b', 'b'],
    ['..\\..\\win', 'win'],
    ['C:\\Windows', 'Windows'],
    ['C:/Windows/sys', 'sys'],
    ['\\\\server\\share', 'share'],
    ['a//b', 'b'],
    ['./a', 'a'],
    ['.git/CON', 'git/_CON'],
    ['x/y', 'x/y'],
  ])('%j lands inside the target as %j, where a file of that name would', async (path, landed) => {
    const { root, dir } = await sandbox();
    await directoryTarget(dir).folder!(path);
    const segments = landed.split('/');
    expect(await tree(dir)).toEqual(segments.map((_, i) => segments.slice(0, i + 1).join('/')));
    expect((await lstat(join(dir, ...segments))).isDirectory()).toBe(true);
    expect(await readdir(root)).toEqual(['inbox']);
    const { dir: other } = await sandbox();
    expect(await receive(other, directoryTarget(other), path, randomBytes(100))).toBe(landed);
  });

  it.each(['..', '../..', '/', '', 'a/\u0000', '...'])('%j is refused with ERR_UNSAFE_NAME, as a file of that name is', async (path) => {
    const { root, dir } = await sandbox();
    const target = directoryTarget(dir);
    for (const attempt of [target.folder!(path), target.open(manifestFor(path, 1))]) {
      const err = await failure(attempt);
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('ERR_UNSAFE_NAME');
    }
    expect(await readdir(root)).toEqual([]);
  });

  it('a file where a folder of the path should be is a SinkWriteError (ENOTDIR) naming the relative path', async () => {
    const d = await tempDir();
    await mkdir(join(d, 'a'));
    await writeFile(join(d, 'a', 'b'), 'a file');
    const target = directoryTarget(d);
    for (const path of ['a/b', 'a/b/c']) {
      const err = await failure(target.folder!(path));
      expect(err).toBeInstanceOf(SinkWriteError);
      expect((err as SinkWriteError).details).toEqual({ path: 'a/b', causeCode: 'ENOTDIR' });
      expect((err as SinkWriteError).message).not.toContain(d);
    }
    expect(await readFile(join(d, 'a', 'b'), 'utf8')).toBe('a file');
    expect(await tree(d)).toEqual(['a', 'a/b']);
  });

  it('a symbolic link to a folder outside is never followed: SinkWriteError (ELOOP), nothing created outside', async () => {
    const root = await tempDir();
    const [dir, outside] = [join(root, 'inbox'), join(root, 'outside')];
    await mkdir(dir);
    await mkdir(outside);
    await symlink(outside, join(dir, 'link'), 'dir');
    const err = await failure(directoryTarget(dir).folder!('link/inner'));
    expect(err).toBeInstanceOf(SinkWriteError);
    expect((err as SinkWriteError).details).toEqual({ path: 'link', causeCode: 'ELOOP' });
    expect(await readdir(outside)).toEqual([]);
  });
});

describe('directoryTarget.open() with nested paths', () => {
  it('files land in their subfolders (created as needed), each written to a part file beside it first', async () => {
    const { root, dir } = await sandbox();
    const target = directoryTarget(dir, { checkpointEvery: CHUNK });
    const data = randomBytes(3 * CHUNK);
    const opened = await target.open(manifestFor('photos/2024/a.jpg', data.length));
    await write(opened, data);
    expect(await tree(dir)).toEqual(['photos', 'photos/2024', `photos/2024/a.jpg${PARTIAL_SUFFIX}`, `photos/2024/a.jpg${PARTIAL_SUFFIX}.json`]);
    expect(await opened.finish()).toBe(join(dir, 'photos', '2024', 'a.jpg'));
    expect(await receive(dir, target, 'photos/2024/b.jpg', randomBytes(10))).toBe('photos/2024/b.jpg');
    expect(await receive(dir, target, 'photos/c.jpg', randomBytes(10))).toBe('photos/c.jpg');
    expect(await receive(dir, target, 'top.txt', randomBytes(10))).toBe('top.txt');
    expect(await tree(dir)).toEqual(['photos', 'photos/2024', 'photos/2024/a.jpg', 'photos/2024/b.jpg', 'photos/c.jpg', 'top.txt']);
    expect(sha(await readFile(join(dir, 'photos', '2024', 'a.jpg')))).toBe(sha(data));
    expect(await readdir(root)).toEqual(['inbox']);
  });

  it.each([
    ['../../x.bin', 'x.bin'],
    ['/etc/x.bin', 'x.bin'],
    ['/tmp/../../root/.ssh/x.bin', 'x.bin'],
    ['a/../../x.bin', 'x.bin'],
    ['a\\..\\..\\x.bin', 'x.bin'],
    ['C:/Windows/x.bin', 'x.bin'],
    ['a//x.bin', 'x.bin'],
    ['a/.../x.bin', 'x.bin'],
    ['.git/CON/x.bin', 'git/_CON/x.bin'],
    ['dir./ sp /x.bin', 'dir/sp/x.bin'],
  ])('%j lands inside the target as %j', async (name, landed) => {
    const { root, dir } = await sandbox();
    expect(await receive(dir, directoryTarget(dir), name, randomBytes(100))).toBe(landed);
    expect(await readdir(root)).toEqual(['inbox']);
  });

  it('a symbolic link to a folder outside is never written through: SinkWriteError (ELOOP), the outside untouched', async () => {
    const root = await tempDir();
    const [dir, outside] = [join(root, 'inbox'), join(root, 'outside')];
    await mkdir(dir);
    await mkdir(join(outside, 'sub'), { recursive: true });
    await symlink(outside, join(dir, 'link'), 'dir');
    const target = directoryTarget(dir);
    for (const name of ['link/x.bin', 'link/sub/x.bin']) {
      const err = await failure(target.open(manifestFor(name, 10)));
      expect(err).toBeInstanceOf(SinkWriteError);
      expect((err as SinkWriteError).details).toEqual({ path: 'link', causeCode: 'ELOOP' });
      expect((err as SinkWriteError).message).not.toContain(root);
    }
    expect(await target.held!(manifestFor('link/x.bin', 10))).toBe(0);
    expect(await tree(outside)).toEqual(['sub']);
  });

  it('a part file that is a symbolic link is neither resumed nor written through', async () => {
    const root = await tempDir();
    const [dir, outside] = [join(root, 'inbox'), join(root, 'victim.bin')];
    await mkdir(join(dir, 'a'), { recursive: true });
    await writeFile(outside, 'precious');
    const m = manifestFor('a/x.bin', 4 * CHUNK);
    const part = join(dir, 'a', `x.bin${PARTIAL_SUFFIX}`);
    await symlink(outside, part);
    await writeFile(`${part}.json`, JSON.stringify({ v: 1, name: m.name, size: m.size, lastModified: 42, persisted: 8 }));
    const target = directoryTarget(dir);
    expect(await target.held!(m)).toBe(0);
    const opened = await target.open(m);
    expect(opened.from).toBe(0);
    const data = randomBytes(m.size);
    await write(opened, data);
    expect(await opened.finish()).toBe(join(dir, 'a', 'x.bin'));
    expect(await readFile(outside, 'utf8')).toBe('precious');
    expect(sha(await readFile(join(dir, 'a', 'x.bin')))).toBe(sha(data));
  });

  it('a file where a folder of the path should be is a SinkWriteError (ENOTDIR); the file stays', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'docs'), 'a file');
    const err = await failure(directoryTarget(d).open(manifestFor('docs/x.bin', 10)));
    expect(err).toBeInstanceOf(SinkWriteError);
    expect((err as SinkWriteError).details).toEqual({ path: 'docs', causeCode: 'ENOTDIR' });
    expect(await readFile(join(d, 'docs'), 'utf8')).toBe('a file');
  });

  it('docs/r.bin exists; two docs/r.bin arriving together take distinct names atomically and replace nothing (20 rounds)', async () => {
    const wrong: string[] = [];
    const kept = randomBytes(1000);
    for (let round = 0; round < 20; round++) {
      const d = await tempDir();
      await mkdir(join(d, 'docs'));
      await writeFile(join(d, 'docs', 'r.bin'), kept);
      const target = directoryTarget(d);
      const [x, y] = [randomBytes(128 * 1024), randomBytes(128 * 1024)];
      const [a, b] = await Promise.all([target.open(manifestFor('docs/r.bin', x.length)), target.open(manifestFor('docs/r.bin', y.length))]);
      await Promise.all([write(a, x), write(b, y)]);
      const paths = (await Promise.all([a.finish(), b.finish()])) as string[];
      const ok =
        new Set(paths).size === 2 &&
        paths.every((p) => p.startsWith(join(d, 'docs'))) &&
        sha(await readFile(join(d, 'docs', 'r.bin'))) === sha(kept) &&
        sha(await readFile(paths[0])) === sha(x) &&
        sha(await readFile(paths[1])) === sha(y) &&
        (await tree(d)).join() === ['docs', 'docs/r (1).bin', 'docs/r (2).bin', 'docs/r.bin'].join();
      if (!ok) wrong.push(`round ${round}: ${paths.join(' | ')}`);
    }
    expect(wrong).toEqual([]);
  });

  it('errors name paths inside subfolders relative to the target directory', async () => {
    const d = await tempDir();
    const opened = await directoryTarget(d).open(manifestFor('deep/er/p.bin', 3 * CHUNK));
    await write(opened, randomBytes(3 * CHUNK));
    await rm(join(d, 'deep'), { recursive: true });
    const err = await failure(opened.finish());
    expect(err).toBeInstanceOf(SinkWriteError);
    expect((err as SinkWriteError).message).not.toContain(d);
    expect((err as SinkWriteError).details).toEqual({ path: `deep/er/p.bin${PARTIAL_SUFFIX}`, causeCode: 'ENOENT' });
  });
});
