/**
 * Collecting a {@link FileSet} from files and folders on disk (Node.js only: import it from `tallow-rx/node`).
 */
import type { Dirent, Stats } from 'node:fs';
import { constants } from 'node:fs';
import { access, lstat, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InvalidConfigError, LimitExceededError, SourceReadError } from '../errors';
import { fromFilePath } from '../sources/fromFilePath';
import type { FileSet, SkippedInput } from './FileSet';
import { limitBytes, type FileDescriptor } from './fileInput';
import { fileSetOf, mapLimited, type Collected } from './filesFromBrowser';
import { checkOptions, intIn, invalid, limit } from './checkOptions';

/** Options for {@link filesFromPaths}. */
export interface FilesFromPathsConfig {
  /** How many `lstat` (and `readdir`) calls run at once. Default 32. */
  readonly concurrency?: number;
  /**
   * The most files the set may hold. More is a `LimitExceededError`, raised while the folders are being
   * listed, before their files are stat-ed. Default 100 000.
   */
  readonly maxFiles?: number;
}

const DEFAULT_CONCURRENCY = 32;
const DEFAULT_MAX_FILES = 100_000;

/** A path on disk and its name in the set ('/'-separated, relative to the shared root). */
interface Found {
  readonly abs: string;
  readonly rel: string;
}

/** A walk's state: the set being filled, the files listed but not yet stat-ed, and the limit. */
interface Walk extends Collected {
  readonly listed: Found[];
  readonly maxFiles: number;
}

/**
 * Collects files and whole folders from disk into a {@link FileSet} for `sendFiles`.
 *
 * A file is named by its basename; a folder is walked and what it holds is named
 * `<folder name>/<path inside it>`. Every folder, the top one included, is listed in `folders`, so empty
 * folders are recreated. Symbolic links are never followed, and they, named pipes, sockets and devices
 * are reported in `skipped` (by relative path, with the reason), as is a folder inside the tree that
 * cannot be read. Each list is sorted by path within each folder; the arguments keep their order.
 *
 * ```
 * photos/             filesFromPaths(['photos', 'notes.txt'])
 *   a.jpg               files:   photos/a.jpg, photos/old/b.jpg, notes.txt
 *   empty/              folders: photos, photos/empty, photos/old
 *   old/b.jpg           skipped: photos/link ('symbolic link (not followed)')
 *   link -> a.jpg
 * notes.txt
 * ```
 *
 * ## Example
 * ```ts
 * import { filesFromPaths } from 'tallow-rx/node';
 *
 * const set = await filesFromPaths(['photos', 'notes.txt']);
 * for (const { path, reason } of set.skipped ?? []) console.warn(`left out ${path}: ${reason}`);
 * ```
 *
 * @see fileFromPath
 * @param paths an array of the files and folders to send (`[path]` for one: a string alone is an `InvalidConfigError`)
 * @param config `concurrency` (default 32) and `maxFiles` (default 100 000); not an object (`null`), or a field
 * out of range, is an `InvalidConfigError`
 * @return the set, with seekable descriptors (size and mtime from the walk's `lstat`). A path that cannot
 * be stat-ed, a file given that this process may not read, or a top folder that cannot be listed, is a
 * `SourceReadError`; a file inside a folder that it may not read is in `skipped` ("cannot read (EACCES)"); two paths with the same
 * basename are an `InvalidConfigError` naming both; more than `maxFiles` files a `LimitExceededError`.
 */
export async function filesFromPaths(paths: readonly string[], config: FilesFromPathsConfig = {}): Promise<FileSet> {
  const { concurrency = DEFAULT_CONCURRENCY, maxFiles = DEFAULT_MAX_FILES } = checkOptions('filesFromPaths', config, { concurrency: intIn(1), maxFiles: limit }, 'config', []);
  const roots = namedRoots(paths);
  const walk: Walk = { files: [], folders: [], skipped: [], listed: [], maxFiles };
  const stats = await mapLimited(roots, concurrency, statRoot);
  const folders = roots.filter((root, i) => placeRoot(root, stats[i], walk));
  await listTree(folders, concurrency, walk);
  const described = await mapLimited(walk.listed, concurrency, (found) => describeListed(found, walk.skipped));
  for (const file of described) if (file) walk.files.push(file);
  return fileSetOf(walk, roots.map((r) => r.rel));
}

/** Each argument with its name in the set (its basename). Checked before anything is read. */
const namedRoots = (paths: readonly string[]): Found[] => {
  // A string is one path's characters, not a list of paths: `filesFromPaths('data')` said "paths.map is not a function".
  if (!Array.isArray(paths)) throw invalid('filesFromPaths', 'paths', 'an array of paths (`[path]` for one)', paths);
  const given = new Map<string, string>();
  return paths.map((path) => {
    if (typeof path !== 'string' || path === '') throw new InvalidConfigError(`filesFromPaths needs non-empty path strings, got ${JSON.stringify(path)}`, { path });
    const abs = resolve(path);
    const rel = basename(abs);
    if (!rel) throw new InvalidConfigError(`${path} has no name to be sent under`, { path });
    const first = given.get(rel);
    if (first !== undefined) throw new InvalidConfigError(`${first} and ${path} would both be sent as ${rel}`, { name: rel, paths: [first, path] });
    given.set(rel, path);
    return { abs, rel };
  });
};

async function statRoot(root: Found): Promise<Stats> {
  let st: Stats;
  try {
    st = await lstat(root.abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    throw new SourceReadError(`cannot stat ${root.abs}: ${(err as Error)?.message ?? err}`, { path: root.abs, code }, err);
  }
  // A file given that this process may not read fails here, before anything is offered (it failed the session
  // once the receiver had accepted, cutting the files before it short).
  const code = st.isFile() ? await unreadable(root.abs) : undefined;
  if (code) throw new SourceReadError(`cannot read ${root.abs} (${code})`, { path: root.abs, code });
  return st;
}

/** The error code when this process may not read the file at `abs` (`access(R_OK)`), else undefined. */
async function unreadable(abs: string): Promise<string | undefined> {
  try {
    await access(abs, constants.R_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException)?.code ?? 'EACCES';
  }
}

/** Files an argument (as a file, or as skipped) and returns true when it is a folder to walk. */
const placeRoot = (root: Found, st: Stats, walk: Walk): boolean => {
  if (st.isDirectory()) return true;
  if (st.isFile()) {
    walk.files.push(describeStats(root, st));
    checkCount(walk);
  } else walk.skipped.push({ path: root.rel, reason: reasonFor(st) });
  return false;
};

/** Lists the folders level by level (no recursion), `concurrency` folders at a time. */
async function listTree(tops: readonly Found[], concurrency: number, walk: Walk): Promise<void> {
  let level = tops;
  for (let depth = 0; level.length > 0; depth++) {
    // Folders found on this level, to list on the next.
    const next: Found[] = [];
    const top = depth === 0;
    await mapLimited(level, concurrency, async (folder) => placeEntries(folder, await listFolder(folder, top, walk), next, walk));
    level = next;
  }
}

/** A folder's entries; a top folder that cannot be listed throws, a folder inside the tree is skipped. */
async function listFolder(folder: Found, top: boolean, walk: Walk): Promise<Dirent[] | undefined> {
  try {
    return await readdir(folder.abs, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (top) throw new SourceReadError(`cannot list ${folder.abs}: ${(err as Error)?.message ?? err}`, { path: folder.abs, code }, err);
    walk.skipped.push({ path: folder.rel, reason: `cannot list folder (${code ?? 'unknown error'})` });
    return undefined;
  }
}

/** Sorts a listed folder's entries into subfolders, files to stat, and skipped. */
const placeEntries = (folder: Found, entries: readonly Dirent[] | undefined, subfolders: Found[], walk: Walk): void => {
  if (!entries) return;
  walk.folders.push(folder.rel);
  for (const entry of entries) {
    const found = { abs: join(folder.abs, entry.name), rel: `${folder.rel}/${entry.name}` };
    if (entry.isDirectory()) subfolders.push(found);
    else if (entry.isFile()) walk.listed.push(found);
    else walk.skipped.push({ path: found.rel, reason: reasonFor(entry) });
  }
  checkCount(walk);
};

const checkCount = (walk: Walk): void => {
  const count = walk.files.length + walk.listed.length;
  if (count > walk.maxFiles) throw new LimitExceededError('filesFromPaths file count', count, walk.maxFiles);
};

/** A listed file's descriptor, from its `lstat`; undefined (and skipped) if it vanished or changed kind since. */
async function describeListed(found: Found, skipped: SkippedInput[]): Promise<FileDescriptor | undefined> {
  let st: Stats;
  try {
    st = await lstat(found.abs);
  } catch (err) {
    skipped.push({ path: found.rel, reason: `cannot stat (${(err as NodeJS.ErrnoException)?.code ?? 'unknown error'})` });
    return undefined;
  }
  if (!st.isFile()) {
    skipped.push({ path: found.rel, reason: `changed while collecting: ${reasonFor(st)}` });
    return undefined;
  }
  const code = await unreadable(found.abs);
  if (!code) return describeStats(found, st);
  skipped.push({ path: found.rel, reason: `cannot read (${code})` });
  return undefined;
}

/** A seekable descriptor, as `fileFromPath` makes, from stats already taken. */
const describeStats = ({ abs, rel }: Found, st: Stats): FileDescriptor => {
  const size = st.size;
  return {
    name: rel,
    size,
    type: 'application/octet-stream',
    lastModified: Math.floor(st.mtimeMs),
    seekable: true,
    // As listed: a file changed since (or while it is read) fails with SourceReadError ECHANGED.
    read: ({ start = 0, end = size, ...cfg }) => fromFilePath(abs, { ...cfg, start, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }).pipe(limitBytes(end - start)),
  };
};

/** Why an entry that is not a regular file is left out (`Dirent` and `Stats` answer the same questions). */
const reasonFor = (kind: Dirent | Stats): string => {
  if (kind.isSymbolicLink()) return 'symbolic link (not followed)';
  if (kind.isDirectory()) return 'folder where a file was listed';
  if (kind.isFIFO()) return 'named pipe (FIFO), not a regular file';
  if (kind.isSocket()) return 'socket, not a regular file';
  if (kind.isBlockDevice() || kind.isCharacterDevice()) return 'device, not a regular file';
  return 'not a regular file or folder';
};
