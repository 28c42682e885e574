/**
 * Real WebRTC, one process, both peers on 127.0.0.1 (node-datachannel):
 * tallow-rx's `sendFile`/`receiveFile` against the raw stack (`runRaw`, a
 * hand-written single-channel send loop) and against simple-peer 9, the
 * everyday alternative. Systems run interleaved (A B C … A B C …) so machine
 * noise hits all of them alike; each figure is the median of `reps` runs.
 *
 *   npm run bench -- --only real [--quick]
 *   node --expose-gc --import tsx bench/real.ts [megabytes=200] [reps=3] [system-name-part…]
 *
 * Every run gets fresh peer connections; connecting them is not timed.
 * - raw: from the first `send()` to the last byte received (runRaw's own clock).
 * - simple-peer: from the first `write()` to the last byte received.
 * - tallow-rx: from subscribing `sendFile`/`receiveFile` until both completed,
 *   so its offer/accept handshake, data-channel opening and whole-file SHA-256
 *   verification are inside the figure. The receiver discards the bytes
 *   (bench/lib/discardTarget.ts), except in the `→ disk` row (directoryTarget).
 * MB is 10^6 bytes; Mbps 10^6 bit/s.
 */
import { randomFillSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { lastValueFrom, merge, tap } from 'rxjs';
import { receiveFile, type ReceiveOptions } from '../src/transfer/receiveFile';
import { sendFile, type SendOptions } from '../src/transfer/sendFile';
import type { ReceiveTarget } from '../src/transfer/ReceiveTarget';
import type { TransferEvent } from '../src/transfer/TransferEvent';
import { directoryTarget } from '../src/transfer/directoryTarget';
import { createNodePeerPair, shutdownNodeDataChannel } from '../harness/nodePeers';
import { discardTarget } from './lib/discardTarget';
import { collectGarbage, formatBytes, median, MiB } from './lib/measure';
import { createSimplePeerPair } from './lib/simplePeerPair';
import { threadCpu, type ThreadTime } from './lib/threadCpu';
import type { Benchmark, BenchOptions, BenchResult } from './lib/types';
import { runRaw } from './raw';

/** simple-peer write size. */
const SIMPLE_PEER_WRITE = 64 * 1024;
/** RSS sampling period while a run is in flight, ms. */
const RSS_POLL_MS = 50;
/**
 * Untimed pause between connecting a fresh pair and starting a tallow-rx
 * transfer, ms. sendFile creates its control channel in band at once, and on a
 * node-datachannel pair that reported 'connected' less than a few ms ago such a
 * channel closes right after opening, or never opens, in about 1 of 15 tries
 * (4 of 60 here; 0 of 60 after 300 ms). That is a real start-up hazard (see
 * docs/benchmarks.md), but not what this benchmark measures.
 */
const SETTLE_MS = 300;

/** One timed run of one system. */
export interface RealRun {
  /** Seconds on the system's clock (see the file comment). */
  readonly seconds: number;
  /** Highest RSS sampled during the run, and RSS just before it (after a GC). */
  readonly peakRss: number;
  readonly rssBefore: number;
  /** Process CPU time (every thread: JS, libdatachannel, GC) during the run, seconds; setup included. */
  readonly cpuSeconds: number;
  /** The same per thread name (Linux): seconds run and seconds waited for a CPU. */
  readonly threads: Readonly<Record<string, ThreadTime>>;
  /** tallow-rx only: seconds from subscribing until the receiver accepted (handshake + channel setup). */
  readonly setupSeconds?: number;
  /** tallow-rx only: what the transfer ran as, from its manifest and stats (`2 ch × 2 lanes, lan, chunks up to 256 KiB`). */
  readonly detail?: string;
}

/** A system under test: moves `data` once over fresh connections. */
export interface RealSystem {
  readonly name: string;
  /** 'raw' rows are the baseline of the ratio column (the fastest of them), 'simple-peer' the alternative. */
  readonly kind: 'raw' | 'tallow' | 'simple-peer';
  run(data: Uint8Array, timeoutMs: number): Promise<Omit<RealRun, 'peakRss' | 'rssBefore' | 'cpuSeconds' | 'threads'>>;
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

/** `runRaw` with one channel and `messageSize` messages (its own pair, its own clock). */
const rawSystem = (messageSize: number): RealSystem => ({
  name: `raw node-datachannel, 1 ch, ${messageSize / 1024} KiB msgs`,
  kind: 'raw',
  run: async (data, timeoutMs) => ({ seconds: (await runRaw({ bytes: data.length, messageSize, timeoutMs })).seconds }),
});

/** simple-peer's Duplex: `write()` 64 KiB pieces, wait for 'drain' whenever `write()` returns false. */
const simplePeerSystem: RealSystem = {
  name: 'simple-peer 9, write() 64 KiB',
  kind: 'simple-peer',
  run: async (data, timeoutMs) => {
    const { a, b, errors, close } = await createSimplePeerPair();
    try {
      const failed = new Promise<never>((_, reject) => {
        a.on('error', reject);
        b.on('error', reject);
        b.on('close', () => reject(new Error('simple-peer: receiver closed early')));
      });
      failed.catch(() => undefined);
      let got = 0;
      const received = new Promise<number>((resolve) => {
        b.on('data', (chunk) => {
          got += chunk.length;
          if (got >= data.length) resolve(performance.now());
        });
      });
      const started = performance.now();
      let offset = 0;
      const write = (): void => {
        while (offset < data.length) {
          const piece = data.subarray(offset, Math.min(offset + SIMPLE_PEER_WRITE, data.length));
          offset += piece.length;
          if (!a.write(piece)) {
            a.once('drain', write);
            return;
          }
        }
      };
      write();
      const ended = await withTimeout(Promise.race([received, failed]), timeoutMs, `simple-peer (${got} of ${data.length} B)`);
      if (got !== data.length) throw new Error(`simple-peer: ${got} B received for ${data.length} B sent`);
      if (errors.length) throw errors[0];
      return { seconds: (ended - started) / 1000 };
    } finally {
      await close();
    }
  },
};

/** Where the tallow-rx receiver puts the bytes. */
export type Sink = 'discard' | 'disk';

/**
 * sendFile/receiveFile over `pairs` fresh peer-connection pairs, `options`
 * (and `receiveOptions`) as given: profile `auto` unless they name one. Checks that both sides
 * completed with the same SHA-256 and that the target got every byte.
 */
export const tallowSystem = (label: string, pairs: number, options: SendOptions, sink: Sink = 'discard', receiveOptions: Omit<ReceiveOptions, 'target'> = {}): RealSystem => ({
  name: `tallow-rx ${label}${sink === 'disk' ? ' → disk' : ''}`,
  kind: 'tallow',
  run: async (data, timeoutMs) => {
    const pair = await createNodePeerPair({ lanes: pairs });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const dir = sink === 'disk' ? await mkdtemp(join(tmpdir(), 'tallow-real-')) : undefined;
    try {
      const discard = discardTarget();
      const target: ReceiveTarget = dir ? directoryTarget(dir, { resume: false }) : discard;
      let acceptedAt: number | undefined;
      let shape = '';
      let profile: string | undefined;
      let chunk: number | undefined;
      const done: Record<string, string> = {};
      const started = performance.now();
      const tag = (side: string) =>
        tap((e: TransferEvent) => {
          if (e.type === 'started' && side === 'receiver') {
            acceptedAt ??= performance.now();
            shape = `${e.manifest.channels} ch × ${e.manifest.lanes} lane${e.manifest.lanes > 1 ? 's' : ''}`;
          }
          if (e.type === 'stats' && side === 'sender') {
            profile = e.stats.signals.profile ?? profile;
            // The last sample may see only the file's short tail chunk: keep the largest.
            chunk = Math.max(chunk ?? 0, e.stats.chunkSize ?? 0) || undefined;
          }
          if (e.type === 'completed') done[side] = e.sha256;
        });
      await withTimeout(
        lastValueFrom(
          merge(
            receiveFile(
              pair.lanes.map((l) => l.b),
              { ...receiveOptions, target },
            ).pipe(tag('receiver')),
            sendFile(
              pair.lanes.map((l) => l.a),
              data,
              options,
            ).pipe(tag('sender')),
          ),
          { defaultValue: undefined },
        ),
        timeoutMs,
        `tallow-rx ${label}`,
      );
      const seconds = (performance.now() - started) / 1000;
      if (!done.sender || done.sender !== done.receiver) throw new Error(`tallow-rx ${label}: completed events disagree (${JSON.stringify(done)})`);
      if (!dir && discard.tally.bytes !== data.length) throw new Error(`tallow-rx ${label}: target got ${discard.tally.bytes} of ${data.length} B`);
      const detail = [shape, profile, chunk === undefined ? undefined : `chunks up to ${formatBytes(chunk)}`].filter(Boolean).join(', ');
      return { seconds, setupSeconds: acceptedAt === undefined ? undefined : (acceptedAt - started) / 1000, detail };
    } finally {
      await pair.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  },
});

/** Every system, in the order each round runs them. */
export const REAL_SYSTEMS: readonly RealSystem[] = [
  rawSystem(64 * 1024),
  rawSystem(256 * 1024),
  tallowSystem('{channels: 1, lanes: 1}', 1, { channels: 1, lanes: 1 }),
  tallowSystem('{channels: 3, lanes: 1}', 1, { channels: 3, lanes: 1 }),
  tallowSystem('{channels: 2, lanes: 2}', 2, { channels: 2, lanes: 2 }),
  tallowSystem('{channels: 3, lanes: 2}', 2, { channels: 3, lanes: 2 }),
  tallowSystem('auto (default options)', 2, {}),
  tallowSystem('auto (default options)', 2, {}, 'disk'),
  simplePeerSystem,
];

/** Runs `system` once, with a GC before and RSS and per-thread CPU sampled while it runs. */
async function measured(system: RealSystem, data: Uint8Array, timeoutMs: number): Promise<RealRun> {
  collectGarbage();
  const rssBefore = process.memoryUsage.rss();
  let peakRss = rssBefore;
  const threads = threadCpu();
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
    threads.sample();
  };
  const poll = setInterval(sample, RSS_POLL_MS);
  const cpu = process.cpuUsage();
  try {
    const run = await system.run(data, timeoutMs);
    sample();
    const used = process.cpuUsage(cpu);
    return { ...run, peakRss, rssBefore, cpuSeconds: (used.user + used.system) / 1e6, threads: threads.stop() };
  } finally {
    clearInterval(poll);
  }
}

/** The figures of one system over all its runs. */
export interface RealSummary {
  readonly system: RealSystem;
  readonly runs: readonly RealRun[];
  /** Median, lowest and highest throughput, Mbps. */
  readonly mbps: number;
  readonly minMbps: number;
  readonly maxMbps: number;
  readonly error?: string;
}

/**
 * Runs `systems` interleaved, `reps` rounds after one untimed warm-up round on
 * `warmBytes`, and summarises each. A system that fails is retried in later
 * rounds; its summary carries the first error.
 */
export async function runInterleaved(
  systems: readonly RealSystem[],
  { bytes, reps, warmBytes, log }: { bytes: number; reps: number; warmBytes: number; log: (line: string) => void },
): Promise<RealSummary[]> {
  const data = new Uint8Array(bytes);
  for (let offset = 0; offset < bytes; offset += 64 * MiB) randomFillSync(data, offset, Math.min(64 * MiB, bytes - offset));
  // Generous: 5 Mbps would still finish.
  const timeoutMs = 30_000 + (bytes * 8) / 5e6 * 1000;
  const runs = new Map<RealSystem, RealRun[]>(systems.map((s) => [s, []]));
  const errors = new Map<RealSystem, string>();
  const once = async (system: RealSystem, input: Uint8Array, round: string) => {
    try {
      const run = await measured(system, input, timeoutMs);
      const mbps = (input.length * 8) / run.seconds / 1e6;
      log(
        `${round} ${system.name}: ${mbps.toFixed(0)} Mbps, ${run.seconds.toFixed(2)} s, CPU ${run.cpuSeconds.toFixed(2)} s, ` +
          `peak RSS ${formatBytes(run.peakRss)} (+${formatBytes(Math.max(0, run.peakRss - run.rssBefore))})${run.detail ? `, ${run.detail}` : ''}`,
      );
      return run;
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      log(`${round} ${system.name}: FAILED ${message}`);
      if (!errors.has(system)) errors.set(system, message);
      return undefined;
    }
  };
  const warm = data.subarray(0, warmBytes);
  for (const system of systems) await once(system, warm, 'warm-up');
  for (let rep = 1; rep <= reps; rep++) {
    for (const system of systems) {
      const run = await once(system, data, `round ${rep}/${reps}`);
      if (run) runs.get(system)!.push(run);
    }
  }
  return systems.map((system) => {
    const rs = runs.get(system)!;
    const mbpsOf = (r: RealRun) => (bytes * 8) / r.seconds / 1e6;
    const all = rs.map(mbpsOf);
    return {
      system,
      runs: rs,
      mbps: all.length ? median(all) : NaN,
      minMbps: all.length ? Math.min(...all) : NaN,
      maxMbps: all.length ? Math.max(...all) : NaN,
      error: errors.get(system),
    };
  });
}

/** `threads run/wait s: JS 0.70/1.21, RTC worker 1.26/2.40, …`: medians over runs, groups that ran at least 50 ms. */
function threadSummary(runs: readonly RealRun[]): string | undefined {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.threads)))];
  const rows = names
    .map((name) => ({
      name,
      run: median(runs.map((r) => r.threads[name]?.run ?? 0)),
      wait: median(runs.map((r) => r.threads[name]?.wait ?? 0)),
    }))
    .filter((t) => t.run >= 0.05)
    .sort((x, y) => y.run - x.run);
  return rows.length ? `threads run/wait s: ${rows.map((t) => `${t.name} ${t.run.toFixed(2)}/${t.wait.toFixed(2)}`).join(', ')}` : undefined;
}

/** Table rows: MB/s, ratio to the best raw row, and the Mbps, spread, simple-peer ratio and RSS in the notes. */
export function toResults(summaries: readonly RealSummary[], bytes: number): BenchResult[] {
  const ok = summaries.filter((s) => s.runs.length);
  const raw = ok.filter((s) => s.system.kind === 'raw').sort((x, y) => y.mbps - x.mbps)[0];
  const simple = ok.find((s) => s.system.kind === 'simple-peer');
  return summaries.map((s) => {
    if (!s.runs.length) return { variant: s.system.name, notes: `FAILED: ${s.error}` };
    const peak = Math.max(...s.runs.map((r) => r.peakRss));
    const growth = Math.max(...s.runs.map((r) => r.peakRss - r.rssBefore));
    const setups = s.runs.map((r) => r.setupSeconds).filter((x): x is number => x !== undefined);
    const notes = [
      `${s.mbps.toFixed(0)} Mbps (runs ${s.minMbps.toFixed(0)}-${s.maxMbps.toFixed(0)}), median of ${s.runs.length} × ${bytes / 1e6} MB`,
      s.system.kind === 'tallow' && simple ? `${(s.mbps / simple.mbps).toFixed(2)}× simple-peer` : undefined,
      `CPU ${median(s.runs.map((r) => r.cpuSeconds)).toFixed(2)} s per run`,
      threadSummary(s.runs),
      `RSS +${formatBytes(Math.max(0, growth))} during the run`,
      setups.length ? `handshake ${(median(setups) * 1000).toFixed(0)} ms` : undefined,
      s.runs[s.runs.length - 1].detail ? `ran as ${s.runs[s.runs.length - 1].detail}` : undefined,
      s.error ? `${s.error} in another run` : undefined,
    ];
    const relative = raw && s !== raw && s.system.kind !== 'raw';
    return {
      variant: s.system.name,
      mbPerSecond: s.mbps / 8,
      ratio: relative ? s.mbps / raw.mbps : undefined,
      ratioTo: relative ? 'raw' : undefined,
      seconds: median(s.runs.map((r) => r.seconds)),
      peakRss: peak,
      notes: notes.filter(Boolean).join('; '),
    };
  });
}

export const realBenchmark: Benchmark = {
  name: 'real',
  description: 'real WebRTC on 127.0.0.1 (node-datachannel): tallow-rx vs the raw stack vs simple-peer, interleaved',
  async run(options: BenchOptions) {
    const bytes = options.quick ? 64e6 : 200e6;
    const summaries = await runInterleaved(REAL_SYSTEMS, { bytes, reps: options.quick ? 3 : 5, warmBytes: options.quick ? 8e6 : 16e6, log: options.log });
    return toResults(summaries, bytes);
  },
};

async function main(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 200);
  const reps = Number(process.argv[3] ?? 3);
  const wanted = process.argv.slice(4);
  if (!(megabytes > 0) || !(reps >= 1)) throw new Error('usage: node --expose-gc --import tsx bench/real.ts [megabytes=200] [reps=3] [system-name-part…]');
  const systems = wanted.length ? REAL_SYSTEMS.filter((s) => wanted.some((w) => s.name.includes(w))) : REAL_SYSTEMS;
  const bytes = Math.round(megabytes * 1e6);
  const summaries = await runInterleaved(systems, { bytes, reps, warmBytes: Math.min(bytes, 16e6), log: (line) => console.error(line) });
  for (const row of toResults(summaries, bytes)) console.log(JSON.stringify(row));
  shutdownNodeDataChannel();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
