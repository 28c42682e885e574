/**
 * Classifies measured network conditions into one of the transfer profiles.
 */
import type { ProfileName } from '../transfer/profiles';

/** A LAN answers within this RTT, ms. */
export const LAN_MAX_RTT_MS = 10;
/** … and loses less than this share of packets (0.1 %). */
export const LAN_MAX_LOSS = 0.001;
/** Wi-Fi (or a fast metro link) answers within this RTT, ms. */
export const WIFI_MAX_RTT_MS = 30;
/** A good internet path answers within this RTT, ms. */
export const INTERNET_MAX_RTT_MS = 100;
/** Wi-Fi and internet paths lose less than this (2 %); more is `poor`. */
export const GOOD_MAX_LOSS = 0.02;
/** Jitter at or above this, ms … */
export const MOBILE_MIN_JITTER_MS = 10;
/** … and at or above this share of the RTT marks a cellular-like path. */
export const MOBILE_JITTER_RATIO = 0.3;

/** Measured conditions. Only `rttMs` is required for a decision. */
export interface ProfileInputs {
  /** Round-trip time, ms. */
  readonly rttMs?: number;
  /** Loss rate per interval, 0..1. Unknown counts as 0. */
  readonly lossRate?: number;
  /**
   * Measured throughput, bits/s. Accepted for symmetry but deliberately NOT
   * used: throughput is an outcome of the profile, not a property of the path,
   * so letting it pick the profile would lock a slow profile in place.
   */
  readonly bitrateBps?: number;
  /** RTT jitter, ms (see `TransferStats.jitterMs`). Unknown: the `mobile` rule cannot fire. */
  readonly jitterMs?: number;
}

/**
 * Picks the profile that fits the measured path. The first matching rule wins:
 *
 * | profile  | rule |
 * |----------|------|
 * | internet | RTT unknown (a balanced default) |
 * | mobile   | jitter ≥ 10 ms and jitter ≥ 0.3 × RTT |
 * | lan      | RTT < 10 ms and loss < 0.1 % |
 * | wifi     | RTT < 30 ms and loss < 2 % |
 * | internet | RTT < 100 ms and loss < 2 % |
 * | poor     | otherwise |
 *
 * ## Example
 * ```ts
 * import { pickProfile } from './pickProfile'; // internal: used by recommend and sendFile's `auto`
 * pickProfile({ rttMs: 45, lossRate: 0.004 }); // 'internet'
 * ```
 *
 * @param inputs The measured conditions.
 * @return The profile name.
 */
export function pickProfile(inputs: ProfileInputs): ProfileName {
  const rtt = inputs.rttMs;
  if (rtt === undefined || !Number.isFinite(rtt) || rtt < 0) return 'internet';
  const loss = inputs.lossRate !== undefined && Number.isFinite(inputs.lossRate) ? inputs.lossRate : 0;
  const jitter = inputs.jitterMs;
  if (jitter !== undefined && jitter >= MOBILE_MIN_JITTER_MS && jitter >= MOBILE_JITTER_RATIO * rtt) return 'mobile';
  if (rtt < LAN_MAX_RTT_MS && loss < LAN_MAX_LOSS) return 'lan';
  if (rtt < WIFI_MAX_RTT_MS && loss < GOOD_MAX_LOSS) return 'wifi';
  if (rtt < INTERNET_MAX_RTT_MS && loss < GOOD_MAX_LOSS) return 'internet';
  return 'poor';
}
