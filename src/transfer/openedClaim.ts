/**
 * A claimed part file opened for one transfer: written by {@link diskSink}, then placed ({@link place}),
 * kept for resume or discarded, and the claim let go.
 */
import { lstat, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { TallowError } from '../errors';
import { claimed, type Claim } from './claimPart';
import { diskSink } from './diskSink';
import { isTime } from './finishedTarget';
import { place } from './place';
import { syncFolder } from './syncFolder';
import type { OpenedTarget } from './ReceiveTarget';
import { readHeld } from './readHeld';
import type { Folder } from './targetFolders';
import { replaced, writeError } from './writeError';

/** What {@link openedClaim} needs besides the claim: the target's config, the folder, the record and the sender's mtime. */
export interface ClaimConfig {
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
export function openedClaim(claim: Claim, o: ClaimConfig): OpenedTarget<string> {
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
  // What place() moves: the part file, or whatever was swapped in for it.
  const moved = await lstat(join(o.at.path, claim.part)).catch(() => undefined);
  const saved = await place(o.at, claim.part, o.name, o.overwrite);
  releaseClaim(run);
  const final = join(o.at.path, saved);
  // What now bears the name must be the file written (a swapped part file, or a folder swapped for a link,
  // would have put another file there), else the transfer fails. The file there is taken away only when it is
  // the one place() moved: through a folder swapped for a link after placing, it is someone else's (an
  // outside check: a file of the same name in the folder the link pointed to was removed).
  const st = await lstat(final).catch(() => undefined);
  if (!st || !st.isFile() || !sameFile(st, mine)) {
    const ours = st && moved && !st.isDirectory() && sameFile(st, moved);
    if (ours) await unlink(final).catch(() => undefined);
    throw replaced(part, `${o.at.rel}${saved} is not the file that was written and verified`, ours ? undefined : 'what bears the name was left alone');
  }
  // The name is durable too before the file is reported complete (with `fsync`): the folder's entries.
  if (o.fsync) await syncFolder(o.at.path, o.at.rel);
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
  // The part file is removed only while it is still the file this claim opened: something else may have put its
  // own where it was (an outside check: a 1-byte file put in place of a renamed part file was removed).
  const ours = discard && !run.closed ? await handle.stat().catch(() => undefined) : undefined;
  await closeClaim(run);
  if (!run.held) return;
  try {
    if (discard) {
      await rm(`${path}.json`, { force: true });
      const there = await lstat(path).catch(() => undefined);
      if (ours && there && sameFile(there, ours)) await rm(path, { force: true });
    }
  } catch (err) {
    throw writeError('removing', run.part, err);
  } finally {
    releaseClaim(run);
  }
}

/** A whole-file SHA-256 mismatch (index -1): the bytes held are not the sender's, so they must not be resumed. */
const isWholeFileMismatch = (reason: unknown): boolean =>
  reason instanceof TallowError && reason.code === 'ERR_HASH_MISMATCH' && (reason as { index?: number }).index === -1;

/** Whether two stats are of one file (same device and inode). */
const sameFile = (a: { ino: number; dev: number }, b: { ino: number; dev: number }): boolean => a.ino === b.ino && a.dev === b.dev;
