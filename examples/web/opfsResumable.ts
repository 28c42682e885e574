/**
 * A resumable receive target in the origin private file system (OPFS), so a receiving page that
 * is reloaded mid-transfer goes on from its verified prefix when the sender offers the same files
 * again.
 *
 * A `FileSystemWritableFileStream` writes to a swap file that becomes the file only on `close()`;
 * a reload discards it. So the target commits a checkpoint every {@link CHECKPOINT_BYTES}: it
 * closes the stream (the bytes so far become the file), records the count in `localStorage`, and
 * opens a new stream that keeps the data and seeks to the end. The sink only ever gets verified
 * chunks in order, so the committed bytes are a verified prefix.
 *
 * ```
 * open(m)   → part file 'part-<hash of name|size|lastModified>', from = recorded bytes (0 if none)
 * sink      → write … every 4 MiB: close, record, reopen (keepExistingData) and seek
 * held(m)   → the recorded bytes, if the part file still holds them (a cheap peek, before accept)
 * finish()  → close, forget the record → the File
 * abort()   → close (commits the verified bytes written), record them: the prefix stays for a resume
 * ```
 */
import { concatMap, defer, from, type Observable } from 'rxjs';
import { fromBlob, type Bytes, type Manifest, type OpenedTarget, type ReceiveTarget } from '../../src/index';

/** Bytes between checkpoints: at most this much is received again after a reload. */
export const CHECKPOINT_BYTES = 4 * 1024 * 1024;
/** Prefix of the progress records in `localStorage`. */
export const RECORD_PREFIX = 'tallow-rx-part:';

type Writable = WritableStream<Uint8Array> & {
  write(data: Uint8Array | { type: 'seek'; position: number } | { type: 'truncate'; size: number }): Promise<void>;
  seek(position: number): Promise<void>;
  truncate(size: number): Promise<void>;
};
type Handle = FileSystemFileHandle & { createWritable(options?: { keepExistingData?: boolean }): Promise<Writable> };

/** The identity of a file across sessions: what the sender offers again after a reload. */
const keyOf = (m: Manifest): string => `${m.name}|${m.size}|${m.lastModified ?? 0}`;

/** A short, stable, file-system-safe name for a key (FNV-1a, two rounds). */
const partName = (key: string): string => {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < key.length; i++) {
    a = Math.imul(a ^ key.charCodeAt(i), 0x01000193) >>> 0;
    b = Math.imul(b ^ key.charCodeAt(key.length - 1 - i), 0x811c9dc5) >>> 0;
  }
  return `part-${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}`;
};

/** A resumable OPFS target writing into `dir`; records live in `storage` (default `localStorage`). */
export function opfsResumableTarget(dir: FileSystemDirectoryHandle, storage: Storage = localStorage, checkpointBytes = CHECKPOINT_BYTES): ReceiveTarget {
  const recorded = (m: Manifest): number => Number(storage.getItem(RECORD_PREFIX + keyOf(m))) || 0;
  const held = async (m: Manifest): Promise<number> => {
    const bytes = recorded(m);
    if (!bytes) return 0;
    try {
      const file = await (await dir.getFileHandle(partName(keyOf(m)))).getFile();
      return file.size >= bytes && bytes <= m.size ? bytes : 0;
    } catch {
      return 0;
    }
  };
  return {
    held,
    async open(m, hints): Promise<OpenedTarget> {
      const key = RECORD_PREFIX + keyOf(m);
      const start = hints?.resume === false ? 0 : await held(m);
      const handle = (await dir.getFileHandle(partName(keyOf(m)), { create: true })) as Handle;
      let stream = await handle.createWritable({ keepExistingData: start > 0 });
      await stream.truncate(start);
      await stream.seek(start);
      // Bytes in the file (committed or not), and since the last checkpoint.
      let bytes = start;
      let pending = 0;
      const write = async (data: Uint8Array): Promise<number> => {
        await stream.write(data as Uint8Array<ArrayBuffer>);
        bytes += data.length;
        pending += data.length;
        if (pending >= checkpointBytes) {
          await stream.close();
          storage.setItem(key, String(bytes));
          stream = await handle.createWritable({ keepExistingData: true });
          await stream.seek(bytes);
          pending = 0;
        }
        return bytes - start;
      };
      return {
        from: start,
        prefix: start > 0 ? (): Observable<Bytes> => defer(() => from(handle.getFile())).pipe(concatMap((file) => fromBlob(file.slice(0, start)))) : undefined,
        sink: (chunks) => chunks.pipe(concatMap((c) => from(write(c.data)))),
        async finish() {
          await stream.close();
          storage.removeItem(key);
          return handle.getFile();
        },
        async abort() {
          try {
            await stream.close();
            storage.setItem(key, String(bytes));
          } catch {
            // Already closed or aborted: the last checkpoint's record stands.
          }
        },
      };
    },
  };
}

/** Deletes a finished or abandoned part file and its record. */
export async function removePart(dir: FileSystemDirectoryHandle, m: Manifest, storage: Storage = localStorage): Promise<void> {
  storage.removeItem(RECORD_PREFIX + keyOf(m));
  await dir.removeEntry(partName(keyOf(m))).catch(() => undefined);
}
