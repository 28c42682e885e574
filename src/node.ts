/**
 * `tallow-rx/node`: the parts that need Node.js built-ins (`node:fs`) or Node-only
 * packages (node-datachannel, an optional peer dependency loaded on first use).
 * Kept out of the main entry so that `tallow-rx` bundles for browsers.
 */

// Connecting
export { connectLoopbackPair, type LoopbackPair, type LoopbackPairConfig } from './connect/connectLoopbackPair';

// Sinks
export { toFile, DEFAULT_FILE_QUEUED_BYTES, type FileWriteResult, type ToFileConfig } from './sinks/toFile';

// Sources
export { fromFilePath, type FromFilePathConfig } from './sources/fromFilePath';

// Transfers
export { directoryTarget, PARTIAL_SUFFIX, type DirectoryTargetConfig } from './transfer/directoryTarget';
export { fileFromPath } from './transfer/fileFromPath';
