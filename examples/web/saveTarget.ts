/**
 * Where the receiving tab puts a file, with feature detection:
 *
 * | mode     | API                                             | memory use          | result                     |
 * |----------|-------------------------------------------------|---------------------|----------------------------|
 * | `disk`   | `showSaveFilePicker()` → `createWritable()`     | bounded (streams)   | the file the user chose    |
 * | `opfs`   | OPFS `getFileHandle(…, {create}).createWritable()` | bounded (streams) | a download link to a disk-backed File |
 * | `memory` | the library's `blobTarget()`                    | the whole file      | a download link to a Blob  |
 *
 * `memory` works everywhere; docs/web.md lists which browsers get which path.
 */
import { blobTarget, writableTarget, type Manifest, type ReceiveTarget } from '../../src/index';
import { sanitizeFileName } from '../../src/protocol';
import { opfsResumableTarget, removePart } from './opfsResumable';

/** How a received file is stored. */
export type SaveMode = 'memory' | 'opfs' | 'disk';

/** Which modes this page can use. */
export interface SaveSupport {
  readonly memory: true;
  readonly opfs: boolean;
  readonly disk: boolean;
}

/** A stored file, once the transfer completed. */
export interface SavedFile {
  readonly mode: SaveMode;
  readonly name: string;
  readonly size: number;
  /** A blob: URL for a download link (`memory`, `opfs`); none for `disk`. */
  readonly url?: string;
  /** Where it went, for the status line. */
  readonly where: string;
  /** Revokes the URL and deletes the OPFS copy. Idempotent. */
  release(): Promise<void>;
}

/** Storage prepared for one offer. */
export interface PreparedSave {
  readonly mode: SaveMode;
  /** Pass to `receiveFile({ target })`. */
  readonly target: ReceiveTarget;
  /** After `completed`: turns the target's result into a {@link SavedFile}. */
  finish(result: unknown): Promise<SavedFile>;
  /** After a failure or cancel: deletes partial data. Idempotent. */
  discard(): Promise<void>;
}

/** The OPFS directory the example writes into. */
export const OPFS_DIRECTORY = 'tallow-rx-received';

/** Minimal typings for APIs TypeScript's DOM library does not have (yet). */
interface PickerWindow {
  showSaveFilePicker?: (options?: { suggestedName?: string }) => Promise<FileSystemFileHandle>;
}
type WritableHandle = FileSystemFileHandle & { createWritable?: () => Promise<WritableStream<Uint8Array>> };

/** Detects what `scope` (default: this window) supports. */
export function saveSupport(scope: typeof globalThis = globalThis): SaveSupport {
  const g = scope as typeof globalThis & PickerWindow;
  const secure = g.isSecureContext === true;
  const handleProto = (g as any).FileSystemFileHandle?.prototype;
  const canWrite = Boolean(handleProto && 'createWritable' in handleProto);
  return {
    memory: true,
    opfs: secure && canWrite && typeof g.navigator?.storage?.getDirectory === 'function',
    disk: secure && canWrite && typeof g.showSaveFilePicker === 'function',
  };
}

/** True when the origin's storage quota has room for `bytes` (true when the browser cannot tell). */
export async function opfsHasRoom(bytes: number): Promise<boolean> {
  try {
    const { quota, usage } = await navigator.storage.estimate();
    return quota === undefined || usage === undefined || quota - usage > bytes;
  } catch {
    return true;
  }
}

/** A name for the OPFS copy: unique per file of a session (its id and index), safe as a single path component. */
const opfsName = (manifest: Manifest): string => {
  let base = 'file.bin';
  try {
    base = sanitizeFileName(manifest.name.split('/').pop() ?? '');
  } catch {
    // Keep the fallback name.
  }
  return `${manifest.id.toString(16)}-${manifest.index}-${base}`;
};

/** Wraps `writableTarget` so the stream is known to `discard`. */
const streamTarget = (stream: WritableStream<Uint8Array>): ReceiveTarget => writableTarget(() => stream);

/**
 * Prepares storage for `manifest` in `mode`. For `disk` this opens the save
 * dialog, so call it straight from the click that accepts the offer (the picker
 * needs a user gesture). Rejects if the user dismisses the dialog.
 */
export async function prepareSave(mode: SaveMode, manifest: Manifest): Promise<PreparedSave> {
  if (mode === 'memory') {
    return {
      mode,
      target: blobTarget(),
      finish: async (result) => {
        const blob = result as Blob;
        let url: string | undefined = URL.createObjectURL(blob);
        return {
          mode,
          name: manifest.name,
          size: blob.size,
          url,
          where: 'in memory',
          release: async () => {
            if (url) URL.revokeObjectURL(url);
            url = undefined;
          },
        };
      },
      discard: async () => undefined,
    };
  }

  if (mode === 'disk') {
    const picker = (globalThis as PickerWindow).showSaveFilePicker!;
    const handle = (await picker({ suggestedName: manifest.name })) as WritableHandle;
    const stream = await handle.createWritable!();
    return {
      mode,
      target: streamTarget(stream),
      finish: async () => ({ mode, name: handle.name, size: manifest.size, where: `on disk as ${handle.name}`, release: async () => undefined }),
      discard: async () => {
        await stream.abort().catch(() => undefined);
      },
    };
  }

  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(OPFS_DIRECTORY, { create: true });
  const name = opfsName(manifest);
  const handle = (await dir.getFileHandle(name, { create: true })) as WritableHandle;
  const stream = await handle.createWritable!();
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    // The sink aborts the stream on cancel; the entry can be removed once that settled.
    await stream.abort().catch(() => undefined);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await dir.removeEntry(name);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  return {
    mode,
    target: streamTarget(stream),
    finish: async () => {
      const file = await handle.getFile();
      let url: string | undefined = URL.createObjectURL(file);
      return {
        mode,
        name: manifest.name,
        size: file.size,
        url,
        where: 'in the browser’s private storage (OPFS)',
        release: async () => {
          if (url) URL.revokeObjectURL(url);
          url = undefined;
          await remove();
        },
      };
    },
    discard: remove,
  };
}

/** Storage for one session of files (receiveFiles): each file gets its own {@link PreparedSave}, made when the library opens it. */
export interface SessionSave {
  readonly mode: SaveMode;
  /** Pass to `receiveFiles({ target })`. */
  readonly target: ReceiveTarget;
  /** After a `file-completed`: that file as a {@link SavedFile}. */
  finish(manifest: Manifest, result: unknown): Promise<SavedFile>;
  /** After a failure or cancel: deletes every partial file. Idempotent. */
  discard(): Promise<void>;
  /** Revokes the links and deletes the OPFS copies of every finished file (before the next session). */
  release(): Promise<void>;
}

/**
 * Prepares storage for the files of one offer in `mode`. `disk` is for a single file only (the
 * save dialog opens here, so call it from the accepting click); `opfs` and `memory` prepare each
 * file when the library opens it.
 */
export async function prepareSession(mode: SaveMode, files: readonly Manifest[]): Promise<SessionSave> {
  if (mode === 'disk' && files.length !== 1) throw new RangeError('saving to a chosen file works for one file at a time');
  if (mode === 'opfs') return opfsSession(await opfsDirectory());
  // Each file's storage by its index in the session, and the finished files.
  const prepared = new Map<number, Promise<PreparedSave>>();
  const saved: SavedFile[] = [];
  if (mode === 'disk') prepared.set(files[0].index, Promise.resolve(await prepareSave('disk', files[0])));
  const storageOf = (m: Manifest): Promise<PreparedSave> => {
    let p = prepared.get(m.index);
    if (!p) prepared.set(m.index, (p = prepareSave(mode, m)));
    return p;
  };
  return {
    mode,
    target: {
      open: async (m) => (await storageOf(m)).target.open(m),
    },
    async finish(manifest, result) {
      const file = await (await storageOf(manifest)).finish(result);
      prepared.delete(manifest.index);
      saved.push(file);
      return file;
    },
    async discard() {
      const open = [...prepared.values()];
      prepared.clear();
      await Promise.all(open.map((p) => p.then((s) => s.discard(), () => undefined)));
    },
    async release() {
      await Promise.all(saved.splice(0).map((f) => f.release()));
    },
  };
}

/** The page's OPFS directory. */
export async function opfsDirectory(): Promise<FileSystemDirectoryHandle> {
  return (await navigator.storage.getDirectory()).getDirectoryHandle(OPFS_DIRECTORY, { create: true });
}

/** A session into OPFS through the resumable target: a reload keeps each file's verified prefix (opfsResumable.ts). */
function opfsSession(dir: FileSystemDirectoryHandle): SessionSave {
  const target = opfsResumableTarget(dir);
  // Files opened and not finished (their parts are deleted on discard), and the finished ones.
  const open = new Map<number, Manifest>();
  const saved: SavedFile[] = [];
  return {
    mode: 'opfs',
    target: {
      held: target.held,
      open: (m, hints) => {
        open.set(m.index, m);
        return target.open(m, hints);
      },
    },
    async finish(manifest, result) {
      open.delete(manifest.index);
      const file = (await result) as File;
      let url: string | undefined = URL.createObjectURL(file);
      const done: SavedFile = {
        mode: 'opfs',
        name: manifest.name,
        size: file.size,
        url,
        where: 'in the browser’s private storage (OPFS)',
        release: async () => {
          if (url) URL.revokeObjectURL(url);
          url = undefined;
          await removePart(dir, manifest);
        },
      };
      saved.push(done);
      return done;
    },
    async discard() {
      const left = [...open.values()];
      open.clear();
      await Promise.all(left.map((m) => removePart(dir, m)));
    },
    async release() {
      await Promise.all(saved.splice(0).map((f) => f.release()));
    },
  };
}
