/**
 * What `sendFile` can send: a Blob or File, bytes in memory, or any
 * `FileDescriptor` (the Node entry's `fileFromPath()` makes one for a path).
 */
import { Observable } from 'rxjs';
import { InvalidConfigError, SourceReadError } from '../errors';
import { fromBlob } from '../sources/fromBlob';
import { fromBytes } from '../sources/fromBytes';
import { fromReadableStream } from '../sources/fromReadableStream';
import type { SourceConfig } from '../sources/pullSource';
import type { Bytes } from '../types';
import { configObject, invalid, shown } from './checkOptions';

/** Where to read: `[start, end)`. */
export interface ReadRange extends SourceConfig {
  readonly start?: number;
  readonly end?: number;
}

/** A file the sender can read, with its metadata. */
export interface FileDescriptor {
  readonly name: string;
  readonly size: number;
  readonly type: string;
  readonly lastModified?: number;
  /** True when `read` can start anywhere and be called again (needed for resume). */
  readonly seekable: boolean;
  /** Reads a byte range, pulled through `demand`. */
  read(range: ReadRange): Observable<Bytes>;
}

/** Metadata for inputs that carry none (bytes, streams). */
export interface FileMeta {
  readonly name?: string;
  readonly type?: string;
  readonly lastModified?: number;
}

export type FileInput = Blob | Uint8Array | FileDescriptor;

/** Cuts a byte stream after `limit` bytes. */
export const limitBytes = (limit: number) => (source: Observable<Bytes>): Observable<Bytes> =>
  new Observable<Bytes>((subscriber) => {
    // Bytes still allowed through.
    let left = limit;
    if (left <= 0) {
      subscriber.complete();
      return;
    }
    const sub = source.subscribe({
      next: (b) => {
        if (b.length >= left) {
          const last = b.subarray(0, left);
          left = 0;
          subscriber.next(last);
          subscriber.complete();
          return;
        }
        left -= b.length;
        subscriber.next(b);
      },
      error: (e) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
    return () => sub.unsubscribe();
  });

/** Has `read` and a `size` (of any type: a bad size is reported as one, not as an unknown input). */
const isDescriptor = (x: unknown): x is FileDescriptor => typeof x === 'object' && x !== null && typeof (x as FileDescriptor).read === 'function' && 'size' in x;

/**
 * A descriptor's size as the protocol can carry it (an integer in [0, 2^53 - 1]): checked here, before
 * the offer, since only the receiver would notice otherwise.
 */
function checkedDescriptor(d: FileDescriptor): FileDescriptor {
  if (!Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`file ${shown(d.name)}`, 'size', 'an integer in [0, 2^53 - 1]', d.size);
  return d;
}

/**
 * Normalises any supported input into a {@link FileDescriptor}. A descriptor (from `streamFile`, `fileFromPath`
 * or your own) whose size is not an integer in [0, 2^53 - 1] is an `InvalidConfigError`.
 */
export function describeFile(input: FileInput, meta: FileMeta = {}): FileDescriptor {
  if (isDescriptor(input)) return checkedDescriptor(meta.name ? { ...input, name: meta.name } : input);
  if (input instanceof Uint8Array) {
    return {
      name: meta.name ?? 'data.bin',
      size: input.length,
      type: meta.type ?? 'application/octet-stream',
      lastModified: meta.lastModified,
      seekable: true,
      read: ({ start = 0, end = input.length, ...cfg }) => fromBytes(input.subarray(start, end), cfg),
    };
  }
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    const file = input as Blob & { name?: string; lastModified?: number };
    return {
      name: meta.name ?? file.name ?? 'blob.bin',
      size: file.size,
      type: meta.type ?? file.type ?? '',
      lastModified: meta.lastModified ?? file.lastModified,
      seekable: true,
      read: ({ start = 0, end = file.size, ...cfg }) => fromBlob(file.slice(start, end), cfg),
    };
  }
  const hint = typeof ReadableStream !== 'undefined' && input instanceof ReadableStream ? ' (wrap a stream in streamFile(stream, { size }))' : input instanceof ArrayBuffer ? ' (wrap it in new Uint8Array(buffer))' : '';
  throw invalid('sendFile', 'file', `a Blob, File, Uint8Array or FileDescriptor${hint}`, input);
}

/**
 * Passes a byte stream of a declared `size` through and fails it (`SourceReadError`, "it grew") at the first piece
 * that goes past `size`, before that piece is emitted. A stream that ends short fails where the sender checks
 * the bytes read at the end. Cutting it at `size` instead (as `limitBytes`) sent the first `size` bytes of a
 * longer stream and reported them completed and verified.
 */
export const notPast = (size: number, name: string) => (source: Observable<Bytes>): Observable<Bytes> =>
  new Observable<Bytes>((subscriber) => {
    // Bytes passed so far.
    let read = 0;
    const sub = source.subscribe({
      next: (b) => {
        read += b.length;
        if (read <= size) subscriber.next(b);
        else subscriber.error(new SourceReadError(`${name} went past its ${size} B (it grew while being read, or its size was declared short)`, { code: 'ESIZE', read, size }));
      },
      error: (e) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
    return () => sub.unsubscribe();
  });

/**
 * Describes a WHATWG ReadableStream of known size. Streams can be read once,
 * from the start, so such a transfer cannot resume. A stream that holds more or fewer bytes than `size` fails
 * the send with `SourceReadError` ("it grew" / "it shrank"): nothing is cut to fit. A `size` that is not an
 * integer in [0, 2^53 - 1] fails the send at subscription (`InvalidConfigError`); a `meta` that is not an
 * object (`null`) throws it at once.
 */
export function streamFile(stream: ReadableStream<Uint8Array>, meta: FileMeta & { size: number }): FileDescriptor {
  meta = configObject('streamFile', meta, 'meta');
  let used = false;
  return {
    name: meta.name ?? 'stream.bin',
    size: meta.size,
    type: meta.type ?? 'application/octet-stream',
    lastModified: meta.lastModified,
    seekable: false,
    read: ({ start = 0, end = meta.size, ...cfg }) => {
      if (used || start !== 0) throw new InvalidConfigError('a stream can be read once, from the start');
      used = true;
      const bytes = fromReadableStream(stream, cfg);
      return end < meta.size ? bytes.pipe(limitBytes(end)) : bytes.pipe(notPast(meta.size, meta.name ?? 'stream.bin'));
    },
  };
}
