/**
 * Maps what the library emits (`TransferStats`, progress, errors) to view
 * models of display strings. Pure: no DOM, no clock; `panel.ts` renders them.
 *
 * ```
 * stats$:     --s1------s2------s3|
 * statsView:  --v1------v2------v3|      v.throughput '11.9 MB/s', v.rtt '1 ms', …
 * ```
 */
import type { TransferProgress, TransferStats } from '../../src/index';
import type { Bottleneck, Recommendation } from '../../src/stats';
import { formatBytes, formatEta, formatMs, formatPercent, formatRatio, formatRtt, formatSpeed, UNKNOWN } from './format';

/** One channel's send buffer, for a `<meter>`. */
export interface BufferView {
  readonly label: string;
  /** `bufferedAmount`, bytes. */
  readonly bytes: number;
  /** `formatBytes(bytes)`. */
  readonly text: string;
}

/** How good the link looks, for styling the quality meter. */
export type QualityLevel = 'good' | 'fair' | 'poor';

/** Everything the stats block shows, as strings (plus numbers for meters). */
export interface StatsView {
  readonly throughput: string;
  readonly average: string;
  readonly peak: string;
  readonly percent: string;
  /** `'9.0 MiB of 20.0 MiB'`. */
  readonly bytes: string;
  readonly eta: string;
  /** Current RTT, with the window's min–max when known: `'0.42 ms (0.30–1.10)'`. */
  readonly rtt: string;
  readonly jitter: string;
  readonly loss: string;
  readonly channels: string;
  readonly lanes: string;
  readonly chunkSize: string;
  /** Channels in label order (`tallow-2` before `tallow-10`). */
  readonly buffers: readonly BufferView[];
  /** `'87 / 100'`. */
  readonly quality: string;
  readonly qualityValue: number;
  readonly qualityLevel: QualityLevel;
  readonly bottleneck: string;
  readonly recommendation: string;
}

/** What the progress block shows. */
export interface ProgressView {
  /** For `<progress value>`: 0..100. */
  readonly value: number;
  readonly percent: string;
  readonly bytes: string;
}

/** Quality at or above this is `good`. */
export const GOOD_QUALITY = 70;
/** Quality at or above this (and below {@link GOOD_QUALITY}) is `fair`. */
export const FAIR_QUALITY = 40;

const BOTTLENECKS: Readonly<Record<Bottleneck, string>> = {
  none: 'None',
  'network-bandwidth': 'Network bandwidth',
  'network-latency': 'Network latency (round trips)',
  backpressure: 'Send buffers full (backpressure)',
  cpu: 'CPU',
  receiver: 'Receiver storage',
  unknown: 'Not known yet',
};

const ACTIONS: Readonly<Record<Recommendation['action'], string>> = {
  none: 'No change',
  'more-channels': 'Use more channels',
  'more-lanes': 'Use more lanes',
  'smaller-chunks': 'Use smaller chunks',
  'larger-chunks': 'Use larger chunks',
  'switch-profile': 'Switch profile',
};

/** A human label for a bottleneck; unknown values print as they are. */
export const bottleneckText = (b: Bottleneck): string => BOTTLENECKS[b] ?? String(b);

/** `'Switch to profile “wifi”: RTT 40 ms …'`, `'No change: …'`. */
export function recommendationText(r: Recommendation): string {
  const action = r.action === 'switch-profile' && r.profile ? `Switch to profile “${r.profile}”` : (ACTIONS[r.action] ?? String(r.action));
  return r.reason ? `${action}: ${r.reason}` : action;
}

/** `good` / `fair` / `poor` for a 0..100 score. */
export const qualityLevel = (score: number): QualityLevel => (score >= GOOD_QUALITY ? 'good' : score >= FAIR_QUALITY ? 'fair' : 'poor');

/** Orders `tallow-2` before `tallow-10`. */
const byLabel = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

const count = (n: number | undefined): string => (typeof n === 'number' && Number.isFinite(n) ? String(n) : UNKNOWN);

/** `'9.0 MiB of 20.0 MiB'`, or just the bytes while the total is unknown. */
export const bytesOf = (done: number, total: number | undefined): string =>
  total === undefined ? formatBytes(done) : `${formatBytes(done)} of ${formatBytes(total)}`;

/**
 * The stats block's view model for one `TransferStats` sample.
 *
 * ## Example
 * ```ts
 * transfer$.stats$.pipe(map(statsView)).subscribe((v) => panel.renderStats(v));
 * ```
 * @param stats one sample from `stats$`
 * @return display strings
 */
export function statsView(stats: TransferStats): StatsView {
  const { rtt } = stats;
  // Chromium's transport RTT comes in whole ms: shown so, not as '1.00 ms'.
  const ms = (v: number | undefined): string => formatRtt(v, rtt.source);
  const range = rtt.min !== undefined && rtt.max !== undefined && rtt.min !== rtt.max ? ` (${ms(rtt.min).replace(' ms', '')}–${ms(rtt.max)})` : '';
  const quality = Math.round(Math.min(100, Math.max(0, stats.quality)));
  return {
    throughput: formatSpeed(stats.throughput.current / 8),
    average: formatSpeed(stats.throughput.average / 8),
    peak: formatSpeed(stats.throughput.peak / 8),
    percent: formatPercent(stats.percent),
    bytes: bytesOf(stats.bytesDone, stats.bytesTotal),
    eta: formatEta(stats.etaSeconds),
    rtt: rtt.current === undefined ? UNKNOWN : `${ms(rtt.current)}${range}`,
    jitter: formatMs(stats.jitterMs),
    loss: formatRatio(stats.lossRate),
    channels: count(stats.channels),
    lanes: count(stats.lanes),
    chunkSize: formatBytes(stats.chunkSize),
    buffers: Object.keys(stats.buffers)
      .sort(byLabel)
      .map((label) => ({ label, bytes: stats.buffers[label], text: formatBytes(stats.buffers[label]) })),
    quality: `${quality} / 100`,
    qualityValue: quality,
    qualityLevel: qualityLevel(quality),
    bottleneck: bottleneckText(stats.bottleneck),
    recommendation: recommendationText(stats.recommendation),
  };
}

/** The progress block's view model for one `progress` event. */
export function progressView(p: Pick<TransferProgress, 'bytes' | 'total' | 'percent'>): ProgressView {
  const value = Number.isFinite(p.percent) ? Math.min(100, Math.max(0, p.percent)) : 0;
  return { value, percent: formatPercent(value), bytes: bytesOf(p.bytes, p.total) };
}

/** How a transfer ended, for the status line and `data-state`. */
export interface Outcome {
  readonly state: 'completed' | 'cancelled' | 'declined' | 'failed';
  readonly text: string;
}

/**
 * Turns the error a transfer ended with into a status line. `side` is the role of
 * this page in the transfer, so "the other side" can be named.
 */
export function failureOutcome(error: unknown, side: 'sender' | 'receiver'): Outcome {
  const other = side === 'sender' ? 'receiver' : 'sender';
  const e = error as { name?: unknown; message?: unknown; by?: unknown; details?: Record<string, unknown> } | undefined;
  switch (e?.name) {
    case 'TransferCancelledError':
      return e.by === 'remote' ? { state: 'cancelled', text: `Cancelled by the ${other}.` } : { state: 'cancelled', text: 'Cancelled.' };
    case 'TransferRejectedError':
      return { state: 'declined', text: `Declined by the ${other}.` };
    case 'IdleTimeoutError':
      return { state: 'failed', text: `Stalled: nothing arrived for ${Math.round(Number(e.details?.timeoutMs ?? 0) / 1000)} s.` };
    case 'ChannelClosedError':
      return { state: 'failed', text: 'Connection lost.' };
    default: {
      const name = typeof e?.name === 'string' ? e.name : 'Error';
      const message = typeof e?.message === 'string' ? e.message : String(error);
      return { state: 'failed', text: `Failed: ${name}: ${message}` };
    }
  }
}
