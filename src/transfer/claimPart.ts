/**
 * Claims on `directoryTarget`'s part files: one writer per part file in this process. A claim takes a
 * partial to resume or creates a new part file; `peekPartial` says what would be resumed, claiming nothing.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SinkWriteError } from '../errors';
import type { Manifest } from '../protocol/control';
import { MAX_NAMES, NOFOLLOW, partName, slotOf } from './partName';
import type { PartialRecord } from './progressRecord';
import { O_SYNC } from './syncWritesFor';
import type { Folder } from './targetFolders';
import { codeOf, writeError } from './writeError';

/**
 * Part files a transfer in this process holds (real paths), across every directoryTarget: one writer per part file.
 * One set for the whole process; `openIn` (directoryTarget.ts) and openedClaim.ts delete a key when they let it go.
 */
export const claimed = new Set<string>();

/** A part file this transfer holds. */
export interface Claim {
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
export async function claimPartial(at: Folder, name: string, manifest: Manifest): Promise<Claim | undefined> {
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
export async function peekPartial(at: Folder, parts: readonly string[], name: string, manifest: Manifest): Promise<number> {
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
 * one. With `syncWrites`, opened with `O_SYNC` as well (see `syncWritesFor`, syncWritesFor.ts). Part files are written in
 * append mode (`O_APPEND`, here and on resume): see `diskSink` (diskSink.ts).
 */
export async function claimNew(at: Folder, name: string, syncWrites: boolean): Promise<Claim> {
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
