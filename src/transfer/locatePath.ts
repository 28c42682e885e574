/**
 * Where a path named by the peer lands in a receiver's folder. `directoryTarget` places files and folders with
 * it, and the offer's listing checks its tree on the same places, so that two names which land on one path
 * (`x?` and `x_/y.txt`: `x_` both times) are caught before anything is written.
 */
import { sanitizeFileName } from '../protocol/sanitizeFileName';

/** Where a peer's path lands: the safe folder segments under the target directory, and the file name. */
export interface Location {
  readonly folders: readonly string[];
  readonly name: string;
}

/** A path from the peer starting with a drive (`C:`): absolute on Windows. */
const DRIVE = /^[a-z]:/i;

/** `segment` made safe by sanitizeFileName, or undefined when nothing usable is left. */
const safeSegment = (segment: string): string | undefined => {
  try {
    return sanitizeFileName(segment);
  } catch {
    return undefined;
  }
};

/**
 * Where a file (or folder) named `path` by the peer lands. A plain relative path (`/`-separated; no
 * empty, `.` or `..` segment, no backslash, not absolute or drive-rooted, every segment usable) keeps
 * its folders, each segment made safe like a file name (`.git/CON` → `git/_CON`). Any other path keeps
 * only its last segment, as `sanitizeFileName` does for one name (`../../etc/passwd` → `passwd`,
 * `C:\x\win.ini` → `win.ini`), so nothing lands outside the directory. Throws `ProtocolError`
 * (`ERR_UNSAFE_NAME`) where sanitizeFileName does: NUL anywhere, or no usable last segment.
 *
 * @param path The name from the peer's `entry` or `folder`.
 * @return The folders and the name it lands on.
 */
export function locatePath(path: string): Location {
  const name = sanitizeFileName(path);
  const segments = path.split('/');
  const plain = !path.includes('\\') && !DRIVE.test(path) && segments.every((s) => s !== '' && s !== '.' && s !== '..');
  const folders = plain ? segments.slice(0, -1).map(safeSegment) : [];
  return { folders: folders.every((s) => s !== undefined) ? (folders as string[]) : [], name };
}

/**
 * The segments a path lands on, trailing slashes ignored (a `folder` may end in one): its folders, then its
 * last segment. Throws as {@link locatePath} does.
 */
export function landingSegments(path: string): string[] {
  // Not a string: locatePath refuses it (ProtocolError ERR_UNSAFE_NAME), as for any name.
  const { folders, name } = locatePath(typeof path === 'string' ? path.replace(/\/+$/, '') : path);
  return [...folders, name];
}

/** The path `name` lands on, `/`-joined; the name itself where it cannot land anywhere (NUL, nothing usable). */
export function landingPath(name: string): string {
  try {
    return landingSegments(name).join('/');
  } catch {
    return name;
  }
}
