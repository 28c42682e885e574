/**
 * Receives files into a directory on disk, with resume (Node.js only: import it
 * from `tallow-rx/node`). Here: `directoryTarget`, its options and how a file is opened in its folder.
 * The parts, each in its own file: part-file names (partName.ts), the part-file listing `held` caches
 * (partListing.ts), claims on part files (claimPart.ts), which files are written with `O_SYNC`
 * (syncWritesFor.ts), the progress record (progressRecord.ts), the disk sink (diskSink.ts), placing a
 * finished file under its name (place.ts), an opened claim's writes, finish and abort (openedClaim.ts), a
 * file an earlier session finished (finishedTarget.ts), reading held bytes (readHeld.ts), and the
 * file-system errors (writeError.ts).
 */
import type { Manifest } from '../protocol/control';
import type { SinkWriteError } from '../errors';
import { landingSegments, locatePath } from './locatePath';
import type { OpenedTarget, OpenHints, ReceiveTarget } from './ReceiveTarget';
import { targetFolders, type Folder } from './targetFolders';
import { codeOf } from './writeError';
import { bool, checkOptions, invalid, limit, positive, type RuleTable } from './checkOptions';
import { claimed, claimNew, claimPartial, peekPartial } from './claimPart';
import { finishedTarget, isFinished } from './finishedTarget';
import { openedClaim } from './openedClaim';
import { partListing } from './partListing';
import { progressRecord } from './progressRecord';
import { SYNC_WRITE_MAX_BYTES, syncWritesFor } from './syncWritesFor';

export { PARTIAL_SUFFIX } from './partName';
export { SYNC_WRITE_MAX_BYTES };

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
export function directoryTarget(dir: string, config: DirectoryTargetConfig = {}): ReceiveTarget<string> {
  if (typeof dir !== 'string' || dir === '') throw invalid('directoryTarget', 'dir', 'a non-empty string', dir);
  const o = checkOptions('directoryTarget', config, DIRECTORY_RULES, 'options', []);
  const resume = o.resume ?? true;
  const overwrite = o.overwrite ?? false;
  const checkpointEvery = o.checkpointEvery ?? 8 * 1024 * 1024;
  const maxQueued = o.maxQueuedBytes ?? 64 * 1024 * 1024;
  const fsync = o.fsync ?? true;
  // Part-file listings for held(), read again only when a folder changed; the folders, checked once a second at most.
  const listParts = partListing();
  const folders = targetFolders(dir);
  return {
    open: async (manifest: Manifest, hints?: OpenHints): Promise<OpenedTarget<string>> => {
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
async function openIn(at: Folder, manifest: Manifest, o: OpenConfig): Promise<OpenedTarget<string>> {
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
