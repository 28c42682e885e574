/**
 * A token bucket: `burst` tokens, refilled at `perSecond`; each message takes
 * one. Used for the messages-per-second cap of one socket. Time comes from an
 * injected clock, so tests step it by hand.
 */

/** Options of {@link createTokenBucket}. */
export interface TokenBucketConfig {
  /** Tokens added per second. */
  readonly perSecond: number;
  /** Most tokens held (and the bucket's start). */
  readonly burst: number;
  /** Milliseconds clock. Default `Date.now`. */
  readonly now?: () => number;
}

/** A bucket: `take()` is true while a token is left. */
export interface TokenBucket {
  take(): boolean;
}

/** Creates a full bucket. */
export function createTokenBucket(config: TokenBucketConfig): TokenBucket {
  const now = config.now ?? Date.now;
  // Tokens left at `at` (ms).
  let tokens = config.burst;
  let at = now();
  return {
    take() {
      const t = now();
      tokens = Math.min(config.burst, tokens + ((t - at) / 1000) * config.perSecond);
      at = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
