/**
 * The path's RTT that decides `auto`'s start lanes, from `auto`'s probe (one `getStats()` round-trip time of
 * the connection's ICE pair, read before the offer) and the control pings answered so far (the fastest).
 *
 * Each reading errs one way. A busy CPU inflates both on a LAN (Chromium's STUN round trip between two loaded
 * pages read 5 ms; a pong waits for the page's thread), so a high probe is checked against the pong and the
 * lower wins. Jitter deflates a single probe on a real path: on an emulated 8 ms path with 2 ms of jitter each
 * way the probe read 4 ms in 1 run of 6, the session took the path for a LAN, opened no lane and ran at a
 * seventh of its usual rate, with the controller holding for the same reason. So a low probe that the pong
 * contradicts (the pong at least {@link IMPLIED_LOSS_MIN_RTT_MS}) gives the mean of the two, unless it is
 * below {@link LAN_PROBE_MS}: jitter cannot take a path worth lanes that low, a LAN reads that.
 *
 * | probe | pong | RTT |
 * |---|---|---|
 * | none | none | none |
 * | none | q | q |
 * | p | none | p |
 * | p ≥ 5 | q | min(p, q) |
 * | 2 ≤ p < 5 | q ≥ 5 | (p + q) / 2 |
 * | otherwise | | p |
 */
import { IMPLIED_LOSS_MIN_RTT_MS } from './SenderLanes';

/** A probe below this, ms, is a LAN's whatever the pong says: the sender does not ping to check it. */
export const LAN_PROBE_MS = 2;

/**
 * @param probeMs `auto`'s probed RTT, ms (undefined: none).
 * @param pongMs The fastest control ping answered so far, ms (undefined or Infinity: none yet).
 * @return The RTT the start lanes hang on, ms, or undefined with neither reading.
 */
export function startRttMs(probeMs: number | undefined, pongMs: number | undefined): number | undefined {
  const pong = pongMs !== undefined && Number.isFinite(pongMs) ? pongMs : undefined;
  if (probeMs === undefined) return pong;
  if (pong === undefined) return probeMs;
  if (probeMs >= IMPLIED_LOSS_MIN_RTT_MS) return Math.min(probeMs, pong);
  if (probeMs >= LAN_PROBE_MS && pong >= IMPLIED_LOSS_MIN_RTT_MS) return (probeMs + pong) / 2;
  return probeMs;
}
