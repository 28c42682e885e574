/**
 * Stats for people: turns the library's `TransferStats` samples into one plain line (percent,
 * MB/s, time left), a quality word and an end-of-transfer summary. Pure: no DOM and no clock of
 * its own; times come from the samples (`timestamp`, ms) and from the caller.
 *
 * ```
 * stats$:      --s1----s2----s3----s4--…--s9|
 * sample(s):   --v1----v2----v3----v4--…--v9|     v.line '42.0 % · 11.6 MB/s · about 8 s left'
 * ```
 *
 * What it fixes against the raw figures:
 * - speed is a moving rate of the bytes the page counts (sent and confirmed, or verified and
 *   written) over {@link RATE_WINDOW_MS}: a receiver that verifies in bursts shows the rate the
 *   bytes really arrive at, not the burst;
 * - the average runs from the moment the receiver accepted, not from the subscription;
 * - the recommendation is shown only once it held for {@link RECOMMENDATION_HOLD_SAMPLES}
 *   samples in a row (hysteresis), so it does not flicker.
 */
import type { TransferStats } from '../../src/index';
import { formatEta, formatPercent, formatSize, formatSpeed, UNKNOWN } from './format';
import { recommendationText } from './view';

/** Speed is measured over the last this many ms of samples. */
export const RATE_WINDOW_MS = 2_000;
/** A speed needs at least this span of samples, ms; before that it is "measuring". */
export const MIN_RATE_SPAN_MS = 500;
/** Samples a new recommendation must hold before it replaces the shown one (2 s at 250 ms). */
export const RECOMMENDATION_HOLD_SAMPLES = 8;
/** Samples before the quality score means something. */
export const QUALITY_MIN_SAMPLES = 4;

/** A quality word and a level for styling. */
export interface QualityWord {
  readonly word: 'Excellent' | 'Good' | 'Fair' | 'Poor' | 'Measuring…';
  readonly level: 'good' | 'fair' | 'poor' | 'unknown';
}

/** The quality score (0..100) as a word; `Measuring…` for the first samples. */
export function qualityWord(score: number, samples: number): QualityWord {
  if (!(samples >= QUALITY_MIN_SAMPLES) || !Number.isFinite(score)) return { word: 'Measuring…', level: 'unknown' };
  if (score >= 85) return { word: 'Excellent', level: 'good' };
  if (score >= 70) return { word: 'Good', level: 'good' };
  if (score >= 40) return { word: 'Fair', level: 'fair' };
  return { word: 'Poor', level: 'poor' };
}

/** A moving rate over the bytes counted so far. */
export interface RateMeter {
  /** Adds a point (ms, cumulative bytes); returns bytes/s over the window, or undefined while it is too short. */
  add(timestampMs: number, bytes: number): number | undefined;
  /** Highest rate seen over a full window, bytes/s (0 before). */
  readonly peak: number;
}

/** A {@link RateMeter} over `windowMs` (default {@link RATE_WINDOW_MS}). */
export function createRateMeter(windowMs = RATE_WINDOW_MS): RateMeter {
  // Points inside the window, oldest first.
  let points: { t: number; bytes: number }[] = [];
  let peak = 0;
  return {
    add(t, bytes) {
      points.push({ t, bytes });
      points = points.filter((p) => p.t >= t - windowMs);
      const first = points[0];
      const span = t - first.t;
      if (span < MIN_RATE_SPAN_MS) return undefined;
      const rate = Math.max(0, ((bytes - first.bytes) * 1000) / span);
      if (span >= windowMs * 0.75) peak = Math.max(peak, rate);
      return rate;
    },
    get peak() {
      return peak;
    },
  };
}

/** Shows a value only once it held for `holdSamples` samples in a row; then keeps it until another one does. */
export function createHysteresis<T>(holdSamples = RECOMMENDATION_HOLD_SAMPLES, keyOf: (value: T) => string = String): { next(value: T): T | undefined } {
  // The value shown, the candidate and how many samples in a row it has held.
  let shown: T | undefined;
  let candidate: T | undefined;
  let held = 0;
  return {
    next(value) {
      if (candidate !== undefined && keyOf(candidate) === keyOf(value)) held++;
      else {
        candidate = value;
        held = 1;
      }
      if (held >= holdSamples) shown = candidate;
      return shown;
    },
  };
}

/** What the simple line and the details show for one sample. */
export interface PeopleView {
  /** `'42.0 % · 11.6 MB/s · about 8 s left'`. */
  readonly line: string;
  readonly percent: string;
  /** Moving rate, `'11.6 MB/s'`, or `'measuring…'`. */
  readonly speed: string;
  /** The same rate as a number, bytes/s (undefined while measuring). */
  readonly rateBytesPerSecond: number | undefined;
  readonly eta: string;
  readonly quality: QualityWord;
  /** Since accept, `'10.2 MB/s'`. */
  readonly average: string;
  readonly peak: string;
  /** The recommendation once it held (see {@link createHysteresis}), else `'—'`. */
  readonly recommendation: string;
}

/** Options of {@link createPeopleStats}. */
export interface PeopleStatsConfig {
  /** When the receiver accepted, ms on the samples' clock (`Date.now()` with the default scheduler). */
  readonly startedAtMs: number;
  /** Bytes already held when the transfer started (a resumed transfer), not counted in speeds. Default 0. */
  readonly fromBytes?: number;
  /** Default {@link RATE_WINDOW_MS}. */
  readonly rateWindowMs?: number;
  /** Default {@link RECOMMENDATION_HOLD_SAMPLES}. */
  readonly holdSamples?: number;
}

/**
 * Turns samples into {@link PeopleView}s. One per transfer: it keeps the rate window, the peak
 * and the recommendation's hysteresis.
 *
 * ## Example
 * ```ts
 * const people = createPeopleStats({ startedAtMs: Date.now() });
 * session$.stats$.subscribe((s) => (line.textContent = people.sample(s).line));
 * ```
 */
export function createPeopleStats(config: PeopleStatsConfig): { sample(stats: TransferStats): PeopleView; averageBps(atMs: number, bytes: number): number | undefined } {
  const { startedAtMs, fromBytes = 0, rateWindowMs = RATE_WINDOW_MS, holdSamples = RECOMMENDATION_HOLD_SAMPLES } = config;
  const meter = createRateMeter(rateWindowMs);
  const recommendation = createHysteresis(holdSamples, (r: TransferStats['recommendation']) => `${r.action}/${r.profile ?? ''}`);
  const averageBps = (atMs: number, bytes: number): number | undefined => {
    const ms = atMs - startedAtMs;
    return ms > 0 ? ((bytes - fromBytes) * 1000) / ms : undefined;
  };
  return {
    averageBps,
    sample(stats) {
      const rate = meter.add(stats.timestamp, stats.bytesDone);
      const remaining = stats.bytesTotal === undefined ? undefined : Math.max(0, stats.bytesTotal - stats.bytesDone);
      const etaSeconds = remaining === 0 ? 0 : rate && remaining !== undefined ? remaining / rate : undefined;
      const percent = formatPercent(stats.percent);
      const speed = rate === undefined ? 'measuring…' : formatSpeed(rate);
      const eta = etaSeconds === undefined ? UNKNOWN : formatEta(etaSeconds);
      const shown = recommendation.next(stats.recommendation);
      return {
        line: [percent, speed, etaSeconds === undefined ? 'time left unknown' : `about ${eta} left`].join(' · '),
        percent,
        speed,
        rateBytesPerSecond: rate,
        eta,
        quality: qualityWord(stats.quality, stats.signals?.samples ?? 0),
        average: formatSpeed(averageBps(stats.timestamp, stats.bytesDone)),
        peak: meter.peak > 0 ? formatSpeed(meter.peak) : UNKNOWN,
        recommendation: shown ? recommendationText(shown) : UNKNOWN,
      };
    },
  };
}

/** How a transfer ended, for {@link summaryText}. */
export interface TransferSummary {
  readonly outcome: 'completed' | 'cancelled' | 'declined' | 'failed' | 'peer-left';
  /** Bytes confirmed (sender) or verified (receiver). */
  readonly bytes: number;
  readonly total: number;
  /** From accept to the end, seconds (undefined if it never started). */
  readonly seconds?: number;
  readonly files: { readonly completed: number; readonly total: number };
}

/** The one line that replaces the live numbers when a transfer ends. */
export function summaryText(s: TransferSummary): string {
  const files = s.files.total > 1 ? `${s.files.completed} of ${s.files.total} files, ` : '';
  // An average over a tiny file or a blink says nothing: it is left out below 1 MB or 0.5 s.
  const took = s.seconds !== undefined && s.seconds > 0 ? ` in ${s.seconds.toFixed(1)} s${s.bytes >= 1e6 && s.seconds >= 0.5 ? ` (${formatSpeed(s.bytes / s.seconds)} on average)` : ''}` : '';
  const part = `${files}${formatSize(s.bytes)} of ${formatSize(s.total)}`;
  switch (s.outcome) {
    case 'completed':
      return `Done: ${s.files.total > 1 ? `${s.files.total} files, ` : ''}${formatSize(s.bytes)}${took}.`;
    case 'cancelled':
      return `Stopped after ${part}.`;
    case 'peer-left':
      return `The other device left after ${part}.`;
    case 'declined':
      return 'Nothing was sent.';
    case 'failed':
      return `Ended after ${part}.`;
  }
}
