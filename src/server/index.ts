/**
 * `tallow-rx/server`: the rendezvous server (Node only). Rooms, short codes,
 * WebSocket signalling and limits, in memory or in Redis, with TURN
 * credentials. docs/deploy.md describes running it; the protocol's types
 * (signalling.ts, roomCode.ts) have no Node imports and can be bundled into a
 * page.
 */

// Server
export { createRendezvous, type JoinQuery, type Rendezvous, type RendezvousConfig, type RendezvousPeer, type RendezvousSocket } from './createRendezvous';
export { DEFAULT_HOST, DEFAULT_PORT, FIRST_REQUEST_TIMEOUT_MS, HEALTH_PATH, MAX_QUEUED_BYTES, SIGNAL_PATH, startRendezvousServer, type RendezvousServer, type RendezvousServerConfig } from './startRendezvousServer';
export { turnCredentials, type TurnConfig } from './turnCredentials';

// Stores
export { memoryStore, type MemoryStoreConfig } from './memoryStore';
export { redisStore, type RedisStoreConfig } from './redisStore';
export type { BusEvent, JoinRequest, JoinResult, MemberRecord, RateLimit, RateLimiter, RendezvousStore, RoomRecord } from './RendezvousStore';

// Protocol
export { formatRoomCode, generateRoomCode, normalizeRoomCode, ROOM_CODE_ALPHABET, ROOM_CODE_LENGTH } from './roomCode';
export {
  candidateFilter,
  CLOSE_BAD_REQUEST,
  CLOSE_RATE_LIMITED,
  CLOSE_REPLACED,
  CLOSE_ROOM_FULL,
  CLOSE_UNAVAILABLE,
  CLOSE_UNKNOWN_CODE,
  DEFAULT_LANES,
  filterSdpCandidates,
  isHostUdpCandidate,
  isRelayCandidate,
  MAX_LANES,
  MAX_SIGNAL_BYTES,
  parseLanes,
  parseSignal,
  ROOM_PATTERN,
  type CandidateJson,
  type CandidatePolicy,
  type DescriptionJson,
  type IceServerJson,
  type ServerMessage,
  type SignalErrorCode,
  type SignalMessage,
} from './signalling';
export { createTokenBucket, type TokenBucket, type TokenBucketConfig } from './tokenBucket';
