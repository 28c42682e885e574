/**
 * A resumable in-memory `ReceiveTarget` for the browser reconnect test: one buffer per file (keyed by name,
 * size and `lastModified`), kept across a lost connection, so `held()` and `open()` offer the bytes written
 * before the loss and the receiver resumes the file from there. test/properties/memoryTarget.ts is the
 * one-file version the Node specs use; `blobTarget` starts every file from 0.
 */
import { Observable } from 'rxjs';
import type { Bytes, Chunk, Manifest, ReceiveTarget } from '../../../src/index';
import type { OpenHints } from '../../../src/transfer/ReceiveTarget';

/** What the target holds of one file, and what the receiver did with it. */
export interface HeldFile {
  readonly buffer: Uint8Array<ArrayBuffer>;
  /** Bytes `[0, persisted)` are written, in order. */
  persisted: number;
  /** `from` of each `open()`. */
  readonly opens: number[];
  finishes: number;
  /** `abort()` reasons' codes (or names). */
  readonly aborts: string[];
}

/** A target with per-file buffers, and its files by key. */
export interface ResumableMemoryTarget extends ReceiveTarget {
  readonly files: Map<string, HeldFile>;
}

/** The key of a file: a later session resumes it only if name, size and `lastModified` all match. */
export const fileKey = (m: { name: string; size: number; lastModified?: number }): string => `${m.name}\u0000${m.size}\u0000${m.lastModified ?? ''}`;

/** A target that keeps each file's bytes in memory across sessions and offers them for resume. */
export function resumableMemoryTarget(): ResumableMemoryTarget {
  // Every file ever opened, by key.
  const files = new Map<string, HeldFile>();
  const fresh = (m: Manifest): HeldFile => {
    const f: HeldFile = { buffer: new Uint8Array(m.size), persisted: 0, opens: [], finishes: 0, aborts: [] };
    files.set(fileKey(m), f);
    return f;
  };
  return {
    files,
    held: (m) => files.get(fileKey(m))?.persisted ?? 0,
    open: (m: Manifest, hints?: OpenHints) => {
      const file = files.get(fileKey(m)) ?? fresh(m);
      // The receiver promised the sender this file from 0.
      if (hints?.resume === false) file.persisted = 0;
      const from = file.persisted;
      file.opens.push(from);
      return {
        from,
        prefix: () =>
          new Observable<Bytes>((subscriber) => {
            subscriber.next(file.buffer.subarray(0, from));
            subscriber.complete();
          }),
        sink: (source: Observable<Chunk>) =>
          new Observable<number>((subscriber) => {
            // Bytes written in this session.
            let session = 0;
            const sub = source.subscribe({
              next: (c) => {
                if (c.offset !== from + session || c.offset + c.data.length > file.buffer.length) {
                  subscriber.error(new Error(`resumableMemoryTarget: chunk ${c.index} at ${c.offset} (+${c.data.length}) does not continue ${from + session}`));
                  return;
                }
                file.buffer.set(c.data, c.offset);
                session += c.data.length;
                file.persisted = from + session;
                subscriber.next(session);
              },
              error: (e) => subscriber.error(e),
              complete: () => subscriber.complete(),
            });
            return () => sub.unsubscribe();
          }),
        finish: () => {
          file.finishes++;
          return file.buffer.subarray(0, file.persisted);
        },
        abort: (reason: unknown) => {
          const r = reason as { code?: string; name?: string; index?: number };
          file.aborts.push(String(r?.code ?? r?.name ?? reason));
          // As directoryTarget: held bytes that failed the whole-file digest are wrong; the next open starts at 0.
          if (r?.code === 'ERR_HASH_MISMATCH' && r.index === -1) file.persisted = 0;
        },
      };
    },
  };
}
