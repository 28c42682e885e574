/**
 * What an emulated link imposes, per direction. All times are in ms, rates in
 * bit/s, sizes in bytes. Every field has a documented default, so `{}` is a
 * perfect link (no delay, no loss, no rate limit).
 */

/** How jitter is drawn around the one-way delay. */
export type JitterDistribution = 'uniform' | 'normal';

/** One direction of a link. */
export interface DirectionConfig {
  /** One-way propagation delay, ms. Default 0. */
  readonly delayMs?: number;
  /**
   * Jitter, ms: `uniform` draws from `[-jitterMs, +jitterMs]`, `normal` uses
   * σ = `jitterMs`. The delay never goes below 0 and, unless `reorder > 0`,
   * never lets a datagram overtake an earlier one (release times are kept
   * monotone per direction, as on a real FIFO path). Default 0.
   */
  readonly jitterMs?: number;
  /** Default `uniform`. */
  readonly jitterDistribution?: JitterDistribution;
  /**
   * Correlation time of the jitter, ms. Jitter follows a stationary
   * Ornstein-Uhlenbeck process with this time constant (mapped to a uniform
   * distribution through the normal CDF when `uniform`), so datagrams a few µs
   * apart see nearly the same delay, as on a real path where jitter comes from
   * queues. 0 draws every datagram independently; then, at high packet rates,
   * the monotone-release rule turns jitter into extra delay (close to
   * `delayMs + jitterMs` for uniform). Default 10.
   */
  readonly jitterCorrelationMs?: number;
  /** Probability that a datagram is lost after it crossed the bottleneck (it used link time). 0..1, default 0. */
  readonly lossRate?: number;
  /** Probability that a datagram is held back by `reorderGapMs` so later ones overtake it. 0..1, default 0. */
  readonly reorder?: number;
  /** Extra hold of a reordered datagram, ms. Default `max(1, 2 × jitterMs)`. */
  readonly reorderGapMs?: number;
  /** Bottleneck rate in bit/s (token bucket). Default `Infinity`: no limit, no queue. */
  readonly rateBps?: number;
  /**
   * Bottleneck queue, bytes (wire bytes, overhead included). A datagram that
   * does not fit behind the bytes already waiting is dropped (tail drop).
   * Default: 50 ms at `rateBps`, at least 64 KiB.
   */
  readonly queueBytes?: number;
  /** Bytes an idle bottleneck may pass at once (token-bucket depth). Default 3000 (two 1500-byte frames). */
  readonly burstBytes?: number;
  /** Bytes per datagram that the rate counts besides the UDP payload: IPv4 + UDP headers. Default 28. */
  readonly overheadBytes?: number;
}

/** Both directions of a link, plus the random seed. */
export interface LinkConfig {
  /** Datagrams from peer A (the offerer) to peer B. Default `{}`. */
  readonly aToB?: DirectionConfig;
  /** Datagrams from B to A. Default `{}`. */
  readonly bToA?: DirectionConfig;
  /** Seed of the loss/jitter/reorder draws, so runs are reproducible. Default 1. */
  readonly seed?: number;
}

/** A direction with every default filled in. */
export type ResolvedDirection = Required<DirectionConfig>;

/** Default queue length in time at the bottleneck rate. */
export const DEFAULT_QUEUE_MS = 50;
/** Smallest default queue. */
export const MIN_DEFAULT_QUEUE_BYTES = 64 * 1024;

const probability = (name: string, p: number): number => {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be within 0..1, got ${p}`);
  return p;
};
const nonNegative = (name: string, v: number): number => {
  if (!(v >= 0)) throw new RangeError(`${name} must be >= 0, got ${v}`);
  return v;
};

/** Fills in defaults and rejects nonsense (negative delays, probabilities outside 0..1). */
export function resolveDirection(c: DirectionConfig = {}): ResolvedDirection {
  const rateBps = c.rateBps ?? Infinity;
  if (!(rateBps > 0)) throw new RangeError(`rateBps must be > 0, got ${rateBps}`);
  const jitterMs = nonNegative('jitterMs', c.jitterMs ?? 0);
  const queueDefault = Number.isFinite(rateBps) ? Math.max(MIN_DEFAULT_QUEUE_BYTES, Math.round((rateBps / 8) * (DEFAULT_QUEUE_MS / 1000))) : Infinity;
  const jitterDistribution = c.jitterDistribution ?? 'uniform';
  if (jitterDistribution !== 'uniform' && jitterDistribution !== 'normal') throw new RangeError(`unknown jitterDistribution ${String(jitterDistribution)}`);
  return {
    delayMs: nonNegative('delayMs', c.delayMs ?? 0),
    jitterMs,
    jitterDistribution,
    jitterCorrelationMs: nonNegative('jitterCorrelationMs', c.jitterCorrelationMs ?? 10),
    lossRate: probability('lossRate', c.lossRate ?? 0),
    reorder: probability('reorder', c.reorder ?? 0),
    reorderGapMs: nonNegative('reorderGapMs', c.reorderGapMs ?? Math.max(1, 2 * jitterMs)),
    rateBps,
    queueBytes: nonNegative('queueBytes', c.queueBytes ?? queueDefault),
    burstBytes: nonNegative('burstBytes', c.burstBytes ?? 3000),
    overheadBytes: nonNegative('overheadBytes', c.overheadBytes ?? 28),
  };
}

/** A symmetric link described the way network profiles are usually quoted. */
export interface SymmetricLink {
  /** Bottleneck rate each way, Mbit/s. Omit for no limit. */
  readonly rateMbps?: number;
  /** Round-trip time, ms; each direction gets half. Default 0. */
  readonly rttMs?: number;
  /** Loss probability applied to each direction separately. Default 0. */
  readonly lossRate?: number;
  /** Jitter of each direction, ms. Default 0. */
  readonly jitterMs?: number;
  readonly jitterDistribution?: JitterDistribution;
  readonly jitterCorrelationMs?: number;
  readonly reorder?: number;
  /** Queue per direction, bytes. Default as in {@link DirectionConfig.queueBytes}. */
  readonly queueBytes?: number;
  readonly seed?: number;
}

/** `{ rateMbps: 100, rttMs: 40, lossRate: 0.005 }` → the same `DirectionConfig` both ways. */
export function symmetricLink(s: SymmetricLink): LinkConfig {
  const one: DirectionConfig = {
    delayMs: (s.rttMs ?? 0) / 2,
    jitterMs: s.jitterMs,
    jitterDistribution: s.jitterDistribution,
    jitterCorrelationMs: s.jitterCorrelationMs,
    lossRate: s.lossRate,
    reorder: s.reorder,
    rateBps: s.rateMbps === undefined ? undefined : s.rateMbps * 1e6,
    queueBytes: s.queueBytes,
  };
  return { aToB: one, bToA: one, seed: s.seed };
}
