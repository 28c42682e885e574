/**
 * Receives files into a directory on disk, with resume (Node.js only: import it
 * from `tallow-rx/node`).
 */
import { constants } from 'node:fs';
import { open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import { LimitExceededError, SinkWriteError } from '../errors';
import type { Manifest } from '../protocol/control';
import { sanitizeFileName } from '../protocol/sanitizeFileName';
import { fromFilePath } from '../sources/fromFilePath';
import { subscribeChained } from '../operators/subscribeChained';
import type { Chunk } from '../types';
import { limitBytes } from './fileInput';
import type { OpenedTarget, ReceiveTarget } from './ReceiveTarget';

/** Options for {@link directoryTarget}. */
export interface DirectoryTargetConfig {
  /**
   * Keep partial files after a failure and continue them when the same file
   * (same name, size and lastModified) is offered again. Default `true`.
   */
  readonly resume?: boolean;
  /** Replace an existing file of the same name; otherwise ` (1)`, ` (2)`, … is added. Default `false`. */
  readonly overwrite?: boolean;
  /** fsync and record progress every this many bytes, so a crash loses at most this much. Default 8 MiB. */
  readonly checkpointEvery?: number;
  /** Most bytes waiting for the disk. Default 64 MiB. */
  readonly maxQueuedBytes?: number;
}

/** Suffix of a partial file; its progress record adds `.json`. */
export const PARTIAL_SUFFIX = '.tallow-part';

interface PartialRecord {
  readonly v: 1;
  readonly name: string;
  readonly size: number;
  readonly lastModified: number | null;
  /** Bytes `[0, persisted)` passed their CRC-32 and were fsynced. */
  readonly persisted: number;
}

const exists = async (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

/** Picks `name`, or `name (n).ext` when taken. */
async function freeName(dir: string, name: string, overwrite: boolean): Promise<string> {
  if (overwrite || !(await exists(join(dir, name)))) return join(dir, name);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 1; n < 10_000; n++) {
    const candidate = join(dir, `${stem} (${n})${ext}`);
    if (!(await exists(candidate))) return candidate;
  }
  throw new SinkWriteError(`no free name for ${name} in ${dir}`, { dir, name });
}

/**
 * Writes each received file to `<dir>/<sanitised name>`. While the transfer
 * runs, bytes go to `<name>.tallow-part`, and `<name>.tallow-part.json`
 * records how many of them are verified and fsynced. On success the partial
 * file is renamed into place and the record removed. On failure both stay, and
 * the next offer of the same file resumes from the recorded offset (`resume:
 * false` deletes them instead). Names from the peer can never leave `dir`: see
 * `sanitizeFileName`.
 *
 * ## Example
 * ```ts
 * import { receiveFile } from 'tallow-rx';
 * import { directoryTarget } from 'tallow-rx/node';
 * receiveFile(pc, { target: directoryTarget('./downloads') }).subscribe(console.log);
 * ```
 * @param dir an existing directory
 * @param config see {@link DirectoryTargetConfig}
 * @return a target for `receiveFile`
 */
export function directoryTarget(dir: string, config: DirectoryTargetConfig = {}): ReceiveTarget {
  const resume = config.resume ?? true;
  const checkpointEvery = config.checkpointEvery ?? 8 * 1024 * 1024;
  const maxQueued = config.maxQueuedBytes ?? 64 * 1024 * 1024;
  return {
    open: async (manifest: Manifest): Promise<OpenedTarget> => {
      const name = sanitizeFileName(manifest.name);
      const partial = join(dir, name + PARTIAL_SUFFIX);
      const recordPath = partial + '.json';
      const lastModified = manifest.lastModified ?? null;
      let from = 0;
      if (resume) {
        try {
          const rec = JSON.parse(await readFile(recordPath, 'utf8')) as PartialRecord;
          const st = await stat(partial);
          if (rec.v === 1 && rec.name === manifest.name && rec.size === manifest.size && rec.lastModified === lastModified) {
            from = Math.max(0, Math.min(rec.persisted, st.size, manifest.size));
          }
        } catch {
          from = 0;
        }
      }
      const handle: FileHandle = await open(partial, from > 0 ? 'r+' : 'w');
      if (from === 0) await handle.truncate(0);
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        await handle.close().catch(() => undefined);
      };
      const recordBytes = (persisted: number) =>
        Buffer.from(JSON.stringify({ v: 1, name: manifest.name, size: manifest.size, lastModified, persisted } satisfies PartialRecord));
      // Every record of this file has the width of the largest one (persisted = size), padded with spaces, and
      // is written over the old one in place: `writeFile` truncates first, so a SIGKILL in between left an empty
      // record and the next session started from 0 (seen under load in test/transfer/twoProcess.spec.ts).
      const recordWidth = recordBytes(manifest.size).length;
      const record = async (persisted: number) => {
        const out = Buffer.alloc(recordWidth, 0x20);
        recordBytes(persisted).copy(out);
        const h = await open(recordPath, constants.O_WRONLY | constants.O_CREAT);
        try {
          await h.write(out, 0, out.length, 0);
          // Only a record left by another file can be longer; cut its tail once the new one is whole.
          await h.truncate(out.length);
        } finally {
          await h.close();
        }
      };

      return {
        from,
        prefix: () => fromFilePath(partial).pipe(limitBytes(from)),
        sink: (source) =>
          new Observable<number>((subscriber) => {
            // Chunks waiting for the disk, their bytes, and the write loop's state.
            const queue: Chunk[] = [];
            let queued = 0;
            let writing = false;
            let sourceDone = false;
            // Bytes written this session, and at the last checkpoint.
            let written = 0;
            let checkpointed = 0;
            const fail = (err: unknown) => subscriber.error(err instanceof SinkWriteError ? err : new SinkWriteError(`writing ${partial} failed`, { path: partial }, err));
            const loop = async () => {
              if (writing) return;
              writing = true;
              try {
                while (queue.length && !subscriber.closed) {
                  const c = queue.shift()!;
                  queued -= c.data.length;
                  let off = 0;
                  while (off < c.data.length) {
                    const { bytesWritten } = await handle.write(c.data, off, c.data.length - off, c.offset + off);
                    off += bytesWritten;
                  }
                  written += c.data.length;
                  if (written - checkpointed >= checkpointEvery) {
                    await handle.sync();
                    checkpointed = written;
                    if (resume) await record(from + written);
                  }
                  subscriber.next(written);
                }
                if (sourceDone && !queue.length && !subscriber.closed) {
                  await handle.sync();
                  subscriber.complete();
                }
              } catch (err) {
                fail(err);
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
            if (resume) void record(from).catch(() => undefined);
            return () => {
              queue.length = 0;
            };
          }),
        finish: async () => {
          await close();
          const final = await freeName(dir, name, config.overwrite ?? false);
          await rename(partial, final);
          await rm(recordPath, { force: true });
          return final;
        },
        abort: async () => {
          await close();
          if (!resume) {
            await rm(partial, { force: true });
            await rm(recordPath, { force: true });
          }
        },
      };
    },
  };
}
