/**
 * Places a finished part file under its final name in its folder, never replacing an existing file
 * (unless `overwrite`): by hard link, or where there are none by reserving the name and renaming over it.
 */
import { link, open, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SinkWriteError } from '../errors';
import { MAX_NAMES } from './partName';
import type { Folder } from './targetFolders';
import { codeOf, writeError } from './writeError';

/** `link` error codes that mean "this file system has no hard links": reserve the name by exclusive create instead. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS']);

/** Candidate `n` for a finished file: `name`, then `stem (n).ext`. */
const finalName = (name: string, n: number): string => {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${stem} (${n})${ext}`;
};

/** Links the part file to `to` (`link` fails on an existing name), then drops the part file's name. */
async function placeByLink(at: Folder, part: string, to: string): Promise<'placed' | 'taken' | 'no-links'> {
  try {
    await link(join(at.path, part), join(at.path, to));
  } catch (err) {
    const code = codeOf(err);
    if (code === 'EEXIST') return 'taken';
    if (code !== undefined && NO_HARD_LINKS.has(code)) return 'no-links';
    throw writeError('saving', `${at.rel}${part}`, err);
  }
  // The file is in place and verified. A part name left behind has a second link and no record, so it is
  // never resumed or written; failing the transfer over it would misreport a saved file.
  await unlink(join(at.path, part)).catch(() => undefined);
  return 'placed';
}

/** Without hard links: reserves `to` by exclusive create, then renames the partial over the reservation. */
async function placeByReservation(at: Folder, part: string, to: string): Promise<'placed' | 'taken'> {
  try {
    await (await open(join(at.path, to), 'wx')).close();
  } catch (err) {
    if (codeOf(err) === 'EEXIST') return 'taken';
    throw writeError('reserving', `${at.rel}${to}`, err);
  }
  try {
    await rename(join(at.path, part), join(at.path, to));
  } catch (err) {
    await rm(join(at.path, to), { force: true }).catch(() => undefined);
    throw writeError('saving', `${at.rel}${part}`, err);
  }
  return 'placed';
}

/**
 * Moves the finished part file to `name`, or the first free `stem (n).ext`, in its folder. Taking the
 * name is atomic, so an existing file is never replaced (unless `overwrite`). Returns the name chosen.
 */
export async function place(at: Folder, part: string, name: string, overwrite: boolean): Promise<string> {
  if (overwrite) {
    await rename(join(at.path, part), join(at.path, name)).catch((err: unknown) => Promise.reject(writeError('saving', `${at.rel}${part}`, err)));
    return name;
  }
  let hardLinks = true;
  for (let n = 0; n < MAX_NAMES; n++) {
    const to = finalName(name, n);
    let outcome = hardLinks ? await placeByLink(at, part, to) : 'no-links';
    if (outcome === 'no-links') {
      hardLinks = false;
      outcome = await placeByReservation(at, part, to);
    }
    if (outcome === 'placed') return to;
  }
  throw new SinkWriteError(`no free name for ${at.rel}${name}`, { path: `${at.rel}${name}` });
}
