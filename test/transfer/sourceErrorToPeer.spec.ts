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

  /** A folder of a.bin and b.bin, listed; `meddle` runs on its path after the listing. Returns the root. */
  const listedThen = async (prefix: string, meddle: (bPath: string) => Promise<unknown>) => {
    const root = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(root);
    await mkdir(join(root, 'folder'));
    await writeFile(join(root, 'folder', 'a.bin'), 'a');
    await writeFile(join(root, 'folder', 'b.bin'), 'b');
    const set = await filesFromPaths([join(root, 'folder')]);
    await meddle(join(root, 'folder', 'b.bin'));
    return { root, set };
  };

  /** Sends `set` to a receiver over a virtual link; the errors each side ended with. */
  const sendToPeer = async (set: Awaited<ReturnType<typeof filesFromPaths>>) => {
    const link = createVirtualLink();
    const r = watch(receiveFiles(link.b));
    const s = watch(sendFiles(link.a, set));
    await Promise.all([r.settled, s.settled]);
    link.close();
    return { mine: s.error() as SourceReadError, heard: String((r.error() as Error).message) };
  };

  it("names the file as offered (folder/b.bin), never the sender's absolute path", async () => {
    const { root, set } = await listedThen('srcerr-', (b) => rm(b));
    const { mine, heard } = await sendToPeer(set);
    expect(mine).toBeInstanceOf(SourceReadError);
    expect(mine.message).toBe('folder/b.bin cannot be read (ENOENT)');
    expect(String(mine.details.path)).toContain(root);
    expect(heard).toContain('folder/b.bin cannot be read');
    expect(heard).not.toContain(root);
  });

  it('a file written after it was listed fails both sides with ECHANGED instead of arriving as another version', async () => {
    // Rewritten in place: same size, a later mtime.
    const { set } = await listedThen('srcchg-', async (b) => (await writeFile(b, 'B'), await utimes(b, new Date(), new Date(Date.now() + 60_000))));
    const { mine, heard } = await sendToPeer(set);
    expect(mine).toBeInstanceOf(SourceReadError);
    expect(mine.message).toBe('folder/b.bin cannot be read (ECHANGED)');
    expect(heard).toContain('folder/b.bin cannot be read (ECHANGED)');
  });
});
