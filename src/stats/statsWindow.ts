/**
 * The pure state machine behind `transferStats()`: events fold into an
 * `IntervalAcc` while a sample is open, each closed sample advances an
 * immutable `StatsWindow`, and `windowStats` turns the window into a
 * `TransferStats`. Everything here is synchronous and clock-free: the
 * operator passes `scheduler.now()` in, so tests need no scheduler.
 */
import { detectBottleneck } from './detectBottleneck';
import { qualityScore } from './qualityScore';
import { recommend } from './recommend';
import type { ProfileName } from '../transfer/profiles';
import type { LaneChange, StatsInput, TransferSignals, TransferStats } from './statsTypes';

/** What one sample interval accumulated. Private to one window, so it is mutated in place. */
export interface IntervalAcc {
  /** Progress bytes. */
  bytes: number;
  /** RTT aggregates: count, sum, min, max, first and last value, sum and count of |successive differences|. */
  rttCount: number;
  rttSum: number;
  rttMin: number;
  rttMax: number;
  rttFirst?: number;
  rttLast?: number;
  rttSource?: 'transport' | 'application';
  rttDiffSum: number;
  rttDiffCount: number;
  lossSum: number;
  lossCount: number;
  cpuSum: number;
  cpuCount: number;
  /** Latest values seen in this interval (undefined: not reported in it). */
  buffers?: Record<string, number>;
  chunkSize?: number;
  channels?: number;
  lanes?: number;
  laneChange?: LaneChange;
  total?: number;
  /** The latest absolute `done` in this interval. */
  done?: number;
  receiverQueued?: number;
  profile?: ProfileName;
}

/** A closed sample, as kept in the window. */
export interface SampleRecord {
  /** Close time, ms. */
  readonly at: number;
  /** Duration, ms (may be 0 for a final sample). */
  readonly dt: number;
  readonly bytes: number;
  readonly rttCount: number;
  readonly rttSum: number;
  readonly rttMin: number;
  readonly rttMax: number;
  readonly rttFirst?: number;
  readonly rttLast?: number;
  readonly rttSource?: 'transport' | 'application';
  readonly rttDiffSum: number;
  readonly rttDiffCount: number;
  /** Mean of the loss rates reported in this sample. */
  readonly lossRate?: number;
  /** Mean event-loop busy share in this sample. */
  readonly cpu?: number;
  /** Channels whose latest buffer level was at or above `bufferFullBytes` at close, and channels known. */
  readonly buffersFull: number;
  readonly buffersKnown: number;
  /** Receiver backlog known at close. */
  readonly receiverQueued?: number;
}

/** The window: the last `windowSize` samples plus the latest known values. Immutable. */
export interface StatsWindow {
  /** Subscription time, ms. */
  readonly start: number;
  /** Close time of the previous sample (or `start`), ms. */
  readonly last: number;
  readonly samples: readonly SampleRecord[];
  readonly bytesDone: number;
  /** Set once a `done` event came: `bytesDone` then follows those alone. */
  readonly doneGiven?: boolean;
  readonly bytesTotal?: number;
  readonly buffers: Readonly<Record<string, number>>;
  readonly chunkSize?: number;
  readonly channels?: number;
  readonly lanes?: number;
  readonly laneChange?: LaneChange;
  readonly receiverQueued?: number;
  readonly profile?: ProfileName;
}

/** The settings `advance` and `windowStats` need. */
export interface WindowSettings {
  readonly sampleIntervalMs: number;
  readonly windowSize: number;
  readonly trendSamples: number;
  readonly bufferFullBytes: number;
  readonly windowBytes?: number;
  readonly maxChunkSize?: number;
}

/** A fresh, empty interval accumulator. */
export const emptyInterval = (): IntervalAcc => ({
  bytes: 0,
  rttCount: 0,
  rttSum: 0,
  rttMin: Infinity,
  rttMax: -Infinity,
  rttDiffSum: 0,
  rttDiffCount: 0,
  lossSum: 0,
  lossCount: 0,
  cpuSum: 0,
  cpuCount: 0,
});

/** An empty window opened at `start`. */
export const emptyWindow = (start: number, profile?: ProfileName): StatsWindow => ({ start, last: start, samples: [], bytesDone: 0, buffers: {}, profile });

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

/**
 * Folds one event into the open interval. Events with a negative or
 * non-finite number, or an unknown kind, are ignored.
 */
export function addEvent(acc: IntervalAcc, e: StatsInput): IntervalAcc {
  switch (e?.kind) {
    case 'progress':
      if (isCount(e.bytes)) acc.bytes += e.bytes;
      break;
    case 'rtt':
      if (!isCount(e.ms)) break;
      if (acc.rttLast !== undefined) {
        acc.rttDiffSum += Math.abs(e.ms - acc.rttLast);
        acc.rttDiffCount++;
      }
      acc.rttFirst ??= e.ms;
      acc.rttLast = e.ms;
      acc.rttSource = e.source ?? 'transport';
      acc.rttCount++;
      acc.rttSum += e.ms;
      acc.rttMin = Math.min(acc.rttMin, e.ms);
      acc.rttMax = Math.max(acc.rttMax, e.ms);
      break;
    case 'loss':
      if (isCount(e.rate) && e.rate <= 1) {
        acc.lossSum += e.rate;
        acc.lossCount++;
      }
      break;
    case 'cpu':
      if (isCount(e.busy) && e.busy <= 1) {
        acc.cpuSum += e.busy;
        acc.cpuCount++;
      }
      break;
    case 'buffer':
      if (typeof e.label === 'string' && isCount(e.bytes)) (acc.buffers ??= {})[e.label] = e.bytes;
      break;
    case 'chunk-size':
      if (isCount(e.bytes) && e.bytes > 0) acc.chunkSize = e.bytes;
      break;
    case 'channels':
      if (isCount(e.channels) && isCount(e.lanes)) {
        acc.channels = e.channels;
        acc.lanes = e.lanes;
        if (e.laneChange) acc.laneChange = e.laneChange;
      }
      break;
    case 'total':
      if (isCount(e.bytes)) acc.total = e.bytes;
      break;
    case 'done':
      if (isCount(e.bytes)) acc.done = e.bytes;
      break;
    case 'receiver':
      if (isCount(e.queuedBytes)) acc.receiverQueued = e.queuedBytes;
      break;
    case 'profile':
      if (typeof e.profile === 'string') acc.profile = e.profile;
      break;
  }
  return acc;
}

/** Closes the interval `acc` at time `at` and returns the next window (the input is not modified). */
export function advance(w: StatsWindow, acc: IntervalAcc, at: number, s: WindowSettings): StatsWindow {
  const buffers = acc.buffers ? { ...w.buffers, ...acc.buffers } : w.buffers;
  const levels = Object.values(buffers);
  const receiverQueued = acc.receiverQueued ?? w.receiverQueued;
  const record: SampleRecord = {
    at,
    dt: Math.max(0, at - w.last),
    bytes: acc.bytes,
    rttCount: acc.rttCount,
    rttSum: acc.rttSum,
    rttMin: acc.rttMin,
    rttMax: acc.rttMax,
    rttFirst: acc.rttFirst,
    rttLast: acc.rttLast,
    rttSource: acc.rttSource,
    rttDiffSum: acc.rttDiffSum,
    rttDiffCount: acc.rttDiffCount,
    lossRate: acc.lossCount ? acc.lossSum / acc.lossCount : undefined,
    cpu: acc.cpuCount ? acc.cpuSum / acc.cpuCount : undefined,
    buffersFull: levels.filter((b) => b >= s.bufferFullBytes).length,
    buffersKnown: levels.length,
    receiverQueued,
  };
  const samples = [...w.samples, record];
  if (samples.length > s.windowSize) samples.splice(0, samples.length - s.windowSize);
  return {
    start: w.start,
    last: at,
    samples,
    bytesDone: acc.done ?? (w.doneGiven ? w.bytesDone : w.bytesDone + acc.bytes),
    ...((acc.done !== undefined || w.doneGiven) && { doneGiven: true }),
    bytesTotal: acc.total ?? w.bytesTotal,
    buffers,
    chunkSize: acc.chunkSize ?? w.chunkSize,
    channels: acc.channels ?? w.channels,
    lanes: acc.lanes ?? w.lanes,
    ...((acc.laneChange ?? w.laneChange) && { laneChange: acc.laneChange ?? w.laneChange }),
    receiverQueued,
    profile: acc.profile ?? w.profile,
  };
}

/** Bits per second for `bytes` over `ms`, or undefined when `ms` is 0. */
const bps = (bytes: number, ms: number): number | undefined => (ms > 0 ? (bytes * 8000) / ms : undefined);

/** Mean absolute difference of successive RTTs across the given samples, or undefined with fewer than two RTTs. */
function jitter(samples: readonly SampleRecord[]): number | undefined {
  let sum = 0;
  let count = 0;
  let prev: number | undefined;
  for (const r of samples) {
    if (r.rttFirst === undefined) continue;
    if (prev !== undefined) {
      sum += Math.abs(r.rttFirst - prev);
      count++;
    }
    sum += r.rttDiffSum;
    count += r.rttDiffCount;
    prev = r.rttLast;
  }
  return count ? sum / count : undefined;
}

/** The evidence the judges read, from the last `trendSamples` samples (RTT minimum and jitter: whole window). */
export function windowSignals(w: StatsWindow, s: WindowSettings): TransferSignals {
  const recent = w.samples.slice(-s.trendSamples);
  const timed = recent.filter((r) => r.dt > 0);
  const rates = timed.map((r) => bps(r.bytes, r.dt)!);
  const bytes = timed.reduce((a, r) => a + r.bytes, 0);
  const ms = timed.reduce((a, r) => a + r.dt, 0);
  const throughputBps = bps(bytes, ms) ?? 0;
  const mean = rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : 0;
  const throughputCv =
    rates.length >= 2 && mean > 0 ? Math.sqrt(rates.reduce((a, r) => a + (r - mean) ** 2, 0) / rates.length) / mean : undefined;
  const rttCount = recent.reduce((a, r) => a + r.rttCount, 0);
  const windowRtt = w.samples.filter((r) => r.rttCount > 0);
  const cpu = recent.filter((r) => r.cpu !== undefined);
  const known = recent.reduce((a, r) => a + r.buffersKnown, 0);
  const withReceiver = recent.filter((r) => r.receiverQueued !== undefined);
  const first = withReceiver[0];
  const lastR = withReceiver[withReceiver.length - 1];
  const lossSample = [...w.samples].reverse().find((r) => r.lossRate !== undefined);
  return {
    samples: w.samples.length,
    done: w.bytesTotal !== undefined && w.bytesDone >= w.bytesTotal,
    throughputBps,
    throughputCv,
    rttMs: rttCount ? recent.reduce((a, r) => a + r.rttSum, 0) / rttCount : undefined,
    rttMinMs: windowRtt.length ? Math.min(...windowRtt.map((r) => r.rttMin)) : undefined,
    jitterMs: jitter(w.samples),
    lossRate: lossSample?.lossRate,
    bufferFullShare: known ? recent.reduce((a, r) => a + r.buffersFull, 0) / known : undefined,
    cpuBusy: cpu.length ? cpu.reduce((a, r) => a + r.cpu!, 0) / cpu.length : undefined,
    receiverGrowthBps:
      first && lastR && lastR.at > first.at ? ((lastR.receiverQueued! - first.receiverQueued!) * 1000) / (lastR.at - first.at) : undefined,
    receiverQueuedBytes: w.receiverQueued,
    channels: w.channels,
    lanes: w.lanes,
    chunkSize: w.chunkSize,
    maxChunkSize: s.maxChunkSize,
    windowBytes: s.windowBytes,
    profile: w.profile,
  };
}

/** Builds the public sample from the window. `final` marks the sample emitted on completion. */
export function windowStats(w: StatsWindow, s: WindowSettings, final: boolean): TransferStats {
  const last = w.samples[w.samples.length - 1];
  // A sample shorter than half an interval (a final one) is too short to stand alone.
  const full = w.samples.filter((r) => r.dt >= s.sampleIntervalMs / 2);
  const prev = w.samples[w.samples.length - 2];
  const short = !last || last.dt < s.sampleIntervalMs / 2;
  const current = (short && prev ? bps(last.bytes + prev.bytes, last.dt + prev.dt) : last && bps(last.bytes, last.dt)) ?? 0;
  const rates = full.map((r) => bps(r.bytes, r.dt)!);
  const windowMs = w.samples.reduce((a, r) => a + r.dt, 0);
  const average = bps(
    w.samples.reduce((a, r) => a + r.bytes, 0),
    windowMs,
  ) ?? 0;
  const rtts = w.samples.filter((r) => r.rttCount > 0);
  const rttCount = rtts.reduce((a, r) => a + r.rttCount, 0);
  const lastRtt = [...rtts].reverse()[0];
  const total = w.bytesTotal;
  const remaining = total === undefined ? undefined : Math.max(0, total - w.bytesDone);
  const signals = windowSignals(w, s);
  const bottleneck = detectBottleneck(signals);
  return {
    timestamp: w.last,
    elapsedMs: w.last - w.start,
    intervalMs: last?.dt ?? 0,
    final,
    throughput: {
      current,
      average,
      // `current` may merge a short final sample with the one before it: keep peak >= current >= min.
      peak: rates.length ? Math.max(current, ...rates) : current,
      min: rates.length ? Math.min(current, ...rates) : current,
    },
    bytesDone: w.bytesDone,
    bytesTotal: total,
    percent: total === undefined ? undefined : total === 0 ? 100 : Math.min(100, (w.bytesDone / total) * 100),
    etaSeconds: remaining === undefined ? undefined : remaining === 0 ? 0 : average > 0 ? (remaining * 8) / average : undefined,
    rtt: rttCount
      ? {
          source: lastRtt.rttSource,
          current: lastRtt.rttLast,
          avg: rtts.reduce((a, r) => a + r.rttSum, 0) / rttCount,
          min: Math.min(...rtts.map((r) => r.rttMin)),
          max: Math.max(...rtts.map((r) => r.rttMax)),
        }
      : {},
    jitterMs: signals.jitterMs,
    lossRate: signals.lossRate,
    buffers: { ...w.buffers },
    channels: w.channels,
    lanes: w.lanes,
    ...(w.laneChange && { laneChange: w.laneChange }),
    chunkSize: w.chunkSize,
    cpuBusy: last?.cpu,
    receiverQueuedBytes: w.receiverQueued,
    bottleneck,
    quality: qualityScore(signals),
    recommendation: recommend({ ...signals, bottleneck }),
    signals,
  };
}
