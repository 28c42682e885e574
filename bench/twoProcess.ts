/**
 * Real WebRTC across two processes (node-datachannel on 127.0.0.1): the sender
 * here, the receiver in a child process (harness/spawnPeer.ts), as two
 * machines would run it, except that both still share this machine's cores.
 * tallow-rx's `sendFile` → child `receiveFile` against the raw send loop of
 * bench/raw.ts (its watermarks and `drained`) → a child that counts bytes. Interleaved, medians.
 *
 *   npm run bench -- --only real-2p [--quick]
 *   node --expose-gc --import tsx bench/twoProcess.ts [megabytes=200] [reps=5]
 *
 * Timing: from the first `send()` (raw) or from subscribing `sendFile` (tallow-rx:
 * offer, accept and the last ack included) until the child's result arrives over
 * its stdout pipe (a few ms). Connecting and spawning are not timed.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { sendFile, type SendOptions, type TransferEvent } from '../src/index';
import { shutdownNodeDataChannel } from '../harness/nodePeers';
import { spawnPeer } from '../harness/spawnPeer';
import { median } from './lib/measure';
import { drained } from './raw';
import type { Benchmark, BenchResult } from './lib/types';

const RAW_CHILD = new URL('./twoProcess/rawReceiver.ts', import.meta.url);
const TALLOW_CHILD = new URL('./twoProcess/tallowReceiver.ts', import.meta.url);
const MESSAGE = 256 * 1024;
const HIGH = 4 * 1024 * 1024;
const LOW = 1024 * 1024;
/** Untimed pause after connecting (see SETTLE_MS in bench/real.ts). */
const SETTLE_MS = 300;

interface System {
  readonly name: string;
  run(data: Uint8Array<ArrayBuffer>, sha256: string): Promise<number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The raw loop of bench/raw.ts (256 KiB messages, 4 MiB / 1 MiB watermarks) into a counting child. */
const raw: System = {
  name: 'raw node-datachannel, 1 ch, 256 KiB msgs',
  async run(data) {
    const peer = await spawnPeer({ module: RAW_CHILD, lanes: 1, channels: 1, channelInit: { ordered: true }, args: { bytes: data.length } });
    try {
      await sleep(SETTLE_MS);
      const tx = peer.channels[0][0];
      tx.bufferedAmountLowThreshold = LOW;
      const started = performance.now();
      let sent = 0;
      while (sent < data.length) {
        while (sent < data.length && tx.bufferedAmount <= HIGH) {
          const n = Math.min(MESSAGE, data.length - sent);
          tx.send(data.subarray(sent, sent + n));
          sent += n;
        }
        if (sent < data.length) await drained(tx, LOW, 10);
      }
      const result = (await peer.result) as { bytes: number };
      if (result.bytes !== data.length) throw new Error(`raw: child got ${result.bytes} of ${data.length} bytes`);
      return (performance.now() - started) / 1000;
    } finally {
      await peer.close();
    }
  },
};

const tallow = (name: string, lanes: number, options: SendOptions): System => ({
  name,
  async run(data, sha256) {
    const peer = await spawnPeer({ module: TALLOW_CHILD, lanes });
    try {
      await sleep(SETTLE_MS);
      const started = performance.now();
      const events = await lastValueFrom(sendFile(peer.lanes as any, data, options).pipe(toArray()));
      const result = (await peer.result) as { sha256: string; bytes: number };
      const seconds = (performance.now() - started) / 1000;
      const done = events.find((e): e is Extract<TransferEvent, { type: 'completed' }> => e.type === 'completed');
      if (done?.sha256 !== sha256 || result.sha256 !== sha256 || result.bytes !== data.length) throw new Error(`${name}: SHA-256 or size mismatch`);
      return seconds;
    } finally {
      await peer.close();
    }
  },
});

const SYSTEMS: readonly System[] = [
  raw,
  tallow('tallow-rx {channels: 1, lanes: 1}', 1, { channels: 1, lanes: 1 }),
  tallow('tallow-rx auto, 1 connection', 1, {}),
  tallow('tallow-rx auto, 2 connections', 2, {}),
];

/** Runs every system `reps` times, interleaved; one row each, ratios against raw. */
export async function runTwoProcess(megabytes: number, reps: number, log: (line: string) => void): Promise<BenchResult[]> {
  const data = new Uint8Array(new ArrayBuffer(Math.round(megabytes * 1e6)));
  randomFillSync(data);
  const sha256 = createHash('sha256').update(data).digest('hex');
  const seconds = new Map<string, number[]>(SYSTEMS.map((s) => [s.name, []]));
  for (let rep = 1; rep <= reps; rep++) {
    for (const s of SYSTEMS) {
      const t = await s.run(data, sha256);
      seconds.get(s.name)!.push(t);
      log(`round ${rep}/${reps} ${s.name}: ${((data.length * 8) / t / 1e6).toFixed(0)} Mbps, ${t.toFixed(2)} s`);
    }
  }
  shutdownNodeDataChannel();
  const mbps = (t: number) => (data.length * 8) / t / 1e6;
  const rawMbps = mbps(median(seconds.get(raw.name)!));
  return SYSTEMS.map((s) => {
    const ts = seconds.get(s.name)!;
    const m = mbps(median(ts));
    const range = `${Math.min(...ts.map(mbps)).toFixed(0)}-${Math.max(...ts.map(mbps)).toFixed(0)}`;
    return {
      variant: s.name,
      mbPerSecond: m / 8,
      seconds: median(ts),
      ...(s === raw ? {} : { ratio: m / rawMbps, ratioTo: 'raw' }),
      notes: `${m.toFixed(0)} Mbps (runs ${range}), median of ${reps} × ${megabytes} MB; sender here, receiver in a child process`,
    };
  });
}

export const twoProcessBenchmark: Benchmark = {
  name: 'real-2p',
  description: 'real WebRTC across two processes: tallow-rx vs the raw send loop (node-datachannel, 127.0.0.1)',
  network: true,
  run: ({ quick, log }) => runTwoProcess(quick ? 64 : 200, quick ? 3 : 5, log),
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await runTwoProcess(Number(process.argv[2] ?? 200), Number(process.argv[3] ?? 5), (l) => console.error(l));
  for (const r of rows) console.log(JSON.stringify(r));
}
