/**
 * Many files over real WebRTC, one process, both peers on 127.0.0.1 (node-datachannel,
 * `connectLoopbackPair`: `iceServers: []`, ICE bound to loopback). Real files on disk in a temp
 * folder, collected with `filesFromPaths`, received with `directoryTarget` (default config: resume on)
 * into another temp folder:
 *
 * 1. 1,000 files of 4 KiB: one `sendFiles` session (`filesInFlight` 1, 8 = default, 32) against one
 *    `sendFile` + `receiveFile` per file, sequentially, on the same connection pair. Files per second.
 * 2. 10 files of 100 MB against one file of 1 GB holding the same bytes, each as one `sendFiles`
 *    session: Mbit/s and the ratio. Scaled down (and said so) when `statfs` finds the disk short.
 * 3. A folder of 10,000 empty files and a few nested empty folders: the `filesFromPaths` walk, and one
 *    `sendFiles` session from subscribe to completed.
 *
 *   npm run bench -- --only many-files [--quick]
 *
 * Variants run interleaved (A B C … A B C …), 3 rounds (1 with --quick), medians reported. Timing is
 * from subscribing `receiveFiles` and `sendFiles` (or `receiveFile` and `sendFile`) until both
 * completed: the RTT probe, the offer and accept, channel set-up and the last acknowledgement are
 * inside. Connecting the pair is not (it is made once per case, then left 300 ms to settle, see
 * SETTLE_MS in bench/real.ts). Every run is checked and a mismatch throws: both sides' completed
 * events list every file with the same SHA-256, that digest is the source's (hashed while it was
 * written), and the received tree on disk has the same paths and sizes (and, for files with bytes,
 * the same SHA-256, read back) as the source tree, with nothing left over. MB is 10^6 bytes; Mbit/s
 * 10^6 bit/s.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, merge, tap, type Observable } from 'rxjs';
import { connectLoopbackPair, type LoopbackPair } from '../src/connect/connectLoopbackPair';
import { directoryTarget } from '../src/transfer/directoryTarget';
import type { FileDescriptor } from '../src/transfer/fileInput';
import type { FileSet } from '../src/transfer/FileSet';
import type { ReceiveTarget } from '../src/transfer/ReceiveTarget';
import { filesFromPaths } from '../src/transfer/filesFromPaths';
import { receiveFile } from '../src/transfer/receiveFile';
import { receiveFiles } from '../src/transfer/receiveFiles';
import { sendFile, type SendOptions } from '../src/transfer/sendFile';
import { sendFiles } from '../src/transfer/sendFiles';
import type { FileResult, SessionEvent } from '../src/transfer/SessionEvent';
import type { TransferEvent } from '../src/transfer/TransferEvent';
import { discardTarget } from './lib/discardTarget';
import { compareListings, type ListedEntry, type Listing } from './lib/compareListings';
import { hashFile, listTree, writeEmptyTree, writeRandom, writeSmallFiles } from './lib/fileTrees';
import { median } from './lib/measure';
import { planBigFiles } from './lib/planBigFiles';
import type { Benchmark, BenchOptions, BenchResult } from './lib/types';

/** Untimed pause between connecting a pair and its first transfer, ms (see SETTLE_MS in bench/real.ts). */
const SETTLE_MS = 300;
/** Size of each small file, bytes. */
const SMALL_SIZE = 4 * 1024;
/** The `filesInFlight` values tried for the small files (8 is the default). */
const IN_FLIGHT = [1, 8, 32] as const;
/** Files sent one `sendFile` each in the untimed warm-up. */
const WARM_EACH = 20;
/** `minChunk` = `maxChunk` of the ablation that shrinks the per-file frame and read buffers (`maxChunk` alone below the profile's `minChunk` is refused; default 256 KiB - 32 B). */
const ABLATION_MAX_CHUNK = 16 * 1024;
/** Nested empty folders in the empty-files tree (besides the files at its top). */
const EMPTY_FOLDERS = ['nested-a', 'nested-b/inner', 'nested-c/one/two/three'] as const;
/** Targets of the issue: files/s of one session, the 10-part / single-file throughput ratio. */
const TARGET_FILES_PER_SECOND = 500;
const TARGET_RATIO = 0.95;
/** Transfer time limit: 60 s plus the time at 5 Mbit/s (hundreds of times slower than seen here). */
const timeoutFor = (bytes: number) => 60_000 + ((bytes * 8) / 5e6) * 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

/** One timed run: wall and CPU seconds, the set-up part, and what each side's completed event listed. */
export interface Run {
  readonly seconds: number;
  readonly cpuSeconds: number;
  /** Subscribe → the receiver's `started` (probe, offer, accept), median per file for `sendFile` each. */
  readonly handshakeSeconds: number;
  readonly sender: readonly FileResult[];
  readonly receiver: readonly FileResult[];
}

/** Where a variant's receiver puts the files: `directoryTarget(dst)` (default config) unless it says otherwise. */
export type TargetFor = (dst: string) => ReceiveTarget;
const toDisk: TargetFor = (dst) => directoryTarget(dst);

/** One `sendFiles` session of `set` (with `options`) into `target(dst)`; receiver subscribed first. */
export async function runSession(pair: LoopbackPair, set: FileSet, dst: string, options: SendOptions, bytes: number, target: TargetFor = toDisk): Promise<Run> {
  const done: { sender?: readonly FileResult[]; receiver?: readonly FileResult[] } = {};
  let acceptedAt = NaN;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const tag = (side: 'sender' | 'receiver') =>
    tap((e: SessionEvent) => {
      if (e.type === 'started' && side === 'receiver') acceptedAt = performance.now();
      if (e.type === 'completed') done[side] = e.files;
    });
  await withTimeout(
    lastValueFrom(
      merge(
        receiveFiles(pair.b, { target: target(dst), maxFiles: set.files.length }).pipe(tag('receiver')),
        sendFiles(pair.a, set, options).pipe(tag('sender')),
      ),
      { defaultValue: undefined },
    ),
    timeoutFor(bytes),
    `sendFiles of ${set.files.length} files`,
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  if (!done.sender || !done.receiver) throw new Error(`sendFiles of ${set.files.length} files ended without completed on ${done.sender ? 'the receiver' : 'the sender'}`);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, handshakeSeconds: (acceptedAt - started) / 1000, sender: done.sender, receiver: done.receiver };
}

/** One `receiveFile` + `sendFile` per file, one after another, all into one `directoryTarget(dst)`. */
export async function runEach(pair: LoopbackPair, files: readonly FileDescriptor[], dst: string): Promise<Run> {
  const target = directoryTarget(dst);
  const sender: FileResult[] = [];
  const receiver: FileResult[] = [];
  const handshakes: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const file of files) {
    const t0 = performance.now();
    const tag = (side: FileResult[], isReceiver: boolean) =>
      tap((e: TransferEvent) => {
        if (e.type === 'started' && isReceiver) handshakes.push((performance.now() - t0) / 1000);
        if (e.type === 'completed') side.push({ manifest: e.manifest, sha256: e.sha256, result: e.result });
      });
    const one: Observable<TransferEvent> = merge(receiveFile(pair.b, { target }).pipe(tag(receiver, true)), sendFile(pair.a, file).pipe(tag(sender, false)));
    await withTimeout(lastValueFrom(one, { defaultValue: undefined }), timeoutFor(file.size), `sendFile ${file.name}`);
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, handshakeSeconds: median(handshakes), sender, receiver };
}

/**
 * Throws unless both sides completed every file of `expected` with the same SHA-256, equal to the
 * source's where known, and (`onDisk`, default true) `dst` holds exactly the source tree (sizes, and
 * SHA-256 of non-empty files).
 */
export async function verify(what: string, run: Run, expected: Listing, dst: string, onDisk = true): Promise<void> {
  const files = [...expected].filter(([path]) => !path.endsWith('/'));
  const problems: string[] = [];
  for (const [side, results] of [['sender', run.sender], ['receiver', run.receiver]] as const) {
    if (results.length !== files.length) problems.push(`${side} completed ${results.length} files, expected ${files.length}`);
  }
  const sent = new Map(run.sender.map((r) => [r.manifest.name, r.sha256]));
  for (const r of run.receiver) {
    const want = expected.get(r.manifest.name);
    if (!want) problems.push(`receiver completed ${r.manifest.name}, which was not sent`);
    else if (r.manifest.size !== want.size) problems.push(`${r.manifest.name}: manifest says ${r.manifest.size} B, source has ${want.size} B`);
    else if (sent.get(r.manifest.name) !== r.sha256) problems.push(`${r.manifest.name}: receiver's SHA-256 ${r.sha256.slice(0, 12)}… ≠ sender's ${sent.get(r.manifest.name)?.slice(0, 12)}…`);
    else if (want.sha256 !== undefined && want.sha256 !== r.sha256) problems.push(`${r.manifest.name}: completed SHA-256 ${r.sha256.slice(0, 12)}… ≠ source's ${want.sha256.slice(0, 12)}…`);
  }
  if (onDisk) problems.push(...compareListings(expected, await listTree(dst, (_, size) => size > 0)));
  if (problems.length) throw new Error(`${what}: WRONG RESULT: ${problems.slice(0, 6).join('; ')}`);
}

/** `1,000` */
const count = (n: number) => n.toLocaleString('en-US');
const range = (xs: readonly number[], digits = 0) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
const ms = (seconds: number) => `${(seconds * 1000).toFixed(0)} ms`;

/** A variant of a case: a name, how to run it once into `dst`, and its runs so far. */
interface Variant {
  readonly name: string;
  /** False when the receiver discards the bytes (an ablation): only the completed events are checked. Default true. */
  readonly onDisk?: boolean;
  readonly once: (dst: string) => Promise<Run>;
  readonly runs: Run[];
}

/** Runs `variants` interleaved for `reps` rounds, each into a fresh folder under `root` that is verified, then deleted. */
async function interleave(variants: readonly Variant[], reps: number, root: string, expected: Listing, log: (line: string) => void, describe: (v: Variant, r: Run) => string): Promise<void> {
  for (let rep = 1; rep <= reps; rep++) {
    for (const v of variants) {
      const dst = await mkdtemp(join(root, 'dst-'));
      try {
        const run = await v.once(dst);
        await verify(v.name, run, expected, dst, v.onDisk);
        v.runs.push(run);
        log(`round ${rep}/${reps} ${v.name}: ${describe(v, run)}, CPU ${run.cpuSeconds.toFixed(2)} s (verified)`);
      } finally {
        await rm(dst, { recursive: true, force: true });
      }
    }
  }
}

/** Case 1: `n` files of 4 KiB, one session (filesInFlight 1, 8, 32) against sendFile each. */
async function smallFiles(root: string, n: number, reps: number, log: (line: string) => void): Promise<BenchResult[]> {
  const expected = await writeSmallFiles(join(root, 'src', 'small'), 'small', n, SMALL_SIZE);
  const set = await filesFromPaths([join(root, 'src', 'small')]);
  if (set.files.length !== n) throw new Error(`filesFromPaths found ${set.files.length} of ${n} files`);
  const pair = await connectLoopbackPair();
  try {
    await sleep(SETTLE_MS);
    const bytes = n * SMALL_SIZE;
    const sessions: Variant[] = IN_FLIGHT.map((k) => ({
      name: `${count(n)} × 4 KiB, one sendFiles, filesInFlight ${k}${k === 8 ? ' (default)' : ''}`,
      once: (dst) => runSession(pair, set, dst, { filesInFlight: k }, bytes),
      runs: [],
    }));
    // Ablations of the default session, to show where a file's time goes (see the profile in docs/benchmarks.md).
    const ablations: Variant[] = [
      { name: `ablation: filesInFlight 8, min/maxChunk 16 KiB`, once: (dst) => runSession(pair, set, dst, { minChunk: ABLATION_MAX_CHUNK, maxChunk: ABLATION_MAX_CHUNK }, bytes), runs: [] },
      { name: `ablation: filesInFlight 8, directoryTarget resume: false`, once: (dst) => runSession(pair, set, dst, {}, bytes, (d) => directoryTarget(d, { resume: false })), runs: [] },
      { name: `filesInFlight 8, directoryTarget fsync: false (no fsync per file)`, once: (dst) => runSession(pair, set, dst, {}, bytes, (d) => directoryTarget(d, { fsync: false })), runs: [] },
      { name: `ablation: filesInFlight 8, discarding target (no disk)`, onDisk: false, once: (dst) => runSession(pair, set, dst, {}, bytes, () => discardTarget()), runs: [] },
    ];
    const each: Variant = { name: `${count(n)} × 4 KiB, one sendFile each (sequential)`, once: (dst) => runEach(pair, set.files, dst), runs: [] };
    const describe = (_: Variant, r: Run) => `${(n / r.seconds).toFixed(0)} files/s, ${r.seconds.toFixed(2)} s, handshake ${ms(r.handshakeSeconds)}${_ === each ? ' per file' : ''}`;
    // Untimed warm-up (JIT, the pair's first channels): one session, and a few files one sendFile each.
    const warmDst = await mkdtemp(join(root, 'warm-'));
    await runSession(pair, set, warmDst, {}, bytes);
    await runEach(pair, set.files.slice(0, WARM_EACH), join(warmDst, 'each'));
    await rm(warmDst, { recursive: true, force: true });
    await interleave([...sessions, each, ...ablations], reps, root, expected, log, describe);

    const filesPerSecond = (v: Variant) => v.runs.map((r) => n / r.seconds);
    const eachRate = median(filesPerSecond(each));
    const defaultRate = median(filesPerSecond(sessions[1]));
    const rows: BenchResult[] = [...sessions, each, ...ablations].map((v) => {
      const rates = filesPerSecond(v);
      const rate = median(rates);
      const isDefault = v === sessions[1];
      const seconds = median(v.runs.map((r) => r.seconds));
      return {
        variant: v.name,
        mbPerSecond: bytes / 1e6 / seconds,
        // Sessions compare with sendFile each; ablations with the default session.
        ratio: v === each ? undefined : rate / (ablations.includes(v) ? defaultRate : eachRate),
        ratioTo: v === each ? undefined : ablations.includes(v) ? 'filesInFlight 8' : 'sendFile each',
        seconds,
        notes: [
          `${rate.toFixed(0)} files/s (runs ${range(rates)}), median of ${v.runs.length}`,
          v === each ? `${((seconds / n) * 1000).toFixed(1)} ms per file, of which handshake ${ms(median(v.runs.map((r) => r.handshakeSeconds)))} (subscribe → receiver started)` : `handshake ${ms(median(v.runs.map((r) => r.handshakeSeconds)))}`,
          `CPU ${median(v.runs.map((r) => r.cpuSeconds)).toFixed(2)} s per run`,
          isDefault ? `target ≥ ${TARGET_FILES_PER_SECOND} files/s: ${rate >= TARGET_FILES_PER_SECOND ? 'met' : 'MISSED'}` : undefined,
        ]
          .filter(Boolean)
          .join('; '),
      };
    });
    return rows;
  } finally {
    await pair.close();
    await rm(join(root, 'src', 'small'), { recursive: true, force: true });
  }
}

/** Case 2: `parts` files against one file of the same bytes, as large as the disk allows (1 GB wanted). */
async function bigFiles(root: string, total: number, parts: number, reps: number, log: (line: string) => void): Promise<BenchResult[]> {
  const fs = await statfs(root);
  const plan = planBigFiles(fs.bavail * fs.bsize, total, parts);
  if (plan.scaled) log(`SCALED DOWN: ${plan.reason}; using ${plan.parts} × ${plan.partSize / 1e6} MB and one ${plan.total / 1e6} MB file`);
  const partsDir = join(root, 'src', 'parts');
  const wholePath = join(root, 'src', 'whole.bin');
  await mkdir(partsDir, { recursive: true });
  const partsListing = new Map<string, ListedEntry>([['parts/', { size: 0 }]]);
  const generated = performance.now();
  // The whole file is the parts one after another: the same bytes, written in 1 MiB pieces as they are generated.
  const whole = await open(wholePath, 'w');
  try {
    for (let i = 0; i < plan.parts; i++) {
      const name = `p${String(i).padStart(2, '0')}.bin`;
      const partPath = join(partsDir, name);
      partsListing.set(`parts/${name}`, { size: plan.partSize, sha256: await writeRandom([partPath], plan.partSize) });
      for await (const piece of createReadStream(partPath, { highWaterMark: 1024 * 1024 })) await whole.write(piece as Buffer);
    }
  } finally {
    await whole.close();
  }
  const wholeListing = new Map<string, ListedEntry>([['whole.bin', { size: plan.total, sha256: await hashFile(wholePath) }]]);
  log(`generated ${plan.parts} × ${plan.partSize / 1e6} MB and 1 × ${plan.total / 1e6} MB in ${((performance.now() - generated) / 1000).toFixed(1)} s`);
  const pair = await connectLoopbackPair();
  try {
    await sleep(SETTLE_MS);
    const partsSet = await filesFromPaths([partsDir]);
    const wholeSet = await filesFromPaths([wholePath]);
    const mbps = (r: Run) => (plan.total * 8) / r.seconds / 1e6;
    const describe = (_: Variant, r: Run) => `${mbps(r).toFixed(0)} Mbit/s, ${r.seconds.toFixed(2)} s`;
    const split: Variant = { name: `${plan.parts} × ${plan.partSize / 1e6} MB, one sendFiles`, once: (dst) => runSession(pair, partsSet, dst, {}, plan.total), runs: [] };
    const single: Variant = { name: `1 × ${plan.total / 1e6} MB, one sendFiles`, once: (dst) => runSession(pair, wholeSet, dst, {}, plan.total), runs: [] };
    // Each variant checks against its own source listing.
    for (let rep = 1; rep <= reps; rep++) {
      await interleave([split], 1, root, partsListing, (l) => log(l.replace('round 1/1', `round ${rep}/${reps}`)), describe);
      await interleave([single], 1, root, wholeListing, (l) => log(l.replace('round 1/1', `round ${rep}/${reps}`)), describe);
    }
    const singleMbps = median(single.runs.map(mbps));
    // Each round's split run against the single-file run right after it: the noise of a shared machine shows here.
    const paired = split.runs.map((r, i) => (single.runs[i] ? r.seconds / single.runs[i].seconds : NaN)).map((x) => 1 / x);
    const scaledNote = plan.scaled ? `SCALED DOWN from ${parts} × ${total / parts / 1e6} MB: ${plan.reason}` : undefined;
    return [split, single].map((v) => {
      const all = v.runs.map(mbps);
      const ratio = median(all) / singleMbps;
      return {
        variant: v.name,
        mbPerSecond: median(all) / 8,
        ratio: v === split ? ratio : undefined,
        ratioTo: v === split ? 'single file' : undefined,
        seconds: median(v.runs.map((r) => r.seconds)),
        notes: [
          `${median(all).toFixed(0)} Mbit/s (runs ${range(all)}), median of ${v.runs.length}`,
          `handshake ${ms(median(v.runs.map((r) => r.handshakeSeconds)))}`,
          `CPU ${median(v.runs.map((r) => r.cpuSeconds)).toFixed(2)} s per run`,
          v === split ? `per-round ratios ${paired.map((x) => x.toFixed(2)).join(', ')}` : undefined,
          v === split ? `target ≥ ${TARGET_RATIO.toFixed(2)}× single: ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'}` : undefined,
          'SHA-256 checked (events and read back)',
          scaledNote,
        ]
          .filter(Boolean)
          .join('; '),
      };
    });
  } finally {
    await pair.close();
    await rm(partsDir, { recursive: true, force: true });
    await rm(wholePath, { force: true });
  }
}

/** Case 3: `n` empty files and a few nested empty folders: the walk and one session. */
async function emptyFiles(root: string, n: number, reps: number, log: (line: string) => void): Promise<BenchResult[]> {
  const dir = join(root, 'src', 'empty');
  const expected = await writeEmptyTree(dir, 'empty', n, EMPTY_FOLDERS);
  const folders = [...expected.keys()].filter((k) => k.endsWith('/')).length;
  const pair = await connectLoopbackPair();
  try {
    await sleep(SETTLE_MS);
    const walks: number[] = [];
    const session: Variant = {
      name: `${count(n)} empty files + ${folders - 1} nested folders, one sendFiles`,
      once: async (dst) => {
        const t0 = performance.now();
        const set = await filesFromPaths([dir]);
        walks.push((performance.now() - t0) / 1000);
        if (set.files.length !== n || (set.folders ?? []).length !== folders) throw new Error(`filesFromPaths found ${set.files.length} files and ${(set.folders ?? []).length} folders, expected ${n} and ${folders}`);
        return runSession(pair, set, dst, {}, 0);
      },
      runs: [],
    };
    await interleave([session], reps, root, expected, log, (_, r) => `walk ${ms(walks[walks.length - 1])}, session ${r.seconds.toFixed(2)} s (${(n / r.seconds).toFixed(0)} files/s), handshake ${ms(r.handshakeSeconds)}`);
    const seconds = median(session.runs.map((r) => r.seconds));
    return [
      { variant: `filesFromPaths walk of ${count(n)} empty files + ${folders} folders`, seconds: median(walks), notes: `runs ${range(walks.map((w) => w * 1000))} ms, median of ${walks.length} (tree just written: dentries cached)` },
      {
        variant: session.name,
        seconds,
        notes: [
          `subscribe → completed, runs ${range(session.runs.map((r) => r.seconds), 2)} s, median of ${session.runs.length}`,
          `${(n / seconds).toFixed(0)} files/s`,
          `handshake (offer of ${count(n)} names → accept) ${ms(median(session.runs.map((r) => r.handshakeSeconds)))}`,
          `CPU ${median(session.runs.map((r) => r.cpuSeconds)).toFixed(2)} s per run`,
          `"not minutes": ${seconds < 60 ? 'met' : 'MISSED'}`,
        ].join('; '),
      },
    ];
  } finally {
    await pair.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const manyFilesBenchmark: Benchmark = {
  name: 'many-files',
  description: 'real WebRTC on 127.0.0.1: 1,000 × 4 KiB (sendFiles vs sendFile each), 10 × 100 MB vs 1 GB, 10,000 empty files',
  network: true,
  async run({ quick, log }: BenchOptions) {
    const reps = quick ? 1 : 3;
    const root = await mkdtemp(join(tmpdir(), 'tallow-many-files-'));
    try {
      return [
        ...(await smallFiles(root, quick ? 100 : 1000, reps, log)),
        ...(await bigFiles(root, quick ? 1e8 : 1e9, 10, reps, log)),
        ...(await emptyFiles(root, quick ? 1000 : 10_000, reps, log)),
      ];
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
};
