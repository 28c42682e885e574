/**
 * Where a receiver puts a file. The core ships `blobTarget()` and
 * `writableTarget()`; the Node entry adds `directoryTarget()` (a file on disk,
 * with resume).
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { Manifest } from '../protocol/control';
import { toWritableStream } from '../sinks/toWritableStream';
import type { Bytes, Chunk } from '../types';
import { subscribeChained } from '../operators/subscribeChained';
import { checkArgument } from '../configObject';

/** Storage opened for one transfer. `R`: what `finish` produces (a Blob, a path, …), the file's `completed.result`. */
export interface OpenedTarget<R = unknown> {
  /** Bytes already held and verified from an earlier attempt (0 = start fresh). */
  readonly from: number;
  /** Reads the held prefix `[0, from)` so the whole-file digest covers it. Required when `from > 0`. */
  readonly prefix?: () => Observable<Bytes>;
  /** Persists verified chunks in order; emits the cumulative bytes persisted in this session (not counting `from`). */
  readonly sink: OperatorFunction<Chunk, number>;
  /** Called once the digest matched; returns the result (a Blob, a path, …). */
  finish(): R | PromiseLike<R>;
  /** Called on failure or cancellation. Partial state may be kept for resume. */
  abort(reason: unknown): void | Promise<void>;
}

/** What the receiver asks of {@link ReceiveTarget.open} beyond the manifest. */
export interface OpenHints {
  /**
   * `false`: start from 0 and do not resume a partial even if one exists (the receiver already
   * promised the sender this file from 0). Default: resume as the target would without hints.
   */
  readonly resume?: boolean;
}

/**
 * Opens storage for a manifest. May be asynchronous (a file must be created).
 * A manifest's `name` may be a relative path (`photos/2024/a.jpg`) when it comes
 * from a multi-file session; a target without folders may use its last segment. `R`: what each file's `finish`
 * produces (`Blob` for {@link blobTarget}), typed through to `completed.result`.
 */
export interface ReceiveTarget<R = unknown> {
  /** Opens storage for one file. `blobTarget` and `writableTarget` always start from 0 and ignore `hints`. */
  open(manifest: Manifest, hints?: OpenHints): OpenedTarget<R> | Promise<OpenedTarget<R>>;
  /**
   * Verified bytes a later `open(manifest)` would resume from (0 when none), without claiming,
   * creating or writing anything: a cheap peek the receiver may make for every offered file before
   * answering the offer. Only a hint: by the time `open` runs its `from` may differ. Absent: 0.
   */
  held?(manifest: Manifest): number | Promise<number>;
  /** Creates the folder at a relative, '/'-separated path even if no file lands in it. Idempotent. */
  folder?(path: string): void | Promise<void>;
}

/** Received bytes `blobTarget` gathers before it folds them into its Blob (the copy a Blob makes of them). */
export const BLOB_FOLD_BYTES = 16 * 1024 * 1024;

/**
 * Collects the file in memory and finishes with a Blob. Simple and universal,
 * but holds the whole file: use `writableTarget()` or the Node entry's
 * `directoryTarget()` for files larger than memory. Every 16 MiB received
 * (`BLOB_FOLD_BYTES`) go into a Blob as they come (a Blob made of Blobs does not
 * copy them again), so the peak is the file plus 16 MiB, not twice the file.
 */
export function blobTarget(): ReceiveTarget<Blob> {
  return {
    open: (manifest) => {
      // What arrived so far: folded into `blob`, and the parts since, released once folded.
      let blob = new Blob([]);
      let parts: Uint8Array[] = [];
      let unfolded = 0;
      const fold = (): void => {
        blob = new Blob([blob, ...(parts as BlobPart[])]);
        parts = [];
        unfolded = 0;
      };
      return {
        from: 0,
        sink: (source) =>
          new Observable<number>((subscriber) => {
            let bytes = 0;
            subscribeChained(source, subscriber, {
              next: (c) => {
                parts.push(c.data);
                unfolded += c.data.length;
                if (unfolded >= BLOB_FOLD_BYTES) fold();
                bytes += c.data.length;
                subscriber.next(bytes);
              },
              error: (e) => subscriber.error(e),
              complete: () => subscriber.complete(),
            });
          }),
        finish: () => {
          fold();
          const whole = new Blob([blob], { type: manifest.type });
          blob = new Blob([]);
          return whole;
        },
        abort: () => {
          blob = new Blob([]);
          parts = [];
        },
      };
    },
  };
}

/**
 * Streams the file into a WHATWG WritableStream (for example one from the File
 * System Access API or OPFS). `open` is called with the manifest so the caller
 * can pick the stream per file. An `open` that is not a function throws `InvalidConfigError` at the call.
 *
 * ```ts
 * receiveFile(pc, { target: writableTarget(async (m) => (await dir.getFileHandle(m.name, { create: true })).createWritable()) });
 * ```
 */
export function writableTarget(open: (manifest: Manifest) => WritableStream<Uint8Array> | Promise<WritableStream<Uint8Array>>): ReceiveTarget<WritableStream<Uint8Array>> {
  checkArgument('writableTarget', 'open', open, typeof open === 'function', 'a function (manifest) => WritableStream');
  return {
    open: async (manifest) => {
      const stream = await open(manifest);
      return {
        from: 0,
        sink: toWritableStream(stream),
        finish: () => stream,
        abort: () => undefined,
      };
    },
  };
}
