/**
 * Runs the lane controller against a virtual network in virtual time, with the
 * stand-in pump of ./lanePump.ts on each lane (not the real transfer). Used by
 * test/transfer/laneController.network.spec.ts.
 */
import { ignoreElements, interval, map, take, type Observable } from 'rxjs';
import { laneController, type LaneControllerOptions, type LaneDecision, type LaneMeasurement } from '../../src/transfer/laneController';
import { createVirtualNetwork, type VirtualLink, type VirtualNetworkConfig, type VirtualNetworkStats } from '../../src/testing';
import { testScheduler } from '../helpers/marbles';
import { pumpLane, type Pump } from './lanePump';

/** Options of {@link runLanes}. */
export interface LaneRun {
  readonly network: VirtualNetworkConfig;
  /** Virtual run time, ms. */
  readonly durationMs: number;
  /** Lanes at the start (all started together). Default 1. */
  readonly lanes?: number;
  /** The controller's options; `false` keeps the starting lanes. Default `{}`. */
  readonly controller?: Omit<LaneControllerOptions, 'scheduler'> | false;
  /** Measurement interval, ms. Default 250. */
  readonly sampleMs?: number;
  /** Goodput and loss are measured over this trailing window, ms. Default 250 (one measurement; the controller averages). */
  readonly windowMs?: number;
}

/** What a run measured. */
export interface LaneRunResult {
  /** Every measurement, with the lane count and time. */
  readonly measurements: readonly (LaneMeasurement & { atMs: number; lanes: number })[];
  /** The decisions that changed the lane count. */
  readonly changes: readonly LaneDecision[];
  /** The network's counters at the end. */
  readonly stats: VirtualNetworkStats;
  /** Payload bytes per second over the last quarter of the run. */
  readonly finalGoodputBytesPerSecond: number;
  /** Lanes at the end. */
  readonly lanes: number;
}

/** Runs lanes over a virtual network for `durationMs` of virtual time, optionally under the lane controller. */
export function runLanes({ network, durationMs, lanes: initial = 1, controller = {}, sampleMs = 250, windowMs = 250 }: LaneRun): LaneRunResult {
  const scheduler = testScheduler();
  let result!: LaneRunResult;
  scheduler.run(() => {
    const net = createVirtualNetwork({ ...network, scheduler });
    // Open lanes, oldest first, with their pumps; the bytes of closed lanes stay counted in `gone`.
    const open: { link: VirtualLink; pump: Pump }[] = [];
    let gone = 0;
    const addLane = (): void => {
      const link = net.createLink();
      open.push({ link, pump: pumpLane(link) });
    };
    const shedLane = (): void => {
      const lane = open.pop()!;
      gone += lane.pump.received();
      lane.pump.stop();
      lane.link.close();
    };
    const received = (): number => gone + open.reduce((sum, l) => sum + l.pump.received(), 0);
    for (let i = 0; i < initial; i++) addLane();
    // Cumulative (time, bytes, losses, segments) per measurement, for trailing windows.
    const history: { at: number; bytes: number; losses: number; segments: number }[] = [];
    const measurements: (LaneMeasurement & { atMs: number; lanes: number })[] = [];
    const changes: LaneDecision[] = [];
    const measure = (): LaneMeasurement => {
      const s = net.stats();
      const now = scheduler.now();
      const point = { at: now, bytes: received(), losses: s.queueDrops + s.randomLosses, segments: s.segmentsOffered };
      history.push(point);
      const from = history.find((h) => h.at >= now - windowMs)!;
      const first = history[Math.max(0, history.indexOf(from) - 1)];
      const spanMs = Math.max(1, now - first.at);
      const rtts = open.map((l) => l.link.stats().association?.smoothedRttMs).filter((x): x is number => x !== undefined);
      const m = {
        goodputBytesPerSecond: ((point.bytes - first.bytes) * 1000) / spanMs,
        rttMs: rtts.length ? rtts.reduce((a, b) => a + b, 0) / rtts.length : 2 * net.config.delayMs,
        lossRate: point.segments > first.segments ? (point.losses - first.losses) / (point.segments - first.segments) : 0,
        lanes: open.length,
      };
      measurements.push({ ...m, atMs: now });
      return m;
    };
    const ticks = interval(sampleMs, scheduler).pipe(take(Math.floor(durationMs / sampleMs)), map(measure));
    const decisions: Observable<LaneDecision> = controller === false ? ticks.pipe(ignoreElements()) : ticks.pipe(laneController({ ...controller, initialLanes: initial, scheduler }));
    decisions.subscribe({
      next: (d) => {
        if (d.action === 'hold') return;
        changes.push(d);
        if (d.action === 'add') for (let k = 0; k < d.step; k++) addLane();
        else shedLane();
      },
      complete: () => {
        const quarter = measurements.slice(Math.floor((measurements.length * 3) / 4));
        const span = quarter.at(-1)!.atMs - quarter[0].atMs;
        const bytes = history.at(-1)!.bytes - history[history.length - quarter.length].bytes;
        result = { measurements, changes, stats: net.stats(), finalGoodputBytesPerSecond: (bytes * 1000) / span, lanes: open.length };
        net.close();
      },
    });
  });
  return result;
}
