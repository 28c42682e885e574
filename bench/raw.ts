/**
 * Raw-stack baseline: one node-datachannel (polyfill) channel, one process, a hand-written send
 * loop with backpressure and no library code. Every library figure should be read against this.
 *
 *   node --import tsx bench/raw.ts [megabytes=200] [runs=1]
 *
 * prints one JSON line per configuration (64 KiB and 256 KiB messages × ordered/unordered):
 *   {"bench":"raw","stack":"node-datachannel-polyfill","messageSize":65536,"ordered":true,"bytes":…,"seconds":…,"mbps":…}
 *
 * Backpressure: fill while `bufferedAmount <= highWater`, then park until `bufferedamountlow`
 * (threshold `lowWater`) or a fallback poll sees `bufferedAmount <= lowWater`; the polyfill's
 * event sometimes never fires after the buffer drains (WEBRTC-FACTS.md).
 * Timing runs from the first send to the last byte received; connection setup is excluded.
 * `MB` means 10^6 bytes and Mbps 10^6 bit/s.
 */
import { pathToFileURL } from 'node:url';
import { createNodePeerPair, openChannels, shutdownNodeDataChannel } from '../harness/nodePeers';
import { patternBytes } from '../harness/pump';

/** Options of {@link runRaw}. */
export interface RawOptions {
  /** Bytes to move. Default 200 MB (200e6). */
  readonly bytes?: number;
  /** Message size. Default 64 KiB; at most 256 KiB (libdatachannel's default max message size). */
  readonly messageSize?: number;
  /** Ordered channel. Default true. */
  readonly ordered?: boolean;
  /** Stop filling above this many buffered bytes. Default 4 MiB. */
  readonly highWater?: number;
  /** `bufferedAmountLowThreshold`: resume at or below it. Default 1 MiB. */
  readonly lowWater?: number;
  /** Fallback poll while parked, in ms. Default 10. */
  readonly pollMs?: number;
  /** Give up after this long. Default 300 s. */
  readonly timeoutMs?: number;
}

/** Outcome of one run. */
export interface RawResult {
  readonly mbps: number;
  readonly seconds: number;
  readonly bytes: number;
}

/** Resolves once `channel.bufferedAmount <= lowWater`, by event or by poll; rejects if the channel closes. */
export function drained(channel: RTCDataChannel, lowWater: number, pollMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (channel.readyState !== 'open') done(new Error(`raw: channel ${channel.readyState} while sending`));
      else if (channel.bufferedAmount <= lowWater) done();
    };
    const done = (error?: Error): void => {
      clearInterval(poll);
      channel.removeEventListener('bufferedamountlow', check);
      if (error) reject(error);
      else resolve();
    };
    const poll = setInterval(check, pollMs);
    channel.addEventListener('bufferedamountlow', check);
  });
}

/** Moves `bytes` over one fresh node-datachannel channel and reports the throughput. */
export async function runRaw(opts: RawOptions = {}): Promise<RawResult> {
  const { bytes = 200e6, messageSize = 64 * 1024, ordered = true, highWater = 4 * 1024 * 1024, lowWater = 1024 * 1024, pollMs = 10, timeoutMs = 300_000 } = opts;
  if (!(messageSize > 0 && messageSize <= 256 * 1024)) throw new RangeError(`raw: messageSize must be 1..262144, got ${messageSize}`);
  const pair = await createNodePeerPair();
  try {
    const [[tx], [rx]] = await openChannels(pair.lanes[0], 1, { ordered });
    // node-datachannel copies on send, so one payload buffer can be reused.
    const payload = patternBytes(messageSize, 1);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const received = new Promise<number>((resolve, reject) => {
      let count = 0;
      rx.addEventListener('message', (event: MessageEvent) => {
        count += (event.data as ArrayBuffer).byteLength;
        if (count >= bytes) resolve(performance.now());
      });
      rx.addEventListener('close', () => reject(new Error(`raw: receiver closed after ${count} bytes`)));
      timer = setTimeout(() => reject(new Error(`raw: ${count} of ${bytes} bytes after ${timeoutMs} ms`)), timeoutMs);
    });
    received.catch(() => undefined);

    tx.bufferedAmountLowThreshold = lowWater;
    const started = performance.now();
    let sent = 0;
    while (sent < bytes) {
      while (sent < bytes && tx.bufferedAmount <= highWater) {
        const n = Math.min(messageSize, bytes - sent);
        tx.send(n === messageSize ? payload : payload.subarray(0, n));
        sent += n;
      }
      if (sent < bytes) await drained(tx, lowWater, pollMs);
    }
    const finished = await received.finally(() => clearTimeout(timer));
    const seconds = (finished - started) / 1000;
    return { mbps: (bytes * 8) / seconds / 1e6, seconds, bytes };
  } finally {
    await pair.close();
  }
}

/** Every configuration the CLI runs. */
export const RAW_CONFIGS: ReadonlyArray<{ messageSize: number; ordered: boolean }> = [
  { messageSize: 64 * 1024, ordered: true },
  { messageSize: 64 * 1024, ordered: false },
  { messageSize: 256 * 1024, ordered: true },
  { messageSize: 256 * 1024, ordered: false },
];

async function main(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 200);
  const runs = Number(process.argv[3] ?? 1);
  if (!(megabytes > 0) || !(runs >= 1)) throw new Error('usage: node --import tsx bench/raw.ts [megabytes=200] [runs=1]');
  for (let run = 1; run <= runs; run++) {
    for (const config of RAW_CONFIGS) {
      const result = await runRaw({ ...config, bytes: Math.round(megabytes * 1e6) });
      console.log(JSON.stringify({ bench: 'raw', stack: 'node-datachannel-polyfill', run, ...config, ...result, mbps: Math.round(result.mbps * 10) / 10, seconds: Math.round(result.seconds * 1000) / 1000 }));
    }
  }
  shutdownNodeDataChannel();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
