/**
 * Byte credit flowing upstream, from the channels back to the source.
 *
 * RxJS pushes; a file must be pulled. A `Demand` closes the loop: the source
 * reads only as many bytes as it holds credit for, and whoever can absorb bytes
 * (`backpressure()` when a channel has room, a receiver's acknowledgement window)
 * grants credit with `request(bytes)`. See docs/architecture.md.
 *
 * All calls are synchronous, so a `Demand` works under `TestScheduler`.
 */
import { InvalidConfigError } from '../errors';
import { checkArgument, configObject } from '../configObject';

/** Options for {@link Demand}. */
export interface DemandConfig {
  /** Credit available before anyone calls `request`, in bytes. Default `0`. */
  readonly initial?: number;
  /**
   * An extra ceiling on what may be taken, evaluated on every `take`: for
   * example the bytes left in a receiver's acknowledgement window. Call
   * `recheck()` when it grows. Default: no ceiling.
   */
  readonly limit?: () => number;
}

export class Demand {
  /** Bytes the source may still read. */
  private credit: number;
  /** Callbacks waiting for credit to become positive. */
  private readonly waiters = new Set<() => void>();
  /** Total bytes ever granted, for tests and stats. */
  private granted = 0;

  /** The optional extra ceiling. */
  private readonly limit: () => number;

  constructor(config: DemandConfig = {}) {
    config = configObject('Demand', config);
    this.limit = checkArgument('Demand', 'limit', config.limit ?? (() => Infinity), config.limit === undefined || typeof config.limit === 'function', 'a function () => bytes');
    const initial = checkArgument('Demand', 'initial', config.initial ?? 0, config.initial === undefined || (config.initial as number) >= 0, 'a number of bytes >= 0');
    this.credit = initial;
    this.granted = initial;
  }

  /** Credit currently available, in bytes (before the `limit` ceiling). */
  get available(): number {
    return this.credit;
  }

  /** What `take` could hand out right now: credit capped by `limit`. */
  get takeable(): number {
    return Math.max(0, Math.min(this.credit, this.limit()));
  }

  /** Total credit granted so far, in bytes (including `initial`). */
  get totalGranted(): number {
    return this.granted;
  }

  /** Grants `bytes` more credit and wakes the waiting reader, if any. */
  request(bytes: number): void {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) {
      throw new InvalidConfigError(`Demand.request needs a finite number of bytes >= 0, got ${bytes}`, { bytes });
    }
    if (bytes === 0) return;
    this.credit += bytes;
    this.granted += bytes;
    this.recheck();
  }

  /** Wakes waiting readers if credit can be taken now (call it when `limit` grows). */
  recheck(): void {
    if (this.waiters.size && this.takeable > 0) {
      const ws = [...this.waiters];
      this.waiters.clear();
      for (const w of ws) w();
    }
  }

  /** Takes up to `max` bytes of credit and returns how much was taken (0 when none is left). */
  take(max: number): number {
    const n = Math.max(0, Math.min(max, this.takeable));
    this.credit -= n;
    return n;
  }

  /** Gives back credit that was taken but not used (a short read). */
  refund(bytes: number): void {
    if (bytes > 0) {
      this.granted -= bytes;
      this.request(bytes);
    }
  }

  /** Calls `listener` once, as soon as credit is positive (immediately if it already is). Returns a canceller. */
  whenAvailable(listener: () => void): () => void {
    if (this.takeable > 0) {
      listener();
      return () => undefined;
    }
    this.waiters.add(listener);
    return () => void this.waiters.delete(listener);
  }
}
