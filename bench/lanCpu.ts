/**
 * Where the CPU of the network bench's `lan` row goes: `before` against
 * `tallow-rx auto (1 connection)`, both peers in this process on plain
 * loopback (node-datachannel), interleaved, with the CPU each thread group
 * spent per MB moved (bench/lib/threadCpu.ts) and how full the sender's data
 * channels were. Diagnostic rows isolate what the library adds:
 *
 * - `raw 256K`: no library, the stack alone with tallow-rx's `lan` shape (2
 *   unordered channels, 256 KiB messages, pause above 1 MiB, resume at 256 KiB;
 *   unlike the other rows it does not hash what it receives);
 * - `tallow no-sha`: tallow-rx with a do-nothing SHA-256 on both sides (what the
 *   whole-file hash costs; never a real setting);
 * - `tallow sha-in-worker` (only when named): the SHA-256 of both sides in `worker_threads` workers.
 *
 *   flock /tmp/tallow-bench.lock node --import tsx bench/lanCpu.ts [MB=100] [runs=5] [rows=before,tallow,tallow no-sha,raw 256K]
 *
 * Prints one line per run and the medians; `MB` is 10^6 bytes, Mbit/s 10^6 bit/s.
 */
import { createHash, randomBytes } from 'node:crypto';
import { receiveFile, sendFile, writableTarget, type ReceiveOptions, type SendOptions } from '../src/index';
import { createNodePeerConnection, createNodePeerPair, openChannels, shutdownNodeDataChannel } from '../harness/nodePeers';
import { isRelayableCandidate } from './emulator/emulatedSignalling';
import { before } from './emulator/systems/before';
import { threadCpu } from './lib/threadCpu';
import { median } from './lib/measure';
import { drained } from './raw';
import { Worker } from 'node:worker_threads';
import type { Sha256 } from '../src/hash/sha256';

const KiB = 1024;
/** How often the sender's `bufferedAmount` is sampled, ms. */
const OCCUPANCY_SAMPLE_MS = 2;

/** One run: seconds from the first call to the last byte, and the sender's channel occupancy samples. */
interface RunOutcome {
  readonly seconds: number;
  /** Samples with the data channels' summed `bufferedAmount` under 64 KiB, and all samples. */
  readonly starved?: { readonly low: number; readonly all: number };
}

/** Samples the summed `bufferedAmount` of the data channels `pc` creates (not the control channel). */
function watchOccupancy(pc: RTCPeerConnection): { stop(): { low: number; all: number } } {
  const channels: RTCDataChannel[] = [];
  const create = pc.createDataChannel.bind(pc);
  pc.createDataChannel = (label, init) => {
    const channel = create(label, init);
    if (init?.negotiated) channels.push(channel);
    return channel;
  };
  let low = 0;
  let all = 0;
  const timer = setInterval(() => {
    if (!channels.some((c) => c.readyState === 'open')) return;
    all++;
    if (channels.reduce((sum, c) => sum + (c.readyState === 'open' ? c.bufferedAmount : 0), 0) < 64 * KiB) low++;
  }, OCCUPANCY_SAMPLE_MS);
  return { stop: () => (clearInterval(timer), { low, all }) };
}

/** tallow-rx over one fresh connection, `auto`, with the in-band lane factory as the network bench gives it. */
async function runTallow(data: Uint8Array, sha256: string, extra: { tx?: SendOptions; rx?: Partial<ReceiveOptions> }): Promise<RunOutcome> {
  const pair = await createNodePeerPair({ lanes: 1 });
  try {
    const hash = createHash('sha256');
    let got = 0;
    const target = writableTarget(() => new WritableStream<Uint8Array>({ write: (c) => void (hash.update(c), (got += c.length)) }));
    const lanes = { createConnection: () => createNodePeerConnection(), acceptLaneCandidate: isRelayableCandidate };
    const occupancy = watchOccupancy(pair.lanes[0].a);
    const started = performance.now();
    let ended = 0;
    const received = new Promise<void>((resolve, reject) =>
      receiveFile([pair.lanes[0].b], { target, ...lanes, ...extra.rx }).subscribe({ next: (e) => void (e.type === 'completed' && (ended = performance.now())), error: reject, complete: resolve }),
    );
    const sent = new Promise<void>((resolve, reject) => sendFile([pair.lanes[0].a], data, { ...lanes, ...extra.tx }).subscribe({ error: reject, complete: resolve }));
    await Promise.all([sent, received]);
    const starved = occupancy.stop();
    if (hash.digest('hex') !== sha256 || got !== data.length) throw new Error('lanCpu: wrong bytes');
    return { seconds: (ended - started) / 1000, starved };
  } finally {
    await pair.close();
  }
}

/** The stack alone, shaped like tallow-rx's `lan` profile: 2 unordered channels, 256 KiB messages, 1 MiB / 256 KiB watermarks. */
async function runRaw(data: Uint8Array<ArrayBuffer>): Promise<RunOutcome> {
  const pair = await createNodePeerPair({ lanes: 1 });
  try {
    const [txs, rxs] = await openChannels(pair.lanes[0], 2, { ordered: false });
    let got = 0;
    const received = new Promise<number>((resolve) => {
      for (const rx of rxs) rx.onmessage = (e) => void ((got += (e.data as ArrayBuffer).byteLength) >= data.length && resolve(performance.now()));
    });
    const started = performance.now();
    let offset = 0;
    const pump = async (tx: RTCDataChannel) => {
      tx.bufferedAmountLowThreshold = 256 * KiB;
      while (offset < data.length) {
        while (offset < data.length && tx.bufferedAmount <= 1024 * KiB) tx.send(data.subarray(offset, (offset += 256 * KiB)));
        if (offset < data.length) await drained(tx, 256 * KiB, 10);
      }
    };
    await Promise.all(txs.map(pump));
    return { seconds: ((await received) - started) / 1000 };
  } finally {
    await pair.close();
  }
}

/**
 * SHA-256 in a `worker_threads` worker (node:crypto there), for the `tallow sha-in-worker` row: each update is
 * copied and transferred, the digest is a promise. Two workers are started once, one per side.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let h = createHash('sha256');
parentPort.on('message', (m) => {
  if (m) return void h.update(new Uint8Array(m));
  parentPort.postMessage(h.digest('hex'));
  h = createHash('sha256');
});`;
function workerSha(): () => Sha256 {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  worker.unref();
  return () => ({
    update: (data) => {
      const copy = new Uint8Array(data); // a copy (Buffer#slice would be a view of the input)
      worker.postMessage(copy.buffer, [copy.buffer]);
    },
    digestHex: () =>
      new Promise<string>((resolve) => {
        worker.once('message', resolve);
        worker.postMessage(null);
      }),
  });
}
let workerShas: { tx: () => Sha256; rx: () => Sha256 } | undefined;

/** A hasher that does nothing: the `tallow no-sha` row only (both sides agree on the zero digest). */
const noSha = () => ({ update: () => undefined, digestHex: () => '0'.repeat(64) });

const ROWS: Record<string, (data: Uint8Array<ArrayBuffer>, sha256: string) => Promise<RunOutcome>> = {
  before: async (data, sha256) => ({ seconds: (await before.run({ data, sha256, rttMs: 0, timeoutMs: 60_000 })).seconds }),
  tallow: (data, sha256) => runTallow(data, sha256, {}),
  'tallow no-sha': (data, sha256) => runTallow(data, sha256, { tx: { createHash: noSha }, rx: { createHash: noSha } }),
  'tallow sha-in-worker': (data, sha256) => {
    workerShas ??= { tx: workerSha(), rx: workerSha() };
    return runTallow(data, sha256, { tx: { createHash: workerShas.tx }, rx: { createHash: workerShas.rx } });
  },
  'raw 256K': (data) => runRaw(data),
};

/** Runs `names` interleaved `runs` times over `mb` MB and prints each run and the medians per row. */
async function measure(names: readonly string[], mb: number, runs: number): Promise<void> {
  const data = randomBytes(mb * 1e6) as unknown as Uint8Array<ArrayBuffer>;
  const sha256 = createHash('sha256').update(data).digest('hex');
  type Row = { mbps: number[]; cpu: number[]; groups: Map<string, number[]> };
  const acc = new Map<string, Row>();
  for (let run = 1; run <= runs; run++) {
    for (const name of names) {
      const threads = threadCpu();
      const timer = setInterval(() => threads.sample(), 50);
      const cpu0 = process.cpuUsage();
      const outcome = await ROWS[name](data, sha256);
      const cpu = process.cpuUsage(cpu0);
      clearInterval(timer);
      const a: Row = acc.get(name) ?? { mbps: [], cpu: [], groups: new Map() };
      acc.set(name, a);
      a.mbps.push((mb * 8) / outcome.seconds);
      a.cpu.push((cpu.user + cpu.system) / 1e3 / mb);
      for (const [group, t] of Object.entries(threads.stop())) a.groups.set(group, [...(a.groups.get(group) ?? []), (t.run * 1e3) / mb]);
      const starved = outcome.starved ? `; sender below 64 KiB buffered in ${outcome.starved.low} of ${outcome.starved.all} samples` : '';
      console.log(`run ${run} ${name}: ${a.mbps.at(-1)!.toFixed(0)} Mbit/s, ${a.cpu.at(-1)!.toFixed(1)} ms CPU/MB${starved}`);
    }
  }
  for (const [name, a] of acc) {
    const groups = [...a.groups].map(([g, v]) => [g, median(v)] as const).filter(([, v]) => v >= 0.2);
    console.log(`${name.padEnd(14)} ${median(a.mbps).toFixed(0)} Mbit/s, ${median(a.cpu).toFixed(1)} ms CPU/MB; per thread: ${groups.map(([g, v]) => `${g} ${v.toFixed(1)}`).join(', ')}`);
  }
}

const [mb = 100, runs = 5] = process.argv.slice(2, 4).map(Number);
const names = (process.argv[4] ?? 'before,tallow,tallow no-sha,raw 256K').split(',');
if (names.some((n) => !ROWS[n])) throw new Error(`lanCpu: rows are ${Object.keys(ROWS).join(', ')}`);
console.log(`${new Date().toISOString()}, load average ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
await measure(names, mb, runs);
shutdownNodeDataChannel();
