/**
 * A file an earlier session already placed: `directoryTarget` finds it in its folder and holds it whole.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { map } from 'rxjs';
import { ProtocolError } from '../errors';
import type { Manifest } from '../protocol/control';
import type { OpenedTarget } from './ReceiveTarget';
import { readHeld } from './readHeld';
import type { Folder } from './targetFolders';

/** A usable `lastModified` (finite, not negative): `finish` (openedClaim.ts) sets it as the placed file's mtime, and {@link isFinished} finds a file by it. */
export const isTime = (ms: number | undefined): ms is number => typeof ms === 'number' && Number.isFinite(ms) && ms >= 0;

/**
 * True when `name` in `at` is already `manifest`'s file, as an earlier session left it: a regular file
 * (not a link) of the same size whose mtime is the manifest's `lastModified` (which `finish` sets). Only a
 * candidate: the prefix digest the receiver sends decides, and on a mismatch the file is left alone.
 */
export async function isFinished(at: Folder, name: string, manifest: Manifest): Promise<boolean> {
  if (!isTime(manifest.lastModified)) return false;
  const st = await lstat(join(at.path, name)).catch(() => undefined);
  return Boolean(st?.isFile() && st.size === manifest.size && Math.abs(st.mtimeMs - manifest.lastModified) < 1);
}

/**
 * The target for a file that is already in place ({@link isFinished}): every byte is held, the prefix is
 * the file itself, and nothing is written, moved or removed, whatever the outcome. After a prefix
 * mismatch the receiver opens the file again with `resume: false`, which lands beside it as ` (n)`.
 */
export function finishedTarget(at: Folder, name: string, manifest: Manifest): OpenedTarget<string> {
  const path = join(at.path, name);
  const rel = `${at.rel}${name}`;
  return {
    from: manifest.size,
    prefix: () => readHeld(path, manifest.size, rel, rel),
    sink: (chunks) =>
      chunks.pipe(
        map((c): number => {
          throw new ProtocolError(`a chunk at ${c.offset} of ${rel}, which is complete`, { path: rel, offset: c.offset });
        }),
      ),
    finish: () => path,
    abort: () => undefined,
  };
}
