/**
 * What `sendFiles` sends: files, each named by its path relative to the shared
 * root ('/'-separated, e.g. `photos/2024/a.jpg`), and folders to create even
 * when empty. `filesFromPaths` (Node), `filesFromFileList` and
 * `filesFromDataTransfer` (browsers) build one.
 */
import type { FileDescriptor } from './fileInput';

/** An input left out of a {@link FileSet}, and why (a symlink, a special file, an unreadable entry). */
export interface SkippedInput {
  readonly path: string;
  readonly reason: string;
}

export interface FileSet {
  /** The files; each descriptor's `name` is its relative path. */
  readonly files: readonly FileDescriptor[];
  /** Relative paths of folders to recreate even if no file lands in them. Default none. */
  readonly folders?: readonly string[];
  /** What was left out while collecting the set; reported, never sent. */
  readonly skipped?: readonly SkippedInput[];
}
