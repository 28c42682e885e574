/**
 * A byte source over a file on disk (Node.js only: import it from `tallow-rx/node`).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { Observable } from 'rxjs';
import { SourceReadError } from '../errors';
import type { Bytes } from '../types';
import { pullSource, type SourceConfig } from './pullSource';
import { startOffset, type StartConfig } from './startOffset';

/** Options for {@link fromFilePath}. */
export interface FromFilePathConfig extends SourceConfig, StartConfig {}

/**
 * Reads a file with positional reads, as credit allows.
 *
 * The file is opened on subscribe (read-only) and each read is one
 * `handle.read(buffer, 0, max, position)` into a fresh buffer: an emitted piece
 * is never reused, because some stacks (werift) queue sent buffers by
 * reference. Nothing is read before credit is granted, and the bytes read never
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
 * @param config `demand`, `readSize` (default 256 KiB) and `start` (default 0).
 * @return A cold Observable of pieces; a missing file or a failed read errors
 * with `SourceReadError` (`details.path`, the fs error as `cause`).
 */
export function fromFilePath(path: string, config: FromFilePathConfig = {}): Observable<Bytes> {
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
        if (bytesRead === 0) return null;
        pos += bytesRead;
        return bytesRead === max ? buffer : buffer.subarray(0, bytesRead);
      },
      close: () => (closing ??= handle.close()),
    };
  }, config);
}
