/**
 * Wires a transfer's counters into the stats operator and throttles progress:
 * the one place where `sendFile`/`receiveFile` feed `transferStats()`.
 */
import { asyncScheduler, map, merge, Observable, shareReplay, Subject, type SchedulerLike, Subscription } from 'rxjs';
import { rtt$ as statsRtt$ } from '../stats/rtt$';
import type { LaneChange, StatsInput } from '../stats/statsTypes';
import { transferStats } from '../stats/transferStats';
import type { TransferStats } from '../stats/statsTypes';
import type { DataChannelLike, PeerConnectionLike } from '../types';
import type { ProfileName } from './profiles';
import type { Manifest } from '../protocol/control';
import type { SessionEvent } from './SessionEvent';
import { repeatEvery } from './watchdog';
import { isGone } from '../operators/routeInternals';

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
  /** The session's files: how many are complete, and the confirmed bytes of each one in flight. */
  readonly files?: () => FilesProgress;
}

/** What {@link TelemetryConfig.files} reports at each progress tick. */
export interface FilesProgress {
  readonly completed: number;
  readonly total: number;
  readonly active: readonly { readonly manifest: Manifest; readonly bytes: number }[];
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
  /** Replaces the channels whose buffers are sampled; with `change`, the lane count changed (to `change.lanes`). */
  setChannels(channels: readonly DataChannelLike[], change?: LaneChange): void;
  /** Sets the bytes the transfer will confirm in all (known once the receiver accepted). */
  setTotal(bytes: number): void;
  /** Stats, shared; replays the latest. */
  readonly stats$: Observable<TransferStats>;
  /** Progress (session and per file) and stats events for the session's event stream. */
  readonly events$: Observable<SessionEvent>;
  /** Ends sampling: stats emit a final sample and complete. */
  stop(): void;
}

/** The loss rate spans this many sample ticks (half a stats interval each): 5 s at the default 1 s interval. */
const LOSS_TICKS = 10;

/**
 * Event-loop busy share since the previous call, where the runtime offers it (Node). None in virtual time: a
 * scheduler whose clock is not the wall clock (a TestScheduler starts at 0) runs a whole transfer in a blink,
 * which says nothing of the transfer's CPU (an outside check: every sample read `cpu` as the bottleneck in
 * marble tests; a later one found that judging by the wall time each interval took let a GC pause put `cpu`
 * in one run of two).
 */
const eluSampler = (scheduler: SchedulerLike): (() => number | undefined) => {
  const perf = (globalThis as any).performance;
  if (typeof perf?.eventLoopUtilization !== 'function' || Math.abs(scheduler.now() - Date.now()) > 60_000) return () => undefined;
  let last = perf.eventLoopUtilization();
  return () => {
    const now = perf.eventLoopUtilization();
    const d = perf.eventLoopUtilization(now, last);
    last = now;
    return d.utilization as number;
  };
};

export function transferTelemetry(cfg: TelemetryConfig): Telemetry {
  return new TransferTelemetry(cfg);
}

/** The {@link Telemetry} of one transfer: inputs into `transferStats`, throttled progress, the sample timers. */
class TransferTelemetry implements Telemetry {
  readonly stats$: Observable<TransferStats>;
  readonly events$: Observable<SessionEvent>;
  private readonly scheduler: SchedulerLike;
  private readonly statsInterval: number;
  private readonly inputs = new Subject<StatsInput>();
  private readonly progressEvents = new Subject<SessionEvent>();
  private channels: readonly DataChannelLike[];
  /** Peer connections in use (grows when lanes join in band). */
  private lanes: number;
  private total: number;
  /** Latest confirmed and sent bytes, and what was last emitted. */
  private bytes = 0;
  private sent: number | undefined;
  private emitted = -1;
  private emittedSent: number | undefined = -1;
  private emittedFiles = -1;
  /** Per file in flight (by index), the confirmed bytes last emitted. */
  private readonly emittedFile = new Map<number, number>();
  private stopped = false;
  private started = false;
  /** When getStats() last produced an RTT; app-level RTTs are used only when it has not for a while. */
  private statsRttAt = -Infinity;
  private readonly subs = new Subscription();
  /** Chunks sent and NACKed since the last stats tick (per-interval loss, never cumulative). */
  private sentChunks = 0;
  private nackedChunks = 0;
  /** The last ticks' [chunks sent, copies resent for NACKs]. */
  private readonly lossTicks: [number, number][] = [];

  constructor(private readonly cfg: TelemetryConfig) {
    this.scheduler = cfg.scheduler ?? asyncScheduler;
    this.statsInterval = cfg.statsInterval ?? 1000;
    this.channels = cfg.channels;
    this.lanes = cfg.lanes;
    this.total = cfg.total;
    this.stats$ = this.inputs.pipe(
      transferStats({ sampleIntervalMs: this.statsInterval, scheduler: this.scheduler, bufferFullBytes: cfg.bufferFullBytes, profile: cfg.profile }),
      shareReplay({ bufferSize: 1, refCount: false }),
    );
    const events$ = merge(this.progressEvents, this.stats$.pipe(map((stats): SessionEvent => ({ type: 'stats', stats }))));
    // Sampling starts with the first subscriber to the events (the transfer's accept).
    this.events$ = new Observable<SessionEvent>((subscriber) => {
      const sub = events$.subscribe(subscriber);
      if (!this.started) {
        this.started = true;
        this.start();
      }
      return () => sub.unsubscribe();
    });
  }

  input(e: StatsInput): void {
    if (!this.stopped) this.inputs.next(e);
  }

  progress(confirmed: number, sent?: number): void {
    this.bytes = confirmed;
    this.sent = sent;
    // The stats' bytesDone and percent count what the peer held before (a resume), as progress does.
    if (this.started && !this.stopped) this.inputs.next({ kind: 'done', bytes: confirmed });
    // Reaching the total shows at once, once: later calls (each file of a session held whole completes past
    // it) wait for the throttle's tick like any other.
    if (confirmed >= this.total && this.emitted < this.total) this.emitProgress();
  }

  countChunks(sent: number, nacked: number): void {
    this.sentChunks += sent;
    this.nackedChunks += nacked;
  }

  appRtt(ms: number): void {
    if (!this.stopped && this.scheduler.now() - this.statsRttAt > 3 * this.statsInterval) this.inputs.next({ kind: 'rtt', ms, source: 'application' });
  }

  setTotal(bytes: number): void {
    this.total = bytes;
    if (this.started && !this.stopped) this.inputs.next({ kind: 'total', bytes });
  }

  setChannels(chs: readonly DataChannelLike[], change?: LaneChange): void {
    this.channels = chs;
    if (change) this.lanes = change.lanes;
    const live = chs.filter((ch) => !isGone(ch)).length;
    if (!this.stopped) this.inputs.next({ kind: 'channels', channels: live, lanes: this.lanes, ...(change ? { laneChange: change } : {}) });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.emitProgress();
    this.subs.unsubscribe();
    this.inputs.complete();
    this.progressEvents.complete();
  }

  private emitProgress(): void {
    const { bytes, sent } = this;
    const files = this.cfg.files?.() ?? { completed: 0, total: 1, active: [] };
    this.emitFileProgress(files.active);
    if (bytes === this.emitted && sent === this.emittedSent && files.completed === this.emittedFiles) return;
    this.emitted = bytes;
    this.emittedSent = sent;
    this.emittedFiles = files.completed;
    const { total } = this;
    const percent = total > 0 ? Math.min(100, (bytes / total) * 100) : 100;
    const counts = { completed: files.completed, total: files.total };
    this.progressEvents.next({ type: 'progress', bytes, total, percent, acked: bytes, ...(sent === undefined ? {} : { sent }), files: counts });
  }

  /** One `file-progress` per file in flight whose confirmed bytes changed since the last tick. */
  private emitFileProgress(active: FilesProgress['active']): void {
    const seen = new Set<number>();
    for (const { manifest, bytes } of active) {
      seen.add(manifest.index);
      if (this.emittedFile.get(manifest.index) === bytes) continue;
      this.emittedFile.set(manifest.index, bytes);
      const percent = manifest.size > 0 ? Math.min(100, (bytes / manifest.size) * 100) : 100;
      this.progressEvents.next({ type: 'file-progress', manifest, bytes, total: manifest.size, percent });
    }
    for (const i of this.emittedFile.keys()) if (!seen.has(i)) this.emittedFile.delete(i);
  }

  /** The progress tick, the buffer/CPU/loss tick (twice per stats interval) and the getStats() RTT poll. */
  private start(): void {
    const { cfg, scheduler, statsInterval } = this;
    this.inputs.next({ kind: 'total', bytes: this.total });
    this.inputs.next({ kind: 'done', bytes: this.bytes });
    this.inputs.next({ kind: 'channels', channels: this.channels.length, lanes: this.lanes });
    const elu = eluSampler(scheduler);
    this.subs.add(repeatEvery(scheduler, cfg.progressInterval ?? 100, () => !this.stopped && (this.emitProgress(), true)));
    this.subs.add(repeatEvery(scheduler, statsInterval / 2, () => !this.stopped && (this.sampleTick(elu), true)));
    if (cfg.pc?.getStats) {
      this.subs.add(
        statsRtt$(cfg.pc as any, { sampleIntervalMs: statsInterval, scheduler }).subscribe({
          next: (ms) => {
            this.statsRttAt = scheduler.now();
            this.inputs.next({ kind: 'rtt', ms });
          },
          error: () => undefined,
        }),
      );
    }
  }

  private sampleTick(elu: () => number | undefined): void {
    for (const ch of this.channels) this.inputs.next({ kind: 'buffer', label: ch.label, bytes: ch.bufferedAmount });
    const busy = elu();
    if (busy !== undefined) this.inputs.next({ kind: 'cpu', busy });
    // Copies sent again for NACKs per transmission over the last LOSS_TICKS ticks: one interval alone read 0 while
    // only repairs went out at the end (none new to divide by), and 1.0 at 30 % loss (an outside check).
    this.lossTicks.push([this.sentChunks, this.nackedChunks]);
    if (this.lossTicks.length > LOSS_TICKS) this.lossTicks.shift();
    let [sent, nacked] = [0, 0];
    for (const [s, n] of this.lossTicks) {
      sent += s + n;
      nacked += n;
    }
    if (sent > 0) this.inputs.next({ kind: 'loss', rate: nacked / sent });
    this.sentChunks = 0;
    this.nackedChunks = 0;
  }
}
