/**
 * Wires a transfer's counters into the stats operator and throttles progress:
 * the one place where `sendFile`/`receiveFile` feed `transferStats()`.
 */
import { asyncScheduler, map, merge, Observable, shareReplay, Subject, type SchedulerLike, type Subscription } from 'rxjs';
import { rtt$ as statsRtt$ } from '../stats/rtt$';
import type { StatsInput } from '../stats/statsTypes';
import { transferStats } from '../stats/transferStats';
import type { TransferStats } from '../stats/statsTypes';
import type { DataChannelLike, PeerConnectionLike } from '../types';
import type { ProfileName } from './profiles';
import type { TransferEvent } from './TransferEvent';

export interface TelemetryConfig {
  readonly channels: readonly DataChannelLike[];
  readonly lanes: number;
  readonly total: number;
  readonly scheduler?: SchedulerLike;
  /** Stats sample interval, ms. Default 1000. */
  readonly statsInterval?: number;
  /** Progress event spacing, ms. Default 100. */
  readonly progressInterval?: number;
  /** Polled with getStats() for RTT, when it has getStats. */
  readonly pc?: PeerConnectionLike;
  /** A channel at or above this many buffered bytes counts as full (the `low` watermark). */
  readonly bufferFullBytes?: number;
  /** The profile in use, so the recommendation can suggest a switch. */
  readonly profile?: ProfileName;
}

export interface Telemetry {
  /** Feeds one stats input. */
  input(e: StatsInput): void;
  /** Records confirmed bytes and (sender) bytes sent; progress events are throttled to `progressInterval`. */
  progress(confirmed: number, sent?: number): void;
  /** An application-level RTT (ping/pong), used while getStats() gives none. */
  appRtt(ms: number): void;
  /** Counts chunks sent and chunks NACKed; their ratio per interval becomes the loss input. */
  countChunks(sent: number, nacked: number): void;
  /** Replaces the channels whose buffers are sampled. */
  setChannels(channels: readonly DataChannelLike[]): void;
  /** Stats, shared; replays the latest. */
  readonly stats$: Observable<TransferStats>;
  /** Progress and stats events for the transfer's event stream. */
  readonly events$: Observable<TransferEvent>;
  /** Ends sampling: stats emit a final sample and complete. */
  stop(): void;
}

/** Event-loop busy share since the previous call, where the runtime offers it (Node). */
const eluSampler = (): (() => number | undefined) => {
  const perf = (globalThis as any).performance;
  if (typeof perf?.eventLoopUtilization !== 'function') return () => undefined;
  let last = perf.eventLoopUtilization();
  return () => {
    const now = perf.eventLoopUtilization();
    const d = perf.eventLoopUtilization(now, last);
    last = now;
    return d.utilization as number;
  };
};

export function transferTelemetry(cfg: TelemetryConfig): Telemetry {
  const scheduler = cfg.scheduler ?? asyncScheduler;
  const statsInterval = cfg.statsInterval ?? 1000;
  const progressInterval = cfg.progressInterval ?? 100;
  const inputs = new Subject<StatsInput>();
  const progressEvents = new Subject<TransferEvent>();
  let channels = cfg.channels;
  // Latest confirmed and sent bytes, and what was last emitted.
  let bytes = 0;
  let sent: number | undefined;
  let emitted = -1;
  let emittedSent: number | undefined = -1;
  let stopped = false;
  // When getStats() last produced an RTT; app-level RTTs are used only when it has not for a while.
  let statsRttAt = -Infinity;
  const subs: Subscription[] = [];

  // Chunks sent and NACKed since the last stats tick (per-interval loss, never cumulative).
  let sentChunks = 0;
  let nackedChunks = 0;
  const stats$ = inputs.pipe(
    transferStats({ sampleInterval: statsInterval, scheduler, bufferFullBytes: cfg.bufferFullBytes, profile: cfg.profile }),
    shareReplay({ bufferSize: 1, refCount: false }),
  );

  const emitProgress = () => {
    if (bytes === emitted && sent === emittedSent) return;
    emitted = bytes;
    emittedSent = sent;
    const percent = cfg.total > 0 ? Math.min(100, (bytes / cfg.total) * 100) : 100;
    progressEvents.next({ type: 'progress', bytes, total: cfg.total, percent, acked: bytes, ...(sent === undefined ? {} : { sent }) });
  };

  const start = () => {
    inputs.next({ kind: 'total', bytes: cfg.total });
    inputs.next({ kind: 'channels', channels: channels.length, lanes: cfg.lanes });
    const elu = eluSampler();
    subs.push(
      scheduler.schedule(function (this: any) {
        if (stopped) return;
        emitProgress();
        this.schedule(undefined, progressInterval);
      }, progressInterval),
      scheduler.schedule(function (this: any) {
        if (stopped) return;
        for (const ch of channels) inputs.next({ kind: 'buffer', label: ch.label, bytes: ch.bufferedAmount });
        const busy = elu();
        if (busy !== undefined) inputs.next({ kind: 'cpu', busy });
        if (sentChunks > 0) inputs.next({ kind: 'loss', rate: Math.min(1, nackedChunks / sentChunks) });
        sentChunks = 0;
        nackedChunks = 0;
        this.schedule(undefined, statsInterval / 2);
      }, statsInterval / 2),
    );
    if (cfg.pc?.getStats) {
      subs.push(statsRtt$(cfg.pc as any, { interval: statsInterval, scheduler }).subscribe({ next: (ms) => {
            statsRttAt = scheduler.now();
            inputs.next({ kind: 'rtt', ms });
          }, error: () => undefined }));
    }
  };

  const events$ = merge(progressEvents, stats$.pipe(map((stats): TransferEvent => ({ type: 'stats', stats }))));
  let started = false;

  return {
    input: (e) => {
      if (!stopped) inputs.next(e);
    },
    progress: (confirmed, s) => {
      bytes = confirmed;
      sent = s;
      if (confirmed >= cfg.total) emitProgress();
    },
    countChunks: (sent, nacked) => {
      sentChunks += sent;
      nackedChunks += nacked;
    },
    appRtt: (ms) => {
      if (!stopped && scheduler.now() - statsRttAt > 3 * statsInterval) inputs.next({ kind: 'rtt', ms, source: 'application' });
    },
    setChannels: (chs) => {
      channels = chs;
      if (!stopped) inputs.next({ kind: 'channels', channels: chs.length, lanes: cfg.lanes });
    },
    stats$,
    events$: new Observable<TransferEvent>((subscriber) => {
      const sub = events$.subscribe(subscriber);
      if (!started) {
        started = true;
        start();
      }
      return () => sub.unsubscribe();
    }),
    stop: () => {
      if (stopped) return;
      stopped = true;
      emitProgress();
      for (const s of subs) s.unsubscribe();
      inputs.complete();
      progressEvents.complete();
    },
  };
}
