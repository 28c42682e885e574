/**
 * A file that cannot be read at its turn (deleted, or no permission, after it was listed) fails the sender with
 * SourceReadError, and what the receiver hears names the file as offered, not the sender's local path (the
 * message goes to the peer: an outside check saw "sender failed: cannot open /tmp/…/src/folder/b.bin: EACCES").
 * The local path stays in the sender's own error: `details.path`, and the original error as `cause`. A file
 * written after it was listed fails the same way (`ECHANGED`): before, it arrived as the new bytes, or a mix.
 */
import { mkdtemp, rm, writeFile, mkdir, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { receiveFiles, sendFiles, SourceReadError } from '../../src/index';
import { filesFromPaths } from '../../src/node';
import { createVirtualLink } from '../../src/testing';
import { watch } from '../limits/hostileSender';

describe("a source read error sent to the peer", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it("names the file as offered (folder/b.bin), never the sender's absolute path", async () => {
    const root = await mkdtemp(join(tmpdir(), 'srcerr-'));
    dirs.push(root);
    await mkdir(join(root, 'folder'));
    await writeFile(join(root, 'folder', 'a.bin'), 'a');
    await writeFile(join(root, 'folder', 'b.bin'), 'b');
    const set = await filesFromPaths([join(root, 'folder')]);
    await rm(join(root, 'folder', 'b.bin'));
    const link = createVirtualLink();
    const r = watch(receiveFiles(link.b));
    const s = watch(sendFiles(link.a, set));
    await Promise.all([r.settled, s.settled]);
    link.close();
    const mine = s.error() as SourceReadError;
    expect(mine).toBeInstanceOf(SourceReadError);
    expect(mine.message).toBe('folder/b.bin cannot be read (ENOENT)');
    expect(String(mine.details.path)).toContain(root);
    const heard = String((r.error() as Error).message);
    expect(heard).toContain('folder/b.bin cannot be read');
    expect(heard).not.toContain(root);
  });

  it('a file written after it was listed fails both sides with ECHANGED instead of arriving as another version', async () => {
    const root = await mkdtemp(join(tmpdir(), 'srcchg-'));
    dirs.push(root);
    await mkdir(join(root, 'folder'));
    await writeFile(join(root, 'folder', 'a.bin'), 'a');
    await writeFile(join(root, 'folder', 'b.bin'), 'b');
    const set = await filesFromPaths([join(root, 'folder')]);
    // Rewritten in place: same size, a later mtime.
    await writeFile(join(root, 'folder', 'b.bin'), 'B');
    await utimes(join(root, 'folder', 'b.bin'), new Date(), new Date(Date.now() + 60_000));
    const link = createVirtualLink();
    const r = watch(receiveFiles(link.b));
    const s = watch(sendFiles(link.a, set));
    await Promise.all([r.settled, s.settled]);
    link.close();
    const mine = s.error() as SourceReadError;
    expect(mine).toBeInstanceOf(SourceReadError);
    expect(mine.message).toBe('folder/b.bin cannot be read (ECHANGED)');
    expect(String((r.error() as Error).message)).toContain('folder/b.bin cannot be read (ECHANGED)');
  });
});
