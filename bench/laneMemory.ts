/**
 * The native memory one lane costs: RSS of this process as node-datachannel lanes are added, each a
 * connected pair of peer connections on 127.0.0.1 (both ends in this process) with `channels` data
 * channels open on it, as an in-band lane of a transfer has. Prints the RSS after each step and the
 * per-lane delta (both ends, so a peer pays about half).
 *
 * With `--load`, every lane's channels then carry 8 MiB each way (64 KiB messages, the sender keeping up to
 * 1 MiB queued per channel, as the transfer's `high` does) before the RSS is read: the buffers a busy lane holds.
 *
 *   node --expose-gc --import tsx bench/laneMemory.ts [--lanes 16] [--channels 2] [--load]
 *
 * With `--transfer`, instead: one `sendFile`/`receiveFile` of `--mb` MiB (default 1024) from a file on disk
 * over the emulated `--scenario` (default internet), `auto` given one connection and opening the rest in
 * band (through the emulator), both peers in this process, so the RSS printed is both peers together (each
 * peer's is below it); the emulator runs in its own process. Prints the RSS every 10 s, the peak, the lane
 * count and the goodput.
 *
 *   node --expose-gc --import tsx bench/laneMemory.ts --transfer [--mb 1024] [--scenario internet] [--window MiB]
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectLoopbackPair } from '../src/connect/connectLoopbackPair';
import { receiveFile, sendFile, writableTarget, type TransferEvent } from '../src/index';
import { fileFromPath } from '../src/node';
import { createNegotiatedChannels, waitForOpen } from '../harness/channels';
import { createNodePeerConnection, shutdownNodeDataChannel } from '../harness/nodePeers';
import { startLinkEmulator } from './emulator/LinkEmulator';
import { emulatedLaneOptions } from './emulator/emulatedSignalling';
import { connectPeers } from './emulator/peers';
import { SCENARIOS } from './emulator/scenarios';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const lanes = arg('lanes', 16);
const channels = arg('channels', 2);
const MB = 1024 * 1024;

const settle = async (): Promise<number> => {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 300));
  return process.memoryUsage().rss;
};

/** Sends `bytes` on `ch` in 64 KiB messages, keeping at most 1 MiB queued. */
async function pump(ch: RTCDataChannel, bytes: number): Promise<void> {
  const message = new Uint8Array(64 * 1024);
  ch.bufferedAmountLowThreshold = 256 * 1024;
  for (let sent = 0; sent < bytes; sent += message.length) {
    if (ch.bufferedAmount > MB) await new Promise((resolve) => ch.addEventListener('bufferedamountlow', resolve, { once: true }));
    ch.send(message);
  }
}

async function main(): Promise<void> {
  // The first connection loads the native library and starts its threads: not a lane's cost.
  const warm = await connectLoopbackPair();
  const base = await settle();
  const pairs = [];
  const rows: string[] = [];
  for (let n = 1; n <= lanes; n++) {
    const pair = await connectLoopbackPair();
    const ids = Array.from({ length: channels }, (_, i) => i);
    const open = [...createNegotiatedChannels(pair.a[0], ids, { ordered: false }), ...createNegotiatedChannels(pair.b[0], ids, { ordered: false })];
    await Promise.all(open.map((ch) => waitForOpen(ch)));
    if (process.argv.includes('--load')) await Promise.all(open.map((ch) => pump(ch, 8 * MB)));
    pairs.push(pair);
    const rss = await settle();
    rows.push(`${n}\t${((rss - base) / MB).toFixed(1)}\t${((rss - base) / MB / n).toFixed(2)}`);
  }
  console.log(`lanes (both ends in this process, ${channels} channels each)\tRSS over base, MB\tper lane, MB`);
  for (const r of rows) console.log(r);
  for (const p of pairs) await p.close();
  await warm.close();
}

/** `--transfer`: one big transfer with auto's in-band lanes over an emulated scenario; RSS of both peers. */
async function transfer(): Promise<void> {
  const bytes = arg('mb', 1024) * MB;
  const name = process.argv[process.argv.indexOf('--scenario') + 1] ?? 'internet';
  // `--window`: the session's window in MiB (default: the profile's, 16 MiB for internet).
  const windowMiB = arg('window', 0);
  const scenario = SCENARIOS.find((x) => x.name === (process.argv.includes('--scenario') ? name : 'internet'))!;
  // The file: 1 MiB random blocks on disk (the page cache is not this process's RSS).
  const path = join(tmpdir(), `tallow-lane-memory-${process.pid}.bin`);
  const fd = openSync(path, 'w');
  const expected = createHash('sha256');
  for (let off = 0; off < bytes; off += MB) {
    const block = randomBytes(Math.min(MB, bytes - off));
    expected.update(block);
    writeSync(fd, block);
  }
  closeSync(fd);
  const sha256 = expected.digest('hex');
  const emulator = await startLinkEmulator(scenario.link!);
  const peers = await connectPeers(emulator, { lanes: 1 });
  const base = await settle();
  let peak = base;
  const started = performance.now();
  const curve: string[] = [];
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  let lanes = 1;
  let maxLanes = 1;
  let lastChangeAt: number | undefined;
  let got = 0;
  const hash = createHash('sha256');
  const ticker = setInterval(() => curve.push(`${((performance.now() - started) / 1000).toFixed(0)} s\t${(process.memoryUsage().rss / MB).toFixed(0)}\t${((got / bytes) * 100).toFixed(1)} %\t${lanes}`), 10_000);
  const lane = emulatedLaneOptions(emulator);
  const createConnection = () => createNodePeerConnection();
  const target = writableTarget(() => new WritableStream<Uint8Array>({ write: (chunk) => void (hash.update(chunk), (got += chunk.length)) }));
  const done = (events$: import('rxjs').Observable<TransferEvent>, on: (e: TransferEvent) => void) =>
    new Promise<void>((resolve, reject) => events$.subscribe({ next: on, error: reject, complete: resolve }));
  try {
    await Promise.all([
      done(receiveFile(peers.lanes[0].b, { target, createConnection, ...lane.receiver }), () => undefined),
      done(sendFile(peers.lanes[0].a, await fileFromPath(path), { createConnection, ...lane.sender, ...(windowMiB ? { window: windowMiB * MB } : {}) }), (e) => {
        if (e.type !== 'stats' || e.stats.lanes === undefined) return;
        const change = e.stats.laneChange;
        if (change && change.atMs !== lastChangeAt) console.log(`${((performance.now() - started) / 1000).toFixed(1)} s: ${change.action} (${change.reason}) → ${change.lanes} lanes`);
        lastChangeAt = change?.atMs;
        maxLanes = Math.max(maxLanes, (lanes = e.stats.lanes));
      }),
    ]);
  } finally {
    clearInterval(sampler);
    clearInterval(ticker);
    await peers.close();
    await emulator.close();
    unlinkSync(path);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${scenario.name} (${scenario.label}): ${(bytes / MB).toFixed(0)} MiB in ${seconds.toFixed(0)} s, ${((bytes * 8) / seconds / 1e6).toFixed(1)} Mbit/s, lanes up to ${maxLanes}; sha256 ${hash.digest('hex') === sha256 && got === bytes ? 'ok' : 'WRONG'}`);
  console.log(`RSS of this process (both peers): ${(base / MB).toFixed(0)} MiB before, peak ${(peak / MB).toFixed(0)} MiB`);
  console.log('time\tRSS MiB\tdone\tlanes');
  for (const row of curve) console.log(row);
  shutdownNodeDataChannel();
}

(process.argv.includes('--transfer') ? transfer() : main()).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
