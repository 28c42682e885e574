/**
 * `tallow-rx/node`: the parts for Node.js: files (`node:fs`), Node streams, and
 * node-datachannel (an optional peer dependency, loaded on first use). Kept out
 * of the main entry so that `tallow-rx` bundles for browsers.
 */

// Transfers
export { directoryTarget, type DirectoryTargetConfig } from './transfer/directoryTarget';
export { fileFromPath } from './transfer/fileFromPath';
export { filesFromPaths, type FilesFromPathsConfig } from './transfer/filesFromPaths';

// Sources
export { fromFilePath, type FromFilePathConfig } from './sources/fromFilePath';
export { fromNodeReadable, type FromNodeReadableConfig } from './sources/fromNodeReadable';

// Sinks
export { toFile, type FileWriteResult, type ToFileConfig } from './sinks/toFile';

// Connecting
export { connectLoopbackPair, type LoopbackPair, type LoopbackPairConfig } from './connect/connectLoopbackPair';
export { SCTP_CONGESTION_CONTROL, useSctpCongestionControl, type SctpCongestionControl, type SctpSettingsApi, type UseSctpCongestionControlConfig } from './connect/useSctpCongestionControl';
