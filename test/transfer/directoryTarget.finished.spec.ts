/**
 * directoryTarget and files it already placed: the sender's mtime is kept, and the same offer again
 * (a session resumed by a new receiver process) finds the file whole instead of sending it again or
 * saving a second copy. The prefix digest still decides: a file that only looks the same is never
 * touched, and the transfer lands beside it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastValueFrom, from as fromArray, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { HashMismatchError, ProtocolError } from '../../src/errors';
import { directoryTarget } from '../../src/transfer/directoryTarget';
import { CHUNK, chunksOf, failure, manifestFor, tempDirs, write } from './directoryTargetFixtures';

const tempDir = tempDirs('tallow-dt-finished-');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MTIME = Date.UTC(2024, 4, 17, 9, 30, 12, 345);
const concat = (parts: Uint8Array[]) => Buffer.concat(parts);

/** Receives `data` as `name` into `d` in one go; returns where it landed. */
const receive = async (d: string, name: string, data: Uint8Array, lastModified?: number) => {
  const opened = await directoryTarget(d).open(manifestFor(name, data.length, lastModified));
  await write(opened, data);
  return (await opened.finish()) as string;
};

describe('directoryTarget: files already in place', () => {
  it('gives a finished file the manifest lastModified as its mtime', async () => {
    const d = await tempDir();
    const path = await receive(d, 'a/x.bin', randomBytes(3 * CHUNK), MTIME);
    expect(Math.round((await stat(path)).mtimeMs)).toBe(MTIME);
  });

  it('finds the same file whole: held and open say all of it, the prefix is the file, nothing is written, moved or removed', async () => {
    const d = await tempDir();
    const data = randomBytes(3 * CHUNK + 17);
    const path = await receive(d, 'a/x.bin', data, MTIME);
    const target = directoryTarget(d);
    const m = manifestFor('a/x.bin', data.length, MTIME);
    expect(await target.held!(m)).toBe(data.length);
    const opened = await target.open(m);
    expect(opened.from).toBe(data.length);
    expect(sha(concat(await lastValueFrom(opened.prefix!().pipe(toArray()))))).toBe(sha(data));
    expect(await write(opened, data)).toBe(0);
    expect(await opened.finish()).toBe(path);
    await opened.abort(new Error('late'));
    expect(await readdir(join(d, 'a'))).toEqual(['x.bin']);
    expect(sha(await readFile(path))).toBe(sha(data));
  });

  it('refuses a chunk for a file it holds whole', async () => {
    const d = await tempDir();
    const data = randomBytes(2 * CHUNK);
    await receive(d, 'x.bin', data, MTIME);
    const opened = await directoryTarget(d).open(manifestFor('x.bin', data.length, MTIME));
    const err = await failure(lastValueFrom(fromArray(chunksOf(data, CHUNK)).pipe(opened.sink)));
    expect(err).toBeInstanceOf(ProtocolError);
  });

  it.each([
    ['a different size', (size: number) => manifestFor('x.bin', size + 1, MTIME)],
    ['a different lastModified', (size: number) => manifestFor('x.bin', size, MTIME + 1000)],
    ['no lastModified', (size: number) => manifestFor('x.bin', size)],
  ])('does not take a file of the same name with %s for it', async (_, manifestOf) => {
    const d = await tempDir();
    const data = randomBytes(2 * CHUNK);
    await receive(d, 'x.bin', data, MTIME);
    const m = manifestOf(data.length);
    const target = directoryTarget(d);
    expect(await target.held!(m)).toBe(0);
    const opened = await target.open(m);
    expect(opened.from).toBe(0);
    await write(opened, randomBytes(m.size));
    expect(await opened.finish()).toBe(join(d, 'x (1).bin'));
  });

  it('does not take a symbolic link at the name for the file', async () => {
    const d = await tempDir();
    const data = randomBytes(CHUNK);
    const outside = join(await tempDir(), 'real.bin');
    await writeFile(outside, data);
    await utimes(outside, new Date(), new Date(MTIME));
    await symlink(outside, join(d, 'x.bin'));
    const m = manifestFor('x.bin', data.length, MTIME);
    expect(await directoryTarget(d).held!(m)).toBe(0);
    expect((await directoryTarget(d).open(m)).from).toBe(0);
  });

  it('after a prefix mismatch leaves the look-alike alone; the file opened again from 0 lands beside it', async () => {
    const d = await tempDir();
    const mine = randomBytes(2 * CHUNK);
    const path = join(d, 'x.bin');
    await writeFile(path, mine);
    await utimes(path, new Date(), new Date(MTIME));
    const target = directoryTarget(d);
    const m = manifestFor('x.bin', mine.length, MTIME);
    const lookAlike = await target.open(m);
    expect(lookAlike.from).toBe(m.size);
    // What the receiver does when the sender answers `restart`: abort with a whole-file mismatch, open from 0.
    await lookAlike.abort(new HashMismatchError(-1, "the sender's prefix", 'the held prefix', 'sha-256'));
    const theirs = randomBytes(m.size);
    const fresh = await target.open(m, { resume: false });
    expect(fresh.from).toBe(0);
    await write(fresh, theirs);
    expect(await fresh.finish()).toBe(join(d, 'x (1).bin'));
    expect(sha(await readFile(path))).toBe(sha(mine));
    expect(sha(await readFile(join(d, 'x (1).bin')))).toBe(sha(theirs));
  });

  it('an empty file offered again is the one in place, not a second empty file', async () => {
    const d = await tempDir();
    const path = await receive(d, 'e/empty.txt', new Uint8Array(0), MTIME);
    // The receiver opens a file it answered nothing for with { resume: false }: it promised it from 0.
    const opened = await directoryTarget(d).open(manifestFor('e/empty.txt', 0, MTIME), { resume: false });
    expect(opened.from).toBe(0);
    expect(await write(opened, new Uint8Array(0))).toBe(0);
    expect(await opened.finish()).toBe(path);
    expect(await readdir(join(d, 'e'))).toEqual(['empty.txt']);
  });

  it('with resume: false (the target option) never takes a file in place for the offered one', async () => {
    const d = await tempDir();
    const data = randomBytes(CHUNK);
    await receive(d, 'x.bin', data, MTIME);
    const target = directoryTarget(d, { resume: false });
    const m = manifestFor('x.bin', data.length, MTIME);
    expect(await target.held!(m)).toBe(0);
    expect((await target.open(m)).from).toBe(0);
  });
});

describe('directoryTarget: a file opened and never written', () => {
  it('leaves no part file when aborted (a session cut before the file started)', async () => {
    const d = await tempDir();
    const opened = await directoryTarget(d).open(manifestFor('a/x.bin', 4 * CHUNK, MTIME));
    await opened.abort(new Error('connection lost'));
    expect(await readdir(join(d, 'a'))).toEqual([]);
  });
});
