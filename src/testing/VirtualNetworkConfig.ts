/**
 * Configuration of a virtual network: lanes (links, each its own association
 * with its own congestion window) that share one bottleneck with a drop-tail
 * queue. Every field is optional and documented with its default and unit.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { InvalidConfigError } from '../errors';
import { CHROME_MAX_MESSAGE_SIZE, SEND_QUEUE_LIMIT } from '../types';
import { mulberry32 } from './mulberry32';

/** Default bottleneck rate: 10 Mbit/s, in bytes per second. */
export const DEFAULT_NETWORK_RATE = 1_250_000;
/** Default drop-tail queue size, bytes. */
export const DEFAULT_NETWORK_QUEUE = 65_536;
/** Default one-way propagation delay, ms. */
export const DEFAULT_NETWORK_DELAY = 20;
/** Default segment size, bytes: what fits in one SCTP packet over DTLS on a 1280-byte path. */
export const DEFAULT_MSS = 1200;

/** Options for `createVirtualNetwork`. */
export interface VirtualNetworkConfig {
  /** Scheduler that models time; pass a `TestScheduler` for virtual time. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Rate at which the bottleneck forwards, bytes per second, shared by every lane. Default `1_250_000` (10 Mbit/s). */
  readonly rateBytesPerSecond?: number;
  /**
   * Size of the bottleneck's drop-tail queue, bytes (the segment being forwarded
   * included). A segment that does not fit is dropped (a queue drop). Each queued
   * byte adds `1000 / rateBytesPerSecond` ms of delay. At least `mssBytes`. Default `65_536`.
   */
  readonly queueBytes?: number;
  /** One-way propagation delay, ms; the unqueued round trip is twice this. Default `20`. */
  readonly delayMs?: number;
  /** Probability (0..1) that a segment is lost after the queue (random loss, as on a radio hop). Default `0`. */
  readonly lossRate?: number;
  /** Segment size, bytes: messages are cut into segments of at most this. Default `1200`. */
  readonly mssBytes?: number;
  /** Congestion window of a new lane, bytes. Default `4 × mssBytes`. */
  readonly initialWindowBytes?: number;
  /** Ceiling on a lane's congestion window (the receiver's window), bytes. Default `Infinity`. */
  readonly maxWindowBytes?: number;
  /** Time from a lane's connection until its channels fire `open`, ms. Default `0`. */
  readonly openDelayMs?: number;
  /**
   * Time from applying the answer (`setRemoteDescription` at the offerer of a
   * `VirtualPeerConnection`) until both connections are `'connected'`, ms.
   * Default one unqueued round trip, `2 × delayMs`.
   */
  readonly connectDelayMs?: number;
  /** Largest message `send()` accepts, bytes. Default `262144` (Chrome). */
  readonly maxMessageSize?: number;
  /** Per-channel ceiling on `bufferedAmount`, bytes. Default 16 MiB (Chrome); `Infinity` for node-datachannel. */
  readonly sendQueueLimit?: number;
  /** Seed of the built-in PRNG. Ignored when `random` is given. Default `1`. */
  readonly seed?: number;
  /** Source of randomness in `[0, 1)` for the random loss (one draw per segment sent). Default `mulberry32(seed)`. */
  readonly random?: () => number;
}

/** A config with every default filled in. */
export type ResolvedVirtualNetworkConfig = { readonly [K in keyof VirtualNetworkConfig]-?: NonNullable<VirtualNetworkConfig[K]> };

const invalid = (field: string, value: unknown, rule: string): InvalidConfigError =>
  new InvalidConfigError(`virtual network ${field} ${rule}, got ${String(value)}`, { field, value });

const positive = (field: string, value: unknown, allowInfinity = false): number => {
  const ok = typeof value === 'number' && value > 0 && (Number.isFinite(value) || (allowInfinity && value === Infinity));
  if (!ok) throw invalid(field, value, allowInfinity ? 'must be a number > 0 (or Infinity)' : 'must be a finite number > 0');
  return value;
};

const milliseconds = (field: string, value: unknown): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalid(field, value, 'must be a finite number of ms >= 0');
  return value;
};

/**
 * Fills in the defaults of a {@link VirtualNetworkConfig} and validates every field.
 *
 * @param config The user's options.
 * @return The complete configuration.
 * @throws InvalidConfigError naming the first bad field (`details.field`).
 */
export function resolveVirtualNetworkConfig(config: VirtualNetworkConfig = {}): ResolvedVirtualNetworkConfig {
  const scheduler = config.scheduler ?? asyncScheduler;
  if (typeof scheduler?.schedule !== 'function' || typeof scheduler.now !== 'function') throw invalid('scheduler', scheduler, 'must be an RxJS SchedulerLike');
  const mssBytes = positive('mssBytes', config.mssBytes ?? DEFAULT_MSS);
  if (!Number.isInteger(mssBytes)) throw invalid('mssBytes', mssBytes, 'must be an integer');
  const queueBytes = positive('queueBytes', config.queueBytes ?? DEFAULT_NETWORK_QUEUE);
  if (queueBytes < mssBytes) throw invalid('queueBytes', queueBytes, `must hold at least one segment (${mssBytes} bytes)`);
  const initialWindowBytes = positive('initialWindowBytes', config.initialWindowBytes ?? 4 * mssBytes);
  const maxWindowBytes = positive('maxWindowBytes', config.maxWindowBytes ?? Infinity, true);
  if (maxWindowBytes < mssBytes) throw invalid('maxWindowBytes', maxWindowBytes, `must be at least one segment (${mssBytes} bytes)`);
  const delayMs = milliseconds('delayMs', config.delayMs ?? DEFAULT_NETWORK_DELAY);
  const lossRate = config.lossRate ?? 0;
  if (typeof lossRate !== 'number' || !(lossRate >= 0 && lossRate < 1)) throw invalid('lossRate', lossRate, 'must be a probability in [0, 1)');
  const seed = config.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw invalid('seed', seed, 'must be a finite number');
  const random = config.random ?? mulberry32(seed);
  if (typeof random !== 'function') throw invalid('random', random, 'must be a function returning numbers in [0, 1)');
  return {
    scheduler,
    rateBytesPerSecond: positive('rateBytesPerSecond', config.rateBytesPerSecond ?? DEFAULT_NETWORK_RATE),
    queueBytes,
    delayMs,
    lossRate,
    mssBytes,
    initialWindowBytes,
    maxWindowBytes,
    openDelayMs: milliseconds('openDelayMs', config.openDelayMs ?? 0),
    connectDelayMs: milliseconds('connectDelayMs', config.connectDelayMs ?? 2 * delayMs),
    maxMessageSize: positive('maxMessageSize', config.maxMessageSize ?? CHROME_MAX_MESSAGE_SIZE),
    sendQueueLimit: positive('sendQueueLimit', config.sendQueueLimit ?? SEND_QUEUE_LIMIT, true),
    seed,
    random,
  };
}
