/**
 * Receives files into a directory on disk, with resume (Node.js only: import it
 * from `tallow-rx/node`).
 */
import { constants, fstatSync } from 'node:fs';
import { link, lstat, open, readdir, readFile, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { catchError, map, Observable, tap, throwError, type OperatorFunction } from 'rxjs';
import { LimitExceededError, ProtocolError, SinkWriteError, SourceReadError, TallowError } from '../errors';
import type { Manifest } from '../protocol/control';
import { landingSegments, locatePath } from './locatePath';
import { fromFilePath } from '../sources/fromFilePath';
import { subscribeChained } from '../operators/subscribeChained';
import type { Chunk } from '../types';
import { limitBytes } from './fileInput';
import type { OpenedTarget, OpenHints, ReceiveTarget } from './ReceiveTarget';
import { targetFolders, type Folder } from './targetFolders';
import { codeOf, fsCause, writeError } from './writeError';
import { bool, checkOptions, invalid, limit, positive, type RuleTable } from './checkOptions';

/** What each {@link DirectoryTargetConfig} field must be, checked when `directoryTarget` is called. */
const DIRECTORY_RULES: RuleTable = { resume: bool, overwrite: bool, fsync: bool, checkpointEvery: limit, maxQueuedBytes: positive };

/**
 * Options for {@link directoryTarget}. A value of the wrong type or out of range (a negative `checkpointEvery`,
 * `maxQueuedBytes: '64M'`) is an `InvalidConfigError` thrown by `directoryTarget` itself.
 */
export interface DirectoryTargetConfig {
  /**
   * Keep partial files after a failure and continue them when the same file
   * (same name, size and lastModified) is offered again. Default `true`. A
   * whole-file hash mismatch (`ERR_HASH_MISMATCH` with `index` -1: the held
   * bytes are not the sender's) discards the partial even so.
   */
  readonly resume?: boolean;
  /** Replace an existing file of the same name; otherwise ` (1)`, ` (2)`, … is added. Default `false`. */
  readonly overwrite?: boolean;
  /** fsync and record progress every this many bytes, so a crash loses at most this much. Default 8 MiB. */
  readonly checkpointEvery?: number;
  /** Most bytes waiting for the disk. Default 64 MiB. */
  readonly maxQueuedBytes?: number;
  /**
   * fsync each file before it is reported complete, and at each checkpoint. Default `true`: a file the
   * session calls verified survives a power loss. A new file of at most {@link SYNC_WRITE_MAX_BYTES} is
   * written with `O_SYNC` instead (each write is on the disk when it returns; the same guarantee, one
   * file-system call less), except on Windows. `false` leaves flushing to the operating system: many
   * small files go several times faster (an fsync took about 10 ms on the benchmark machine, see
   * docs/benchmarks.md), and a crash can lose recently completed files. A checkpoint then may record bytes
   * the disk never got; the whole-file SHA-256 check still catches that on resume (the partial is discarded).
   */
  readonly fsync?: boolean;
}

/** Suffix of a partial file; its progress record adds `.json`. */
export const PARTIAL_SUFFIX = '.tallow-part';

/** Most part-file slots per name, and most ` (n)` names tried for a finished file. */
const MAX_NAMES = 10_000;

/** `link` error codes that mean "this file system has no hard links": reserve the name by exclusive create instead. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS']);

/** Part files a transfer in this process holds (real paths), across every directoryTarget: one writer per part file. */
const claimed = new Set<string>();

/** Opening a part file or record never follows a symbolic link (0 where the platform has no O_NOFOLLOW). */
const NOFOLLOW = (constants.O_NOFOLLOW as number | undefined) ?? 0;


/**
 * Files up to this size are written with `O_SYNC` instead of being fsynced once written: for a file that
 * arrives in one chunk, that is the same flush with one file-system call less (the small-files row of
 * docs/benchmarks.md). Larger files, written in many chunks, are fsynced at checkpoints and at the end.
 */
export const SYNC_WRITE_MAX_BYTES = 64 * 1024;

/** `O_SYNC` where it means what fsync does (0 elsewhere: Windows maps it to write-through, which may leave metadata behind). */
const O_SYNC = process.platform === 'win32' ? 0 : ((constants.O_SYNC as number | undefined) ?? 0);

/** True when `manifest`'s new part file should be written with `O_SYNC` ({@link SYNC_WRITE_MAX_BYTES}). */
const syncWritesFor = (manifest: Manifest): boolean => O_SYNC !== 0 && manifest.size > 0 && manifest.size <= SYNC_WRITE_MAX_BYTES;

/** Coarsest directory mtime resolution expected (FAT: 2 s): a folder's listing is cached for `held` only once it has been quiet this long. */
const MTIME_RESOLUTION_MS = 2_000;

/** Most folder listings one target caches for `held`. */
const MAX_LISTINGS = 1_024;

interface PartialRecord {
  readonly v: 1;
  readonly name: string;
  readonly size: number;
  readonly lastModified: number | null;
  /** Bytes `[0, persisted)` passed their CRC-32 and were fsynced. */
  readonly persisted: number;
}

/** A part file this transfer holds. */
interface Claim {
  /** Its name in its folder (`<name>.tallow-part` or `<name>.<n>.tallow-part`) and its path. */
  readonly part: string;
  readonly path: string;
  /** Its key in {@link claimed}. */
  readonly key: string;
  readonly handle: FileHandle;
  /** Verified bytes kept from an earlier attempt. */
  readonly from: number;
  /** Opened with `O_SYNC`: every write reaches the disk before it returns, so no fsync is needed after it. */
  readonly syncWrites?: boolean;
}

/** Part file of slot `n`: `<name>.tallow-part`, then `<name>.<n>.tallow-part`. */
const partName = (name: string, n: number) => (n === 0 ? `${name}${PARTIAL_SUFFIX}` : `${name}.${n}${PARTIAL_SUFFIX}`);

/** The slot of directory entry `file` if it is a part file of `name`, else -1. */
const slotOf = (file: string, name: string): number => {
  if (file === partName(name, 0)) return 0;
  if (!file.startsWith(`${name}.`) || !file.endsWith(PARTIAL_SUFFIX)) return -1;
  const n = file.slice(name.length + 1, -PARTIAL_SUFFIX.length);
  return /^[1-9][0-9]*$/.test(n) && Number(n) < MAX_NAMES ? Number(n) : -1;
};

/** Candidate `n` for a finished file: `name`, then `stem (n).ext`. */
const finalName = (name: string, n: number): string => {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${stem} (${n})${ext}`;
};



/**
 * Lists a folder's part files for `held`, reading it again only when its mtime changed (adding,
 * removing or renaming an entry changes it): a peek at 10,000 offered files in a folder of 10,000
 * reads the folder once, not 10,000 times. A folder changed within {@link MTIME_RESOLUTION_MS} is
 * read every time, since a second change in the same mtime tick would not show.
 */
function partListing(): (folder: string) => Promise<readonly string[]> {
  // Part-file names per folder path, and the folder's mtime when they were read; oldest first.
  const listings = new Map<string, { mtime: bigint; parts: readonly string[] }>();
  return async (folder) => {
    const now = Date.now();
    const { mtimeNs, mtimeMs } = await stat(folder, { bigint: true });
    const hit = listings.get(folder);
    if (hit?.mtime === mtimeNs) return hit.parts;
    const parts = (await readdir(folder)).filter((f) => f.endsWith(PARTIAL_SUFFIX));
    listings.delete(folder);
    if (now - Number(mtimeMs) > MTIME_RESOLUTION_MS) {
      if (listings.size >= MAX_LISTINGS) listings.delete(listings.keys().next().value!);
      listings.set(folder, { mtime: mtimeNs, parts });
    }
    return parts;
  };
}

/** Marks `key` as held by this transfer; false when another transfer in this process holds it. */
const take = (key: string): boolean => {
  if (claimed.has(key)) return false;
  claimed.add(key);
  return true;
};

/** Verified bytes of `path` if its record describes `manifest`'s file, else undefined. Opens nothing that stays open, writes nothing. */
async function heldBytes(path: string, manifest: Manifest): Promise<number | undefined> {
  try {
    const rec = JSON.parse(await readFile(`${path}.json`, 'utf8')) as PartialRecord;
    const st = await lstat(path);
    const same = rec.v === 1 && rec.name === manifest.name && rec.size === manifest.size && rec.lastModified === (manifest.lastModified ?? null);
    // A second link means the file was already placed (finish links it): never write into it again.
    if (!same || !Number.isSafeInteger(rec.persisted) || !st.isFile() || st.nlink > 1) return undefined;
    return Math.max(0, Math.min(rec.persisted, st.size, manifest.size));
  } catch {
    return undefined;
  }
}

/** The part-file slots of `name` among `entries`, in the order resume tries them. */
const slotsOf = (entries: readonly string[], name: string): number[] =>
  entries
    .map((f) => slotOf(f, name))
    .filter((n) => n >= 0)
    .sort((a, b) => a - b);

/** Claims a partial of `manifest`'s file that no transfer holds, and cuts it to its verified bytes. */
async function claimPartial(at: Folder, name: string, manifest: Manifest): Promise<Claim | undefined> {
  const entries = await readdir(at.path).catch(() => [] as string[]);
  for (const n of slotsOf(entries, name)) {
    const part = partName(name, n);
    const [path, key] = [join(at.path, part), join(at.key, part)];
    if (!take(key)) continue;
    const from = await heldBytes(path, manifest);
    const handle = from === undefined ? undefined : await open(path, constants.O_RDWR | constants.O_APPEND | NOFOLLOW).catch(() => undefined);
    if (handle && from !== undefined) {
      // Bytes past the record are unverified: drop them, so the file only ever holds checked bytes.
      if (await handle.truncate(from).then(() => true, () => false)) return { part, path, key, handle, from };
      await handle.close().catch(() => undefined);
    }
    claimed.delete(key);
  }
  return undefined;
}

/** What {@link claimPartial} would resume for `manifest` (0 when nothing), claiming and opening nothing. */
async function peekPartial(at: Folder, parts: readonly string[], name: string, manifest: Manifest): Promise<number> {
  for (const n of slotsOf(parts, name)) {
    const part = partName(name, n);
    if (claimed.has(join(at.key, part))) continue;
    const from = await heldBytes(join(at.path, part), manifest);
    if (from !== undefined) return from;
  }
  return 0;
}

/**
 * Creates the first free part file for `name`, exclusively (`wx`): no two transfers, in any process, share
 * one. With `syncWrites`, opened with `O_SYNC` as well (see {@link syncWritesFor}). Part files are written in
 * append mode (`O_APPEND`, here and on resume): see {@link diskSink}.
 */
async function claimNew(at: Folder, name: string, syncWrites: boolean): Promise<Claim> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND | (syncWrites ? O_SYNC : 0);
  for (let n = 0; n < MAX_NAMES; n++) {
    const part = partName(name, n);
    const [path, key] = [join(at.path, part), join(at.key, part)];
    if (!take(key)) continue;
    try {
      return { part, path, key, handle: await open(path, flags), from: 0, syncWrites };
    } catch (err) {
      claimed.delete(key);
      if (codeOf(err) !== 'EEXIST') throw writeError('creating', `${at.rel}${part}`, err);
    }
  }
  throw new SinkWriteError(`no free part-file name for ${at.rel}${name}`, { path: `${at.rel}${name}` });
}

/** Links the part file to `to` (`link` fails on an existing name), then drops the part file's name. */
async function placeByLink(at: Folder, part: string, to: string): Promise<'placed' | 'taken' | 'no-links'> {
  try {
    await link(join(at.path, part), join(at.path, to));
  } catch (err) {
    const code = codeOf(err);
    if (code === 'EEXIST') return 'taken';
    if (code !== undefined && NO_HARD_LINKS.has(code)) return 'no-links';
    throw writeError('saving', `${at.rel}${part}`, err);
  }
  // The file is in place and verified. A part name left behind has a second link and no record, so it is
  // never resumed or written; failing the transfer over it would misreport a saved file.
  await unlink(join(at.path, part)).catch(() => undefined);
  return 'placed';
}

/** Without hard links: reserves `to` by exclusive create, then renames the partial over the reservation. */
async function placeByReservation(at: Folder, part: string, to: string): Promise<'placed' | 'taken'> {
  try {
    await (await open(join(at.path, to), 'wx')).close();
  } catch (err) {
    if (codeOf(err) === 'EEXIST') return 'taken';
    throw writeError('reserving', `${at.rel}${to}`, err);
  }
  try {
    await rename(join(at.path, part), join(at.path, to));
  } catch (err) {
    await rm(join(at.path, to), { force: true }).catch(() => undefined);
    throw writeError('saving', `${at.rel}${part}`, err);
  }
  return 'placed';
}

/**
 * Moves the finished part file to `name`, or the first free `stem (n).ext`, in its folder. Taking the
 * name is atomic, so an existing file is never replaced (unless `overwrite`). Returns the name chosen.
 */
async function place(at: Folder, part: string, name: string, overwrite: boolean): Promise<string> {
  if (overwrite) {
    await rename(join(at.path, part), join(at.path, name)).catch((err: unknown) => Promise.reject(writeError('saving', `${at.rel}${part}`, err)));
    return name;
  }
  let hardLinks = true;
  for (let n = 0; n < MAX_NAMES; n++) {
    const to = finalName(name, n);
    let outcome = hardLinks ? await placeByLink(at, part, to) : 'no-links';
    if (outcome === 'no-links') {
      hardLinks = false;
      outcome = await placeByReservation(at, part, to);
    }
    if (outcome === 'placed') return to;
  }
  throw new SinkWriteError(`no free name for ${at.rel}${name}`, { path: `${at.rel}${name}` });
}

/**
 * Writes `manifest`'s progress record at `path`: rewritten in place at one width (that of
 * `persisted = size`, space-padded), never truncated first, so a SIGKILL mid-update leaves the
 * old record or the new one (`writeFile` truncates first, and the next session restarted from 0).
 */
function progressRecord(path: string, name: string, manifest: Manifest): (persisted: number) => Promise<void> {
  const lastModified = manifest.lastModified ?? null;
  const bytes = (persisted: number) =>
    Buffer.from(JSON.stringify({ v: 1, name: manifest.name, size: manifest.size, lastModified, persisted } satisfies PartialRecord));
  const width = bytes(manifest.size).length;
  return async (persisted) => {
    const out = Buffer.alloc(width, 0x20);
    bytes(persisted).copy(out);
    try {
      const h = await open(path, constants.O_WRONLY | constants.O_CREAT | NOFOLLOW);
      try {
        await h.write(out, 0, out.length, 0);
        // Only a record left by another file can be longer; cut its tail once the new one is whole.
        await h.truncate(out.length);
      } finally {
        await h.close();
      }
    } catch (err) {
      throw writeError('recording progress in', name, err);
    }
  };
}

/** Options of {@link diskSink}. */
interface DiskSinkConfig {
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
function diskSink({ handle, part, from, checkpointEvery, maxQueued, record, fsync }: DiskSinkConfig): OperatorFunction<Chunk, number> {
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

/**
 * Writes each received file to `<dir>/<its path>`, creating `dir` (and its
 * parents) when missing.
 *
 * A name that is a plain relative path (`photos/2024/a.jpg`, as a multi-file
 * session names its files) lands in that subfolder, created as needed, each
 * segment made safe like a file name. Any other name (`..`, absolute, a
 * backslash, a drive, an empty segment) keeps only its last segment, as
 * `sanitizeFileName` makes it (`../../etc/passwd` → `passwd`); NUL is refused
 * with `ProtocolError` `ERR_UNSAFE_NAME`. Subfolders are entered one segment
 * at a time and never through a symbolic link: a segment that exists as a
 * link or a file is a `SinkWriteError` (`causeCode` `ELOOP` or `ENOTDIR`), so
 * nothing is written outside `dir`.
 *
 * While a transfer runs, its bytes go to a part file of its own, in its folder:
 * `<name>.tallow-part`, or `<name>.<n>.tallow-part` when another transfer holds
 * that one (a part file is created exclusively and claimed for the transfer,
 * so two transfers never share one, even when their names sanitise alike).
 * With `resume`, `<part>.json` records how many bytes are verified and
 * fsynced; the next offer of the same file (same name, size and lastModified)
 * continues the first such partial no transfer holds. `open(manifest,
 * { resume: false })` starts a new part file from 0 instead and leaves every
 * partial alone (one of them resumes on a later offer).
 *
 * `held(manifest)` is the `from` that `open(manifest)` would resume from (0
 * when none, and always with `resume: false`), found by the same rules but
 * claiming, creating and writing nothing and leaving no file open; a folder's
 * part files are listed once while it is unchanged, so a peek at 10,000 files
 * is cheap. It is only a hint: another transfer may claim or finish the
 * partial before `open`, whose `from` is the one that counts.
 *
 * `folder(path)` creates a folder (a `/`-separated relative path; a trailing
 * `/` is ignored) even if empty, under the same rules as a file at that path;
 * an existing folder is fine, a file in the way is a `SinkWriteError`.
 *
 * A file already in place counts as held whole: `held` and `open` say `from` = its size when a regular
 * file of the offered name, size and mtime (= the manifest's `lastModified`, which a placed file gets)
 * is in its folder. The prefix digest then decides; on a mismatch the receiver opens again with
 * `resume: false` and the file lands beside it as ` (n)`. The file in place is never written or removed.
 * A part file opened and never written is removed when the transfer is cut.
 *
 * On success the part file is linked to its final name, atomically: `name`,
 * else the first free `stem (n).ext`, so an existing file is never replaced
 * (`overwrite: true` renames over it). Where hard links are unsupported the
 * name is reserved by exclusive create and the part file renamed over it. On
 * failure the partial stays for resume; it is deleted with `resume: false`,
 * after a whole-file hash mismatch (`ERR_HASH_MISMATCH`, `index` -1), so a bad
 * prefix is never resumed, and when it is new and its progress record cannot be
 * written (a full disk: it could never resume, and its space is freed). (A
 * chunk that failed its CRC-32 too often leaves the verified prefix before it,
 * which resumes.)
 *
 * Errors are TallowErrors that name paths relative to `dir` (their messages
 * go to the peer); a failed write or rename is a `SinkWriteError` with
 * `details: { path, causeCode }` and the fs error as `cause`.
 *
 * Claims are per process: two processes receiving into one directory never
 * share a new part file, but may both resume one partial at the same moment.
 *
 * ```
 * offer report.bin (A):    report.bin.tallow-part        ─link→ report.bin
 * offer report.bin (B):    report.bin.1.tallow-part      ─link→ report (1).bin
 * offer photos/a.jpg:      photos/a.jpg.tallow-part      ─link→ photos/a.jpg
 * offer ../../etc/passwd:  passwd.tallow-part            ─link→ passwd
 * ```
 *
 * ## Example
 * ```ts
 * import { receiveFile } from 'tallow-rx';
 * import { directoryTarget } from 'tallow-rx/node';
 * receiveFile(pc, { target: directoryTarget('./downloads') }).subscribe(console.log);
 * ```
 * @param dir the download folder, created when missing (a non-empty string, else `InvalidConfigError`)
 * @param config see {@link DirectoryTargetConfig}
 * @return a target for `receiveFile`
 * @throws InvalidConfigError for a bad `dir` or option, at once
 */
export function directoryTarget(dir: string, config: DirectoryTargetConfig = {}): ReceiveTarget {
  if (typeof dir !== 'string' || dir === '') throw invalid('directoryTarget', 'dir', 'a non-empty string', dir);
  const o = checkOptions('directoryTarget', config, DIRECTORY_RULES);
  const resume = o.resume ?? true;
  const overwrite = o.overwrite ?? false;
  const checkpointEvery = o.checkpointEvery ?? 8 * 1024 * 1024;
  const maxQueued = o.maxQueuedBytes ?? 64 * 1024 * 1024;
  const fsync = o.fsync ?? true;
  // Part-file listings for held(), read again only when a folder changed; the folders, checked once a second at most.
  const listParts = partListing();
  const folders = targetFolders(dir);
  return {
    open: async (manifest: Manifest, hints?: OpenHints): Promise<OpenedTarget> => {
      const { folders: segments, name } = locatePath(manifest.name);
      const opts = { name, overwrite, resume, checkpointEvery, maxQueued, fsync, hints };
      try {
        return await openIn(await folders.reach(segments, true), manifest, opts);
      } catch (err) {
        // A part file could not be created in a folder checked a moment ago: it may have gone since. Check again, once.
        if (codeOf(err) !== 'ENOENT' && (err as SinkWriteError).details?.causeCode !== 'ENOENT') throw err;
        folders.forget();
        return openIn(await folders.reach(segments, true), manifest, opts);
      }
    },
    held: async (manifest: Manifest): Promise<number> => {
      const { folders: segments, name } = locatePath(manifest.name);
      if (!resume) return 0;
      const at = await folders.reach(segments, false);
      if (at && (await isFinished(at, name, manifest))) return manifest.size;
      const parts = at && (await listParts(at.path).catch(() => undefined));
      return at && parts ? peekPartial(at, parts, name, manifest) : 0;
    },
    folder: async (path: string): Promise<void> => {
      await folders.reach(landingSegments(path), true);
    },
  };
}

/** What {@link openIn} needs from the target's config. */
interface OpenConfig {
  readonly name: string;
  readonly overwrite: boolean;
  readonly resume: boolean;
  readonly checkpointEvery: number;
  readonly maxQueued: number;
  readonly fsync: boolean;
  readonly hints?: OpenHints;
}

/** Opens `manifest`'s file in the folder `at`: the file in place, a partial to resume, or a new part file. */
async function openIn(at: Folder, manifest: Manifest, o: OpenConfig): Promise<OpenedTarget> {
  const { name, resume } = o;
  const resuming = resume && o.hints?.resume !== false;
  // An empty file in place is the offered one even when the receiver promised it from 0: both are 0 bytes.
  const emptyInPlace = resume && manifest.size === 0;
  if ((resuming || emptyInPlace) && (await isFinished(at, name, manifest))) return finishedTarget(at, name, manifest);
  const claim = (resuming ? await claimPartial(at, name, manifest) : undefined) ?? (await claimNew(at, name, o.fsync && syncWritesFor(manifest)));
  const record = resume ? progressRecord(`${claim.path}.json`, `${at.rel}${claim.part}.json`, manifest) : undefined;
  try {
    // A fresh part file gets its record at the first checkpoint (or when the transfer is cut): a record of
    // 0 B resumes nothing, and skipping it saves a small file four file-system calls.
    if (claim.from > 0) await record?.(claim.from);
  } catch (err) {
    await claim.handle.close().catch(() => undefined);
    claimed.delete(claim.key);
    throw err;
  }
  return openedClaim(claim, { ...o, at, record, lastModified: manifest.lastModified });
}

/** Reads the held bytes `[0, bytes)` of `path`; a failure is a SourceReadError naming `rel` (relative to the target). */
const readHeld = (path: string, bytes: number, rel: string, what: string): Observable<Uint8Array> =>
  fromFilePath(path).pipe(
    limitBytes(bytes),
    catchError((err: unknown) => throwError(() => new SourceReadError(`reading ${what} failed (${codeOf(err) ?? 'unknown error'})`, { path: rel, causeCode: codeOf(err) }, fsCause(err)))),
  );

/** What {@link openedClaim} needs besides the claim: the target's config, the folder, the record and the sender's mtime. */
interface ClaimConfig {
  readonly at: Folder;
  readonly name: string;
  readonly overwrite: boolean;
  readonly resume: boolean;
  readonly checkpointEvery: number;
  readonly maxQueued: number;
  readonly record?: (persisted: number) => Promise<void>;
  readonly fsync: boolean;
  readonly lastModified?: number;
}

/** One opened claim: what its `finish` and `abort` share ({@link finishClaim}, {@link abortClaim}). */
interface ClaimRun {
  readonly claim: Claim;
  readonly o: ClaimConfig;
  /** The part file's path relative to the target directory, for errors. */
  readonly part: string;
  /** The config's record, which writes nothing once the handle is closed; undefined without resume. */
  readonly record?: (persisted: number) => Promise<void>;
  /** The config's fsync, for the sink and an abort's record; false where writes go through O_SYNC. */
  readonly fsync: boolean;
  /** Closed once; the claim is held until the file is placed or abort has decided. */
  closed: boolean;
  held: boolean;
  /** What the sink wrote in this session, so an abort can record it (a resume then repeats nothing written). */
  written: number;
  /** Whether a progress record may be on disk: a resumed partial has one, a new part file once it checkpointed. */
  recorded: boolean;
}

/** Closes the claim's handle, once. */
const closeClaim = async (run: ClaimRun): Promise<void> => {
  if (run.closed) return;
  run.closed = true;
  await run.claim.handle.close().catch(() => undefined);
};

/** Lets the claim go: another transfer may take the part file. */
const releaseClaim = (run: ClaimRun): void => {
  run.held = false;
  claimed.delete(run.claim.key);
};

/** The OpenedTarget over a claimed part file: writes, then places or keeps or discards it, and lets the claim go. */
function openedClaim(claim: Claim, o: ClaimConfig): OpenedTarget {
  const { path, handle, from } = claim;
  // No record is written once the handle is closed: the claim may pass to another transfer.
  const record = o.record && ((persisted: number) => (run.closed ? Promise.resolve() : ((run.recorded = true), o.record!(persisted))));
  const run: ClaimRun = {
    claim,
    o,
    part: `${o.at.rel}${claim.part}`,
    record,
    // Writes through O_SYNC are on the disk when they return: nothing is left to fsync.
    fsync: o.fsync && !claim.syncWrites,
    closed: false,
    held: true,
    written: 0,
    recorded: from > 0,
  };
  const { part, fsync } = run;
  return {
    from,
    prefix: () => readHeld(path, from, part, `the partial ${part}`),
    sink: (chunks) => diskSink({ handle, part, from, checkpointEvery: o.checkpointEvery, maxQueued: o.maxQueued, record, fsync })(chunks).pipe(tap((n) => (run.written = n))),
    finish: () => finishClaim(run),
    abort: (reason: unknown) => abortClaim(run, reason),
  };
}

/**
 * An opened claim's `finish`: sets the sender's mtime, checks by the open handle that the part file holds what
 * was written, closes it, removes its record and places it ({@link place}); returns the final path, once it
 * checked that what bears the name is the file written.
 */
async function finishClaim(run: ClaimRun): Promise<string> {
  const { claim, o, part } = run;
  const { handle, from, path } = claim;
  // The sender's mtime, set before the file appears under its name: a later offer of the same file finds it.
  if (isTime(o.lastModified)) await handle.utimes(new Date(), new Date(o.lastModified)).catch(() => undefined);
  // The file the bytes went to, by its open handle: the part file's path could have been swapped under it.
  const mine = await handle.stat().catch((err: unknown) => Promise.reject(writeError('checking', part, err)));
  await closeClaim(run);
  if (mine.size !== from + run.written) throw replaced(part, `it holds ${mine.size} B, not the ${from + run.written} B written`);
  // The record goes first: a partial without one is never resumed, so never written into once placed.
  if (run.recorded) await rm(`${path}.json`, { force: true }).catch((err: unknown) => Promise.reject(writeError('removing', `${part}.json`, err)));
  const saved = await place(o.at, claim.part, o.name, o.overwrite);
  releaseClaim(run);
  const final = join(o.at.path, saved);
  // What now bears the name must be the file written (a swapped part file, or a folder swapped for a link,
  // would have put another file there): else it is taken away again and the transfer fails.
  const st = await lstat(final).catch(() => undefined);
  if (!st || !st.isFile() || st.ino !== mine.ino || st.dev !== mine.dev) {
    if (st && !st.isDirectory()) await unlink(final).catch(() => undefined);
    throw replaced(part, `${o.at.rel}${saved} is not the file that was written and verified`);
  }
  return final;
}

/** An opened claim's `abort`: keeps the part file for resume with a record of every byte written, or discards it; lets the claim go. */
async function abortClaim(run: ClaimRun, reason: unknown): Promise<void> {
  const { handle, from, path } = run.claim;
  const record = run.record;
  // A part file this transfer created and never wrote to holds nothing worth keeping.
  let discard = !run.o.resume || isWholeFileMismatch(reason) || (from === 0 && run.written === 0);
  // Kept for resume: every byte written so far counts, not only those at the last checkpoint (a session
  // interrupted by a lost connection then resends at most what was in flight).
  if (!discard && run.held && !run.closed && run.written > 0 && record) {
    const kept = await (run.fsync ? handle.sync() : Promise.resolve()).then(
      () => record(from + run.written).then(() => true),
      () => false,
    ).catch(() => false);
    // A new part file whose record cannot be written (a full disk) could never be resumed: it goes, and frees
    // its space, instead of staying behind while every retry starts another one.
    if (!kept && from === 0) discard = true;
  }
  await closeClaim(run);
  if (!run.held) return;
  try {
    if (discard) {
      await rm(`${path}.json`, { force: true });
      await rm(path, { force: true });
    }
  } catch (err) {
    throw writeError('removing', run.part, err);
  } finally {
    releaseClaim(run);
  }
}

/** The part file was swapped, or its size changed, by someone else while the transfer wrote it. */
const replaced = (part: string, how: string): SinkWriteError =>
  new SinkWriteError(`${part} was changed by something else while it was written (${how}); nothing was placed`, { path: part, causeCode: 'EREPLACED' });

const isTime = (ms: number | undefined): ms is number => typeof ms === 'number' && Number.isFinite(ms) && ms >= 0;

/**
 * True when `name` in `at` is already `manifest`'s file, as an earlier session left it: a regular file
 * (not a link) of the same size whose mtime is the manifest's `lastModified` (which `finish` sets). Only a
 * candidate: the prefix digest the receiver sends decides, and on a mismatch the file is left alone.
 */
async function isFinished(at: Folder, name: string, manifest: Manifest): Promise<boolean> {
  if (!isTime(manifest.lastModified)) return false;
  const st = await lstat(join(at.path, name)).catch(() => undefined);
  return Boolean(st?.isFile() && st.size === manifest.size && Math.abs(st.mtimeMs - manifest.lastModified) < 1);
}

/**
 * The target for a file that is already in place ({@link isFinished}): every byte is held, the prefix is
 * the file itself, and nothing is written, moved or removed, whatever the outcome. After a prefix
 * mismatch the receiver opens the file again with `resume: false`, which lands beside it as ` (n)`.
 */
function finishedTarget(at: Folder, name: string, manifest: Manifest): OpenedTarget {
  const path = join(at.path, name);
  const rel = `${at.rel}${name}`;
  return {
    from: manifest.size,
    prefix: () => readHeld(path, manifest.size, rel, rel),
    sink: (chunks) =>
      chunks.pipe(
        map((c): number => {
          throw new ProtocolError(`a chunk at ${c.offset} of ${rel}, which is complete`, { path: rel, offset: c.offset });
        }),
      ),
    finish: () => path,
    abort: () => undefined,
  };
}

/** A whole-file SHA-256 mismatch (index -1): the bytes held are not the sender's, so they must not be resumed. */
const isWholeFileMismatch = (reason: unknown): boolean =>
  reason instanceof TallowError && reason.code === 'ERR_HASH_MISMATCH' && (reason as { index?: number }).index === -1;
