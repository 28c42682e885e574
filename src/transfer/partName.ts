/**
 * Names of `directoryTarget`'s part files: the suffix, the slots per name (and ` (n)` names tried), and the
 * flag that opens a part file or record without following a symbolic link.
 */
import { constants } from 'node:fs';

/** Suffix of a partial file; its progress record adds `.json`. */
export const PARTIAL_SUFFIX = '.tallow-part';

/** Most part-file slots per name, and most ` (n)` names tried for a finished file. */
export const MAX_NAMES = 10_000;

/** Opening a part file or record never follows a symbolic link (0 where the platform has no O_NOFOLLOW). */
export const NOFOLLOW = (constants.O_NOFOLLOW as number | undefined) ?? 0;

/** Part file of slot `n`: `<name>.tallow-part`, then `<name>.<n>.tallow-part`. */
export const partName = (name: string, n: number) => (n === 0 ? `${name}${PARTIAL_SUFFIX}` : `${name}.${n}${PARTIAL_SUFFIX}`);

/** The slot of directory entry `file` if it is a part file of `name`, else -1. */
export const slotOf = (file: string, name: string): number => {
  if (file === partName(name, 0)) return 0;
  if (!file.startsWith(`${name}.`) || !file.endsWith(PARTIAL_SUFFIX)) return -1;
  const n = file.slice(name.length + 1, -PARTIAL_SUFFIX.length);
  return /^[1-9][0-9]*$/.test(n) && Number(n) < MAX_NAMES ? Number(n) : -1;
};
