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
 */
import { connectLoopbackPair } from '../src/connect/connectLoopbackPair';
import { createNegotiatedChannels, waitForOpen } from '../harness/channels';

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

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
