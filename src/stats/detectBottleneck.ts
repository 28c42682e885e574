/**
 * Names what limits a transfer, from evidence the pipeline actually reports.
 */
import type { Bottleneck, TransferSignals } from './statsTypes';

/** Fewer samples than this: `'unknown'`. */
export const MIN_SAMPLES = 2;
/** Receiver backlog growing faster than this share of the throughput: `'receiver'`. */
export const RECEIVER_GROWTH_SHARE = 0.1;
/** Event-loop busy share above this: `'cpu'`. */
export const CPU_BUSY = 0.9;
/** At least this share of buffer observations at or above `bufferFullBytes`: the sender is blocked on the transport. */
export const BLOCKED_SHARE = 0.5;
/** Loss at or above this (1 %) while blocked: congestion, `'network-bandwidth'`. */
export const CONGESTION_LOSS = 0.01;
/** RTT at least this multiple of the window's minimum … */
export const QUEUEING_RATIO = 1.5;
/** … and at least this many ms above it: queueing delay, `'network-bandwidth'`. */
export const QUEUEING_MIN_MS = 10;
/** `'network-latency'` needs at least this RTT, ms. */
export const LATENCY_MIN_RTT_MS = 20;
/** … and throughput at or above this share of the window ceiling `lanes × windowBytes / RTT`. */
export const WINDOW_FILL = 0.7;
/**
 * Default bytes one SCTP association keeps in flight. libdatachannel measured
 * 273 Mbit/s at 12 ms, 67 at 52 ms and 31 at 100 ms: 400-435 kB in flight each
 * time (docs/WEBRTC-FACTS.md).
 */
export const DEFAULT_WINDOW_BYTES = 400_000;
/** Per-sample throughput with a coefficient of variation at or below this is "flat". */
export const FLAT_CV = 0.25;

/**
 * Decides what limits the transfer. Rules are checked in order; the first
 * that matches wins. "Blocked" means `bufferFullShare ≥ 0.5`: most channels
 * hold at least `bufferFullBytes` queued, so the sender is waiting on the
 * transport rather than the other way round.
 *
 * 1. `none` when the transfer is done.
 * 2. `unknown` with fewer than 2 samples.
 * 3. `receiver` when the receiver's backlog grows faster than 10 % of the throughput.
 * 4. `cpu` when the event loop is busy more than 90 % of the time.
 * 5. `unknown` when no buffer levels were reported (blocked or not cannot be told).
 * 6. Blocked, and loss ≥ 1 % or RTT ≥ 1.5 × min RTT and ≥ min + 10 ms: `network-bandwidth` (congestion or queueing delay).
 * 7. Blocked, RTT ≥ 20 ms and throughput ≥ 70 % of `lanes × windowBytes × 8 / RTT`: `network-latency` (window-limited).
 * 8. Blocked and throughput flat (CV ≤ 0.25): `backpressure` (the stack below the channel drains slower than we fill, cause not attributable).
 * 9. Blocked otherwise: `unknown` (the transport is still ramping or fluctuating).
 * 10. Not blocked with throughput > 0: `none` (the transport takes all we offer).
 * 11. Otherwise (stalled without a signal): `unknown`.
 *
 * ## Example
 * ```ts
 * import { detectBottleneck } from './detectBottleneck'; // internal: TransferStats.bottleneck carries its result
 * detectBottleneck({ samples: 5, throughputBps: 40e6, throughputCv: 0.05, bufferFullShare: 1, rttMs: 80, rttMinMs: 78, lanes: 1 });
 * // 'network-latency': 400 kB per 80 ms caps one lane at 40 Mbit/s
 * ```
 *
 * @param s The evidence, usually `TransferStats.signals`.
 * @return The bottleneck.
 */
export function detectBottleneck(s: TransferSignals): Bottleneck {
  if (s.done) return 'none';
  if (s.samples < MIN_SAMPLES) return 'unknown';
  const growth = s.receiverGrowthBps;
  if (growth !== undefined && growth > 0 && (s.receiverQueuedBytes ?? 1) > 0 && growth * 8 >= RECEIVER_GROWTH_SHARE * s.throughputBps) {
    return 'receiver';
  }
  if (s.cpuBusy !== undefined && s.cpuBusy > CPU_BUSY) return 'cpu';
  if (s.bufferFullShare === undefined) return 'unknown';
  if (s.bufferFullShare >= BLOCKED_SHARE) {
    const rtt = s.rttMs;
    const base = s.rttMinMs;
    if ((s.lossRate ?? 0) >= CONGESTION_LOSS) return 'network-bandwidth';
    if (rtt !== undefined && base !== undefined && rtt >= QUEUEING_RATIO * base && rtt - base >= QUEUEING_MIN_MS) return 'network-bandwidth';
    if (rtt !== undefined && rtt >= LATENCY_MIN_RTT_MS) {
      const ceiling = ((s.lanes || 1) * (s.windowBytes ?? DEFAULT_WINDOW_BYTES) * 8 * 1000) / rtt;
      if (s.throughputBps >= WINDOW_FILL * ceiling) return 'network-latency';
    }
    if (s.throughputCv !== undefined && s.throughputCv <= FLAT_CV) return 'backpressure';
    return 'unknown';
  }
  return s.throughputBps > 0 ? 'none' : 'unknown';
}
