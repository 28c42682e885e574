/**
 * Collecting a {@link FileSet} in a browser: from a file input's `FileList` (with `webkitdirectory`, whole
 * folders) and from a drop's `DataTransferItemList` (dropped folders walked through the File and Directory
 * Entries API). No Node imports: this is part of the main entry.
 */
import { checkArgument } from '../configObject';
import { InvalidConfigError } from '../errors';
import type { FileSet, SkippedInput } from './FileSet';
import { describeFile, type FileDescriptor } from './fileInput';

/** How many `FileSystemFileEntry.file()` calls run at once while a dropped folder is collected. */
const FILE_CONCURRENCY = 16;

/** The parts of the Entries API used here (lib.dom's `FileSystemEntry` and its subtypes fit). */
interface EntryLike {
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly name: string;
}
interface FileEntryLike extends EntryLike {
  file(success: (file: File) => void, failure?: (err: unknown) => void): void;
}
interface DirectoryReaderLike {
  readEntries(success: (entries: EntryLike[]) => void, failure?: (err: unknown) => void): void;
}
interface DirectoryEntryLike extends EntryLike {
  createReader(): DirectoryReaderLike;
}

/** What a dropped item gave while the drop handler ran: an entry, a bare File, or nothing. */
type Taken = { readonly entry: EntryLike } | { readonly file: File } | { readonly nothing: string };

/** An entry found while walking, and its path in the set. */
interface Placed<E extends EntryLike = EntryLike> {
  readonly path: string;
  readonly entry: E;
}

/** A FileSet's three lists while they are being filled. */
export interface Collected {
  readonly files: FileDescriptor[];
  readonly folders: string[];
  readonly skipped: SkippedInput[];
}

/** Whether `v` is a list with a length (a FileList, a DataTransferItemList, an array). */
const isArrayLike = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as { length?: unknown }).length === 'number';

/**
 * The files a file input holds, as a {@link FileSet}.
 *
 * Each file is named by its `webkitRelativePath` (set when the input has `webkitdirectory`, e.g.
 * `photos/2024/a.jpg`), else by its `name`. The folders those paths pass through are listed in `folders`;
 * a folder picker gives no entry for an empty folder, so those cannot be kept.
 *
 * ## Example
 * ```ts
 * import { filesFromFileList } from 'tallow-rx';
 *
 * const input = document.querySelector<HTMLInputElement>('input[webkitdirectory]')!;
 * input.addEventListener('change', () => console.log(filesFromFileList(input.files!).files.map((f) => f.name)));
 * ```
 *
 * @see filesFromDataTransfer
 * @param list a `FileList`, or any array of `File`s
 * @return the set, sorted by path; throws `InvalidConfigError` when two files have the same path
 */
export function filesFromFileList(list: ArrayLike<File>): FileSet {
  checkArgument('filesFromFileList', 'list', list, isArrayLike(list), 'a FileList or an array of Files');
  const files = Array.from(list, (file) => describeFile(file, { name: relativePathOf(file) }));
  return fileSetOf({ files, folders: [], skipped: [] });
}

/**
 * The files and folders of a drop, as a {@link FileSet}.
 *
 * Dropped folders are walked (`webkitGetAsEntry()`, then `readEntries()` until it returns an empty batch:
 * Chromium gives at most 100 entries per call), and empty folders are kept in `folders`. Items whose `kind`
 * is not `'file'` (dragged text, links) are ignored; a folder or file that cannot be read is reported in
 * `skipped` with the reason. Where `webkitGetAsEntry` is missing, each item's `getAsFile()` is taken instead
 * (no folders then).
 *
 * Call it inside the `drop` handler, before any `await` of your own: the items are emptied when the handler
 * returns. It takes every item's entry synchronously, before its own first `await`.
 *
 * ## Example
 * ```ts
 * import { filesFromDataTransfer } from 'tallow-rx';
 *
 * zone.addEventListener('drop', (event) => {
 *   event.preventDefault();
 *   filesFromDataTransfer(event.dataTransfer!.items).then((set) => console.log(set.files.length, set.skipped));
 * });
 * ```
 *
 * @see filesFromFileList
 * @param items the drop's `DataTransferItemList` (or an array of its items)
 * @return the set, sorted by path; rejects with `InvalidConfigError` when two dropped items have the same name
 */
export async function filesFromDataTransfer(items: ArrayLike<DataTransferItem>): Promise<FileSet> {
  checkArgument('filesFromDataTransfer', 'items', items, isArrayLike(items), "a DataTransferItemList (a drop event's dataTransfer.items)");
  // Taken before the first await: the items die once the drop handler returns.
  const taken = Array.from(items)
    .filter((item) => item.kind === 'file')
    .map(takeItem);
  const collected: Collected = { files: [], folders: [], skipped: [] };
  const roots: Placed[] = [];
  for (const item of taken) {
    if ('entry' in item) roots.push({ path: item.entry.name, entry: item.entry });
    else if ('file' in item) collected.files.push(describeFile(item.file, { name: item.file.name }));
    else collected.skipped.push({ path: item.nothing, reason: 'the browser gave no file for this item' });
  }
  const fileEntries = await walkEntries(roots, collected);
  const files = await mapLimited(fileEntries, FILE_CONCURRENCY, (placed) => describeEntry(placed, collected.skipped));
  for (const file of files) if (file) collected.files.push(file);
  return fileSetOf(collected, roots.map((r) => r.path));
}

/** One item's entry, or its File where the Entries API is missing. Synchronous, on purpose. */
const takeItem = (item: DataTransferItem, index: number): Taken => {
  const entry = typeof item.webkitGetAsEntry === 'function' ? (item.webkitGetAsEntry() as EntryLike | null) : null;
  if (entry) return { entry };
  const file = item.getAsFile();
  return file ? { file } : { nothing: `(dropped item ${index + 1})` };
};

/** Walks the dropped folders (iteratively): folders go to `into`, and the file entries found are returned. */
async function walkEntries(roots: readonly Placed[], into: Collected): Promise<Placed<FileEntryLike>[]> {
  const fileEntries: Placed<FileEntryLike>[] = [];
  // Entries still to visit.
  const stack = [...roots];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { path, entry } = next;
    if (entry.isFile) fileEntries.push(next as Placed<FileEntryLike>);
    else if (!entry.isDirectory) into.skipped.push({ path, reason: 'neither a file nor a folder' });
    else {
      const children = await readFolder(next as Placed<DirectoryEntryLike>, into.skipped);
      if (!children) continue;
      into.folders.push(path);
      for (const child of children) stack.push({ path: `${path}/${child.name}`, entry: child });
    }
  }
  return fileEntries;
}

/** Every entry of a folder: `readEntries` until an empty batch. A failure is recorded in `skipped`. */
async function readFolder({ path, entry }: Placed<DirectoryEntryLike>, skipped: SkippedInput[]): Promise<EntryLike[] | undefined> {
  const reader = entry.createReader();
  const all: EntryLike[] = [];
  try {
    for (let batch = await readBatch(reader); batch.length > 0; batch = await readBatch(reader)) all.push(...batch);
    return all;
  } catch (err) {
    skipped.push({ path, reason: `cannot read folder: ${messageOf(err)}` });
    return undefined;
  }
}

const readBatch = (reader: DirectoryReaderLike): Promise<EntryLike[]> => new Promise((resolve, reject) => reader.readEntries(resolve, reject));

/** A file entry's descriptor, or undefined (recorded in `skipped`) when its File cannot be had. */
async function describeEntry({ path, entry }: Placed<FileEntryLike>, skipped: SkippedInput[]): Promise<FileDescriptor | undefined> {
  try {
    const file = await new Promise<File>((resolve, reject) => entry.file(resolve, reject));
    return describeFile(file, { name: path });
  } catch (err) {
    skipped.push({ path, reason: `cannot read file: ${messageOf(err)}` });
    return undefined;
  }
}

const relativePathOf = (file: File): string => (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;

const messageOf = (err: unknown): string => {
  const e = err as { name?: unknown; message?: unknown } | null | undefined;
  return typeof e?.message === 'string' && e.message ? e.message : typeof e?.name === 'string' ? e.name : String(err);
};

/**
 * The finished {@link FileSet} (shared with `filesFromPaths`): every folder a file's path passes through is
 * added to `folders`, and each list is sorted by path, segment by segment, so a folder precedes what it holds.
 * Top-level names keep the order of `roots`, then of first appearance. Two files with one path, or a file
 * and a folder with one path, are an `InvalidConfigError`.
 */
export function fileSetOf(collected: Collected, roots: readonly string[] = []): FileSet {
  const folders = new Set(collected.folders);
  for (const file of collected.files) addParents(file.name, folders);
  checkUnique(collected.files, folders);
  const rank = rootRank([...roots, ...collected.files.map((f) => f.name), ...folders, ...collected.skipped.map((s) => s.path)]);
  return {
    files: sortByPath(collected.files, (f) => f.name, rank),
    folders: sortByPath([...folders], (f) => f, rank),
    skipped: sortByPath(collected.skipped, (s) => s.path, rank),
  };
}

/** Adds the folders `path` passes through, stopping at the first already known (its parents are too). */
const addParents = (path: string, folders: Set<string>): void => {
  for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
    const parent = path.slice(0, cut);
    if (folders.has(parent)) return;
    folders.add(parent);
  }
};

const checkUnique = (files: readonly FileDescriptor[], folders: ReadonlySet<string>): void => {
  const seen = new Set<string>();
  for (const { name } of files) {
    if (seen.has(name)) throw new InvalidConfigError(`two files would both be sent as ${name}`, { path: name });
    if (folders.has(name)) throw new InvalidConfigError(`${name} would be sent both as a file and as a folder`, { path: name });
    seen.add(name);
  }
};

/** Each top-level name's position: the first time it appears in `paths`. */
const rootRank = (paths: readonly string[]): Map<string, number> => {
  const rank = new Map<string, number>();
  for (const path of paths) {
    const root = path.split('/', 1)[0];
    if (!rank.has(root)) rank.set(root, rank.size);
  }
  return rank;
};

function sortByPath<T>(items: readonly T[], pathOf: (item: T) => string, rank: ReadonlyMap<string, number>): T[] {
  const keyed = items.map((item) => ({ item, parts: pathOf(item).split('/') }));
  keyed.sort((a, b) => comparePaths(a.parts, b.parts, rank));
  return keyed.map((k) => k.item);
}

/** Top-level name by rank, then segment by segment (code units, not locale: the same order everywhere), parents first. */
const comparePaths = (a: readonly string[], b: readonly string[], rank: ReadonlyMap<string, number>): number => {
  const byRoot = rank.get(a[0])! - rank.get(b[0])!;
  if (byRoot !== 0) return byRoot;
  for (let i = 1; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
};

/**
 * `fn` over `items`, at most `limit` at once (shared with `filesFromPaths`). Results keep the items' order.
 * The first failure rejects, and no further item is started.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  // Next item to start; moved past the end when one fails, so the workers stop.
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (err) {
        next = items.length;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, work));
  return results;
}
