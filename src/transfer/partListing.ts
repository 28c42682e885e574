/**
 * `directoryTarget`'s cache of the part files in each folder, for `held`.
 */
import { readdir, stat } from 'node:fs/promises';
import { PARTIAL_SUFFIX } from './partName';

/** Coarsest directory mtime resolution expected (FAT: 2 s): a folder's listing is cached for `held` only once it has been quiet this long. */
const MTIME_RESOLUTION_MS = 2_000;

/** Most folder listings one target caches for `held`. */
const MAX_LISTINGS = 1_024;

/**
 * Lists a folder's part files for `held`, reading it again only when its mtime changed (adding,
 * removing or renaming an entry changes it): a peek at 10,000 offered files in a folder of 10,000
 * reads the folder once, not 10,000 times. A folder changed within {@link MTIME_RESOLUTION_MS} is
 * read every time, since a second change in the same mtime tick would not show.
 */
export function partListing(): (folder: string) => Promise<readonly string[]> {
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
