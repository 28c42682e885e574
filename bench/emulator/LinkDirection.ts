/**
 * The model of one direction of an emulated link, without sockets or timers:
 * given a datagram's size and arrival time it answers when to release it, or
 * why it is dropped. The relay (UdpRelay.ts) holds datagrams until then.
 *
 * ```
 * arrival ─► token bucket + tail-drop queue ─► random loss ─► delay ± jitter ─► monotone release
 *             (rateBps, queueBytes)             (lossRate)    (delayMs, jitterMs)  (unless reorder)
 * ```
 */
import { mulberry32 } from '../../src/testing/mulberry32';
import { resolveDirection, type DirectionConfig, type ResolvedDirection } from './linkConfig';

/** What happened to one datagram. */
export type Verdict = { readonly release: number; readonly reordered: boolean } | { readonly drop: 'loss' | 'queue' };

/** Counters of one direction since it was created. */
export interface DirectionCounters {
  /** Datagrams and UDP payload bytes offered to the link. */
  datagramsIn: number;
  bytesIn: number;
  /** Datagrams released towards the far peer, and their payload bytes. */
  datagramsOut: number;
  bytesOut: number;
  /** Drops by random loss and by a full queue. */
  lostRandom: number;
  lostQueue: number;
  /** Datagrams deliberately held back so later ones overtake them. */
  reordered: number;
  /** Highest queue occupancy seen at an arrival, wire bytes. */
  maxQueueBytes: number;
  /**
   * Sum over datagrams past the tail drop of their time at the bottleneck (queue wait plus their own wire time), ms;
   * ÷ datagrams: the mean delay the bottleneck added.
   */
  queueWaitMs: number;
}

/** One direction: token bucket, tail-drop queue, loss, delay, jitter, reordering. */
export class LinkDirection {
  /** Counters, updated by `admit` (and by the relay for `datagramsOut`/`bytesOut`). */
  readonly counters: DirectionCounters = { datagramsIn: 0, bytesIn: 0, datagramsOut: 0, bytesOut: 0, lostRandom: 0, lostQueue: 0, reordered: 0, maxQueueBytes: 0, queueWaitMs: 0 };
  /** Resolved settings; replace with `configure`. */
  config: ResolvedDirection;
  /** Token-bucket clock: the time, ms, at which every byte admitted so far has left the bottleneck. */
  private tokenTime = -Infinity;
  /** Latest release time handed out to an in-order datagram (keeps releases monotone). */
  private lastRelease = -Infinity;
  private readonly random: () => number;
  /** Two knots of the latent jitter process around the last query time. */
  private knots: { t0: number; z0: number; t1: number; z1: number } | undefined;
  /** A spare standard-normal draw (Box-Muller makes two). */
  private spare: number | undefined;

  constructor(config: DirectionConfig = {}, seed = 1) {
    this.config = resolveDirection(config);
    this.random = mulberry32(seed);
  }

  /** Changes the settings from now on; datagrams already admitted keep their release times. */
  configure(config: DirectionConfig): void {
    this.config = resolveDirection(config);
  }

  /** Wire bytes waiting in the bottleneck queue at `now`. */
  queuedBytes(now: number): number {
    const { rateBps } = this.config;
    return Number.isFinite(rateBps) ? Math.max(0, ((this.tokenTime - now) * rateBps) / 8000) : 0;
  }

  /** Decides the fate of a datagram of `bytes` payload arriving at `now` (ms). */
  admit(bytes: number, now: number): Verdict {
    const c = this.config;
    const k = this.counters;
    k.datagramsIn++;
    k.bytesIn += bytes;
    let leaves = now;
    if (Number.isFinite(c.rateBps)) {
      const wire = bytes + c.overheadBytes;
      const queued = this.queuedBytes(now);
      if (queued > k.maxQueueBytes) k.maxQueueBytes = queued;
      // (a millionth of a byte of slack absorbs floating-point residue)
      if (queued + wire > c.queueBytes + 1e-6) {
        k.lostQueue++;
        return { drop: 'queue' };
      }
      const msPerByte = 8000 / c.rateBps;
      // Tokens accumulate while idle, up to the bucket depth.
      const start = Math.max(this.tokenTime, now - c.burstBytes * msPerByte);
      this.tokenTime = start + wire * msPerByte;
      leaves = Math.max(now, this.tokenTime);
    }
    k.queueWaitMs += leaves - now;
    if (c.lossRate > 0 && this.random() < c.lossRate) {
      k.lostRandom++;
      return { drop: 'loss' };
    }
    let release = leaves + Math.max(0, c.delayMs + this.jitter(now));
    if (c.reorder > 0 && this.random() < c.reorder) {
      k.reordered++;
      return { release: release + c.reorderGapMs, reordered: true };
    }
    if (release < this.lastRelease) release = this.lastRelease;
    this.lastRelease = release;
    return { release, reordered: false };
  }

  /** Jitter at `now`, ms: a correlated (or, with correlation 0, independent) draw. */
  private jitter(now: number): number {
    const { jitterMs, jitterDistribution, jitterCorrelationMs } = this.config;
    if (jitterMs === 0) return 0;
    const z = jitterCorrelationMs === 0 ? this.gaussian() : this.latentAt(now, jitterCorrelationMs);
    if (jitterDistribution === 'normal') return z * jitterMs;
    // Gaussian copula: Φ(z) is uniform on (0, 1).
    return (2 * normalCdf(z) - 1) * jitterMs;
  }

  /**
   * The latent jitter process at `now`: a stationary Ornstein-Uhlenbeck process
   * (N(0, 1), correlation exp(-Δt/τ)) sampled exactly at knots τ/10 apart and
   * interpolated linearly between them, so the delay changes smoothly and the
   * monotone-release rule rarely has to step in.
   */
  private latentAt(now: number, tau: number): number {
    const step = tau / 10;
    if (this.knots === undefined || now - this.knots.t1 > 5 * tau) {
      // First use, or idle long enough that the past no longer matters.
      const z0 = this.gaussian();
      const rho = Math.exp(-step / tau);
      this.knots = { t0: now, z0, t1: now + step, z1: rho * z0 + Math.sqrt(1 - rho * rho) * this.gaussian() };
    }
    const k = this.knots;
    const rho = Math.exp(-step / tau);
    while (now > k.t1) {
      k.t0 = k.t1;
      k.z0 = k.z1;
      k.t1 += step;
      k.z1 = rho * k.z0 + Math.sqrt(1 - rho * rho) * this.gaussian();
    }
    return k.z0 + ((k.z1 - k.z0) * Math.max(0, now - k.t0)) / step;
  }

  private gaussian(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    // Box-Muller; 1 - random() is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.random()));
    const theta = 2 * Math.PI * this.random();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 for erf, error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
