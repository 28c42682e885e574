/**
 * The benchmark monitor: folds the pipeline's telemetry events into one
 * `TransferStats` sample per interval, with a bottleneck, a quality score and
 * a recommendation.
 */
import { asyncScheduler, map, mergeMap, Observable, reduce, scan, tap, windowTime, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { InvalidConfigError } from '../errors';
import type { ProfileName } from '../transfer/profiles';
import { addEvent, advance, emptyInterval, emptyWindow, windowStats, type WindowSettings } from './statsWindow';
import type { StatsInput, TransferStats } from './statsTypes';
import { configObject } from '../configObject';

export type * from './statsTypes';

/** Options for {@link transferStats}. */
export interface TransferStatsConfig {
  /** Sample period, ms. Default 1000. */
  readonly sampleIntervalMs?: number;
  /** Samples kept for averages, peak/min, RTT and jitter. Default 60. */
  readonly windowSize?: number;
  /** Most recent samples the bottleneck rules look at. Default 5 (capped at `windowSize`). */
  readonly trendSamples?: number;
  /**
   * A channel whose `bufferedAmount` is at or above this counts as full (the
   * sender waits on it). Default 512 KiB; set it to your profile's `low`
   * watermark, where a paused sender resumes.
   */
  readonly bufferFullBytes?: number;
  /** Bytes one SCTP association keeps in flight (see `DEFAULT_WINDOW_BYTES`). Default 400 kB. */
  readonly windowBytes?: number;
  /** Largest chunk the path accepts, bytes. Default 256 KiB minus the 32-byte frame header. */
  readonly maxChunkSize?: number;
  /** The profile in use at the start (a `profile` event overrides it). Default: unknown. */
  readonly profile?: ProfileName;
  /** Drives the sample timer. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Default sample period, ms. */
export const DEFAULT_SAMPLE_INTERVAL = 1000;
/** Default window length, samples. */
export const DEFAULT_WINDOW_SIZE = 60;
/** Default samples for trend rules. */
export const DEFAULT_TREND_SAMPLES = 5;
/** Default "buffer full" level, bytes. */
export const DEFAULT_BUFFER_FULL_BYTES = 512 * 1024;

/**
 * Samples the transfer's telemetry every `sampleIntervalMs` ms.
 *
 * Events are folded as they arrive (`windowTime` + `reduce`, O(1) memory per
 * sample, however many events), and closed samples advance a window of the
 * last `windowSize` samples with `scan`. One `TransferStats` is emitted per
 * interval, including empty ones, and a final one (`final: true`, possibly
 * shorter) when the source completes; then the output completes. An error is
 * forwarded at once, after the timer is torn down; no partial sample is emitted.
 *
 * ```
 * source: -p-p-r---p-p-----p--|        (p: progress, r: rtt; sampleIntervalMs = 5 frames)
 * output: -----s----s----s----(s|)     (s: TransferStats; the last one has final: true)
 * ```
 *
 * ## Example
 * ```ts
 * import { Subject } from 'rxjs';
 * import { transferStats, type StatsInput } from 'tallow-rx/stats';
 *
 * const telemetry = new Subject<StatsInput>();
 * telemetry.pipe(transferStats({ sampleIntervalMs: 1000 })).subscribe((s) =>
 *   console.log(`${(s.throughput.current / 1e6).toFixed(1)} Mbit/s, ${s.bottleneck}`),
 * );
 * telemetry.next({ kind: 'total', bytes: 10_000_000 });
 * telemetry.next({ kind: 'progress', bytes: 65_536 });
 * ```
 *
 * @see docs/stats.md for every rule and threshold.
 * @param config Sampling, window and threshold options.
 * @return An operator from telemetry events to samples.
 */
export function transferStats(config: TransferStatsConfig = {}): OperatorFunction<StatsInput, TransferStats> {
  config = configObject('transferStats', config);
  const scheduler = config.scheduler ?? asyncScheduler;
  const settings: WindowSettings = {
    sampleIntervalMs: config.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL,
    windowSize: config.windowSize ?? DEFAULT_WINDOW_SIZE,
    trendSamples: Math.min(config.trendSamples ?? DEFAULT_TREND_SAMPLES, config.windowSize ?? DEFAULT_WINDOW_SIZE),
    bufferFullBytes: config.bufferFullBytes ?? DEFAULT_BUFFER_FULL_BYTES,
    windowBytes: config.windowBytes,
    maxChunkSize: config.maxChunkSize,
  };
  const positive = { sampleIntervalMs: settings.sampleIntervalMs, bufferFullBytes: settings.bufferFullBytes, windowBytes: config.windowBytes ?? 1, maxChunkSize: config.maxChunkSize ?? 1 };
  for (const [name, value] of Object.entries(positive)) {
    if (!(value > 0) || !Number.isFinite(value)) throw new InvalidConfigError(`${name} must be a positive number, got ${value}`, { [name]: value });
  }
  for (const [name, value] of Object.entries({ windowSize: settings.windowSize, trendSamples: config.trendSamples ?? 1 })) {
    if (!Number.isInteger(value) || value < 1) throw new InvalidConfigError(`${name} must be a positive integer, got ${value}`, { [name]: value });
  }

  return (source) =>
    new Observable<TransferStats>((subscriber) => {
      // Set when the source completes, so the sample closed by completion is marked final.
      let completed = false;
      const start = scheduler.now();
      return source
        .pipe(
          tap({ complete: () => (completed = true) }),
          windowTime(settings.sampleIntervalMs, scheduler),
          // A fresh accumulator per window; windows never overlap.
          mergeMap((events) => events.pipe(reduce(addEvent, emptyInterval()))),
          scan((w, acc) => advance(w, acc, scheduler.now(), settings), emptyWindow(start, config.profile)),
          map((w) => windowStats(w, settings, completed)),
        )
        .subscribe(subscriber);
    });
}
