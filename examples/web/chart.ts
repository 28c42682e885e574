/**
 * The throughput chart as numbers: keeps a sliding window of samples and scales
 * it to SVG path coordinates. Pure functions, no DOM; `panel.ts` puts the
 * strings into `<path d="…">`.
 *
 * ```
 * samples (t, bps):   (0 s, 40M) (1 s, 80M) (2 s, 95M)       window 60 s, 600×120
 * chartGeometry:      yMax 100M, line 'M590.0 72.0 L…'       newest sample at the right edge
 * ```
 */

/** One point: time in ms (any clock, e.g. `TransferStats.timestamp`) and bits per second. */
export interface ChartSample {
  readonly t: number;
  readonly bps: number;
}

/** Options of {@link chartGeometry}. */
export interface ChartConfig {
  /** Drawing width in SVG user units. */
  readonly width: number;
  /** Drawing height in SVG user units. */
  readonly height: number;
  /** Time span shown, ms. Default {@link CHART_WINDOW_MS} (60 s). */
  readonly windowMs?: number;
  /** Time at the right edge, ms. Default: the newest sample's `t`. */
  readonly now?: number;
  /** Lowest top of the y axis, bits/s, so an idle link does not draw noise full height. Default 1 Mbit/s. */
  readonly minYMax?: number;
}

/** What the chart draws. */
export interface ChartGeometry {
  /** Path data of the throughput line (`''` without samples). */
  readonly line: string;
  /** Path data of the area under the line, closed along the bottom (`''` without samples). */
  readonly area: string;
  /** The y axis top, bits/s: a 1-2-5 step at or above the highest sample. */
  readonly yMax: number;
  /** The highest sample in the window, bits/s (0 without samples). */
  readonly peak: number;
  /** Samples drawn. */
  readonly points: number;
}

/** The default window: the last 60 seconds. */
export const CHART_WINDOW_MS = 60_000;

/** Default {@link ChartConfig.minYMax}: 1 Mbit/s. */
export const DEFAULT_MIN_Y_MAX = 1_000_000;

/**
 * The smallest 1, 2 or 5 × 10^n at or above `value` (1 for 0 or less).
 *
 * ```
 * niceCeil(95_000_000) → 100_000_000   niceCeil(120) → 200   niceCeil(5) → 5
 * ```
 */
export function niceCeil(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    // A small tolerance keeps 3e8 / 1e8 * 1e8 style rounding from skipping a step.
    if (step * magnitude >= value * (1 - 1e-12)) return step * magnitude;
  }
  return 10 * magnitude;
}

/**
 * Adds a sample and drops those older than `windowMs` before it. Returns a new
 * array; the input is not changed. A sample older than the newest one is ignored
 * (clocks on one page only move forward), so is one with a non-finite value.
 */
export function appendSample(samples: readonly ChartSample[], sample: ChartSample, windowMs = CHART_WINDOW_MS): ChartSample[] {
  const newest = samples.length ? samples[samples.length - 1].t : -Infinity;
  if (!Number.isFinite(sample.t) || !Number.isFinite(sample.bps) || sample.t < newest) return samples.slice();
  const from = sample.t - windowMs;
  return [...samples.filter((s) => s.t >= from), { t: sample.t, bps: Math.max(0, sample.bps) }];
}

/** Default shortest span {@link chartSpan} returns: 2 s. */
export const MIN_CHART_SPAN_MS = 2_000;

/**
 * The time span to draw: from the oldest to the newest sample, at least `minMs`
 * and at most `maxMs`. A short transfer then fills the chart instead of
 * squeezing into its right edge; a long one scrolls with the last 60 s.
 *
 * ```
 * chartSpan([0 s, 1 s, 3 s]) → 3000   chartSpan([0 s]) → 2000   chartSpan([0 s … 90 s]) → 60000
 * ```
 */
export function chartSpan(samples: readonly ChartSample[], minMs = MIN_CHART_SPAN_MS, maxMs = CHART_WINDOW_MS): number {
  const span = samples.length ? samples[samples.length - 1].t - samples[0].t : 0;
  return Math.min(maxMs, Math.max(minMs, span));
}

const fixed = (n: number): string => n.toFixed(1);

/**
 * Scales the samples inside the window to SVG coordinates: x grows with time
 * (the window's start at 0, `now` at `width`), y grows downwards (0 bits/s at
 * `height`, `yMax` at 0). Samples outside the window are left out.
 */
export function chartGeometry(samples: readonly ChartSample[], config: ChartConfig): ChartGeometry {
  const { width, height, windowMs = CHART_WINDOW_MS, minYMax = DEFAULT_MIN_Y_MAX } = config;
  const now = config.now ?? (samples.length ? samples[samples.length - 1].t : 0);
  const start = now - windowMs;
  const shown = samples.filter((s) => s.t >= start && s.t <= now);
  const peak = shown.reduce((m, s) => Math.max(m, s.bps), 0);
  const yMax = niceCeil(Math.max(peak, minYMax));
  if (!shown.length) return { line: '', area: '', yMax, peak: 0, points: 0 };
  const xy = shown.map((s) => [((s.t - start) / windowMs) * width, height - (Math.min(s.bps, yMax) / yMax) * height] as const);
  const line = xy.map(([x, y], i) => `${i ? 'L' : 'M'}${fixed(x)} ${fixed(y)}`).join(' ');
  const area = `${line} L${fixed(xy[xy.length - 1][0])} ${fixed(height)} L${fixed(xy[0][0])} ${fixed(height)} Z`;
  return { line, area, yMax, peak, points: shown.length };
}
