/**
 * The library's own overhead, with no network in the way.
 *
 * 1. In-process: the sender's `fromBytes → adaptiveChunk → encodeFrames` hands
 *    frames straight to the receiver's `decodeFrames → reorder → verifyHash`,
 *    whose output is dropped. Variants remove the hashing step by step, and
 *    plain loops over the same primitives give the ceiling.
 * 2. Routing: the full sender and receiver over 3 virtual channels of finite
 *    bandwidth (virtual time), `roundRobin` vs `leastBuffered`, on one shared
 *    link and on three unequal links ("lanes").
 */
import { randomFillSync, createHash } from 'node:crypto';
import { from, map, merge, of, ReplaySubject, tap, VirtualTimeScheduler, type Observable, type OperatorFunction } from 'rxjs';
import { Demand } from '../src/flow/Demand';
import { crc32 } from '../src/hash/crc32';
import { createSha256 } from '../src/hash/sha256';
import { adaptiveChunk } from '../src/operators/adaptiveChunk';
import { backpressure } from '../src/operators/backpressure';
import { chooseChunkSize } from '../src/operators/chooseChunkSize';
import { decodeFrames } from '../src/operators/decodeFrames';
import { encodeFrames } from '../src/operators/encodeFrames';
import { leastBuffered } from '../src/operators/leastBuffered';
import { reorder } from '../src/operators/reorder';
import { roundRobin } from '../src/operators/roundRobin';
import { verifyHash } from '../src/operators/verifyHash';
import { decodeFrame, encodeFrame, FRAME_HEADER_SIZE } from '../src/protocol/frame';
import { sendToChannels } from '../src/sinks/sendToChannels';
import { fromBytes } from '../src/sources/fromBytes';
import { fromChannelMessages } from '../src/sources/fromChannelMessages';
import { createVirtualLink, type VirtualDataChannel } from '../src/testing';
import { CHROME_MAX_MESSAGE_SIZE, type Bytes, type Chunk, type DataChannelLike, type Routed } from '../src/types';
import { collectGarbage, formatBytes, mbPerSecond, median, MiB, RssPeak, stopwatch, type Timing } from './lib/measure';
import type { Benchmark, BenchOptions, BenchResult } from './lib/types';

/** RTT fed to `adaptiveChunk`: a LAN, so the policy picks the largest payload Chrome allows. */
const RTT_MS = 1;
const MAX_MESSAGE_SIZE = CHROME_MAX_MESSAGE_SIZE;
/** The payload size that RTT gives: 262 112 B. */
const CHUNK = chooseChunkSize({ rttMs: RTT_MS }, { maxMessageSize: MAX_MESSAGE_SIZE });
const TRANSFER_ID = 1;
/** Sample RSS every this many chunks. */
const RSS_EVERY = 32;
/** Virtual-link capacity: about node-datachannel's loopback throughput (441 Mbit/s, WEBRTC-FACTS.md). */
const LINK_CAPACITY = 55e6;
const LINK_DELAY_MS = 1;
/** Unequal lanes: shares of LINK_CAPACITY. */
const LANE_SHARES = [4 / 7, 2 / 7, 1 / 7];

const FULL = 'sha256+crc (full)';

const chunksOf = (file: Uint8Array, readSize?: number): Observable<Chunk> =>
  fromBytes(file, readSize ? { readSize } : {}).pipe(adaptiveChunk(of(RTT_MS), { maxMessageSize: MAX_MESSAGE_SIZE }));

const receive = (): OperatorFunction<Uint8Array, Chunk> => (frames) => frames.pipe(decodeFrames({ transferId: TRANSFER_ID }), reorder());

/**
 * An in-process variant: an Observable of what the receiver would hand to its
 * sink. `build` runs before the clock starts, so it may prepare inputs eagerly.
 */
export interface Variant {
  readonly name: string;
  /** True when `build` allocates the whole input up front (runs in a later phase, see `inProcess`). */
  readonly upfront?: boolean;
  readonly build: (file: Uint8Array, expected: string) => Observable<Chunk | Bytes>;
}

/** Every frame of `file`, encoded up front (untimed), for the receiver-only variant. */
const encodeAll = (file: Uint8Array): Uint8Array[] => {
  const frames: Uint8Array[] = [];
  for (let offset = 0, index = 0; offset < file.length; offset += CHUNK, index++) {
    frames.push(encodeFrame({ transferId: TRANSFER_ID, index, offset }, file.subarray(offset, offset + CHUNK)));
  }
  return frames;
};

export const VARIANTS: readonly Variant[] = [
  {
    name: FULL,
    build: (file, expected) => chunksOf(file).pipe(encodeFrames({ transferId: TRANSFER_ID }), receive(), verifyHash({ expected })),
  },
  {
    name: 'full, source readSize = chunk',
    build: (file, expected) => chunksOf(file, CHUNK).pipe(encodeFrames({ transferId: TRANSFER_ID }), receive(), verifyHash({ expected })),
  },
  {
    name: 'no verifyHash (CRC on send only)',
    build: (file) => chunksOf(file).pipe(encodeFrames({ transferId: TRANSFER_ID }), receive()),
  },
  {
    name: 'no hashing (checksum preset)',
    build: (file) =>
      chunksOf(file).pipe(
        map((c): Chunk => ({ ...c, checksum: 0 })),
        encodeFrames({ transferId: TRANSFER_ID }),
        receive(),
      ),
  },
  {
    name: 'sender only (chunk + encode)',
    build: (file) => chunksOf(file).pipe(encodeFrames({ transferId: TRANSFER_ID })),
  },
  {
    name: 'receiver only (decode + reorder + verify)',
    upfront: true,
    build: (file, expected) => from(encodeAll(file)).pipe(receive(), verifyHash({ expected })),
  },
];

/** Reference loops over the same primitives, without RxJS: what the work itself costs. */
const REFERENCES: ReadonlyArray<{ readonly name: string; readonly run: (file: Uint8Array, rss: RssPeak) => void }> = [
  {
    name: 'ref: same work, plain loop',
    run: (file, rss) => {
      const hasher = createSha256();
      if (hasher instanceof Promise) throw new Error('no synchronous SHA-256 here (node:crypto missing)');
      for (let offset = 0, index = 0; offset < file.length; offset += CHUNK, index++) {
        const frame = decodeFrame(encodeFrame({ transferId: TRANSFER_ID, index, offset }, file.subarray(offset, offset + CHUNK)));
        if (crc32(frame.data) !== frame.checksum) throw new Error(`crc mismatch at ${index}`);
        hasher.update(frame.data);
        if (index % RSS_EVERY === 0) rss.sample();
      }
      hasher.digestHex();
    },
  },
  {
    name: 'ref: SHA-256 only (node:crypto)',
    run: (file) => {
      const h = createHash('sha256');
      for (let offset = 0; offset < file.length; offset += CHUNK) h.update(file.subarray(offset, offset + CHUNK));
      h.digest();
    },
  },
  {
    name: 'ref: CRC-32 only (zlib)',
    run: (file) => {
      for (let offset = 0; offset < file.length; offset += CHUNK) crc32(file.subarray(offset, offset + CHUNK));
    },
  },
  {
    name: 'ref: frame alloc + copy only',
    run: (file) => {
      for (let offset = 0; offset < file.length; offset += CHUNK) {
        const piece = file.subarray(offset, offset + CHUNK);
        new Uint8Array(FRAME_HEADER_SIZE + piece.length).set(piece, FRAME_HEADER_SIZE);
      }
    },
  },
];

/** Runs one in-process variant to completion; resolves with its timing. Rejects if fewer bytes came out than went in. */
export function runVariant(variant: Variant, file: Uint8Array, expected: string, rss: RssPeak): Promise<Timing> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let n = 0;
    const run$ = variant.build(file, expected);
    const elapsed = stopwatch();
    run$.subscribe({
      next: (out) => {
        bytes += out instanceof Uint8Array ? out.length - FRAME_HEADER_SIZE : out.data.length;
        if (++n % RSS_EVERY === 0) rss.sample();
      },
      error: reject,
      complete: () => {
        const timing = elapsed();
        if (bytes !== file.length) reject(new Error(`${variant.name}: ${bytes} B out for ${file.length} B in`));
        else resolve(timing);
      },
    });
  });
}

/** A random file and its SHA-256. */
export function makeFile(size: number): { file: Uint8Array; expected: string } {
  const file = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 64 * MiB) randomFillSync(file, offset, Math.min(64 * MiB, size - offset));
  return { file, expected: createHash('sha256').update(file).digest('hex') };
}

/** A timed step of the in-process phase: a pipeline variant or a reference loop. */
interface Step {
  readonly name: string;
  run(file: Uint8Array, expected: string, rss: RssPeak): Promise<Timing>;
}

const variantStep = (v: Variant): Step => ({ name: v.name, run: (file, expected, rss) => runVariant(v, file, expected, rss) });
const referenceStep = (r: (typeof REFERENCES)[number]): Step => ({
  name: r.name,
  run: async (file, _expected, rss) => {
    const elapsed = stopwatch();
    r.run(file, rss);
    const timing = elapsed();
    rss.sample();
    return timing;
  },
});

/**
 * Runs every in-process variant and reference `reps` times, interleaved so
 * drift hits them alike. MB/s is the median by process CPU time: the pipelines
 * are single-threaded, and on a busy 2-core machine wall time swings 2-3× with
 * other load while CPU time stays within ~10 %. (Uncontended, the two agree
 * within a few per cent, except that CPU time also counts GC helper threads.)
 * The notes give the wall-time median and best run.
 * Variants that allocate their input up front run in a second phase, so the
 * memory they leave with the allocator does not inflate the others' peak RSS.
 */
async function inProcess(options: BenchOptions, size: number, reps: number): Promise<BenchResult[]> {
  const { file, expected } = makeFile(size);
  const warm = makeFile(16 * MiB);
  const streaming = [...VARIANTS.filter((v) => !v.upfront).map(variantStep), ...REFERENCES.map(referenceStep)];
  const upfront = VARIANTS.filter((v) => v.upfront).map(variantStep);
  for (const step of [...streaming, ...upfront]) await step.run(warm.file, warm.expected, new RssPeak());

  const names = [...VARIANTS.map((v) => v.name), ...REFERENCES.map((r) => r.name)];
  const times = new Map<string, Timing[]>(names.map((n) => [n, []]));
  const peaks = new Map<string, number>(names.map((n) => [n, 0]));
  for (const phase of [streaming, upfront]) {
    for (let rep = 0; rep < reps; rep++) {
      for (const step of phase) {
        collectGarbage();
        const rss = new RssPeak();
        times.get(step.name)!.push(await step.run(file, expected, rss));
        peaks.set(step.name, Math.max(peaks.get(step.name)!, rss.peak));
      }
      const first = times.get(phase[0].name)![rep];
      options.log(`in-process rep ${rep + 1}/${reps}: ${phase[0].name} ${mbPerSecond(size, first.cpuMs).toFixed(0)} MB/s CPU, ${mbPerSecond(size, first.wallMs).toFixed(0)} wall`);
    }
  }
  const cpuMbps = (name: string) => mbPerSecond(size, median(times.get(name)!.map((t) => t.cpuMs)));
  return names.map((name) => {
    const walls = times.get(name)!.map((t) => t.wallMs);
    const mbps = cpuMbps(name);
    return {
      variant: name,
      mbPerSecond: mbps,
      ratio: name === FULL ? undefined : mbps / cpuMbps(FULL),
      ratioTo: name === FULL ? undefined : 'full',
      seconds: median(walls) / 1000,
      peakRss: peaks.get(name),
      notes:
        `MB/s by CPU time, median of ${reps} × ${formatBytes(size)}; wall: median ${mbPerSecond(size, median(walls)).toFixed(0)}, ` +
        `best ${mbPerSecond(size, Math.min(...walls)).toFixed(0)} MB/s`,
    };
  });
}

type Strategy = 'roundRobin' | 'leastBuffered';
type Topology = 'one link' | 'three lanes 4:2:1';

interface ChannelRun {
  /** Virtual ms from start until the receiver verified the last byte. */
  readonly virtualMs: number;
  readonly wallMs: number;
  /** Frame bytes sent per channel. */
  readonly perChannel: number[];
  readonly peakRss: number;
}

/** One transfer through the real pipelines over virtual channels, in virtual time. */
function channelRun(strategy: Strategy, topology: Topology, file: Uint8Array, expected: string): ChannelRun {
  const elapsed = stopwatch();
  const scheduler = new VirtualTimeScheduler();
  const rss = new RssPeak();
  let locals: VirtualDataChannel[];
  let remotes: VirtualDataChannel[];
  if (topology === 'one link') {
    [locals, remotes] = createVirtualLink({ scheduler, bandwidth: LINK_CAPACITY, delayMs: LINK_DELAY_MS }).createChannels(3, { label: 'data' });
  } else {
    const pairs = LANE_SHARES.map((share, i) =>
      createVirtualLink({ scheduler, bandwidth: LINK_CAPACITY * share, delayMs: LINK_DELAY_MS }).createChannel(`lane-${i}`),
    );
    locals = pairs.map(([l]) => l);
    remotes = pairs.map(([, r]) => r);
  }
  const total$ = new ReplaySubject<number>(1);
  let doneAt: number | undefined;
  let failure: unknown;
  let received = 0;
  let n = 0;
  merge(...remotes.map((c) => fromChannelMessages(c)))
    .pipe(decodeFrames({ transferId: TRANSFER_ID }), reorder({ end: total$, scheduler }), verifyHash({ expected }))
    .subscribe({
      next: (chunk) => {
        received += chunk.data.length;
        if (++n % RSS_EVERY === 0) rss.sample();
      },
      error: (err) => (failure = err),
      complete: () => (doneAt = scheduler.now()),
    });

  const demand = new Demand();
  const route: (channels: readonly DataChannelLike[], config: { high?: number }) => OperatorFunction<Bytes, Routed> =
    strategy === 'roundRobin' ? roundRobin : leastBuffered;
  let chunks = 0;
  fromBytes(file, { demand })
    .pipe(
      adaptiveChunk(of(RTT_MS), { maxMessageSize: MAX_MESSAGE_SIZE }),
      tap(() => chunks++),
      encodeFrames({ transferId: TRANSFER_ID }),
      route(locals, {}),
      backpressure({ demand, maxMessageSize: MAX_MESSAGE_SIZE, scheduler }),
      sendToChannels({ maxMessageSize: MAX_MESSAGE_SIZE }),
    )
    .subscribe({ error: (err) => (failure = err), complete: () => total$.next(chunks) });
  scheduler.flush();
  if (failure) throw failure;
  if (doneAt === undefined || received !== file.length) throw new Error(`${strategy}/${topology}: stalled after ${received} of ${file.length} B`);
  return { virtualMs: doneAt, wallMs: elapsed().wallMs, perChannel: locals.map((c) => c.stats.bytesSent), peakRss: rss.peak };
}

/** roundRobin vs leastBuffered on both topologies. Virtual time is deterministic; wall time is the median of `reps`. */
async function routing(options: BenchOptions, size: number, reps: number): Promise<BenchResult[]> {
  const { file, expected } = makeFile(size);
  const results: BenchResult[] = [];
  for (const topology of ['one link', 'three lanes 4:2:1'] as const) {
    const capacity = LINK_CAPACITY * (CHUNK / (CHUNK + FRAME_HEADER_SIZE));
    let rrMbps: number | undefined;
    for (const strategy of ['roundRobin', 'leastBuffered'] as const) {
      const runs: ChannelRun[] = [];
      for (let rep = 0; rep < reps; rep++) {
        collectGarbage();
        runs.push(channelRun(strategy, topology, file, expected));
      }
      const { virtualMs, perChannel } = runs[0];
      const mbps = mbPerSecond(size, virtualMs);
      const sent = perChannel.reduce((a, b) => a + b, 0);
      const shares = perChannel.map((b) => `${((100 * b) / sent).toFixed(1)}`).join('/');
      const mean = sent / perChannel.length;
      const spread = (Math.max(...perChannel) - Math.min(...perChannel)) / mean;
      // On unequal lanes the ideal share is the lane's capacity share, not a third.
      const mismatch = Math.max(...perChannel.map((bytes, i) => Math.abs((100 * bytes) / sent - 100 * LANE_SHARES[i])));
      const wallMs = median(runs.map((r) => r.wallMs));
      if (strategy === 'roundRobin') rrMbps = mbps;
      results.push({
        variant: `${strategy}, 3 ch, ${topology} (virtual time)`,
        mbPerSecond: mbps,
        ratio: strategy === 'roundRobin' ? undefined : mbps / rrMbps!,
        ratioTo: strategy === 'roundRobin' ? undefined : 'roundRobin',
        seconds: wallMs / 1000,
        peakRss: Math.max(...runs.map((r) => r.peakRss)),
        notes:
          `${(100 * (mbps / (capacity / 1e6))).toFixed(1)}% of ${LINK_CAPACITY / 1e6} MB/s; bytes per channel ${shares} %` +
          (topology === 'one link'
            ? `; spread (max-min)/mean ${(100 * spread).toFixed(1)}%; `
            : ` vs capacity 57.1/28.6/14.3, off by <= ${mismatch.toFixed(1)} points; `) +
          `wall ${mbPerSecond(size, wallMs).toFixed(0)} MB/s; ${formatBytes(size)}`,
      });
      options.log(`${strategy} over ${topology}: ${mbps.toFixed(1)} MB/s virtual, shares ${shares}`);
    }
  }
  return results;
}

export const pipelineBenchmark: Benchmark = {
  name: 'pipeline',
  description: 'in-memory pipeline throughput (framing, CRC-32, SHA-256), and roundRobin vs leastBuffered over 3 virtual channels',
  async run(options) {
    const size = options.quick ? 64 * MiB : 256 * MiB;
    const reps = options.quick ? 3 : 5;
    const channelSize = options.quick ? 16 * MiB : 64 * MiB;
    const rows = await inProcess(options, size, reps);
    collectGarbage();
    rows.push(...(await routing(options, channelSize, options.quick ? 1 : 3)));
    return rows;
  },
};
