/**
 * Real folder trees for the many-files benchmark: random files written in pieces (never a whole large
 * file in memory), empty files and folders, and listings of what is on disk to compare.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListedEntry, Listing } from './compareListings';

/** Bytes generated and written at a time. */
const PIECE = 1024 * 1024;
/** Files created at once. */
const CONCURRENCY = 64;

/** Runs `task` over `items`, `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Writes `size` random bytes to each of `paths` at once (the same bytes in every file), a piece at a
 * time, and returns their SHA-256. Several paths make identical copies (the parts and the whole).
 */
export async function writeRandom(paths: readonly string[], size: number): Promise<string> {
  const hash = createHash('sha256');
  const piece = Buffer.allocUnsafe(Math.min(PIECE, Math.max(size, 1)));
  const handles = await Promise.all(paths.map((p) => open(p, 'w')));
  try {
    for (let offset = 0; offset < size; ) {
      const n = Math.min(piece.length, size - offset);
      randomFillSync(piece, 0, n);
      const view = piece.subarray(0, n);
      hash.update(view);
      for (const h of handles) await h.write(view, 0, n);
      offset += n;
    }
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
  return hash.digest('hex');
}

/**
 * `count` random files of `size` bytes in `dir` (created), named `f00000.bin` …; returns the
 * listing relative to `dir`'s parent (`<basename of dir>/f00000.bin`, as `filesFromPaths([dir])` names them).
 */
export async function writeSmallFiles(dir: string, top: string, count: number, size: number): Promise<Map<string, ListedEntry>> {
  await mkdir(dir, { recursive: true });
  const listing = new Map<string, ListedEntry>([[`${top}/`, { size: 0 }]]);
  const names = Array.from({ length: count }, (_, i) => `f${String(i).padStart(5, '0')}.bin`);
  await eachLimited(names, CONCURRENCY, async (name) => {
    listing.set(`${top}/${name}`, { size, sha256: await writeRandom([join(dir, name)], size) });
  });
  return listing;
}

/** `count` empty files in `dir` and the (empty, nested) `folders` under it; returns the listing as {@link writeSmallFiles} does. */
export async function writeEmptyTree(dir: string, top: string, count: number, folders: readonly string[]): Promise<Map<string, ListedEntry>> {
  await mkdir(dir, { recursive: true });
  const listing = new Map<string, ListedEntry>([[`${top}/`, { size: 0 }]]);
  for (const folder of folders) {
    await mkdir(join(dir, folder), { recursive: true });
    const parts = folder.split('/');
    for (let i = 1; i <= parts.length; i++) listing.set(`${top}/${parts.slice(0, i).join('/')}/`, { size: 0 });
  }
  const names = Array.from({ length: count }, (_, i) => `e${String(i).padStart(5, '0')}`);
  await eachLimited(names, CONCURRENCY, async (name) => {
    await (await open(join(dir, name), 'w')).close();
    listing.set(`${top}/${name}`, { size: 0 });
  });
  return listing;
}

/** SHA-256 of a file on disk, read as a stream. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path, { highWaterMark: PIECE })) hash.update(piece as Buffer);
  return hash.digest('hex');
}

/**
 * What is under `root`, recursively: files with their size (and SHA-256 when `hash` says so for that
 * path), folders as `path/`. Paths are relative to `root`, `/`-separated.
 */
export async function listTree(root: string, hash: (path: string, size: number) => boolean = () => false): Promise<Listing> {
  const listing = new Map<string, ListedEntry>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = await readdir(abs, { withFileTypes: true });
    const files = entries.filter((e) => !e.isDirectory());
    await eachLimited(files, CONCURRENCY, async (entry) => {
      const path = `${rel}${entry.name}`;
      const full = join(abs, entry.name);
      const { size } = await stat(full);
      listing.set(path, hash(path, size) ? { size, sha256: await hashFile(full) } : { size });
    });
    for (const entry of entries.filter((e) => e.isDirectory())) {
      listing.set(`${rel}${entry.name}/`, { size: 0 });
      await walk(join(abs, entry.name), `${rel}${entry.name}/`);
    }
  };
  await walk(root, '');
  return listing;
}
