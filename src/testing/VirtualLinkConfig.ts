/**
 * Configuration of a virtual link: the network a pair of virtual data channels
 * runs over. Every field is optional and documented with its default.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { InvalidConfigError } from '../errors';
import { CHROME_MAX_MESSAGE_SIZE, SEND_QUEUE_LIMIT } from '../types';
import { mulberry32 } from './mulberry32';
import type { VirtualDataChannel } from './VirtualDataChannel';

/** Default one-way delay, in ms. */
export const DEFAULT_VIRTUAL_DELAY = 0;
/** Default seed of the built-in PRNG. */
export const DEFAULT_VIRTUAL_SEED = 1;

/** Options for `createVirtualLink`. */
export interface VirtualLinkConfig {
  /**
   * Scheduler that models time: draining, delays, opening and closing all run
   * on it. Pass a `TestScheduler` for marble tests. Default `asyncScheduler`
   * (which inside `TestScheduler.run` also runs in virtual time).
   */
  readonly scheduler?: SchedulerLike;
  /**
   * Bytes per second, per direction, shared by every channel of the link.
   * Messages drain first-in first-out across all channels of one direction.
   * Default `Infinity`: the send buffer drains at once, on the next tick.
   */
  readonly bandwidth?: number;
  /** One-way propagation delay in ms, added after a message has drained. Default `0`. */
  readonly delayMs?: number;
  /**
   * Jitter in ms: each message's delay gets a uniform offset in `[-jitterMs, +jitterMs]`
   * (never arriving before it drained). Ordered channels hold later messages
   * back so order is kept. Default `0`.
   */
  readonly jitterMs?: number;
  /**
   * Probability (0..1) that a message is lost. Unreliable channels
   * (`maxRetransmits: 0`, or `ordered: false` with `maxRetransmits` set) drop it;
   * reliable channels deliver it one round trip (`2 * delayMs`) later instead. Default `0`.
   */
  readonly lossRate?: number;
  /** Probability (0..1) that a message is held back by an extra `reorderDelayMs`. Default `0`. */
  readonly reorder?: number;
  /** Extra hold, in ms, of a reordered message. Default `delayMs + 1`. */
  readonly reorderDelayMs?: number;
  /** Probability (0..1) that a message arrives twice. Unreliable channels only. Default `0`. */
  readonly duplicate?: number;
  /** Probability (0..1) that one random bit of a delivered message is flipped (any channel). Default `0`. */
  readonly corrupt?: number;
  /** Largest message `send()` accepts, in bytes; larger ones throw `TypeError`. Default `262144` (Chrome). */
  readonly maxMessageSize?: number;
  /**
   * Per-channel send buffer ceiling in bytes: a send that would push
   * `bufferedAmount` above it throws `OperationError` ("send queue is full").
   * Default 16 MiB (Chrome). `Infinity` models node-datachannel, which has no cap.
   */
  readonly sendQueueLimit?: number;
  /** Time in ms from `createChannel` until both ends fire `open`. Default `0` (next tick). */
  readonly openDelayMs?: number;
  /** Seed of the built-in PRNG (mulberry32). Ignored when `random` is given. Default `1`. */
  readonly seed?: number;
  /** Source of randomness in `[0, 1)` for jitter and faults. Default `mulberry32(seed)`. */
  readonly random?: () => number;
  /**
   * Which channels the faults (`lossRate`, `reorder`, `duplicate`, `corrupt`) apply
   * to, asked with the sending channel for each message. Messages of other
   * channels still get `delayMs` and `jitterMs`, and still take their five draws
   * from `random`, so filtering never changes the fate of other messages.
   * Example: `(ch) => ch.label !== 'tallow-control'` corrupts only data
   * channels. Default: every channel.
   */
  readonly faultFilter?: (channel: VirtualDataChannel) => boolean;
}

/** A config with every default filled in. */
export type ResolvedVirtualLinkConfig = { readonly [K in keyof VirtualLinkConfig]-?: NonNullable<VirtualLinkConfig[K]> };

/** The default `faultFilter`. */
const everyChannel = (): boolean => true;

const invalid = (field: string, value: unknown, rule: string): InvalidConfigError =>
  new InvalidConfigError(`virtual link ${field} ${rule}, got ${String(value)}`, { field, value });

const probability = (field: string, value: number | undefined): number => {
  const v = value ?? 0;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw invalid(field, v, 'must be a probability in [0, 1]');
  return v;
};

const milliseconds = (field: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(field, v, 'must be a finite number of ms >= 0');
  return v;
};

const byteLimit = (field: string, value: number | undefined, fallback: number, allowInfinity: boolean): number => {
  const v = value ?? fallback;
  const ok = typeof v === 'number' && v >= 1 && (Number.isSafeInteger(v) || (allowInfinity && v === Infinity));
  if (!ok) throw invalid(field, v, allowInfinity ? 'must be a positive integer or Infinity' : 'must be a positive integer');
  return v;
};

/**
 * Fills in the defaults of a {@link VirtualLinkConfig} and validates every field.
 *
 * @param config The user's options.
 * @return The complete configuration.
 * @throws InvalidConfigError naming the first bad field.
 */
export function resolveVirtualLinkConfig(config: VirtualLinkConfig = {}): ResolvedVirtualLinkConfig {
  const scheduler = config.scheduler ?? asyncScheduler;
  if (typeof scheduler?.schedule !== 'function' || typeof scheduler.now !== 'function') {
    throw invalid('scheduler', scheduler, 'must be an RxJS SchedulerLike');
  }
  const bandwidth = config.bandwidth ?? Infinity;
  if (typeof bandwidth !== 'number' || !(bandwidth > 0)) throw invalid('bandwidth', bandwidth, 'must be > 0 bytes per second (or Infinity)');
  const delayMs = milliseconds('delayMs', config.delayMs, DEFAULT_VIRTUAL_DELAY);
  const seed = config.seed ?? DEFAULT_VIRTUAL_SEED;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw invalid('seed', seed, 'must be a finite number');
  const random = config.random ?? mulberry32(seed);
  if (typeof random !== 'function') throw invalid('random', random, 'must be a function returning numbers in [0, 1)');
  const faultFilter = config.faultFilter ?? everyChannel;
  if (typeof faultFilter !== 'function') throw invalid('faultFilter', faultFilter, 'must be a function of a channel returning a boolean');
  return {
    scheduler,
    bandwidth,
    delayMs,
    jitterMs: milliseconds('jitterMs', config.jitterMs, 0),
    lossRate: probability('lossRate', config.lossRate),
    reorder: probability('reorder', config.reorder),
    reorderDelayMs: milliseconds('reorderDelayMs', config.reorderDelayMs, delayMs + 1),
    duplicate: probability('duplicate', config.duplicate),
    corrupt: probability('corrupt', config.corrupt),
    maxMessageSize: byteLimit('maxMessageSize', config.maxMessageSize, CHROME_MAX_MESSAGE_SIZE, false),
    sendQueueLimit: byteLimit('sendQueueLimit', config.sendQueueLimit, SEND_QUEUE_LIMIT, true),
    openDelayMs: milliseconds('openDelayMs', config.openDelayMs, 0),
    seed,
    random,
    faultFilter,
  };
}
