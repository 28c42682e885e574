/**
 * A `FileDescriptor` for a file on disk (Node.js only: import it from `tallow-rx/node`).
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { SourceReadError } from '../errors';
import { fromFilePath } from '../sources/fromFilePath';
import { limitBytes, type FileDescriptor, type FileMeta } from './fileInput';

/**
 * Stats `path` and returns a seekable descriptor that `sendFile` can read
 * (and re-read from any offset, so transfers of it can resume).
 *
 * ## Example
 * ```ts
 * import { sendFile } from 'tallow-rx';
 * import { fileFromPath } from 'tallow-rx/node';
 * sendFile(pc, await fileFromPath('video.mp4')).subscribe(console.log);
 * ```
 * @param path the file to send
 * @param meta overrides for the name and MIME type
 * @return a descriptor with the file's name, size and mtime
 */
export async function fileFromPath(path: string, meta: FileMeta = {}): Promise<FileDescriptor> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new SourceReadError(`cannot stat ${path}: ${(err as Error)?.message ?? err}`, { path, code: (err as any)?.code }, err);
  }
  if (!st.isFile()) throw new SourceReadError(`${path} is not a regular file`, { path });
  const size = st.size;
  return {
    name: meta.name ?? basename(path),
    size,
    type: meta.type ?? 'application/octet-stream',
    lastModified: meta.lastModified ?? Math.floor(st.mtimeMs),
    seekable: true,
    // As listed: a file changed since (or while it is read) fails with SourceReadError ECHANGED.
    read: ({ start = 0, end = size, ...cfg }) => fromFilePath(path, { ...cfg, start, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }).pipe(limitBytes(end - start)),
  };
}
