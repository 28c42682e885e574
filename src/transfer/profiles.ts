/**
 * Transfer profiles: the seed's configuration matrix, with numbers that real
 * browsers accept (chunks within 256 KiB, `high + frame` far below the 16 MiB
 * send-queue ceiling). `auto` starts from the measured conditions and adapts.
 */
import { InvalidConfigError } from '../errors';
import { shown } from './checkOptions';
import { CHROME_MAX_MESSAGE_SIZE, MIN_CHUNK_SIZE, SEND_QUEUE_LIMIT } from '../types';
import type { Reliability } from '../protocol/control';

export type ProfileName = 'lan' | 'wifi' | 'internet' | 'poor' | 'mobile';

/** Every tunable of a transfer. */
export interface TransferTuning {
  /** Data channels (1-16). */
  readonly channels: number;
  /**
   * Peer connections to spread the channels over: 1 to `channels` (each lane needs a channel of its own). More
   * than the connections given uses those given (the stats' `lanes` shows how many carry data); with `auto`, an
   * explicit `lanes` also means no lanes opened in band.
   */
  readonly lanes: number;
  /** Chunk payload bounds; the adaptive policy picks within them. */
  readonly minChunk: number;
  readonly maxChunk: number;
  /** Per-channel backpressure watermarks, bytes. */
  readonly high: number;
  readonly low: number;
  /** Bytes the sender may read beyond what the receiver acknowledged. */
  readonly window: number;
  readonly reliability: Reliability;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The built-in profiles. */
export const PROFILES: Readonly<Record<ProfileName, TransferTuning>> = {
  lan: { channels: 2, lanes: 2, minChunk: 64 * KiB, maxChunk: CHROME_MAX_MESSAGE_SIZE, high: 1 * MiB, low: 256 * KiB, window: 16 * MiB, reliability: 'reliable' },
  wifi: { channels: 3, lanes: 1, minChunk: 64 * KiB, maxChunk: CHROME_MAX_MESSAGE_SIZE, high: 1 * MiB, low: 256 * KiB, window: 16 * MiB, reliability: 'reliable' },
  internet: { channels: 2, lanes: 1, minChunk: 32 * KiB, maxChunk: 128 * KiB, high: 1 * MiB, low: 256 * KiB, window: 8 * MiB, reliability: 'reliable' },
  poor: { channels: 2, lanes: 1, minChunk: MIN_CHUNK_SIZE, maxChunk: 64 * KiB, high: 512 * KiB, low: 128 * KiB, window: 8 * MiB, reliability: 'reliable' },
  mobile: { channels: 1, lanes: 1, minChunk: MIN_CHUNK_SIZE, maxChunk: 64 * KiB, high: 512 * KiB, low: 128 * KiB, window: 8 * MiB, reliability: 'reliable' },
};

/** The profile `auto` starts with before any measurement. */
export const AUTO_START: ProfileName = 'lan';

/** Checks a tuning for values that would break a real stack. Throws `InvalidConfigError`. */
export function validateTuning(t: TransferTuning, maxMessageSize = CHROME_MAX_MESSAGE_SIZE): void {
  const bad = (msg: string, details: Record<string, unknown>) => {
    throw new InvalidConfigError(msg, details);
  };
  // The option's value as given (`"3"` for a string), in the message and as `details.field` / `details.value`.
  const range = (field: 'channels' | 'lanes', max: number) =>
    bad(`${field} must be an integer from 1 to ${max}, got ${shown(t[field])}`, { field, value: t[field] });
  if (!Number.isInteger(t.channels) || t.channels < 1 || t.channels > 16) range('channels', 16);
  if (!Number.isInteger(t.lanes) || t.lanes < 1 || t.lanes > t.channels) range('lanes', t.channels);
  if (!(t.minChunk >= 1) || !(t.maxChunk >= t.minChunk)) bad('chunk bounds are inconsistent', { minChunk: t.minChunk, maxChunk: t.maxChunk });
  if (!(t.low >= 0 && t.low < t.high)) bad('backpressure needs 0 <= low < high', { low: t.low, high: t.high });
  if (t.high + maxMessageSize > SEND_QUEUE_LIMIT) {
    bad(`high (${t.high}) + max message (${maxMessageSize}) exceeds the 16 MiB per-channel send queue`, { high: t.high, maxMessageSize });
  }
  if (!(t.window >= t.maxChunk * 2)) bad('window must hold at least two chunks', { window: t.window, maxChunk: t.maxChunk });
  if (t.reliability !== 'reliable' && t.reliability !== 'unreliable') bad(`unknown reliability ${String(t.reliability)}`, {});
}

/** Resolves a profile name (or `auto`) plus overrides into a validated tuning. */
export function resolveTuning(profile: ProfileName | 'auto' = 'auto', overrides: Partial<TransferTuning> = {}): TransferTuning {
  const base = PROFILES[profile === 'auto' ? AUTO_START : profile];
  if (!base) throw new InvalidConfigError(`profile must be one of "auto", ${Object.keys(PROFILES).map((p) => JSON.stringify(p)).join(', ')}, got ${shown(profile)}`, { field: 'profile', value: profile });
  const t = { ...base, ...overrides };
  // A profile's lane count is an upper bound: fewer channels than lanes means fewer lanes.
  if (overrides.lanes === undefined) Object.assign(t, { lanes: Math.min(t.lanes, Math.max(1, t.channels)) });
  // Unreliable channels lose a whole message per lost packet: keep messages small.
  if (t.reliability === 'unreliable' && overrides.maxChunk === undefined) {
    Object.assign(t, { maxChunk: Math.min(t.maxChunk, 64 * KiB), minChunk: Math.min(t.minChunk, MIN_CHUNK_SIZE) });
  }
  validateTuning(t);
  return t;
}
