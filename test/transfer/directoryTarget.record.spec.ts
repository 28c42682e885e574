/**
 * directoryTarget's progress record: a fresh part file gets none until its first checkpoint (a record of 0 B
 * would resume nothing, and costs a small file four file-system calls); a cut transfer records every byte
 * it wrote, so the next session resumes from there, not from the last checkpoint.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError } from '../../src/index';
import { directoryTarget } from '../../src/node';
import { deterministicBytes } from '../helpers/bytes';
import { manifestFor, MiB, tempDirs, write } from './directoryTargetFixtures';

const dirs = tempDirs('tallow-record-');

describe('directoryTarget progress records', () => {
  it('a fresh part file has no record until a checkpoint; a cut records every written byte, and the next open resumes there', async () => {
    const dir = await dirs();
    const data = deterministicBytes(3 * MiB, 4);
    const m = manifestFor('r.bin', data.length, 1);
    const target = directoryTarget(dir, { checkpointEvery: 8 * MiB });
    const opened = await target.open(m);
    expect(opened.from).toBe(0);
    expect((await readdir(dir)).filter((f) => f.endsWith('.json'))).toEqual([]);
    await write(opened, data, 2 * MiB);
    await opened.abort(new ChannelClosedError('lost'));
    const [record] = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    expect(JSON.parse(await readFile(join(dir, record), 'utf8'))).toMatchObject({ name: 'r.bin', persisted: 2 * MiB });
    expect(await target.held!(m)).toBe(2 * MiB);
    const again = await target.open(m);
    expect(again.from).toBe(2 * MiB);
    await again.abort(new ChannelClosedError('done with the test'));
  });
});
