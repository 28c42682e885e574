/**
 * `directoryTarget`'s disk sink: appends a transfer's chunks to its part file, with checkpoints.
 */
import { fstatSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Observable, type OperatorFunction } from 'rxjs';
import { LimitExceededError } from '../errors';
import { subscribeChained } from '../operators/subscribeChained';
import type { Chunk } from '../types';
import { replaced, writeError } from './writeError';

/** Options of {@link diskSink}. */
export interface DiskSinkConfig {
  readonly handle: FileHandle;
  /** The part file's name, for errors. */
  readonly part: string;
  readonly from: number;
  readonly checkpointEvery: number;
  readonly maxQueued: number;
  /** Records the verified bytes after each checkpoint (resume), or undefined. */
  readonly record?: (persisted: number) => Promise<void>;
  /** fsync at checkpoints and at the end (see DirectoryTargetConfig.fsync). */
  readonly fsync: boolean;
}

/**
 * Appends chunks in order (the part file is in `O_APPEND` mode), one write at a time; fsyncs and records every
 * `checkpointEvery` bytes. Before each write the part file must hold exactly the bytes before the chunk: something
 * else that truncated it fails the sink with `EREPLACED` (a synchronous fstat: one system call on an open file, no
 * thread-pool round trip), and a truncation during a write leaves the file short, which `finish` catches.
 */
export function diskSink({ handle, part, from, checkpointEvery, maxQueued, record, fsync }: DiskSinkConfig): OperatorFunction<Chunk, number> {
  return (source) =>
    new Observable<number>((subscriber) => {
      // Chunks waiting for the disk, their bytes, and the write loop's state.
      const queue: Chunk[] = [];
      let queued = 0;
      let writing = false;
      let sourceDone = false;
      // Bytes written this session, and at the last checkpoint.
      let written = 0;
      let checkpointed = 0;
      const writeChunk = async (c: Chunk) => {
        // Chunks come in order, each right after the last (reorder's contract), so the file holds exactly the
        // bytes before this one: shorter means someone else truncated it.
        const { size } = fstatSync(handle.fd);
        if (size !== c.offset) throw replaced(part, `it holds ${size} B, not the ${c.offset} B written before`);
        // Appended (the file is in O_APPEND mode), not written at an offset: a truncation by someone else that
        // lands while this write is in flight leaves the file short of what was written, which finish's size
        // check catches. A positional write would grow the file back over a hole of zeros (seen by an outside
        // check in 1-3 runs of 12 with the check above alone).
        for (let off = 0; off < c.data.length; ) off += (await handle.write(c.data, off, c.data.length - off, null)).bytesWritten;
        written += c.data.length;
        if (written - checkpointed < checkpointEvery) return;
        if (fsync) await handle.sync();
        checkpointed = written;
        await record?.(from + written);
      };
      const loop = async () => {
        if (writing) return;
        writing = true;
        try {
          while (queue.length && !subscriber.closed) {
            const c = queue.shift()!;
            queued -= c.data.length;
            await writeChunk(c);
            subscriber.next(written);
          }
          if (sourceDone && !queue.length && !subscriber.closed) {
            // Nothing written in this session (an empty file): no data to flush, and the name is not fsynced either way.
            if (fsync && written > 0) await handle.sync();
            subscriber.complete();
          }
        } catch (err) {
          subscriber.error(writeError('writing', part, err));
        } finally {
          writing = false;
        }
      };
      subscribeChained(source, subscriber, {
        next: (c) => {
          queued += c.data.length;
          if (queued > maxQueued) return subscriber.error(new LimitExceededError('queued bytes for disk', queued, maxQueued));
          queue.push(c);
          void loop();
        },
        error: (e) => subscriber.error(e),
        complete: () => {
          sourceDone = true;
          void loop();
        },
      });
      return () => {
        queue.length = 0;
      };
    });
}
