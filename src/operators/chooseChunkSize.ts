/**
 * The chunk-size policy: a pure function from network conditions to a payload
 * size that always fits in one DataChannel message.
 */
import { InvalidConfigError } from '../errors';
import { FRAME_HEADER_SIZE, MAX_FRAME_PAYLOAD } from '../protocol/frame';
import { configObject } from '../configObject';
import { CHROME_MAX_MESSAGE_SIZE, MIN_CHUNK_SIZE } from '../types';

/** What the policy knows about the path. */
export interface NetworkConditions {
  /** Round-trip time in milliseconds (finite, >= 0). */
  readonly rttMs: number;
  /** Packet loss rate, 0..1. Unknown when omitted (treated as 0). */
  readonly lossRate?: number;
  /** Measured throughput in bits per second. Unknown when omitted. */
  readonly bitrateBps?: number;
}

/** Limits the policy must respect. */
export interface ChunkPolicyConfig {
  /** Negotiated max message size in bytes (`sctp.maxMessageSize`; may be `Infinity`). Default 262144 (Chrome). */
  readonly maxMessageSize?: number;
  /** Smallest payload ever chosen, in bytes. Default 16 KiB (`MIN_CHUNK_SIZE`). */
  readonly minChunk?: number;
  /** Largest payload ever chosen, in bytes. Default: no extra cap. */
  readonly maxChunk?: number;
  /** Whether the channel retransmits (`maxRetransmits`/`maxPacketLifeTime` unset). Default `true`. */
  readonly reliable?: boolean;
}

/** Size classes, largest first. */
export type ChunkTier = 'lan-fast' | 'lan' | 'medium' | 'default' | 'small' | 'tiny';

/** The policy's decision. */
export interface ChunkPolicy {
  /** Payload size in bytes; `size + FRAME_HEADER_SIZE <= maxMessageSize` and `size >= minChunk`. */
  readonly size: number;
  /** The size class the decision tree chose (after the loss step and the low-bitrate cap). */
  readonly tier: ChunkTier;
  /** Human-readable explanation of every rule that applied. */
  readonly reason: string;
}

/** The seed's ladder of sizes per tier, before clamping. */
export const CHUNK_TIERS: ReadonlyArray<{ readonly tier: ChunkTier; readonly size: number }> = [
  { tier: 'lan-fast', size: 4 * 1024 * 1024 },
  { tier: 'lan', size: 1024 * 1024 },
  { tier: 'medium', size: 128 * 1024 },
  { tier: 'default', size: 64 * 1024 },
  { tier: 'small', size: 32 * 1024 },
  { tier: 'tiny', size: 16 * 1024 },
];

/** Below this RTT the path is a LAN. */
export const LAN_RTT_MS = 10;
/** Above this bitrate a LAN is "fast". */
export const LAN_FAST_BPS = 500e6;
/** On reliable channels, loss at or above this steps one size down. */
export const LOSS_STEP_DOWN = 0.02;
/** On unreliable channels, the highest acceptable probability of losing a message. */
export const UNRELIABLE_MESSAGE_LOSS_BUDGET = 0.05;
/** Bytes per SCTP packet assumed by the unreliable-loss model. */
export const PACKET_BYTES = 1200;
/** A known bitrate below this caps the chunk at `LOW_BITRATE_CAP` (64 KiB at 10 Mbit/s is ~52 ms). */
export const LOW_BITRATE_BPS = 10e6;
/** The cap applied on low-bitrate paths. */
export const LOW_BITRATE_CAP = 64 * 1024;
/**
 * At a known bitrate, a chunk takes at most this long to cross, ms, down to the smallest tier: at 160 kbit/s a
 * 64 KiB chunk takes 3.3 s, and a lost one is missed, NACKed and resent in chunks of that size (16 KiB: 0.8 s).
 */
export const MAX_CHUNK_TIME_MS = 500;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Validates `config` and returns the payload bounds `[min, max]`. */
const boundsOf = (config: ChunkPolicyConfig): { min: number; max: number } => {
  const { maxMessageSize = CHROME_MAX_MESSAGE_SIZE, minChunk = MIN_CHUNK_SIZE, maxChunk } = config;
  if (!isInt(minChunk) || minChunk < 1) throw new InvalidConfigError(`minChunk must be an integer >= 1, got ${minChunk}`, { minChunk });
  if (!(isInt(maxMessageSize) || maxMessageSize === Infinity) || maxMessageSize < minChunk + FRAME_HEADER_SIZE) {
    throw new InvalidConfigError(`maxMessageSize must be an integer >= minChunk + ${FRAME_HEADER_SIZE} (${minChunk + FRAME_HEADER_SIZE}), got ${maxMessageSize}`, {
      maxMessageSize,
      minChunk,
    });
  }
  if (maxChunk !== undefined && (!isInt(maxChunk) || maxChunk < minChunk)) {
    throw new InvalidConfigError(`maxChunk must be an integer >= minChunk (${minChunk}), got ${maxChunk}`, { maxChunk, minChunk });
  }
  return { min: minChunk, max: Math.min(maxChunk ?? Infinity, maxMessageSize - FRAME_HEADER_SIZE, MAX_FRAME_PAYLOAD) };
};

/** Validates the conditions; throws `InvalidConfigError` on anything out of range. */
const checkConditions = (c: NetworkConditions): NetworkConditions => {
  const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (c === null || typeof c !== 'object' || !ok(c.rttMs)) {
    throw new InvalidConfigError(`rttMs must be a finite number >= 0, got ${c?.rttMs}`, { rttMs: c?.rttMs });
  }
  if (c.lossRate !== undefined && !(ok(c.lossRate) && c.lossRate <= 1)) {
    throw new InvalidConfigError(`lossRate must be within 0..1, got ${c.lossRate}`, { lossRate: c.lossRate });
  }
  if (c.bitrateBps !== undefined && !ok(c.bitrateBps)) {
    throw new InvalidConfigError(`bitrateBps must be a finite number >= 0, got ${c.bitrateBps}`, { bitrateBps: c.bitrateBps });
  }
  return c;
};

/** `1 MiB`, `128 KiB` or `262112 B`. */
const fmt = (n: number): string => (n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`);

/**
 * Clamps a requested payload size to the bounds of `config`:
 * `[minChunk, min(maxChunk, maxMessageSize - FRAME_HEADER_SIZE)]`.
 * Throws `InvalidConfigError` when `size` is not a positive integer or `config` is inconsistent.
 */
export function clampChunkSize(size: number, config: ChunkPolicyConfig = {}): number {
  const { min, max } = boundsOf(config);
  if (!isInt(size) || size < 1) throw new InvalidConfigError(`chunk size must be an integer >= 1, got ${size}`, { size });
  return Math.max(min, Math.min(max, size));
}

/**
 * Picks a chunk size and tier from RTT, loss and bitrate.
 *
 * The seed's decision tree (RTT < 10 ms: LAN, 4 MiB when > 500 Mbit/s else
 * 1 MiB; < 50 ms: 128 KiB; < 100: 64 KiB; < 200: 32 KiB; else 16 KiB), then:
 * reliable channels with loss >= 2 % step one size down; a known bitrate below
 * 10 Mbit/s caps at 64 KiB, and a lower one steps down until a chunk crosses in at most 500 ms (16 KiB at
 * most below 262 kbit/s); every size is clamped so `size + 32 <= maxMessageSize`
 * (so Chrome's largest payload is 262 112 B) and `size >= minChunk`; unreliable
 * channels keep the chance of losing a message (`1 - (1 - p)^(message / 1200)`) <= 5 %.
 *
 * ```
 * {rttMs: 30}                      → 131072 B  medium
 * {rttMs: 2, bitrateBps: 1e9}      → 262112 B  lan-fast (clamped from 4 MiB)
 * ```
 *
 * ## Example
 * ```ts
 * import { chunkPolicy } from './chooseChunkSize'; // internal: the package exports chooseChunkSize
 * chunkPolicy({ rttMs: 120, lossRate: 0.03 }); // { size: 16384, tier: 'tiny', reason: '…' }
 * ```
 *
 * @param conditions The latest measurements.
 * @param config Limits of the channel. See {@link ChunkPolicyConfig}.
 * @return The size, the tier and the reason.
 */
export function chunkPolicy(conditions: NetworkConditions, config: ChunkPolicyConfig = {}): ChunkPolicy {
  const { min, max } = boundsOf(config);
  const { rttMs, lossRate = 0, bitrateBps } = checkConditions(conditions);
  const reliable = config.reliable ?? true;
  const fit = (n: number) => Math.max(min, Math.min(max, n));
  const reasons: string[] = [];

  let t = rttMs < LAN_RTT_MS ? (bitrateBps !== undefined && bitrateBps > LAN_FAST_BPS ? 0 : 1) : rttMs < 50 ? 2 : rttMs < 100 ? 3 : rttMs < 200 ? 4 : 5;
  reasons.push(`rtt ${rttMs} ms${bitrateBps !== undefined ? `, ${bitrateBps / 1e6} Mbit/s` : ''} → ${CHUNK_TIERS[t].tier} (${fmt(CHUNK_TIERS[t].size)})`);

  if (reliable && lossRate >= LOSS_STEP_DOWN) {
    // The next rung whose clamped size is actually smaller.
    const down = CHUNK_TIERS.findIndex((x, i) => i > t && fit(x.size) < fit(CHUNK_TIERS[t].size));
    if (down >= 0) t = down;
    reasons.push(`loss ${lossRate * 100}% >= ${LOSS_STEP_DOWN * 100}% → ${down >= 0 ? `one size down to ${CHUNK_TIERS[t].tier}` : 'already smallest'}`);
  }
  if (bitrateBps !== undefined && bitrateBps < LOW_BITRATE_BPS && CHUNK_TIERS[t].size > LOW_BITRATE_CAP) {
    t = CHUNK_TIERS.findIndex((x) => x.size === LOW_BITRATE_CAP);
    reasons.push(`bitrate < ${LOW_BITRATE_BPS / 1e6} Mbit/s → capped at ${fmt(LOW_BITRATE_CAP)}`);
  }

  const slow = !bitrateBps ? t : CHUNK_TIERS.findIndex((x, i) => i >= t && (x.size * 8000) / bitrateBps <= MAX_CHUNK_TIME_MS);
  if (slow !== t && bitrateBps) {
    t = slow < 0 ? CHUNK_TIERS.length - 1 : slow;
    reasons.push(`bitrate ${bitrateBps / 1e6} Mbit/s → ${fmt(CHUNK_TIERS[t].size)}, at most ${MAX_CHUNK_TIME_MS} ms a chunk${slow < 0 ? ' (the smallest tier)' : ''}`);
  }

  let size = fit(CHUNK_TIERS[t].size);
  if (size < CHUNK_TIERS[t].size) reasons.push(`clamped to ${size} B (max message ${config.maxMessageSize ?? CHROME_MAX_MESSAGE_SIZE} B − ${FRAME_HEADER_SIZE} B header, maxChunk ${config.maxChunk ?? 'none'})`);
  if (size > CHUNK_TIERS[t].size) reasons.push(`raised to minChunk ${size} B`);

  if (!reliable && lossRate > 0) {
    // Largest message m with 1 - (1 - p)^(m / PACKET_BYTES) <= budget, minus the frame header.
    const cap = Math.floor((PACKET_BYTES * Math.log1p(-UNRELIABLE_MESSAGE_LOSS_BUDGET)) / Math.log1p(-lossRate)) - FRAME_HEADER_SIZE;
    if (cap < size) {
      size = Math.max(min, cap);
      reasons.push(`unreliable, loss ${lossRate * 100}% → ${size} B keeps message loss ${cap >= min ? '<=' : 'above (minChunk floor)'} ${UNRELIABLE_MESSAGE_LOSS_BUDGET * 100}%`);
    }
  }
  return { size, tier: CHUNK_TIERS[t].tier, reason: reasons.join('; ') };
}

/**
 * The chunk size alone. See {@link chunkPolicy}.
 *
 * @param conditions The latest measurements.
 * @param config Limits of the channel.
 * @return The payload size in bytes.
 */
export const chooseChunkSize = (conditions: NetworkConditions, config?: ChunkPolicyConfig): number => chunkPolicy(conditions, configObject('chooseChunkSize', config)).size;
