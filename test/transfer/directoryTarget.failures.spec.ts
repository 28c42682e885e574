/**
 * directoryTarget when things go wrong, on a real file system: a whole-file
 * hash mismatch discards the partial, errors name paths relative to the
 * target directory (they are sent to the peer) and are always TallowErrors,
 * and a missing download folder is created.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { HashMismatchError, InvalidConfigError, SinkWriteError, SourceReadError, TransferCancelledError } from '../../src/errors';
import { directoryTarget, PARTIAL_SUFFIX } from '../../src/transfer/directoryTarget';
import { CHUNK, failure, manifestFor as baseManifest, tempDirs, write } from './directoryTargetFixtures';

const tempDir = tempDirs('dirtarget-fail-');
/** These manifests carry a lastModified, so a partial is resumable only for the same file. */
const manifestFor = (name: string, size: number) => baseManifest(name, size, 42);

describe('directoryTarget after a hash mismatch', () => {
  it('a whole-file ERR_HASH_MISMATCH deletes the partial and its record even with resume, so the next offer starts at 0', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const m = manifestFor('bad.bin', 8 * CHUNK);
    const data = randomBytes(m.size);
    const opened = await target.open(m);
    await write(opened, data);
    await opened.abort(new HashMismatchError(-1, 'aa', 'bb', 'sha-256'));
    expect(await readdir(d)).toEqual([]);
    expect((await target.open(m)).from).toBe(0);
  });

  it('a chunk that failed its CRC-32 too often (ERR_HASH_MISMATCH with a chunk index) keeps the verified prefix for resume', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const m = manifestFor('crc.bin', 8 * CHUNK);
    const opened = await target.open(m);
    await write(opened, randomBytes(m.size));
    await opened.abort(new HashMismatchError(5, '0000beef', '0000dead', 'crc32'));
    expect((await readdir(d)).sort()).toEqual([`crc.bin${PARTIAL_SUFFIX}`, `crc.bin${PARTIAL_SUFFIX}.json`]);
    expect((await target.open(m)).from).toBe(m.size);
  });

  it('any other failure keeps the partial for resume', async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const m = manifestFor('ok.bin', 8 * CHUNK);
    const opened = await target.open(m);
    await write(opened, randomBytes(m.size));
    await opened.abort(new TransferCancelledError('remote'));
    expect((await readdir(d)).sort()).toEqual([`ok.bin${PARTIAL_SUFFIX}`, `ok.bin${PARTIAL_SUFFIX}.json`]);
    expect((await target.open(m)).from).toBe(m.size);
  });
});

describe('directoryTarget errors', () => {
  it('a failed final link/rename is a SinkWriteError naming the partial relative to the directory, not a raw ENOENT', async () => {
    const d = await tempDir();
    const inbox = join(d, 'inbox');
    await mkdir(inbox);
    const opened = await directoryTarget(inbox).open(manifestFor('gone.bin', 3 * CHUNK));
    await write(opened, randomBytes(3 * CHUNK));
    await rm(inbox, { recursive: true, force: true });
    const err = await failure(opened.finish());
    expect(err).toBeInstanceOf(SinkWriteError);
    const e = err as SinkWriteError;
    expect(e.details).toEqual({ path: `gone.bin${PARTIAL_SUFFIX}`, causeCode: 'ENOENT' });
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(e.message).not.toContain(d);
  });

  it("a prefix that can no longer be read fails with a TallowError whose message does not hold the directory's path", async () => {
    const d = await tempDir();
    const target = directoryTarget(d, { checkpointEvery: CHUNK });
    const m = manifestFor('p.bin', 8 * CHUNK);
    const first = await target.open(m);
    await write(first, randomBytes(4 * CHUNK));
    await first.abort(new Error('stop'));
    const again = await target.open(m);
    expect(again.from).toBeGreaterThan(0);
    await rm(join(d, `p.bin${PARTIAL_SUFFIX}`));
    const err = await failure(lastValueFrom(again.prefix!()));
    expect(err).toBeInstanceOf(SourceReadError);
    expect((err as SourceReadError).message).not.toContain(d);
    expect((err as SourceReadError).details).toMatchObject({ path: `p.bin${PARTIAL_SUFFIX}`, causeCode: 'ENOENT' });
  });
});

describe('directoryTarget and its folder', () => {
  it("creates a download folder that does not exist yet (and its parents), as the README's './downloads' example expects", async () => {
    const d = await tempDir();
    const inbox = join(d, 'downloads', 'nested');
    const data = randomBytes(3 * CHUNK + 5);
    const opened = await directoryTarget(inbox).open(manifestFor('new.bin', data.length));
    await write(opened, data);
    expect(await opened.finish()).toBe(join(inbox, 'new.bin'));
    expect(Buffer.compare(await readFile(join(inbox, 'new.bin')), data)).toBe(0);
  });

  it('a file where the folder should be is a clear SinkWriteError', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'downloads'), 'not a folder');
    const err = await failure(directoryTarget(join(d, 'downloads')).open(manifestFor('x.bin', 1)));
    expect(err).toBeInstanceOf(SinkWriteError);
    const e = err as SinkWriteError;
    expect(e.message).toMatch(/download folder/);
    expect(e.message).not.toContain(d);
    expect(['EEXIST', 'ENOTDIR']).toContain(e.details.causeCode);
    expect(e.details.path).toBe('.');
  });
});

describe('directoryTarget input', () => {
  /** The InvalidConfigError `call` throws at once (it failed only once a file was opened, mid-transfer). */
  const thrown = (call: () => unknown): InvalidConfigError => {
    let err: unknown;
    try {
      call();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidConfigError);
    return err as InvalidConfigError;
  };

  it('a dir that is not a non-empty string is an InvalidConfigError when directoryTarget is called', () => {
    const e = thrown(() => directoryTarget(42 as unknown as string));
    expect(e.message).toBe('directoryTarget: dir must be a non-empty string, got 42');
    expect(e.details).toEqual({ field: 'dir', value: 42 });
    expect(thrown(() => directoryTarget('')).details).toEqual({ field: 'dir', value: '' });
    expect(thrown(() => directoryTarget(undefined as unknown as string)).details).toEqual({ field: 'dir', value: undefined });
  });

  it('checkpointEvery or maxQueuedBytes negative or not a number, resume not a boolean, options not an object', async () => {
    const d = await tempDir();
    const cases: [string, unknown, string][] = [
      ['checkpointEvery', -1, '-1'],
      ['checkpointEvery', '8M', '"8M"'],
      ['maxQueuedBytes', -1, '-1'],
      ['maxQueuedBytes', '67108864', '"67108864"'],
      ['maxQueuedBytes', Number.NaN, 'NaN'],
      ['resume', 'false', '"false"'],
    ];
    for (const [field, value, quoted] of cases) {
      const e = thrown(() => directoryTarget(d, { [field]: value }));
      expect(e.message).toMatch(new RegExp(`^directoryTarget: ${field} must be .*, got ${quoted}$`));
      expect(e.details).toEqual({ field, value });
    }
    expect(thrown(() => directoryTarget(d, 'fast' as never)).details).toEqual({ field: 'options', value: 'fast' });
    expect(() => directoryTarget(d, { checkpointEvery: 0, maxQueuedBytes: Infinity, resume: false })).not.toThrow();
  });
});
