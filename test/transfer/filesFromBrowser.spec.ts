/**
 * filesFromFileList and filesFromDataTransfer with fake browser objects: Node's own `File`, and entries
 * that implement the File and Directory Entries API the way Chromium does (asynchronous callbacks, at most
 * 100 entries per `readEntries` call, then an empty batch), and drop items that die when the handler returns.
 */
import { lastValueFrom, reduce } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { filesFromDataTransfer, filesFromFileList, InvalidConfigError, type FileDescriptor, type FileSet } from '../../src/index';

/** What the fakes were asked, in order. */
type Log = string[];

const fileOf = (name: string, text: string, relativePath?: string): File => {
  const file = new File([text], name, { type: 'text/plain', lastModified: 1_700_000_000_000 });
  if (relativePath !== undefined) Object.defineProperty(file, 'webkitRelativePath', { value: relativePath });
  return file;
};

const names = (set: FileSet): string[] => set.files.map((f) => f.name);

const text = (file: FileDescriptor): Promise<string> =>
  lastValueFrom(file.read({}).pipe(reduce((all, bytes) => all + Buffer.from(bytes).toString('utf8'), '')));

/** A fake folder's contents: text for a file, an Error for a file whose `file()` fails, an object for a folder. */
interface Tree {
  readonly [name: string]: string | Error | Tree;
}

const later = (fn: () => void) => setTimeout(fn, 1);

/** A fake entry for `name` (a file or a folder) under `parent` ('' at the top). */
function entryOf(name: string, content: string | Error | Tree, parent: string, log: Log, failing: ReadonlySet<string>): FileSystemEntry {
  const fullPath = `${parent}/${name}`;
  if (typeof content === 'string' || content instanceof Error) {
    const file = (ok: (f: File) => void, fail?: (err: unknown) => void) => {
      log.push(`file ${fullPath}`);
      later(() => (content instanceof Error ? fail?.(content) : ok(fileOf(name, content))));
    };
    return { isFile: true, isDirectory: false, name, fullPath, file } as unknown as FileSystemEntry;
  }
  const children = Object.entries(content).map(([n, c]) => entryOf(n, c, fullPath, log, failing));
  const createReader = () => {
    // Entries handed out so far by this reader.
    let given = 0;
    const readEntries = (ok: (batch: FileSystemEntry[]) => void, fail?: (err: unknown) => void) => {
      log.push(`readEntries ${fullPath}`);
      if (failing.has(fullPath)) return later(() => fail?.(new DOMException('A requested file or directory could not be found', 'NotFoundError')));
      const batch = children.slice(given, given + 100);
      given += batch.length;
      later(() => ok(batch));
    };
    return { readEntries };
  };
  return { isFile: false, isDirectory: true, name, fullPath, createReader } as unknown as FileSystemEntry;
}

/** A fake drop item; `die()` empties it, as the browser does once the drop handler returns. */
interface FakeItem extends DataTransferItem {
  die(): void;
}

function itemOf(kind: 'file' | 'string', what: { entry?: FileSystemEntry; file?: File; noEntryApi?: boolean }, log: Log): FakeItem {
  let alive = true;
  const item = {
    kind,
    type: '',
    die: () => (alive = false),
    getAsFile: () => (log.push('getAsFile'), alive ? (what.file ?? null) : null),
    getAsString: () => log.push('getAsString'),
    webkitGetAsEntry: () => (log.push(`webkitGetAsEntry ${what.entry?.name ?? kind}`), alive ? (what.entry ?? null) : null),
  };
  if (what.noEntryApi) delete (item as Partial<typeof item>).webkitGetAsEntry;
  return item as unknown as FakeItem;
}

/** Drops `items`: starts collecting inside the "handler", then kills the items as the handler returns. */
const drop = (items: FakeItem[]): Promise<FileSet> => {
  const pending = filesFromDataTransfer(items);
  for (const item of items) item.die();
  return pending;
};

describe('filesFromFileList', () => {
  it('names files by webkitRelativePath and lists the folders the paths pass through', () => {
    const set = filesFromFileList([
      fileOf('b.jpg', 'B', 'photos/2024/b.jpg'),
      fileOf('a.jpg', 'A', 'photos/2024/a.jpg'),
      fileOf('notes.txt', 'N', 'photos/notes.txt'),
      fileOf('x.jpg', 'X', 'photos/2023/x.jpg'),
    ]);
    expect(names(set)).toEqual(['photos/2023/x.jpg', 'photos/2024/a.jpg', 'photos/2024/b.jpg', 'photos/notes.txt']);
    expect(set.folders).toEqual(['photos', 'photos/2023', 'photos/2024']);
    expect(set.skipped).toEqual([]);
  });

  it('falls back to the name when webkitRelativePath is empty or missing', async () => {
    const set = filesFromFileList([fileOf('one.txt', 'first', ''), fileOf('two.txt', 'second')]);
    expect(names(set)).toEqual(['one.txt', 'two.txt']);
    expect(set.folders).toEqual([]);
    expect(set.files[0]).toMatchObject({ size: 5, type: 'text/plain', lastModified: 1_700_000_000_000, seekable: true });
    expect(await text(set.files[1])).toBe('second');
  });

  it('rejects two files with the same path, and a path that is both a file and a folder', () => {
    expect(() => filesFromFileList([fileOf('a', '1', 'd/a'), fileOf('a', '2', 'd/a')])).toThrow(InvalidConfigError);
    expect(() => filesFromFileList([fileOf('d', '1'), fileOf('a', '2', 'd/a')])).toThrow(/both as a file and as a folder/);
  });
});

describe('filesFromDataTransfer', () => {
  it('walks dropped folders, keeps empty ones, and takes every entry before the items die', async () => {
    const log: Log = [];
    const none = new Set<string>();
    const photos = entryOf('photos', { 'b.jpg': 'bee', 'a.jpg': 'ay', empty: {}, old: { 'c.jpg': 'sea', deeper: {} } }, '', log, none);
    const notes = entryOf('notes.txt', 'some notes', '', log, none);
    const items = [itemOf('file', { entry: photos }, log), itemOf('string', {}, log), itemOf('file', { entry: notes }, log)];

    const set = await drop(items);

    expect(names(set)).toEqual(['photos/a.jpg', 'photos/b.jpg', 'photos/old/c.jpg', 'notes.txt']);
    expect(set.folders).toEqual(['photos', 'photos/empty', 'photos/old', 'photos/old/deeper']);
    expect(set.skipped).toEqual([]);
    expect(await text(set.files[2])).toBe('sea');
    // Both file items' entries were taken before anything asynchronous; the string item was left alone.
    const taken = log.filter((l) => l.startsWith('webkitGetAsEntry'));
    expect(taken).toEqual(['webkitGetAsEntry photos', 'webkitGetAsEntry notes.txt']);
    expect(log.slice(0, 2)).toEqual(taken);
    expect(log).not.toContain('getAsString');
  });

  it('reads a folder of more than 100 entries in batches until an empty one', async () => {
    const log: Log = [];
    const many: Record<string, string> = {};
    for (let i = 0; i < 250; i++) many[`f${String(i).padStart(3, '0')}`] = String(i);
    const big = entryOf('big', many, '', log, new Set());

    const set = await drop([itemOf('file', { entry: big }, log)]);

    expect(set.files).toHaveLength(250);
    expect(set.files[249].name).toBe('big/f249');
    expect(log.filter((l) => l === 'readEntries /big')).toHaveLength(4); // 100, 100, 50, then []
  });

  it('reports a file whose file() fails and a folder that cannot be read as skipped, and keeps the rest', async () => {
    const log: Log = [];
    const root = entryOf('root', { 'ok.txt': 'fine', 'gone.txt': new Error('file was moved'), locked: { 'x.txt': 'x' } }, '', log, new Set(['/root/locked']));

    const set = await drop([itemOf('file', { entry: root }, log)]);

    expect(names(set)).toEqual(['root/ok.txt']);
    expect(set.folders).toEqual(['root']);
    expect(set.skipped).toEqual([
      { path: 'root/gone.txt', reason: 'cannot read file: file was moved' },
      { path: 'root/locked', reason: 'cannot read folder: A requested file or directory could not be found' },
    ]);
  });

  it('falls back to getAsFile() where webkitGetAsEntry is missing', async () => {
    const log: Log = [];
    const set = await drop([itemOf('file', { file: fileOf('plain.txt', 'plain'), noEntryApi: true }, log), itemOf('string', {}, log)]);
    expect(names(set)).toEqual(['plain.txt']);
    expect(await text(set.files[0])).toBe('plain');
    expect(log).toEqual(['getAsFile']);
  });

  it('ignores items that are not files', async () => {
    const log: Log = [];
    const set = await drop([itemOf('string', {}, log), itemOf('string', {}, log)]);
    expect(set).toEqual({ files: [], folders: [], skipped: [] });
    expect(log).toEqual([]);
  });

  it('rejects two dropped items with the same name', async () => {
    const log: Log = [];
    const one = entryOf('same.txt', '1', '', log, new Set());
    const two = entryOf('same.txt', '2', '', log, new Set());
    await expect(drop([itemOf('file', { entry: one }, log), itemOf('file', { entry: two }, log)])).rejects.toBeInstanceOf(InvalidConfigError);
  });
});
