/**
 * tallow-rx: fast, lossless file transfer over WebRTC DataChannels, built as
 * composable RxJS operators. This file is the whole public surface of the main
 * entry; `tallow-rx/node` adds the Node.js parts (files, Node streams,
 * connectLoopbackPair) and `tallow-rx/testing` the virtual channels.
 *
 * What is here: the two transfer functions and what they take and return; the
 * sources, operators and sinks they are made of, for composing a pipeline by
 * hand; the stats a UI shows; the error classes; the types all of these share.
 * No constants: defaults are documented, not exported. The wire codecs and
 * limits are in `tallow-rx/protocol`, the stats building blocks in
 * `tallow-rx/stats`.
 */

// Transfers
export { blobTarget, writableTarget, type OpenedTarget, type ReceiveTarget } from './transfer/ReceiveTarget';
export { filesFromDataTransfer, filesFromFileList } from './transfer/filesFromBrowser';
export type { FileSet, SkippedInput } from './transfer/FileSet';
export type { ProfileName } from './transfer/profiles';
export { receiveFile, type ReceiveOptions } from './transfer/receiveFile';
export { receiveFiles, type AcceptDecision, type ReceiveFilesOptions } from './transfer/receiveFiles';
export { sendFile, type ChunkBounds, type SendOptions } from './transfer/sendFile';
export { sendFiles } from './transfer/sendFiles';
export type { FileResult, SessionEvent, SessionOffer } from './transfer/SessionEvent';
export type { Connections, ReconnectOptions } from './transfer/resumeSession';
export type { SessionObservable, SessionProgress } from './transfer/SessionObservable';
export { streamFile, type FileDescriptor, type FileInput } from './transfer/fileInput';
export type { TransferEvent } from './transfer/TransferEvent';
export type { TransferObservable, TransferProgress } from './transfer/TransferObservable';
export type { Sha256, Sha256Factory } from './hash/sha256';

// Data channels off the page's main thread
export { channelsInWorker, type ChannelsInWorkerConfig } from './channels/channelsInWorker';

// Sources
export { bufferedAmountLow } from './sources/bufferedAmountLow';
export { fromBlob, type FromBlobConfig } from './sources/fromBlob';
export { fromBytes, type FromBytesConfig } from './sources/fromBytes';
export { fromChannelMessages, type FromChannelMessagesConfig } from './sources/fromChannelMessages';
export { fromReadableStream, type FromReadableStreamConfig } from './sources/fromReadableStream';
export { pullSource, type ByteReader, type SourceConfig } from './sources/pullSource';

// Operators, and the flow-control objects they share (Demand: read credit; FramePool: reused frame buffers)
export { adaptiveChunk, type AdaptiveChunkConfig } from './operators/adaptiveChunk';
export { backpressure, type BackpressureConfig } from './operators/backpressure';
export { chooseChunkSize, type ChunkPolicyConfig, type NetworkConditions } from './operators/chooseChunkSize';
export { decideLanes, type LaneAction, type LaneReason, type LaneSample } from './transfer/decideLanes';
export { decodeFrames, type DecodeFramesConfig } from './operators/decodeFrames';
export { Demand, type DemandConfig } from './flow/Demand';
export { encodeFrames, type EncodeFramesConfig } from './operators/encodeFrames';
export { FramePool, type FramePoolConfig } from './flow/FramePool';
export { laneController, type LaneControllerOptions, type LaneDecision, type LaneMeasurement } from './transfer/laneController';
export type { LaneControllerConfig } from './transfer/laneControllerConfig';
export type { CreateConnection, LaneOptions, LaneSignalOut } from './transfer/laneSignal';
export { leastBuffered } from './operators/leastBuffered';
export { reorder, type ReorderConfig } from './operators/reorder';
export { repairChunks, type RepairChunksConfig } from './operators/repairChunks';
export { roundRobin } from './operators/roundRobin';
export type { RouteConfig } from './operators/routeInternals';
export { verifyChunk } from './operators/verifyChunk';
export { verifyHash, type VerifyHashConfig } from './operators/verifyHash';

// Sinks
export { sendToChannels, type SendToChannelsConfig } from './sinks/sendToChannels';
export { toBlob, type ToBlobConfig } from './sinks/toBlob';
export { toWritableStream, type ToWritableStreamConfig } from './sinks/toWritableStream';

// Stats: what every transfer emits (the building blocks are in `tallow-rx/stats`)
export type { LaneChange, TransferStats } from './stats/statsTypes';

// Verifying the peer: a short authentication string from the DTLS fingerprints
export { FingerprintError, parseFingerprints, shortAuthString, type Fingerprint, type FingerprintErrorCode, type ShortAuthStringConfig } from './connect/shortAuthString';

// Errors
export {
  ChannelClosedError,
  ConnectionLostError,
  FrameDecodeError,
  HashMismatchError,
  IdleTimeoutError,
  InvalidConfigError,
  LimitExceededError,
  MessageTooLargeError,
  ProtocolError,
  ReorderError,
  SinkWriteError,
  SourceReadError,
  TallowError,
  TransferCancelledError,
  TransferRejectedError,
  type TallowErrorCode,
} from './errors';
export { HashWorkerError } from './hash/HashWorkerError';

// Types
export type { Manifest } from './protocol/control';
export type { Bytes, Chunk, DataChannelLike, PeerConnectionLike, Routed } from './types';
