/**
 * The folders of one `directoryTarget`: the download directory (created when missing) and the subfolders
 * files land in, each entered one segment at a time and never through a symbolic link. What was checked
 * is trusted for {@link FOLDER_TRUST_MS}, so a stream of files into one folder checks it about once per
 * that time instead of once per file (a 4 KiB file otherwise paid a `mkdir -p`, a `realpath` and an
 * `lstat` per segment, on top of its own few calls).
 */
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { SinkWriteError } from '../errors';
import { codeOf, writeError } from './writeError';

/** How long a checked folder (or the real path of the directory) is used without checking it again, ms. */
export const FOLDER_TRUST_MS = 1_000;

/** Most folders one target remembers. */
const MAX_FOLDERS = 1_024;

/** A folder inside the target directory that a file lands in (the directory itself, or a subfolder). */
export interface Folder {
  /** Its path: the target directory joined with the folder's segments. */
  readonly path: string;
  /** Its real path: the root of the claim keys of the part files in it. */
  readonly key: string;
  /** Its path relative to the target directory with a trailing `/`, or `''`: errors name files with it. */
  readonly rel: string;
}

/** One target's folders, see {@link targetFolders}. */
export interface TargetFolders {
  /**
   * The folder `segments` under the directory. With `make`, the directory and missing segments are created
   * (a segment that exists as anything but a real folder is a SinkWriteError, `causeCode` `ENOTDIR`, or
   * `ELOOP` for a link); without, nothing is created and the result is undefined when a segment is
   * missing or not a real folder.
   */
  reach(segments: readonly string[], make: true): Promise<Folder>;
  reach(segments: readonly string[], make: false): Promise<Folder | undefined>;
  /** Forgets every check (a file could not be created where a checked folder was: it may be gone). */
  forget(): void;
}

/** What is at `path`, without following a symbolic link. */
const kindOf = (path: string): Promise<'folder' | 'link' | 'other' | 'missing'> =>
  lstat(path).then(
    (st) => (st.isDirectory() ? 'folder' : st.isSymbolicLink() ? 'link' : 'other'),
    (err: unknown) => (codeOf(err) === 'ENOENT' ? 'missing' : Promise.reject(err)),
  );

/** Creates `dir` (and its parents) when missing; returns its real path, the root of the claim keys. */
async function prepareDir(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
    return await realpath(dir);
  } catch (caught) {
    const err = codeOf(caught) === 'ENOENT' ? await whyMissing(dir, caught) : caught;
    throw new SinkWriteError(`cannot create the download folder (${codeOf(err) ?? 'unknown error'})`, { path: '.', causeCode: codeOf(err) }, err);
  }
}

/**
 * Node's recursive `mkdir` reports ENOENT for any failure to create a missing parent (a read-only mount's
 * EROFS, an EACCES): the real error is that of a plain `mkdir` of the first missing folder on the path.
 */
async function whyMissing(dir: string, fallback: unknown): Promise<unknown> {
  let first = resolve(dir);
  while (dirname(first) !== first && (await kindOf(dirname(first)).catch(() => 'other')) === 'missing') first = dirname(first);
  return mkdir(first).then(
    () => fallback,
    (err: unknown) => err,
  );
}

/**
 * The folder `folders` under `dir` (whose real path is `root`). With `make`, missing segments are
 * created one at a time, like `mkdir -p` but never through a symbolic link, so nothing is written
 * outside `dir`. Without `make` nothing is created: undefined when a segment is missing or not a real folder.
 */
async function reach(dir: string, root: string, folders: readonly string[], make: boolean): Promise<Folder | undefined> {
  let path = dir;
  for (let i = 0; i < folders.length; i++) {
    path = join(path, folders[i]);
    const rel = folders.slice(0, i + 1).join('/');
    try {
      let kind = await kindOf(path);
      if (kind === 'missing' && make) {
        await mkdir(path).catch((err: unknown) => (codeOf(err) === 'EEXIST' ? undefined : Promise.reject(err)));
        kind = await kindOf(path);
      }
      if (kind === 'folder') continue;
      if (!make) return undefined;
      throw new SinkWriteError(`${rel} exists and is not a folder`, { path: rel, causeCode: kind === 'link' ? 'ELOOP' : 'ENOTDIR' });
    } catch (err) {
      if (!make) return undefined;
      throw writeError('creating the folder', rel, err);
    }
  }
  return { path, key: join(root, ...folders), rel: folders.length ? `${folders.join('/')}/` : '' };
}

/**
 * The folders of the download directory `dir`, checked at most once per {@link FOLDER_TRUST_MS} each.
 * A miss (a folder not there, without `make`) is remembered as long, for `held`'s peeks at thousands of
 * files; `make` never trusts a miss. Concurrent calls for one folder share one check.
 */
export function targetFolders(dir: string): TargetFolders {
  // The directory's real path and when it was found; checked folders (or misses) by their segments, oldest first.
  let root: { path: Promise<string>; at: number; made: boolean } | undefined;
  const checked = new Map<string, { folder: Promise<Folder | undefined>; at: number }>();
  const fresh = (at: number) => Date.now() - at < FOLDER_TRUST_MS;
  const rootOf = (make: boolean): Promise<string> => {
    if (root && fresh(root.at) && (root.made || !make)) return root.path;
    const entry = { path: make ? prepareDir(dir) : realpath(dir), at: Date.now(), made: make };
    root = entry;
    // A failure is not kept: the next call tries again.
    entry.path.catch(() => root === entry && (root = undefined));
    return entry.path;
  };
  const check = async (segments: readonly string[], make: boolean): Promise<Folder | undefined> => {
    const key = segments.join('/');
    const hit = checked.get(key);
    if (hit && fresh(hit.at)) {
      const folder = await hit.folder.catch(() => undefined);
      if (folder || !make) return folder;
    }
    const folder = make ? rootOf(true).then((r) => reach(dir, r, segments, true)) : rootOf(false).then((r) => reach(dir, r, segments, false), () => undefined);
    const entry = { folder, at: Date.now() };
    checked.delete(key);
    if (checked.size >= MAX_FOLDERS) checked.delete(checked.keys().next().value!);
    checked.set(key, entry);
    folder.catch(() => checked.get(key) === entry && checked.delete(key));
    return folder;
  };
  return {
    reach: check as TargetFolders['reach'],
    forget: () => {
      root = undefined;
      checked.clear();
    },
  };
}
