/**
 * The emulated networks of `npm run bench -- --network`. Figures are per
 * direction except the RTT (each direction gets half); loss applies to each
 * direction separately.
 */
import { symmetricLink, type LinkConfig } from './linkConfig';

/** One network to benchmark on. */
export interface Scenario {
  readonly name: string;
  /** One line for tables and the chart. */
  readonly label: string;
  /** The emulated link, or undefined for plain loopback (no emulator). */
  readonly link?: LinkConfig;
  /** Bottleneck rate, Mbit/s (undefined: unlimited). */
  readonly rateMbps?: number;
  readonly rttMs: number;
  /** Loss probability of each direction, 0..1. */
  readonly lossRate: number;
  readonly jitterMs: number;
  /** Bytes per transfer in `--quick` runs (the full run uses the configured size). */
  readonly quickBytes: number;
}

const MB = 1e6;

const emulated = (name: string, label: string, rateMbps: number, rttMs: number, lossRate: number, jitterMs: number, quickBytes: number): Scenario => ({
  name,
  label,
  rateMbps,
  rttMs,
  lossRate,
  jitterMs,
  quickBytes,
  link: symmetricLink({ rateMbps, rttMs, lossRate, jitterMs, seed: 1 }),
});

/** Every scenario, in run order. */
export const SCENARIOS: readonly Scenario[] = [
  { name: 'lan', label: 'loopback, no emulator', rttMs: 0, lossRate: 0, jitterMs: 0, quickBytes: 16 * MB },
  emulated('lan-emulated', '1 Gbit/s, 1 ms RTT', 1000, 1, 0, 0, 16 * MB),
  emulated('wifi', '300 Mbit/s, 8 ms, 0.5% loss, 2 ms jitter', 300, 8, 0.005, 2, 4 * MB),
  emulated('internet', '100 Mbit/s, 40 ms, 0.5% loss, 5 ms jitter', 100, 40, 0.005, 5, 1 * MB),
  emulated('poor', '10 Mbit/s, 150 ms, 2% loss, 20 ms jitter', 10, 150, 0.02, 20, 0.15 * MB),
  emulated('mobile', '20 Mbit/s, 80 ms, 1% loss, 30 ms jitter', 20, 80, 0.01, 30, 0.4 * MB),
];
