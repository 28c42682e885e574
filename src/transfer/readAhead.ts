/**
 * Reads small files before their turn. The sender reads one file at a time (docs/protocol.md, "Files in
 * order"), and a file on disk costs a few round trips through the thread pool (open, read) before its first
 * frame can go: with thousands of small files those waits, one after another, were the sender's pace. Read
 * ahead, a small file's turn starts with its bytes in memory, and the reads of the next few overlap.
 *
 * Nothing changes on the wire: a file's frames still go after the previous file's `done`, and its bytes are
 * those one read of `[0, size)` gave, served to its turn (and to a resumed prefix check) from memory. A read
 * that fails fails that file's turn, as it would have. At most {@link ReadAheadConfig.maxFiles} files of at
 * most {@link ReadAheadConfig.maxFileBytes} each are held.
 *
 * ```
 * taken:      f0 f1 f2 f3 …       (maxFiles 2; f2 is large)
 * fill(f1…):  read f1 ─────────>  held
 * take(f1):   f1's bytes from memory; fill(f2…) skips f2, reads f3
 * ```
 */
import { ReplaySubject, Subscription, switchMap } from 'rxjs';
import { fromBytes } from '../sources/fromBytes';
import type { Bytes } from '../types';
import type { FileDescriptor } from './fileInput';

/** Options of {@link ReadAhead}. */
export interface ReadAheadConfig {
  /** Most files read ahead and not yet taken. Default 8. */
  readonly maxFiles?: number;
  /** Only files of at most this many bytes (and at least one) are read ahead, bytes. Default 64 KiB. */
  readonly maxFileBytes?: number;
}

/** Defaults of {@link ReadAheadConfig}. */
export const READ_AHEAD_FILES = 8;
export const READ_AHEAD_MAX_BYTES = 64 * 1024;

/** A file being read, or read: its bytes once complete, and the read. */
interface Held {
  readonly bytes$: ReplaySubject<Uint8Array>;
  readonly read: Subscription;
}

export class ReadAhead {
  private readonly held = new Map<number, Held>();
  private readonly maxFiles: number;
  private readonly maxFileBytes: number;
  private stopped = false;

  /** @param files the session's files, by index */
  constructor(
    private readonly files: readonly FileDescriptor[],
    config: ReadAheadConfig = {},
  ) {
    this.maxFiles = config.maxFiles ?? READ_AHEAD_FILES;
    this.maxFileBytes = config.maxFileBytes ?? READ_AHEAD_MAX_BYTES;
  }

  /** Files read ahead and not yet taken. */
  get size(): number {
    return this.held.size;
  }

  /**
   * Starts reading the small, seekable files among `next` (the indexes of the files whose turns come next,
   * in order), up to `maxFiles` held. Only the first `maxFiles` of `next` are looked at, so a file is never
   * read far ahead of its turn.
   */
  fill(next: readonly number[]): void {
    for (let k = 0; k < next.length && k < this.maxFiles && this.held.size < this.maxFiles && !this.stopped; k++) {
      const i = next[k];
      const desc = this.files[i];
      if (this.held.has(i) || !desc?.seekable || desc.size < 1 || desc.size > this.maxFileBytes) continue;
      this.held.set(i, this.start(desc));
    }
  }

  /** The descriptor for file `i`'s turn: one that serves the bytes read ahead, or `files[i]` itself. */
  take(i: number): FileDescriptor {
    const desc = this.files[i];
    const held = this.held.get(i);
    if (!held) return desc;
    this.held.delete(i);
    return {
      name: desc.name,
      size: desc.size,
      type: desc.type,
      lastModified: desc.lastModified,
      seekable: true,
      read: ({ start = 0, end = desc.size, ...cfg }) => held.bytes$.pipe(switchMap((all) => fromBytes(all.subarray(start, end), cfg))),
    };
  }

  /** Stops every read in progress and drops what is held (the session ended). */
  stop(): void {
    this.stopped = true;
    for (const { read, bytes$ } of this.held.values()) {
      read.unsubscribe();
      bytes$.complete();
    }
    this.held.clear();
  }

  /** Reads `[0, size)` of `desc` into one buffer. */
  private start(desc: FileDescriptor): Held {
    const bytes$ = new ReplaySubject<Uint8Array>(1);
    // The pieces read so far, and their length.
    const pieces: Bytes[] = [];
    let length = 0;
    let read: Subscription;
    try {
      read = desc.read({ start: 0, end: desc.size, readSize: desc.size }).subscribe({
        next: (b) => {
          pieces.push(b);
          length += b.length;
        },
        error: (err) => bytes$.error(err),
        complete: () => {
          bytes$.next(pieces.length === 1 ? pieces[0] : concat(pieces, length));
          bytes$.complete();
        },
      });
    } catch (err) {
      // A read that throws at once fails the file's turn, as it would have.
      bytes$.error(err);
      read = Subscription.EMPTY;
    }
    return { bytes$, read };
  }
}

/** `pieces` in one buffer of `length` bytes. */
function concat(pieces: readonly Bytes[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
