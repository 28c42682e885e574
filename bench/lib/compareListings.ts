/**
 * Compares two listings of a folder tree (what was sent against what arrived), so a benchmark that
 * moves wrong bytes fails with the first few differences named.
 */

/** One file in a listing; a folder is a key ending in `/` with size 0. */
export interface ListedEntry {
  readonly size: number;
  /** Lowercase hex SHA-256, when the listing hashed the file; compared only when both sides have it. */
  readonly sha256?: string;
}

/** Relative path (`/`-separated) → entry. */
export type Listing = ReadonlyMap<string, ListedEntry>;

/** How many differences {@link compareListings} names before it summarises the rest. Default 5. */
const DEFAULT_LIMIT = 5;

/**
 * The differences between `expected` and `actual`: missing and unexpected paths, sizes and digests
 * that differ. Empty when they agree. At most `limit` are named; one more line counts the rest.
 *
 * ```
 * compareListings({a: 4 B, b: 4 B}, {a: 3 B, c: 4 B})  →  ['a: 3 B, expected 4 B', 'missing b', 'unexpected c']
 * ```
 * @param expected the source tree's listing
 * @param actual the received tree's listing
 * @param limit how many differences to name (default 5)
 * @return one line per difference, empty when the trees agree
 */
export function compareListings(expected: Listing, actual: Listing, limit = DEFAULT_LIMIT): string[] {
  const problems: string[] = [];
  for (const [path, want] of expected) {
    const got = actual.get(path);
    if (!got) problems.push(`missing ${path}`);
    else if (got.size !== want.size) problems.push(`${path}: ${got.size} B, expected ${want.size} B`);
    else if (got.sha256 !== undefined && want.sha256 !== undefined && got.sha256 !== want.sha256) problems.push(`${path}: sha256 ${got.sha256.slice(0, 12)}…, expected ${want.sha256.slice(0, 12)}…`);
  }
  for (const path of actual.keys()) if (!expected.has(path)) problems.push(`unexpected ${path}`);
  return problems.length > limit ? [...problems.slice(0, limit), `… and ${problems.length - limit} more`] : problems;
}
