/**
 * What the gap between tallow-rx with one channel and the raw stack is made
 * of: the same transfer with one default after another replaced by what the
 * raw loop does, run interleaved with `runRaw` (bench/real.ts).
 *
 *   node --expose-gc --import tsx bench/lib/realAblation.ts [megabytes=200] [reps=5]
 *
 * Each step keeps the previous ones:
 * - A: `{ channels: 1, lanes: 1 }`, everything else default (`auto`);
 * - B: chunks fixed at 262 112 B (`minChunk = maxChunk`): by default the first
 *   chunks are 64 KiB until the first stats sample (1 s) lets the policy grow them;
 * - C: `readSize` = chunk, so `adaptiveChunk` cuts views instead of copying
 *   chunks that straddle two 256 KiB reads;
 * - D: stats and progress every 60 s instead of 1 s / 100 ms (no `getStats()` polling);
 * - E: raw's watermarks, high 4 MiB / low 1 MiB, instead of 1 MiB / 256 KiB;
 * - F: no SHA-256 on either side (a hash that does nothing; not a real option).
 * What F still spends beyond raw is framing (a fresh 32 B-headed frame per
 * chunk, CRC-32 on both sides), RxJS, the control channel and the GC that the
 * per-frame allocations cause.
 *
 * One more row, "raw loop + per-byte work", is raw's own loop (one ordered
 * channel, 4 MiB / 1 MiB) doing exactly tallow-rx's per-byte work by hand: a
 * fresh frame per 262 112 B piece with the payload copied behind a 32-byte
 * header, CRC-32 and SHA-256 of the payload on both sides. The distance from
 * raw to it is the cost of the work; from it to A, the cost of the pipeline.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { createNodePeerPair, openChannels, shutdownNodeDataChannel } from '../../harness/nodePeers';
import { REAL_SYSTEMS, runInterleaved, tallowSystem, toResults, type RealSystem } from '../real';
import type { Sha256 } from '../../src/hash/sha256';

const MiB = 1024 * 1024;
/** The chunk payload that fills a 256 KiB message with its 32-byte header. */
const CHUNK = 256 * 1024 - 32;
const noHash = (): Sha256 => ({ update: () => undefined, digestHex: () => '0'.repeat(64) });

/** Resolves once `channel.bufferedAmount <= low`, by event or by a 10 ms poll (the event is sometimes missed). */
const drained = (channel: RTCDataChannel, low: number): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      if (channel.bufferedAmount > low && channel.readyState === 'open') return;
      clearInterval(poll);
      channel.removeEventListener('bufferedamountlow', done);
      resolve();
    };
    const poll = setInterval(done, 10);
    channel.addEventListener('bufferedamountlow', done);
  });

/** Raw's loop doing tallow-rx's per-byte work by hand (see the file comment). */
const workLoop: RealSystem = {
  name: 'raw loop + per-byte work (frame, CRC-32, SHA-256)',
  kind: 'tallow',
  run: async (data) => {
    const pair = await createNodePeerPair();
    try {
      const [[tx], [rx]] = await openChannels(pair.lanes[0], 1, { ordered: true });
      const rxHash = createHash('sha256');
      const received = new Promise<number>((resolve) => {
        let count = 0;
        rx.addEventListener('message', (event: MessageEvent) => {
          const payload = new Uint8Array(event.data as ArrayBuffer).subarray(32);
          crc32(payload);
          rxHash.update(payload);
          count += payload.length;
          if (count >= data.length) resolve(performance.now());
        });
      });
      const [high, low] = [4 * MiB, MiB];
      tx.bufferedAmountLowThreshold = low;
      const txHash = createHash('sha256');
      const started = performance.now();
      for (let sent = 0; sent < data.length; ) {
        while (sent < data.length && tx.bufferedAmount <= high) {
          const piece = data.subarray(sent, sent + CHUNK);
          const frame = new Uint8Array(32 + piece.length);
          frame.set(piece, 32);
          crc32(piece);
          txHash.update(piece);
          tx.send(frame);
          sent += piece.length;
        }
        if (sent < data.length) await drained(tx, low);
      }
      const ended = await received;
      if (rxHash.digest('hex') !== txHash.digest('hex')) throw new Error('work loop: digests differ');
      return { seconds: (ended - started) / 1000 };
    } finally {
      await pair.close();
    }
  },
};

const a = { channels: 1, lanes: 1 };
const b = { ...a, minChunk: CHUNK, maxChunk: CHUNK };
const c = { ...b, readSize: CHUNK };
const quiet = { sampleIntervalMs: 60_000, progressIntervalMs: 60_000 };
const d = { ...c, ...quiet };
const e = { ...d, high: 4 * MiB, low: MiB };

/** Raw with 256 KiB messages, the work loop, then steps A to F. */
const ABLATION_SYSTEMS: readonly RealSystem[] = [
  REAL_SYSTEMS.find((s) => s.name.includes('256 KiB'))!,
  workLoop,
  tallowSystem('A {channels: 1, lanes: 1}', 1, a),
  tallowSystem('B A + fixed 256 KiB chunks', 1, b),
  tallowSystem('C B + readSize = chunk', 1, c),
  tallowSystem('D C + no stats polling', 1, d, 'discard', quiet),
  tallowSystem('E D + watermarks 4 MiB / 1 MiB', 1, e, 'discard', quiet),
  tallowSystem('F E + no SHA-256', 1, { ...e, createHash: noHash }, 'discard', { ...quiet, createHash: noHash }),
];

const megabytes = Number(process.argv[2] ?? 200);
const reps = Number(process.argv[3] ?? 5);
const bytes = Math.round(megabytes * 1e6);
const summaries = await runInterleaved(ABLATION_SYSTEMS, { bytes, reps, warmBytes: Math.min(bytes, 16e6), log: (line) => console.error(line) });
for (const row of toResults(summaries, bytes)) console.log(`${row.variant} | ${row.ratio === undefined ? '-' : `${row.ratio.toFixed(2)}× raw`} | ${row.notes}`);
shutdownNodeDataChannel();
