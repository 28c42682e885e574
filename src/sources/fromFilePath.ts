/**
 * A byte source over a file on disk (Node.js only: import it from `tallow-rx/node`).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { constants, fstatSync } from 'node:fs';
import type { Observable } from 'rxjs';
import { SourceReadError } from '../errors';
import type { Bytes } from '../types';
import { pullSource, type SourceConfig } from './pullSource';
import { startOffset, type StartConfig } from './startOffset';
import { checkArgument, configObject } from '../configObject';

/** Options for {@link fromFilePath}. */
export interface FromFilePathConfig extends SourceConfig, StartConfig {
  /**
   * The file's modification time as the caller saw it (`stat().mtimeMs`, e.g. when the file was listed). Reading
   * fails with `SourceReadError` (`details.code` `ECHANGED`) when the file's mtime is not this one at the open or
   * after any read. Default: the mtime at the open, so a file changed while it is read always fails.
   */
  readonly mtimeMs?: number;
  /**
   * The file's status-change time as the caller saw it (`stat().ctimeMs`), checked like `mtimeMs`. A process can put
   * an mtime back (`touch -d`, `rsync -t`) but not a ctime, which every write, truncation and `utimes` moves (so
   * do `chmod`, `chown`, a rename and a new hard link). Default: the ctime at the open.
   */
  readonly ctimeMs?: number;
}

/**
 * Reads a file with positional reads, as credit allows.
 *
 * The file is opened on subscribe (read-only) and each read is one
 * `handle.read(buffer, 0, max, position)` into a fresh buffer: an emitted piece
 * is never reused, because some stacks (werift) queue sent buffers by
 * reference. After each read the open file's mtime and ctime are checked (one `fstat`): a
 * file written while it is read fails with `SourceReadError` `ECHANGED` instead of
 * giving bytes of two versions, which no digest would notice. Nothing is read before credit is granted, and the bytes read never
 * exceed the credit taken. `start` seeks. The handle is closed exactly once, on
 * completion, error or unsubscribe. The Observable is cold: each subscription
 * opens the file again.
 *
 * ```
 * file:                    [0 1 2 3 4]   readSize: 2
 * fromFilePath(path):      --a--b--c|    a = [0 1], b = [2 3], c = [4]
 * ```
 *
 * ## Example
 * ```ts
 * import { fromFilePath } from 'tallow-rx/node';
 *
 * fromFilePath('big.bin', { readSize: 64 * 1024, start: resumeAt }).subscribe((piece) => console.log(piece.length));
 * ```
 *
 * @see fromNodeReadable
 * @param path The file to read.
 * @param config `demand`, `readSize` (default 256 KiB), `start` (default 0), `mtimeMs` and `ctimeMs` (default: at the open).
 * @return A cold Observable of pieces; a missing file or a failed read errors
 * with `SourceReadError` (`details.path`, the fs error as `cause`), a changed file
 * with `SourceReadError` (`details.code` `ECHANGED`).
 */
export function fromFilePath(path: string, config: FromFilePathConfig = {}): Observable<Bytes> {
  checkArgument('fromFilePath', 'path', path, typeof path === 'string' && path !== '', 'a non-empty string');
  config = configObject('fromFilePath', config);
  const start = startOffset(config, 'fromFilePath');
  return pullSource(async () => {
    let handle: FileHandle;
    try {
      // Non-blocking: a FIFO put where a file was would otherwise block the open (and a libuv thread) for good.
      handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      throw new SourceReadError(`cannot open ${path}: ${(err as Error)?.message ?? err}`, { path, code: (err as any)?.code }, err);
    }
    const st = await handle.stat().catch(() => undefined);
    if (!st?.isFile()) {
      await handle.close().catch(() => undefined);
      throw new SourceReadError(`cannot read ${path}: not a regular file`, { path, code: 'ENOTREG' });
    }
    // Next byte to read.
    let pos = start;
    const mtimeMs = config.mtimeMs ?? st.mtimeMs;
    const ctimeMs = config.ctimeMs ?? st.ctimeMs;
    /** The error when the open file's mtime or ctime is not the one expected (another process wrote to it). */
    const changed = (now: { mtimeMs: number; ctimeMs: number }) =>
      now.mtimeMs === mtimeMs && now.ctimeMs === ctimeMs
        ? undefined
        : new SourceReadError(`${path} changed while it was read (modified ${new Date(now.mtimeMs).toISOString()}, status changed ${new Date(now.ctimeMs).toISOString()})`, {
            path,
            offset: pos,
            code: 'ECHANGED',
          });
    const atOpen = changed(st);
    if (atOpen) {
      await handle.close().catch(() => undefined);
      throw atOpen;
    }
    // The close in progress or done, so the handle is closed once.
    let closing: Promise<void> | undefined;
    return {
      read: async (max: number): Promise<Bytes | null> => {
        // A fresh, unpooled buffer per read: emitted bytes are never written again.
        const buffer = new Uint8Array(max);
        let bytesRead: number;
        try {
          ({ bytesRead } = await handle.read(buffer, 0, max, pos));
        } catch (err) {
          throw new SourceReadError(`cannot read ${path} at ${pos}: ${(err as Error)?.message ?? err}`, { path, offset: pos, code: (err as any)?.code }, err);
        }
        const afterRead = changed(fstatSync(handle.fd));
        if (afterRead) throw afterRead;
        if (bytesRead === 0) return null;
        pos += bytesRead;
        return bytesRead === max ? buffer : buffer.subarray(0, bytesRead);
      },
      close: () => (closing ??= handle.close()),
    };
  }, config);
}
