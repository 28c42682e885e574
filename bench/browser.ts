/**
 * The browser benchmark: Debian's Chromium (playwright-core) in a loopback-only network
 * namespace, two pages of one browser, 256 MiB per run from memory, page to page:
 * - a raw RTCDataChannel loop (one channel, 256 KiB messages, tallow-rx's `lan` watermarks);
 * - tallow-rx `auto` (`sendFile`/`receiveFile`) over one and over two peer connections;
 * - simple-peer 9 (its own browser build) and PeerJS 1.5 (`serialization: 'raw'`, with a local
 *   PeerServer from the `peer` package on 127.0.0.1);
 * - plus tallow-rx from the page to node-datachannel in the runner process.
 * Systems run interleaved (A B C … A B C …) after one untimed warm-up each; figures are medians.
 *
 *   npm run bench -- --only browser [--quick]          (5 × 256 MiB; --quick: 3 × 64 MiB)
 *   node --expose-gc --import tsx bench/browser.ts [--runs N] [--mib N] [--only <name part>]… [--grid] [--profile] [--baseline DIR]
 *
 * Clocks: from the sending page's first send (tallow-rx: subscribing `sendFile`, so its handshake
 * and SHA-256 verification are inside) to the last byte received (tallow-rx: both sides completed),
 * in epoch milliseconds of the two pages. Connecting is not timed. Mbit/s is 10^6 bit/s.
 * What each run also measures is listed in bench/lib/browser/browserRunner.ts.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnChromiumRunner, type SpawnedChromiumRunner } from '../test/harness/chromium';
import { BROWSER_USAGE, parseBrowserArgs } from './lib/browser/browserArgs';
import type { RunRecord, RunReply, RunRequest } from './lib/browser/browserRunner';
import { checkTargets, formatBrowserTable, summarizeRuns, toBenchResults, type SystemSummary } from './lib/browser/browserSummary';
import { baselineSystems, BROWSER_SYSTEMS, tuningGrid, type BrowserSystem } from './lib/browser/browserSystems';
import { machineInfo, MiB } from './lib/measure';
import type { Benchmark, BenchOptions } from './lib/types';

/** The runner module, run inside the namespace. */
const RUNNER = new URL('./lib/browser/browserRunner.ts', import.meta.url);
/** The page entry, bundled into both pages as `window.bundles.bench`. */
const PAGE_ENTRY = 'bench/lib/browser/benchPage.ts';

/** Options of {@link runBrowserBench}. */
export interface BrowserBenchOptions {
  readonly systems: readonly BrowserSystem[];
  /** Bytes per timed run. */
  readonly bytes: number;
  /** Timed rounds. */
  readonly runs: number;
  /** Bytes of each system's untimed warm-up run. */
  readonly warmBytes: number;
  /** Profile one run of this system after the rounds. Default: none. */
  readonly profileSystem?: BrowserSystem;
  /** An older checkout whose bench page (and so tallow-rx) the `baseline` systems run. Default: none. */
  readonly baselineDir?: string;
  readonly log: (line: string) => void;
}

/** What {@link runBrowserBench} gives. */
export interface BrowserBenchResult {
  readonly summaries: SystemSummary[];
  /** Top self-time functions per page of the profiled run. */
  readonly profile?: RunRecord['profile'];
  readonly userAgentNote?: string;
}

/** Sends one request to the runner and waits for its reply. */
function request(runner: SpawnedChromiumRunner, body: Omit<RunRequest, 'id'>, seq: { n: number }): Promise<RunRecord> {
  const id = ++seq.n;
  return new Promise((resolve, reject) => {
    const off = runner.port.onMessage((data) => {
      const reply = data as RunReply;
      if (reply.id !== id) return;
      off();
      if (reply.ok) resolve(reply.value);
      else reject(new Error(reply.error));
    });
    runner.port.send({ ...body, id });
    // The runner dying ends every pending request.
    runner.result.catch((error: unknown) => {
      off();
      reject(error);
    });
  });
}

const describe = (r: RunRecord): string => {
  const cpu = Object.entries(r.chromiumCpu)
    .filter(([, v]) => v >= 0.05)
    .map(([g, v]) => `${g} ${v.toFixed(1)}`)
    .join(', ');
  const lt = (t: RunRecord['longTasks']['sender']) => `${t.count}/${t.tbtMs.toFixed(0)}/${t.maxMs.toFixed(0)}`;
  return (
    `${((r.bytes * 8) / r.seconds / 1e6).toFixed(0)} Mbit/s, ${r.seconds.toFixed(2)} s, long tasks send ${lt(r.longTasks.sender)} recv ${lt(r.longTasks.receiver)}, ` +
    `main thread ${r.mainThreadSeconds.sender.toFixed(2)}/${r.mainThreadSeconds.receiver?.toFixed(2) ?? 'node'} s, Chromium CPU ${cpu}, runner ${r.runnerCpuSeconds.toFixed(1)} s${r.detail ? `, ${r.detail}` : ''}`
  );
};

/** Runs `systems` interleaved in one Chromium and summarises each. A failing system is retried in later rounds. */
export async function runBrowserBench(opts: BrowserBenchOptions): Promise<BrowserBenchResult> {
  const { systems, bytes, runs, warmBytes, log } = opts;
  const bundles: Record<string, string> = { bench: PAGE_ENTRY };
  if (opts.baselineDir) bundles.baseline = path.resolve(opts.baselineDir, PAGE_ENTRY);
  const runner = await spawnChromiumRunner(RUNNER, { bundles, timeoutMs: 120_000 });
  const seq = { n: 0 };
  // Generous: 10 Mbit/s would still finish.
  const timeoutMs = 30_000 + ((bytes * 8) / 10e6) * 1000;
  const records = new Map<string, RunRecord[]>(systems.map((s) => [s.name, []]));
  const errors = new Map<string, string>();
  const once = async (system: BrowserSystem, size: number, label: string, profile = false): Promise<RunRecord | undefined> => {
    try {
      const record = await request(runner, { system, bytes: size, timeoutMs, profile }, seq);
      log(`${label} ${system.name}: ${describe(record)}`);
      return record;
    } catch (error) {
      const message = ((error as Error)?.message ?? String(error)).split('\n')[0];
      log(`${label} ${system.name}: FAILED ${message}`);
      if (!errors.has(system.name)) errors.set(system.name, message);
      return undefined;
    }
  };
  try {
    for (const system of systems) await once(system, warmBytes, 'warm-up');
    for (let round = 1; round <= runs; round++) {
      for (const system of systems) {
        const record = await once(system, bytes, `round ${round}/${runs}`);
        if (record) records.get(system.name)!.push(record);
      }
    }
    let profile: RunRecord['profile'];
    if (opts.profileSystem) profile = (await once(opts.profileSystem, bytes, 'profiled', true))?.profile;
    const summaries = systems.map((s) => summarizeRuns(s.name, s.kind, records.get(s.name)!, errors.get(s.name)));
    return { summaries, profile };
  } finally {
    await runner.close();
  }
}

/** Logs the browser table, the targets and the profile. */
function report(result: BrowserBenchResult, bytes: number, runs: number, log: (line: string) => void): void {
  log(`browser table (medians of ${runs} × ${bytes / MiB} MiB; long tasks: count / total blocking time ms / longest ms, medians per run, longest over all runs):`);
  for (const line of formatBrowserTable(result.summaries).split('\n')) log(line);
  for (const t of checkTargets(result.summaries)) log(`target ${t.met ? 'MET   ' : 'MISSED'} ${t.what}: ${t.measured}`);
  if (result.profile) {
    log('profile, sending page (self time):');
    result.profile.sender.forEach((l) => log(`  ${l}`));
    log('profile, receiving page (self time):');
    (result.profile.receiver ?? []).forEach((l) => log(`  ${l}`));
  }
}

export const browserBenchmark: Benchmark = {
  name: 'browser',
  description: 'Chromium page to page on 127.0.0.1: tallow-rx vs a raw RTCDataChannel loop, simple-peer and PeerJS (+ Chromium → node-datachannel)',
  network: true,
  async run(options: BenchOptions) {
    const bytes = (options.quick ? 64 : 256) * MiB;
    const runs = options.quick ? 3 : 5;
    const result = await runBrowserBench({ systems: BROWSER_SYSTEMS, bytes, runs, warmBytes: 16 * MiB, log: options.log });
    report(result, bytes, runs, options.log);
    return toBenchResults(result.summaries, bytes);
  },
};

async function main(): Promise<void> {
  let args;
  try {
    args = parseBrowserArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${BROWSER_USAGE}`);
    process.exitCode = 2;
    return;
  }
  const pool = args.grid ? tuningGrid() : BROWSER_SYSTEMS;
  const picked = args.only.length ? pool.filter((s) => args.only.some((part) => s.name.includes(part))) : [...pool];
  // Each baseline row runs right after this tree's row of the same connections, when that row runs.
  const systems = picked.flatMap((s) =>
    args.baseline && s.kind === 'tallow' && s.receiver === 'page' && !args.grid ? [s, ...baselineSystems(args.baselineLabel ?? path.basename(args.baseline)).filter((b) => b.kind === 'tallow' && b.connections === s.connections)] : [s],
  );
  if (!systems.length) throw new Error(`no system matches ${args.only.join(', ')}`);
  const bytes = Math.round(args.mib * MiB);
  const m = machineInfo();
  console.log(`# tallow-rx browser bench${args.grid ? ' (tuning grid)' : ''}, ${new Date().toISOString()}`);
  console.log(`${m.cpu}, nproc ${m.nproc}, ${m.memory} RAM, Node ${m.node}, load average ${m.load.toFixed(2)} at the start`);
  const log = (line: string) => console.error(line);
  const profileSystem = args.profile ? BROWSER_SYSTEMS.find((s) => s.kind === 'tallow' && s.connections === 1 && s.receiver === 'page') : undefined;
  const result = await runBrowserBench({ systems, bytes, runs: args.runs, warmBytes: Math.min(bytes, 16 * MiB), profileSystem, baselineDir: args.baseline, log });
  report(result, bytes, args.runs, (line) => console.log(line));
  console.log(`load average ${machineInfo().load.toFixed(2)} at the end`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
