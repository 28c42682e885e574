/**
 * `tallow-rx/node`: the parts that need Node.js built-ins (`node:fs`). Kept out
 * of the main entry so that `tallow-rx` bundles for browsers.
 */

// Sinks
export { toFile, DEFAULT_FILE_QUEUED_BYTES, type FileWriteResult, type ToFileConfig } from './sinks/toFile';

// Sources
export { fromFilePath, type FromFilePathConfig } from './sources/fromFilePath';

// Transfers
export { directoryTarget, PARTIAL_SUFFIX, type DirectoryTargetConfig } from './transfer/directoryTarget';
export { fileFromPath } from './transfer/fileFromPath';
