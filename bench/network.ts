/**
 * `npm run bench -- --network`: file transfers between two real WebRTC peers
 * (node-datachannel, one process) over emulated networks (bench/emulator/),
 * comparing what apps did before, simple-peer, the seed architecture as
 * written, and tallow-rx (auto, unreliable, best profile × lanes).
 *
 * Systems run interleaved within each scenario (run 1 of every system, then
 * run 2, …), so ratios come from one stretch of machine time. Connection setup
 * is not timed. Settings (environment):
 *
 *   NETWORK_BENCH_MB=100        bytes per transfer, MB (10^6), full run; default 100,
 *                               capped by NETWORK_BENCH_BUDGET_S (below)
 *   NETWORK_BENCH_BUDGET_S=30   full run: shrink the size so that `before` needs about
 *                               this long (measured by a probe transfer); 0 = never shrink
 *   NETWORK_BENCH_RUNS=3        runs per system (full run; --quick: 1)
 *   NETWORK_BENCH_SYSTEMS=…     comma-separated subset of the system names
 *   NETWORK_BENCH_EXTRA_LANES=4,16  also run `tallow-rx auto (N connections)` (auto offered N
 *                               peer connections, which it uses as N lanes) for each N: how far lanes scale
 *   NETWORK_BENCH_OUT=…         where the chart goes; default docs/benchmarks-network.svg for a
 *                               full unfiltered run, the OS temp dir otherwise (raw results and
 *                               the Markdown report always go to the temp dir)
 *   NETWORK_BENCH_LANE_CONTROLLER='{"startLanes":12}'  lane controller options of the
 *                               `tallow-rx auto (1 connection)` row (trials)
 *   NETWORK_BENCH_LANE_TRIAL='{"rampShare":0}'  also run `tallow-rx auto (1 connection) trial`
 *                               with these lane controller options, interleaved with the row above
 *   NETWORK_BENCH_TRIAL_OPTIONS='{"window":33554432}'  other send options of that trial row
 *   NETWORK_BENCH_LANE_LOG=1    print the lane controller's decisions of every run of a row with in-band lanes
 *                               (each add and shed, and each change of hold reason, with its evidence)
 *   NETWORK_BENCH_TRACE=1       for a tallow-rx run whose control pings went unanswered for 3 s or more, print
 *                               the given connection's channels every 500 ms (bench/emulator/channelTrace.ts)
 *   NETWORK_BENCH_SCTP='{"congestionControlModule":2}'  libdatachannel SCTP settings for the
 *                               whole run (node-datachannel's setSctpSettings; no browser has them)
 *   --network=wifi,internet     only these scenarios
 *
 * "Time for 100 MB" is measured when the size is 100 MB, and extrapolated
 * from the measured goodput (marked ~) when the budget made the size smaller.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import nodeDataChannel from 'node-datachannel';
import { startLinkEmulator, type LinkEmulator, type LinkStats } from './emulator/LinkEmulator';
import { SCENARIOS, type Scenario } from './emulator/scenarios';
import { associationBound } from '../src/transfer/decideLanes';
import { resolveLaneControllerConfig } from '../src/transfer/laneControllerConfig';
import { groupedBarChart } from './emulator/svgChart';
import { before } from './emulator/systems/before';
import { seedAsWritten } from './emulator/systems/seedAsWritten';
import { simplePeer } from './emulator/systems/simplePeer';
import { tallow } from './emulator/systems/tallow';
import type { NetworkSystem, TransferOutcome } from './emulator/systems/types';
import type { Benchmark, BenchOptions, BenchResult } from './lib/registry';
import { collectGarbage, formatBytes, machineInfo, median, RssPeak, stopwatch } from './lib/measure';
import type { ProfileName, SendOptions } from '../src/index';
import { PROFILES } from '../src/transfer/profiles';
import { shutdownNodeDataChannel } from '../harness/nodePeers';

const MB = 1e6;
const TARGET_MB = 100;

/** One finished run of one system. */
interface RunRecord {
  readonly outcome?: TransferOutcome;
  readonly error?: string;
  readonly peakRss: number;
  /** RSS when the run started: `peakRss - startRss` is what the run added (the process rarely gives memory back). */
  readonly startRss: number;
  /** Process CPU time (JS and libdatachannel's threads; not the emulator's process) over wall time. */
  readonly cores?: number;
  /** The emulator's process CPU time over the same wall time (its release loop polls while datagrams are due). */
  readonly relayCores?: number;
  readonly bytes: number;
  /** Emulator counters over the run (both directions summed), when emulated. */
  readonly dropped?: { random: number; queue: number; kernel: number; datagrams: number; queueWaitMs: number };
}

/** The size probe is repeated, 4× larger, until one lasts this long, s. */
const PROBE_MIN_SECONDS = 2;

/** The benchmark document; a complete run replaces its generated section. */
const DOCS_FILE = 'docs/benchmarks.md';
/** Where the commands in docs/benchmarks.md run (the docs ship in the npm package, the benchmarks do not). */
const REPOSITORY_URL = 'https://github.com/tallow-rx/tallow-rx';

/**
 * Replaces what stands between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in
 * `file` with `body` (appending a marked section when there is none), so that a
 * run rewrites its measured figures and leaves the prose around them alone.
 */
export function writeMarkedSection(file: string, name: string, body: string): void {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const text = readFileSync(file, 'utf8');
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  const section = `${begin}\n${body.trim()}\n${end}`;
  const next = i >= 0 && j > i ? text.slice(0, i) + section + text.slice(j + end.length) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}

/** A system's results in one scenario. */
interface SystemSummary {
  readonly system: string;
  readonly runs: RunRecord[];
  /** Extra words for the notes (best: the configuration). */
  readonly label?: string;
}

/** `--quick` screens two configurations (the auto systems, 2 and 8 lanes, compete for `best` too). */
const QUICK_BEST = ['internet × 2 lanes', 'poor × 2 lanes'];

/** Profiles × lanes that `tallow-rx best` tries (8 lanes get 8 channels, one each). */
const BEST_CANDIDATES: ReadonlyArray<{ profile: ProfileName; lanes: number }> = [
  { profile: 'lan', lanes: 1 },
  { profile: 'lan', lanes: 2 },
  { profile: 'wifi', lanes: 1 },
  { profile: 'wifi', lanes: 2 },
  { profile: 'internet', lanes: 1 },
  { profile: 'internet', lanes: 2 },
  { profile: 'poor', lanes: 1 },
  { profile: 'poor', lanes: 2 },
  { profile: 'mobile', lanes: 1 },
  { profile: 'wifi', lanes: 8 },
  { profile: 'internet', lanes: 8 },
  { profile: 'poor', lanes: 8 },
  { profile: 'mobile', lanes: 8 },
];

const bestSystem = (c: { profile: ProfileName; lanes: number }): NetworkSystem =>
  tallow(`best: ${c.profile} × ${c.lanes} lane${c.lanes > 1 ? 's' : ''}`, c.lanes, {
    profile: c.profile,
    lanes: c.lanes,
    channels: Math.max(PROFILES[c.profile].channels, c.lanes),
  });

/** `NETWORK_BENCH_LANE_CONTROLLER='{"startLanes":12}'`: lane controller options for the in-band row (trials). */
function laneControllerOverride(): SendOptions {
  const raw = process.env.NETWORK_BENCH_LANE_CONTROLLER;
  return raw ? { laneController: JSON.parse(raw) as SendOptions['laneController'] } : {};
}

/** `NETWORK_BENCH_LANE_TRIAL='{"rampShare":0}'`: a second in-band row with these controller options, run interleaved with the first. */
function laneTrialSystems(): NetworkSystem[] {
  const raw = process.env.NETWORK_BENCH_LANE_TRIAL;
  if (!raw) return [];
  const extra = process.env.NETWORK_BENCH_TRIAL_OPTIONS ? (JSON.parse(process.env.NETWORK_BENCH_TRIAL_OPTIONS) as SendOptions) : {};
  return [tallow('tallow-rx auto (1 connection) trial', 1, { ...extra, laneController: JSON.parse(raw) as SendOptions['laneController'] }, { inband: true })];
}

/**
 * The fixed systems, in table order. `tallow-rx auto` is offered two peer connections and
 * `tallow-rx auto (8 connections)` eight; `auto` uses every connection it is given as a lane.
 * `tallow-rx auto (1 connection)` is offered one, with a `createConnection`: the lane controller opens
 * the other lanes in band, through the emulator (`emulatedLaneOptions`).
 */
const SYSTEMS: readonly NetworkSystem[] = [
  before,
  simplePeer,
  seedAsWritten,
  tallow('tallow-rx auto', 2),
  tallow('tallow-rx auto (8 connections)', 8),
  tallow('tallow-rx auto (1 connection)', 1, laneControllerOverride(), { inband: true }),
  ...laneTrialSystems(),
  tallow('tallow-rx unreliable', 2, { reliability: 'unreliable' }),
];
const SERIES = ['before', 'simple-peer', 'seed-as-written', 'tallow-rx auto', 'tallow-rx auto (8 connections)', 'tallow-rx auto (1 connection)', 'tallow-rx unreliable', 'tallow-rx best'];

const envNumber = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${v}`);
  return n;
};

const mbps = (r: RunRecord): number | undefined => (r.outcome && !r.outcome.stalled && r.outcome.seconds > 0 ? (r.outcome.delivered * 8) / r.outcome.seconds / 1e6 : undefined);
const medianMbps = (s: SystemSummary): number | undefined => {
  const xs = s.runs.map(mbps).filter((x): x is number => x !== undefined);
  return xs.length ? median(xs) : undefined;
};

const sumDrops = (a: LinkStats, b: LinkStats) => ({
  random: b.aToB.lostRandom + b.bToA.lostRandom - a.aToB.lostRandom - a.bToA.lostRandom,
  queue: b.aToB.lostQueue + b.bToA.lostQueue - a.aToB.lostQueue - a.bToA.lostQueue,
  kernel: b.kernelDropsEmulator + b.kernelDropsPeers - a.kernelDropsEmulator - a.kernelDropsPeers,
  datagrams: b.aToB.datagramsIn + b.bToA.datagramsIn - a.aToB.datagramsIn - a.bToA.datagramsIn,
  // The busier direction's mean wait in the bottleneck queue, ms: the RTT inflation the link itself caused.
  queueWaitMs: Math.max(...(['aToB', 'bToA'] as const).map((d) => (b[d].queueWaitMs - a[d].queueWaitMs) / Math.max(1, b[d].datagramsIn - a[d].datagramsIn))),
});

/** CPU seconds (utime + stime) of process `pid` so far, from /proc; undefined where unreadable. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Runs `system` once on `data`, sampling RSS and the emulator's counters. */
async function runOnce(system: NetworkSystem, data: Uint8Array<ArrayBuffer>, sha256: string, scenario: Scenario, emulator: LinkEmulator | undefined, timeoutMs: number): Promise<RunRecord> {
  collectGarbage();
  const rss = new RssPeak();
  const startRss = rss.peak;
  const sampler = setInterval(() => rss.sample(), 25);
  const statsBefore = await emulator?.stats();
  const relayCpuBefore = cpuSecondsOf(emulator?.pid);
  const clock = stopwatch();
  try {
    const outcome = await system.run({ data, sha256, emulator, rttMs: scenario.rttMs, timeoutMs });
    rss.sample();
    const { wallMs, cpuMs } = clock();
    const relayCpuAfter = cpuSecondsOf(emulator?.pid);
    const relayCores = relayCpuBefore !== undefined && relayCpuAfter !== undefined ? ((relayCpuAfter - relayCpuBefore) * 1000) / wallMs : undefined;
    const statsAfter = await emulator?.stats();
    return { outcome, peakRss: rss.peak, startRss, cores: cpuMs / wallMs, relayCores, bytes: data.length, dropped: statsBefore && statsAfter ? sumDrops(statsBefore, statsAfter) : undefined };
  } catch (error) {
    const e = error as Error & { details?: unknown };
    return { error: `${e.name}: ${e.message}${e.details ? ` ${JSON.stringify(e.details)}` : ''}`, peakRss: rss.peak, startRss, bytes: data.length };
  } finally {
    clearInterval(sampler);
  }
}

const makeData = (bytes: number): { data: Uint8Array<ArrayBuffer>; sha256: string } => {
  const data = new Uint8Array(bytes);
  for (let off = 0; off < bytes; off += 1 << 24) data.set(randomBytes(Math.min(1 << 24, bytes - off)), off);
  return { data, sha256: createHash('sha256').update(data).digest('hex') };
};

const describeRun = (r: RunRecord): string => {
  if (r.error) return `FAILED ${r.error.slice(0, 1200)}`;
  const o = r.outcome!;
  if (o.stalled) return `stalled: ${o.notes?.join('; ')}`;
  const cpu = r.cores !== undefined ? `; CPU cores: peers ${r.cores.toFixed(2)}${r.relayCores !== undefined ? `, emulator ${r.relayCores.toFixed(2)}` : ''}` : '';
  const link = r.dropped ? `; link: ${r.dropped.queue} queue drops, queueing ${r.dropped.queueWaitMs.toFixed(1)} ms mean` : '';
  return `${o.seconds.toFixed(2)} s, ${(mbps(r) ?? 0).toFixed(1)} Mbit/s${o.intact ? '' : ', NOT INTACT'}${o.notes?.length ? `, ${o.notes.join('; ')}` : ''}${link}${cpu}`;
};

/** Everything measured in one scenario. */
interface ScenarioResult {
  readonly scenario: Scenario;
  readonly bytes: number;
  readonly systems: SystemSummary[];
  /** Screening results of the best-of candidates (one run each at `screenBytes`). */
  readonly screening: Array<{ name: string; mbps?: number; error?: string }>;
  readonly screenBytes: number;
  readonly best?: SystemSummary;
  readonly emulator?: LinkStats;
}

async function runScenario(scenario: Scenario, options: BenchOptions, cfg: { quick: boolean; runs: number; targetBytes: number; budgetS: number; systems: readonly NetworkSystem[]; wantBest: boolean }): Promise<ScenarioResult> {
  const { log } = options;
  const emulator = scenario.link ? await startLinkEmulator(scenario.link) : undefined;
  try {
    // Size: quick uses the scenario's small size; the full run probes `before` and fits the budget.
    let bytes = cfg.quick ? scenario.quickBytes : cfg.targetBytes;
    const perRunTimeout = (b: number, mbit: number) => Math.max(cfg.quick ? 20_000 : 60_000, ((b * 8) / (mbit * 1e6)) * 1000 * 4);
    // Without a probe, the per-run bound assumes the slower of the link and one association's loss bound
    // (the rate `before` sits on): the link rate alone timed `before` out at 250 MB on wifi (100 s needed).
    let probeMbps = Math.min(scenario.rateMbps ?? 400, scenario.lossRate > 0 ? associationBound(resolveLaneControllerConfig().mssBytes, scenario.rttMs, scenario.lossRate) / 1e6 * 8 : Infinity);
    if (!cfg.quick && cfg.budgetS > 0) {
      // A short probe can finish inside the first congestion window and the bottleneck queue, and read
      // several times the steady rate (2 MB at 34 Mbit/s where `before` sustains 4): grow it until it lasts.
      let probeBytes = Math.min(bytes, 2 * scenario.quickBytes);
      let r: RunRecord;
      for (;;) {
        const probe = makeData(probeBytes);
        r = await runOnce(before, probe.data, probe.sha256, scenario, emulator, 300_000);
        probeMbps = mbps(r) ?? probeMbps;
        const seconds = r.outcome?.seconds ?? Infinity;
        if (seconds >= PROBE_MIN_SECONDS || probeBytes >= bytes) break;
        probeBytes = Math.min(bytes, probeBytes * 4);
      }
      const fit = Math.max(1 * MB, Math.floor((probeMbps * 1e6 * cfg.budgetS) / 8 / MB) * MB);
      if (fit < bytes) bytes = fit;
      log(`${scenario.name}: probe ${describeRun(r)} → ${bytes / MB} MB per transfer`);
    }
    const { data, sha256 } = makeData(bytes);

    // tallow-rx best: screen every candidate once, then run the finalists with the others.
    const screening: ScenarioResult['screening'] = [];
    // Half the run size: a quarter (2.5 MB on 'internet') could end inside one lucky congestion window.
    const screenBytes = cfg.quick ? bytes : Math.max(1 * MB, Math.round(bytes / 2 / MB) * MB);
    const finalists: NetworkSystem[] = [];
    let quickBest: SystemSummary | undefined;
    if (cfg.wantBest) {
      const screen = screenBytes === bytes ? { data, sha256 } : makeData(screenBytes);
      const screened: Array<{ system: NetworkSystem; record: RunRecord }> = [];
      for (const c of BEST_CANDIDATES) {
        const system = bestSystem(c);
        if (cfg.quick && !QUICK_BEST.includes(system.name.replace('best: ', ''))) continue;
        const record = await runOnce(system, screen.data, screen.sha256, scenario, emulator, perRunTimeout(screenBytes, probeMbps));
        screened.push({ system, record });
        screening.push({ name: system.name, mbps: mbps(record), error: record.error });
        log(`${scenario.name} screening ${system.name}: ${describeRun(record)}`);
      }
      const ranked = screened.filter((s) => mbps(s.record) !== undefined && s.record.outcome!.intact).sort((x, y) => mbps(y.record)! - mbps(x.record)!);
      if (cfg.quick) {
        if (ranked[0]) quickBest = { system: 'tallow-rx best', runs: [ranked[0].record], label: ranked[0].system.name.replace('best: ', '') };
      } else {
        if (ranked[0]) finalists.push(ranked[0].system);
        if (ranked[1] && mbps(ranked[1].record)! >= 0.85 * mbps(ranked[0].record)!) finalists.push(ranked[1].system);
      }
    }

    const all = [...cfg.systems, ...finalists];
    const summaries = new Map<string, SystemSummary>(all.map((s) => [s.name, { system: s.name, runs: [] }]));
    const timeout = perRunTimeout(bytes, probeMbps);
    for (let run = 0; run < cfg.runs; run++) {
      for (const system of all) {
        const record = await runOnce(system, data, sha256, scenario, emulator, timeout);
        summaries.get(system.name)!.runs.push(record);
        log(`${scenario.name} run ${run + 1}/${cfg.runs} ${system.name}: ${describeRun(record)}`);
      }
    }
    const systems = cfg.systems.map((s) => summaries.get(s.name)!);
    // The best tallow-rx configuration measured in full: the finalists, and the fixed tallow-rx systems too
    // (screening on a smaller file can rank a configuration first that the full runs do not bear out).
    let best = quickBest;
    const contenders = cfg.wantBest ? [...finalists, ...cfg.systems.filter((s) => s.name.startsWith('tallow-rx'))] : [];
    for (const f of contenders) {
      const s = summaries.get(f.name)!;
      const label = f.name.startsWith('best: ') ? f.name.replace('best: ', '') : f.name;
      if (s.runs.some((r) => r.outcome && !r.outcome.intact)) continue;
      if (!best || (medianMbps(s) ?? 0) > (medianMbps(best) ?? 0)) best = { system: 'tallow-rx best', runs: s.runs, label };
    }
    return { scenario, bytes, systems, screening, screenBytes, best, emulator: await emulator?.stats() };
  } finally {
    await emulator?.close();
  }
}

/** Table rows (ours, richer than the runner's) for one scenario. */
function summarise(result: ScenarioResult): Array<{ cells: string[]; row: BenchResult; mbps?: number; series: string }> {
  const { scenario, bytes } = result;
  const all = [...result.systems, ...(result.best ? [result.best] : [])];
  const beforeMbps = medianMbps(result.systems.find((s) => s.system === 'before') ?? { system: '', runs: [] });
  return all.map((s) => {
    const m = medianMbps(s);
    const ok = s.runs.filter((r) => r.outcome);
    const failed = s.runs.length - ok.length;
    const stalled = ok.filter((r) => r.outcome!.stalled).length;
    const timed = ok.filter((r) => !r.outcome!.stalled);
    const secondsMedian = timed.length ? median(timed.map((r) => r.outcome!.seconds)) : undefined;
    const time100 = m ? (TARGET_MB * MB * 8) / (m * 1e6) : undefined;
    const extrapolated = bytes !== TARGET_MB * MB;
    const ratio = m && beforeMbps ? m / beforeMbps : undefined;
    const pctLink = m && scenario.rateMbps ? (100 * m) / scenario.rateMbps : undefined;
    const peak = s.runs.length ? Math.max(...s.runs.map((r) => r.peakRss)) : 0;
    const growth = s.runs.length ? Math.max(...s.runs.map((r) => r.peakRss - r.startRss)) : 0;
    const cores = ok.map((r) => r.cores).filter((c): c is number => c !== undefined);
    const xs = ok.map(mbps).filter((x): x is number => x !== undefined);
    const notIntact = ok.filter((r) => !r.outcome!.intact).length;
    const last = ok.at(-1)?.outcome;
    const lossNote = s.system === 'seed-as-written' && ok.length ? `delivered ${(100 * median(ok.map((r) => r.outcome!.delivered / bytes))).toFixed(1)}% (median)` : '';
    const drops = ok.filter((r) => r.dropped).map((r) => r.dropped!);
    const dropNote = drops.length ? `link drops/run ${median(drops.map((d) => d.random))} random, ${median(drops.map((d) => d.queue))} queue${drops.some((d) => d.kernel) ? `, ${Math.max(...drops.map((d) => d.kernel))} kernel` : ''}; queueing delay ${median(drops.map((d) => d.queueWaitMs)).toFixed(1)} ms mean` : '';
    const notes = [
      s.label ?? '',
      xs.length > 1 ? `runs ${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)} Mbit/s` : '',
      failed ? `${failed}/${s.runs.length} FAILED: ${s.runs.find((r) => r.error)!.error!.slice(0, 120)}` : '',
      stalled ? `${stalled}/${s.runs.length} STALLED (excluded from the median)` : '',
      notIntact && s.system !== 'seed-as-written' ? `${notIntact} runs NOT INTACT` : '',
      lossNote,
      ...(last?.notes ?? []),
      dropNote,
    ].filter(Boolean);
    const cells = [
      scenario.name,
      s.system,
      time100 === undefined ? '-' : `${extrapolated ? '~' : ''}${time100.toFixed(time100 >= 100 ? 0 : 1)}`,
      m === undefined ? '-' : m.toFixed(m >= 100 ? 0 : 1),
      ratio === undefined ? '-' : `${ratio.toFixed(2)}×`,
      pctLink === undefined ? '-' : `${pctLink.toFixed(0)}%`,
      `${formatBytes(peak)} (+${formatBytes(Math.max(0, growth))})`,
      cores.length ? median(cores).toFixed(2) : '-',
      notes.join('; '),
    ];
    const row: BenchResult = {
      variant: `${scenario.name} · ${s.system}`,
      mbPerSecond: m === undefined ? undefined : m / 8,
      ratio,
      ratioTo: ratio === undefined ? undefined : 'before',
      seconds: secondsMedian,
      peakRss: peak || undefined,
      notes: [`${(bytes / MB).toFixed(bytes >= MB ? 0 : 1)} MB × ${s.runs.length}`, pctLink === undefined ? '' : `${pctLink.toFixed(0)}% of link`, ...notes].filter(Boolean).join('; '),
    };
    return { cells, row, mbps: m, series: s.system };
  });
}

const markdownTable = (header: string[], rows: string[][]): string => {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
};

const versions = (): string => {
  const read = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  let commit = '?';
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim() + (execSync('git status --porcelain src', { encoding: 'utf8' }).trim() ? ' (src/ has uncommitted changes)' : '');
  } catch {
    // not a checkout
  }
  return `node-datachannel ${read('node-datachannel')}, simple-peer ${read('simple-peer')}, rxjs ${read('rxjs')}, tallow-rx at ${commit}`;
};

export const networkBenchmark: Benchmark = {
  name: 'network',
  description: 'file transfers over emulated networks (lan … mobile): before, simple-peer, seed-as-written, tallow-rx auto/unreliable/best',
  network: true,
  async run(options) {
    if (process.env.NETWORK_BENCH_SCTP) nodeDataChannel.setSctpSettings(JSON.parse(process.env.NETWORK_BENCH_SCTP));
    const quick = options.quick;
    const wanted = options.networkProfile?.split(',').filter(Boolean);
    const unknown = wanted?.filter((w) => !SCENARIOS.some((s) => s.name === w)) ?? [];
    if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    const scenarios = wanted?.length ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS;
    const systemFilter = process.env.NETWORK_BENCH_SYSTEMS?.split(',').map((s) => s.trim()).filter(Boolean);
    const extraLanes = (process.env.NETWORK_BENCH_EXTRA_LANES ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1 && n <= 16);
    const systems = [
      ...(systemFilter ? SYSTEMS.filter((s) => systemFilter.includes(s.name)) : SYSTEMS),
      ...extraLanes.map((n) => tallow(`tallow-rx auto (${n} connections)`, n)),
    ];
    const wantBest = !systemFilter || systemFilter.includes('tallow-rx best');
    const cfg = {
      quick,
      runs: quick ? 1 : envNumber('NETWORK_BENCH_RUNS', 3),
      targetBytes: envNumber('NETWORK_BENCH_MB', TARGET_MB) * MB,
      budgetS: envNumber('NETWORK_BENCH_BUDGET_S', 30),
      systems,
      wantBest,
    };
    const started = performance.now();
    const m = machineInfo();
    // Read once, at the start: the commit and versions that actually ran.
    const versionLine = versions();
    options.log(`${m.cpu}, nproc ${m.nproc}, Node ${m.node}, load ${m.load.toFixed(2)}; ${versionLine}`);
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      const t = performance.now();
      results.push(await runScenario(scenario, options, cfg));
      options.log(`${scenario.name} done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    }

    const summaries = results.map((r) => ({ result: r, rows: summarise(r) }));
    const header = ['scenario', 'system', 'time for 100 MB (s)', 'Mbit/s', '× before', '% of link', 'peak RSS (+in run)', 'CPU cores', 'notes'];
    const table = markdownTable(header, summaries.flatMap((s) => s.rows.map((r) => r.cells)));
    const sizes = results.map((r) => `${r.scenario.name} ${(r.bytes / MB).toFixed(r.bytes >= MB ? 0 : 1)} MB`).join(', ');
    const endLoad = machineInfo().load;
    const report = [
      `### Emulated networks${quick ? ' (--quick)' : ''}`,
      '',
      `${m.cpu}, nproc ${m.nproc}, ${m.memory} RAM, Node ${m.node}; ${versionLine}. Load average ${m.load.toFixed(2)} at the start, ${endLoad.toFixed(2)} at the end; ${((performance.now() - started) / 60000).toFixed(1)} min.`,
      `Transfer sizes: ${sizes}; ${cfg.runs} run(s) per system, interleaved; medians.`,
      '',
      table,
      '',
      ...results
        .filter((r) => r.emulator)
        .map((r) => {
          const l = r.emulator!.lateness;
          const k = r.emulator!.kernelDropsEmulator + r.emulator!.kernelDropsPeers;
          return `- ${r.scenario.name} emulator: ${l.count} datagrams released, lateness p50 ${l.p50Ms.toFixed(2)} ms, p99 ${l.p99Ms.toFixed(2)} ms, max ${l.maxMs.toFixed(1)} ms; kernel receive drops ${k}`;
        }),
      ...results.filter((r) => r.screening.length).map((r) => `- ${r.scenario.name} best-of screening (${(r.screenBytes / MB).toFixed(r.screenBytes >= MB ? 0 : 1)} MB, once each): ${r.screening.map((s) => `${s.name.replace('best: ', '')} ${s.mbps === undefined ? 'failed' : s.mbps.toFixed(1)}`).join(', ')}`),
    ].join('\n');
    for (const line of report.split('\n')) options.log(line);

    // Only a full, unfiltered run replaces the chart in docs/.
    const complete = !quick && !wanted?.length && !systemFilter && !extraLanes.length;
    const outDir = process.env.NETWORK_BENCH_OUT ?? (complete ? 'docs' : tmpdir());
    mkdirSync(outDir, { recursive: true });
    const svg = groupedBarChart({
      title: `tallow-rx over emulated networks: goodput${quick ? ' (--quick, small files)' : ''}`,
      subtitle: `node-datachannel peers in one process, userspace link emulator; median of ${cfg.runs}; ${m.nproc} cores, load ${m.load.toFixed(1)}`,
      unit: 'Mbit/s',
      series: SERIES,
      groups: summaries.map(({ result, rows }) => ({
        label: result.scenario.name,
        sublabel: result.scenario.rateMbps ? `${result.scenario.rateMbps} Mbit/s, ${result.scenario.rttMs} ms${result.scenario.lossRate ? `, ${result.scenario.lossRate * 100}%` : ''}` : 'loopback',
        limit: result.scenario.rateMbps,
        values: SERIES.map((name) => rows.find((r) => r.series === name)?.mbps),
      })),
    });
    const svgPath = join(outDir, complete ? 'benchmarks-network.svg' : `benchmarks-network-${quick ? 'quick' : 'partial'}.svg`);
    writeFileSync(svgPath, svg);
    const jsonPath = join(outDir === 'docs' ? tmpdir() : outDir, `benchmarks-network${quick ? '-quick' : ''}.json`);
    writeFileSync(jsonPath, JSON.stringify({ quick, cfg: { ...cfg, systems: systems.map((s) => s.name) }, machine: m, versions: versionLine, report, results }, null, 1));
    writeFileSync(jsonPath.replace(/\.json$/, '.md'), report + '\n');
    options.log(`chart: ${svgPath}; raw results: ${jsonPath}; report: ${jsonPath.replace(/\.json$/, '.md')}`);
    if (complete && outDir === 'docs') {
      const command = `NETWORK_BENCH_BUDGET_S=${cfg.budgetS} NETWORK_BENCH_RUNS=${cfg.runs} npm run bench -- --only network`;
      // docs/ ships in the npm package: say where the command runs.
      writeMarkedSection(DOCS_FILE, 'network', [report, '', `Produced in a clone of the repository (${REPOSITORY_URL}) by \`${command}\`.`].join('\n'));
      options.log(`report written into ${DOCS_FILE} between the network markers`);
    }
    // Joins libdatachannel's threads and closes anything a failed run left open, so the process can exit.
    shutdownNodeDataChannel();
    return summaries.flatMap((s) => s.rows.map((r) => r.row));
  },
};
