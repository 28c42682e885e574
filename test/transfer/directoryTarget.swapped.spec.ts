/**
 * directoryTarget never places a file other than the one it wrote: when something else swaps the part file (a
 * rename and a new file in its place, a symbolic link to a file outside, a truncation that leaves its size short) or
 * swaps the folder for a link, `finish` fails with SinkWriteError (`causeCode` `EREPLACED`) and leaves no file
 * under the final name. Before, the transfer completed and the final name held the other file (found by an
 * outside check: "completed" with the sender's digest, and the bytes on disk were someone else's).
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { SinkWriteError } from '../../src/errors';
import type { Manifest } from '../../src/protocol/control';
import { directoryTarget, PARTIAL_SUFFIX } from '../../src/transfer/directoryTarget';
import type { Chunk } from '../../src/types';

const KiB = 1024;
const SIZE = 64 * KiB;
const manifest = (name: string) =>
  ({ id: 1, name, size: SIZE, type: 'application/octet-stream', channels: 1, lanes: 1, idBase: 512, reliability: 'reliable', chunk: { min: 4 * KiB, max: 4 * KiB }, digest: 'sha-256', window: 16 * 1024 * 1024 }) as Manifest;
const chunks = (): Chunk[] => Array.from({ length: SIZE / (4 * KiB) }, (_, i) => ({ index: i, offset: i * 4 * KiB, data: new Uint8Array(4 * KiB).fill(i + 1) }));

describe('directoryTarget: a part file swapped while it was written', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const root = async () => {
    const d = await mkdtemp(join(tmpdir(), 'swapped-'));
    dirs.push(d);
    await mkdir(join(d, 'dl'));
    await mkdir(join(d, 'outside'));
    return d;
  };

  /** Writes every chunk of `name` into `dl`, runs `swap`, then finishes; returns what finish threw. */
  const writeSwapFinish = async (d: string, name: string, swap: (partPath: string) => Promise<void>) => {
    const opened = await directoryTarget(join(d, 'dl')).open(manifest(name));
    await lastValueFrom(from(chunks()).pipe(opened.sink));
    await swap(join(d, 'dl', name.replace(/^.*\//, name.includes('/') ? `${name.slice(0, name.lastIndexOf('/'))}/` : '') + PARTIAL_SUFFIX));
    return Promise.resolve(opened.finish()).then(
      () => undefined,
      (e: unknown) => e,
    );
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
    const opened = await directoryTarget(join(d, 'dl')).open(manifest('a/1.bin'));
    await lastValueFrom(from(chunks()).pipe(opened.sink));
    await rename(join(d, 'dl', 'a'), join(d, 'a-moved'));
    await writeFile(join(d, 'outside', `1.bin${PARTIAL_SUFFIX}`), Buffer.alloc(SIZE, 0x42));
    await symlink(join(d, 'outside'), join(d, 'dl', 'a'));
    const error = await Promise.resolve(opened.finish()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SinkWriteError);
    expect(await readdir(join(d, 'outside'))).not.toContain('1.bin');
  });

  it('left alone, the file is placed (the control case)', async () => {
    const d = await root();
    const error = await writeSwapFinish(d, 'f.bin', async () => undefined);
    expect(error).toBeUndefined();
    expect((await readFile(join(d, 'dl', 'f.bin'))).length).toBe(SIZE);
  });
});
