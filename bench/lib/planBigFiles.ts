/**
 * How big the many-files benchmark's large-file case can be on the disk at hand: the sources (the
 * parts and the single file) and one received copy must fit, with room to spare.
 */

/** What {@link planBigFiles} decided. */
export interface BigFilesPlan {
  /** Bytes of each part file; the single file holds `parts × partSize`. */
  readonly partSize: number;
  readonly parts: number;
  /** `parts × partSize`. */
  readonly total: number;
  /** True when `total` is below the wanted total because the disk is short. */
  readonly scaled: boolean;
  /** Why it was scaled (free and needed bytes), for the output and the docs. */
  readonly reason?: string;
}

/** Bytes left free beyond what the benchmark needs. Default 1 GB. */
export const DEFAULT_RESERVE = 1e9;
/** Part sizes are whole multiples of this, bytes. */
const PART_STEP = 1e6;
/** Copies of `total` on disk at once: the parts, the single file, one received copy. */
const COPIES = 3;

/**
 * Plans `parts` files of `total / parts` bytes each (and one file of `total`) within `freeBytes`:
 * the wanted size when three copies and `reserve` fit, else the largest whole-megabyte parts that do.
 * Throws when not even one megabyte per part fits.
 *
 * ```
 * planBigFiles(79e9, 1e9, 10)  →  { partSize: 1e8, parts: 10, total: 1e9, scaled: false }
 * planBigFiles(2e9, 1e9, 10)   →  { partSize: 3.3e7, parts: 10, total: 3.3e8, scaled: true, reason }
 * ```
 * @param freeBytes bytes available to this user on the temp folder's file system (`statfs`: bavail × bsize)
 * @param total the wanted sum of the parts, bytes
 * @param parts how many part files
 * @param reserve bytes to leave free (default {@link DEFAULT_RESERVE})
 * @return the plan
 */
export function planBigFiles(freeBytes: number, total: number, parts: number, reserve = DEFAULT_RESERVE): BigFilesPlan {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`parts must be a positive integer, got ${parts}`);
  if (!(total >= parts * PART_STEP)) throw new RangeError(`total must be at least ${parts * PART_STEP} B, got ${total}`);
  const needed = COPIES * total + reserve;
  if (freeBytes >= needed) {
    const partSize = Math.floor(total / parts);
    return { partSize, parts, total: partSize * parts, scaled: false };
  }
  const partSize = Math.floor((freeBytes - reserve) / COPIES / parts / PART_STEP) * PART_STEP;
  if (partSize < PART_STEP) throw new RangeError(`only ${(freeBytes / 1e9).toFixed(2)} GB free: not enough for ${parts} files of 1 MB (three copies + ${(reserve / 1e9).toFixed(1)} GB reserve)`);
  const reason = `${(freeBytes / 1e9).toFixed(2)} GB free, ${(needed / 1e9).toFixed(2)} GB needed for ${parts} × ${total / parts / 1e6} MB`;
  return { partSize, parts, total: partSize * parts, scaled: true, reason };
}
