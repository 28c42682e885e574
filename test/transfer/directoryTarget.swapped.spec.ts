/**
 * directoryTarget never places a file other than the one it wrote: when something else swaps the part file (a
 * rename and a new file in its place, a symbolic link to a file outside, a truncation that leaves its size short) or
 * swaps the folder for a link, `finish` fails with SinkWriteError (`causeCode` `EREPLACED`) and leaves no file
 * under the final name. Before, the transfer completed and the final name held the other file (found by an
 * outside check: "completed" with the sender's digest, and the bytes on disk were someone else's). A truncation
 * between two writes, which the later writes grow back to full size with zeros, fails the sink before it writes.
 */
import { mkdir, open, readdir, readFile, rename, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastValueFrom, Subject, tap } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { SinkWriteError } from '../../src/errors';
import { directoryTarget, PARTIAL_SUFFIX } from '../../src/transfer/directoryTarget';
import type { Chunk } from '../../src/types';
import { CHUNK, chunksOf, failure, manifestFor, tempDirs, write } from './directoryTargetFixtures';

const SIZE = 4 * CHUNK;
const DATA = new Uint8Array(SIZE).map((_, i) => (i * 7) & 0xff);
const tempDir = tempDirs('swapped-');

describe('directoryTarget: a part file swapped while it was written', () => {
  /** A temp folder with `dl` (the target) and `outside` beside it. */
  const root = async () => {
    const d = await tempDir();
    await mkdir(join(d, 'dl'));
    await mkdir(join(d, 'outside'));
    return d;
  };

  /** Writes every chunk of `name` into `dl`, runs `swap` on its part file, then finishes; returns what finish threw. */
  const writeSwapFinish = async (d: string, name: string, swap: (partPath: string) => Promise<void>) => {
    const opened = await directoryTarget(join(d, 'dl')).open(manifestFor(name, SIZE));
    await write(opened, DATA);
    await swap(join(d, 'dl', `${name}${PARTIAL_SUFFIX}`));
    return failure(opened.finish());
  };

  it.each([
    ['renamed away, another file of the same size put in its place', async (part: string) => (await rename(part, `${part}.moved`), await writeFile(part, Buffer.alloc(SIZE, 0x41)))],
    ['replaced by a symbolic link to a file outside the folder', async (part: string) => (await rename(part, `${part}.moved`), await symlink(join(part, '..', '..', 'outside', 'secret.txt'), part))],
    ['truncated', async (part: string) => truncate(part, 0)],
  ])('%s: finish fails with EREPLACED and nothing bears the final name', async (_, swap) => {
    const d = await root();
    await writeFile(join(d, 'outside', 'secret.txt'), 'keep me\n');
    const error = await writeSwapFinish(d, 'f.bin', swap);
    expect(error).toBeInstanceOf(SinkWriteError);
    expect((error as SinkWriteError).details).toMatchObject({ causeCode: 'EREPLACED' });
    expect(await readdir(join(d, 'dl'))).not.toContain('f.bin');
    expect(await readFile(join(d, 'outside', 'secret.txt'), 'utf8')).toBe('keep me\n');
  });

  it('a subfolder swapped for a link to a folder outside, holding a fake part file: nothing is placed there', async () => {
    const d = await root();
    const error = await writeSwapFinish(d, 'a/1.bin', async () => {
      await rename(join(d, 'dl', 'a'), join(d, 'a-moved'));
      await writeFile(join(d, 'outside', `1.bin${PARTIAL_SUFFIX}`), Buffer.alloc(SIZE, 0x42));
      await symlink(join(d, 'outside'), join(d, 'dl', 'a'));
    });
    expect(error).toBeInstanceOf(SinkWriteError);
    expect(await readdir(join(d, 'outside'))).not.toContain('1.bin');
  });

  it('truncated between two writes, which the later writes would grow back over with zeros: the sink fails with EREPLACED', async () => {
    const d = await root();
    const opened = await directoryTarget(join(d, 'dl')).open(manifestFor('f.bin', SIZE));
    const part = join(d, 'dl', `f.bin${PARTIAL_SUFFIX}`);
    const chunks = chunksOf(DATA);
    const input = new Subject<Chunk>();
    const written: number[] = [];
    const done = lastValueFrom(input.pipe(opened.sink, tap((n) => written.push(n)))).then(() => undefined, (e: unknown) => e);
    input.next(chunks[0]);
    input.next(chunks[1]);
    await vi.waitFor(() => expect(written.at(-1)).toBe(2 * CHUNK));
    await truncate(part, CHUNK / 2);
    input.next(chunks[2]);
    input.next(chunks[3]);
    input.complete();
    const error = await done;
    expect(error).toBeInstanceOf(SinkWriteError);
    expect((error as SinkWriteError).details).toMatchObject({ causeCode: 'EREPLACED' });
    expect(written.at(-1)).toBe(2 * CHUNK);
    await opened.abort(error);
    expect(await readdir(join(d, 'dl'))).not.toContain('f.bin');
  });

  it('truncated while a write is in flight (after the check before it): the file ends short of what was written, so finish fails with EREPLACED', async () => {
    const d = await root();
    const opened = await directoryTarget(join(d, 'dl')).open(manifestFor('f.bin', SIZE));
    const part = join(d, 'dl', `f.bin${PARTIAL_SUFFIX}`);
    // The last chunk's write: another process truncates the part file between the check and the write itself
    // (with positional writes the file grew back to full size over a hole of zeros, and was placed).
    const probe = await open(join(d, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const realWrite = proto.write;
    let writes = 0;
    const spy = vi.spyOn(proto, 'write').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      if (++writes === 4) await truncate(part, CHUNK / 2);
      return realWrite.apply(this, args);
    });
    try {
      await write(opened, DATA);
      const error = await failure(opened.finish());
      expect(error).toBeInstanceOf(SinkWriteError);
      expect((error as SinkWriteError).details).toMatchObject({ causeCode: 'EREPLACED' });
      expect(await readdir(join(d, 'dl'))).not.toContain('f.bin');
    } finally {
      spy.mockRestore();
    }
  });

  it('left alone, the file is placed (the control case)', async () => {
    const d = await root();
    const error = await writeSwapFinish(d, 'f.bin', async () => undefined);
    expect(error).toBeUndefined();
    expect((await readFile(join(d, 'dl', 'f.bin'))).length).toBe(SIZE);
  });
});

describe('directoryTarget: an abort after the part file was swapped', () => {
  // An outside check: the part file renamed away mid-transfer and a 1-byte file put in its place; the transfer failed
  // rightly (EREPLACED), and the abort then removed the other writer's file.
  it.each([
    ['a part file written to, then swapped', true],
    ['a part file never written to, swapped', false],
  ])('%s: abort leaves the file another writer put there', async (_, wrote) => {
    const d = await tempDir();
    const opened = await directoryTarget(d).open(manifestFor('f.bin', SIZE));
    if (wrote) await write(opened, DATA.subarray(0, 2 * CHUNK));
    const part = join(d, `f.bin${PARTIAL_SUFFIX}`);
    await rename(part, `${part}.moved`);
    await writeFile(part, 'x');
    await opened.abort(new SinkWriteError('test', { path: part, causeCode: 'EREPLACED' }));
    expect(await readFile(part, 'utf8')).toBe('x');
  });

  it('a part file never written to and not swapped is removed by the abort (control case)', async () => {
    const d = await tempDir();
    const opened = await directoryTarget(d).open(manifestFor('f.bin', SIZE));
    await opened.abort(new Error('cut'));
    expect(await readdir(d)).toEqual([]);
  });
});
