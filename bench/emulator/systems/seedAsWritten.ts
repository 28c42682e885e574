/**
 * The seed architecture as written (/work/shared/seed, "Performance
 * Expectations"): three channels `ordered: false, maxRetransmits: 0`,
 * round-robin, pause above 16 MiB buffered and resume at 4 MiB, chunk sizes
 * from its decision tree (RTT < 10 ms: 1 MiB, or 4 MiB above 500 Mbit/s;
 * < 50 ms: 128 KiB; < 100 ms: 64 KiB; < 200 ms: 32 KiB; else 16 KiB),
 * re-evaluated every second from getStats() RTT and the measured send rate,
 * 64 KiB while the RTT is unknown. No retransmission: lost messages stay lost.
 * The receiver keeps every chunk in a Map and assembles the file at the end,
 * as the seed's did.
 *
 * Node-only allowances: maxMessageSize is raised to 4 MiB + header on both
 * peers (Chrome would refuse anything above 256 KiB), and a missed
 * `bufferedamountlow` is rescued by a poll. The end of the transfer is
 * announced on a separate reliable channel (bench plumbing; the seed had no
 * end marker), after which the receiver waits for stragglers.
 */
import { createHash } from 'node:crypto';
import { openChannels } from '../../../harness/nodePeers';
import { parseStatsReport } from '../../../src/stats/parseStatsReport';
import { connectPeers } from '../peers';
import { waitForLow, withTimeout, type NetworkSystem, type TransferInput, type TransferOutcome } from './types';

const KiB = 1024;
const MiB = 1024 * KiB;
export const SEED_CHANNELS = 3;
export const SEED_HIGH = 16 * MiB;
export const SEED_LOW = 4 * MiB;
/** No data for this long (or 50 RTTs) means the association stopped delivering. */
export const STALL_MS = 15_000;
/** index (u32), offset (f64), length (u32). */
const HEADER = 16;

/** The seed's chunk-size decision tree. */
export function seedChunkSize(rttMs: number | undefined, bitrateBps: number | undefined): number {
  if (rttMs === undefined) return 64 * KiB;
  if (rttMs < 10) return (bitrateBps ?? 0) > 500e6 ? 4 * MiB : 1 * MiB;
  if (rttMs < 50) return 128 * KiB;
  if (rttMs < 100) return 64 * KiB;
  if (rttMs < 200) return 32 * KiB;
  return 16 * KiB;
}

export const seedAsWritten: NetworkSystem = {
  name: 'seed-as-written',
  async run(input: TransferInput): Promise<TransferOutcome> {
    const peers = await connectPeers(input.emulator, { maxMessageSize: 4 * MiB + HEADER });
    try {
      const lane = peers.lanes[0];
      const [txs, rxs] = await openChannels(lane, SEED_CHANNELS, { ordered: false, maxRetransmits: 0 });
      const [[ctlTx], [ctlRx]] = await openChannels(lane, 1, { ordered: true });
      for (const tx of txs) tx.bufferedAmountLowThreshold = SEED_LOW;
      const { data } = input;

      // Receiver: every chunk by index, as the seed's Map did.
      const chunks = new Map<number, Uint8Array>();
      let corrupt = 0;
      let corruptBytes = 0;
      let lastArrival = 0;
      let doneAt = 0;
      let expected = -1;
      let resolveAll: (() => void) | undefined;
      const allIn = new Promise<void>((r) => (resolveAll = r));
      const onData = (e: MessageEvent) => {
        const m = new Uint8Array(e.data as ArrayBuffer);
        const view = new DataView(m.buffer, m.byteOffset, m.byteLength);
        const index = view.getUint32(0);
        const offset = view.getFloat64(4);
        const length = view.getUint32(12);
        const payload = m.subarray(HEADER);
        lastArrival = performance.now();
        if (payload.length !== length || !Buffer.from(payload.buffer, payload.byteOffset, payload.length).equals(data.subarray(offset, offset + length))) {
          corrupt++;
          corruptBytes += payload.length;
        }
        chunks.set(index, payload);
        if (expected >= 0 && chunks.size >= expected) resolveAll?.();
      };
      for (const rx of rxs) rx.onmessage = onData;
      const done = new Promise<void>((resolve) => {
        ctlRx.onmessage = (e) => {
          expected = Number(e.data);
          doneAt = performance.now();
          if (chunks.size >= expected) resolveAll?.();
          resolve();
        };
      });

      // Sender.
      let chunkSize = seedChunkSize(undefined, undefined);
      let sentBytes = 0;
      let rescued = 0;
      const sizes = new Set<number>();
      const started = performance.now();
      let lastTick = { at: started, bytes: 0 };
      const ticker = setInterval(() => {
        void lane.a.getStats().then((report) => {
          const rtt = parseStatsReport(report, performance.now())?.rttMs;
          const now = performance.now();
          const bitrate = ((sentBytes - lastTick.bytes) * 8) / ((now - lastTick.at) / 1000);
          lastTick = { at: now, bytes: sentBytes };
          chunkSize = seedChunkSize(rtt !== undefined && rtt >= 0 ? rtt : undefined, bitrate);
        }, () => undefined);
      }, 1000);
      const send = async () => {
        let index = 0;
        for (let off = 0; off < data.length; index++) {
          const tx = txs[index % SEED_CHANNELS];
          if (tx.bufferedAmount > SEED_HIGH && (await waitForLow(tx, SEED_LOW, 100))) rescued++;
          const length = Math.min(chunkSize, data.length - off);
          sizes.add(length);
          const m = new Uint8Array(HEADER + length);
          const view = new DataView(m.buffer);
          view.setUint32(0, index);
          view.setFloat64(4, off);
          view.setUint32(12, length);
          m.set(data.subarray(off, off + length), HEADER);
          tx.send(m);
          off += length;
          sentBytes = off;
        }
        // Everything handed to SCTP: then announce the end.
        while (txs.some((tx) => tx.bufferedAmount > 0)) await new Promise((r) => setTimeout(r, 5));
        ctlTx.send(String(index));
      };
      // Watchdog: with 1 MiB unreliable messages on a lossy link, libdatachannel's association can stop
      // delivering anything (even the reliable end marker) while the connection stays 'connected'.
      const stallMs = Math.max(STALL_MS, 50 * input.rttMs);
      let stalledAt = 0;
      let watchdog: ReturnType<typeof setInterval> | undefined;
      const stalled = new Promise<void>((resolve) => {
        watchdog = setInterval(() => {
          if (performance.now() - Math.max(lastArrival, started) > stallMs) {
            stalledAt = performance.now();
            resolve();
          }
        }, 250);
      });
      try {
        await withTimeout(Promise.race([Promise.all([send(), done]), stalled]), input.timeoutMs, 'seed-as-written');
      } catch (error) {
        // Say where it stopped.
        const buffered = txs.map((tx) => `${(tx.bufferedAmount / MiB).toFixed(1)}`).join('/');
        const statsAnswer = await Promise.race([lane.a.getStats().then(() => 'answers'), new Promise<string>((r) => setTimeout(() => r('does not answer within 2 s'), 2000))]);
        throw new Error(
          `${(error as Error).message}: sent ${(sentBytes / 1e6).toFixed(1)} MB in ${Math.round(chunkSize / KiB)} KiB chunks, buffered ${buffered} MiB, ` +
            `received ${chunks.size} chunks (last ${((performance.now() - lastArrival) / 1000).toFixed(0)} s ago), end announced: ${expected >= 0}; ` +
            `connection ${lane.a.connectionState}/${lane.b.connectionState}, getStats() ${statsAnswer}`,
          { cause: error },
        );
      } finally {
        clearInterval(ticker);
        clearInterval(watchdog);
      }
      if (stalledAt) {
        const buffered = txs.reduce((sum, tx) => sum + tx.bufferedAmount, 0);
        let received = 0;
        for (const c of chunks.values()) received += c.length;
        chunks.clear();
        return {
          seconds: (lastArrival - started) / 1000,
          delivered: received - corruptBytes,
          intact: false,
          stalled: true,
          lostBytes: data.length - received,
          corruptBytes,
          notes: [
            `STALLED: nothing delivered for ${(stallMs / 1000).toFixed(0)} s after ${((100 * received) / data.length).toFixed(1)}% (${Math.round(chunkSize / KiB)} KiB chunks; sender had handed over ${(sentBytes / 1e6).toFixed(0)} MB, ${(buffered / MiB).toFixed(1)} MiB still buffered; end marker ${expected >= 0 ? 'arrived' : 'never arrived'}; connection ${lane.a.connectionState})`,
          ],
        };
      }
      // Stragglers: wait until everything is in or the channels stay quiet for a while.
      const quietMs = Math.max(250, 3 * input.rttMs);
      const allReceived = await new Promise<boolean>((resolve) => {
        void allIn.then(() => resolve(true));
        const check = setInterval(() => {
          if (performance.now() - Math.max(lastArrival, doneAt) > quietMs) {
            clearInterval(check);
            resolve(chunks.size >= expected);
          }
        }, 20);
        void allIn.then(() => clearInterval(check));
      });
      const ended = allReceived ? lastArrival : Math.max(lastArrival, doneAt);
      // Assemble as the seed did: sort by index, concatenate, hash.
      const hash = createHash('sha256');
      let received = 0;
      for (const index of [...chunks.keys()].sort((x, y) => x - y)) {
        const c = chunks.get(index)!;
        hash.update(c);
        received += c.length;
      }
      const lostChunks = expected - chunks.size;
      chunks.clear();
      const intact = hash.digest('hex') === input.sha256;
      const lostBytes = data.length - received;
      const used = [...sizes].sort((x, y) => y - x).slice(0, 3);
      const notes = [
        `chunks ${used.map((s) => (s >= MiB ? `${s / MiB}M` : `${Math.round(s / KiB)}K`)).join('/')}`,
        lostChunks ? `${lostChunks}/${expected} chunks lost (${((100 * lostBytes) / data.length).toFixed(2)}% of bytes)` : `0/${expected} chunks lost`,
        corrupt ? `${corrupt} corrupt chunks` : '',
        rescued ? `${rescued} missed bufferedamountlow` : '',
      ].filter(Boolean);
      return { seconds: (ended - started) / 1000, delivered: received - corruptBytes, intact, lostBytes, corruptBytes, notes };
    } finally {
      await peers.close();
    }
  },
};
