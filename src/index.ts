/**
 * tallow-rx: fast, lossless file transfer over WebRTC DataChannels, built as
 * composable RxJS operators. This file is the whole public surface of the main
 * entry; `tallow-rx/node` adds file-system parts and `tallow-rx/testing` the
 * virtual channels.
 */

// Sources
export { bufferedAmountLow } from './sources/bufferedAmountLow';
export { fromBlob, type FromBlobConfig } from './sources/fromBlob';
export { fromBytes, type FromBytesConfig } from './sources/fromBytes';
export { fromChannelMessages, type FromChannelMessagesConfig } from './sources/fromChannelMessages';
export { fromNodeReadable, type FromNodeReadableConfig, type NodeReadableLike } from './sources/fromNodeReadable';
export { fromReadableStream, type FromReadableStreamConfig } from './sources/fromReadableStream';
export { DEFAULT_READ_SIZE, pullSource, type ByteReader, type SourceConfig } from './sources/pullSource';
export type { StartConfig } from './sources/startOffset';

// Flow control
export { Demand, type DemandConfig } from './flow/Demand';
export { DEFAULT_FRAME_POOL_CAPACITY, FramePool, type FramePoolConfig } from './flow/FramePool';

// Operators
export { adaptiveChunk, DEFAULT_INITIAL_CHUNK_SIZE, type AdaptiveChunkConfig } from './operators/adaptiveChunk';
export {
  backpressure,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_LOW_WATER_MARK,
  DEFAULT_POLL_INTERVAL,
  type BackpressureConfig,
} from './operators/backpressure';
export {
  CHUNK_TIERS,
  chooseChunkSize,
  chunkPolicy,
  clampChunkSize,
  type ChunkPolicy,
  type ChunkPolicyConfig,
  type ChunkTier,
  type NetworkConditions,
} from './operators/chooseChunkSize';
export { decodeFrames, type DecodeFramesConfig } from './operators/decodeFrames';
export { encodeFrames, type EncodeFramesConfig } from './operators/encodeFrames';
export { leastBuffered } from './operators/leastBuffered';
export { DEFAULT_REORDER_MAX_BYTES, DEFAULT_REORDER_WINDOW, reorder, type ReorderConfig } from './operators/reorder';
export { repairChunks, type RepairChunksConfig } from './operators/repairChunks';
export { roundRobin } from './operators/roundRobin';
export type { RouteConfig } from './operators/routeInternals';
export { verifyChunk } from './operators/verifyChunk';
export { verifyHash, type VerifyHashConfig } from './operators/verifyHash';

// Sinks
export { sendToChannels, type SendToChannelsConfig } from './sinks/sendToChannels';
export { toBlob, type ToBlobConfig } from './sinks/toBlob';
export { DEFAULT_MAX_QUEUED_BYTES, toWritableStream, type ToWritableStreamConfig } from './sinks/toWritableStream';

// Stats
export { answerPings } from './stats/answerPings';
export { bitrate$, type Bitrate } from './stats/bitrate$';
export { detectBottleneck } from './stats/detectBottleneck';
export { loss$ } from './stats/loss$';
export { parseStatsReport, type PeerStatsSample } from './stats/parseStatsReport';
export { pickProfile, type ProfileInputs } from './stats/pickProfile';
export { pingRtt, type PingConfig } from './stats/pingRtt';
export { qualityScore } from './stats/qualityScore';
export { recommend } from './stats/recommend';
export { rtt$ } from './stats/rtt$';
export { sampleDelta, type SampleDelta } from './stats/sampleDelta';
export { statsSamples, type StatsSamplesConfig } from './stats/statsSamples';
export type {
  Bottleneck,
  Recommendation,
  RecommendationAction,
  RttSummary,
  StatsInput,
  StatsInputKind,
  Throughput,
  TransferSignals,
  TransferStats,
} from './stats/statsTypes';
export { DEFAULT_SAMPLE_INTERVAL, DEFAULT_WINDOW_SIZE, transferStats, type TransferStatsConfig } from './stats/transferStats';

// Transfers
export { describeFile, limitBytes, streamFile, type FileDescriptor, type FileInput, type FileMeta, type ReadRange } from './transfer/fileInput';
export { AUTO_START, PROFILES, resolveTuning, validateTuning, type ProfileName, type TransferTuning } from './transfer/profiles';
export { blobTarget, writableTarget, type OpenedTarget, type ReceiveTarget } from './transfer/ReceiveTarget';
export { receiveFile, type ReceiveLimits, type ReceiveOptions } from './transfer/receiveFile';
export { autoLanes, MAX_AUTO_LANES, probeConditions, probeProfile, sendFile, type SendOptions } from './transfer/sendFile';
export { CONTROL_LABEL, ID_BLOCK_FIRST, MAX_CHANNEL_ID } from './transfer/transferChannels';
export type { TransferEvent, TransferEventType } from './transfer/TransferEvent';
export { withViews, type TransferObservable, type TransferProgress } from './transfer/TransferObservable';

// Protocol
export {
  CONTROL_VERSION,
  encodeControl,
  MAX_CHANNELS,
  MAX_CONTROL_MESSAGE,
  MAX_NACK_ENTRIES,
  MAX_NAME_LENGTH,
  parseControl,
  type ControlMessage,
  type ControlType,
  type Manifest,
  type Reliability,
} from './protocol/control';
export {
  decodeFrame,
  encodeFrame,
  FLAG_RETRANSMIT,
  FRAME_HEADER_SIZE,
  FRAME_VERSION,
  FrameType,
  MAX_FRAME_PAYLOAD,
  toBytes,
  type DataFrame,
  type FrameHeaderInput,
} from './protocol/frame';
export { MAX_SAFE_NAME_BYTES, sanitizeFileName } from './protocol/sanitizeFileName';

// Hashing
export { crc32, crc32Hex } from './hash/crc32';
export { createSha256, sha256Hex, type Sha256, type Sha256Factory } from './hash/sha256';

// Types and limits
export {
  CHROME_MAX_MESSAGE_SIZE,
  MIN_CHUNK_SIZE,
  SEND_QUEUE_LIMIT,
  type Bytes,
  type Chunk,
  type DataChannelLike,
  type Listener,
  type PeerConnectionLike,
  type Routed,
} from './types';

// Errors
export {
  ChannelClosedError,
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
  type ErrorDetails,
  type FrameErrorCode,
} from './errors';
