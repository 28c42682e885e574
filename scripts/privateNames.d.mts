/** Private-only member names in `root`'s src/ (sorted): what the package build may shorten. */
export function privateOnlyNames(root: string): string[];
/** The esbuild `mangleProps` pattern for {@link privateOnlyNames}. */
export function privateNamesPattern(root: string): RegExp;
