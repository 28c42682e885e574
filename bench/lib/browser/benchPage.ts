/**
 * Page side of the browser benchmark (bench/browser.ts). The Chromium runner bundles this entry
 * with esbuild (tallow-rx from src/, simple-peer's own browser build, the peerjs client) into both
 * pages as `window.bundles.bench`; bench/lib/browser/browserRunner.ts drives it with
 * `page.evaluate`. Every function returns compact JSON.
 *
 * - Peer connections, simple-peer and PeerJS peers live in registries here, addressed by keys.
 * - Times are epoch milliseconds (`performance.timeOrigin + performance.now()`), so the sending
 *   page's start and the receiving page's end compare across pages.
 * - `beginRun()`/`endRun()` bracket a run: long tasks (PerformanceObserver `longtask`) that
 *   started in between are summarised by `endRun()`.
 * - Receivers count bytes and drop them: tallow-rx into a discard target (it still verifies every
 *   chunk's CRC-32 and the file's SHA-256, as it must), the others into a counter.
 * - The receiving end is always set up before the sending end starts.
 */
import { lastValueFrom, tap } from 'rxjs';
import SimplePeer from 'simple-peer/simplepeer.min.js';
import { Peer, type DataConnection } from 'peerjs';
import { channelsInWorker, receiveFile, sendFile, type SendOptions, type TransferEvent } from '../../../src/index';
import { createNegotiatedChannels, waitForOpen } from '../../../harness/channels';
import { createWebSocketTransport, negotiate, type SignalTransport } from '../../../harness/signalling';
import { pageHashWorker } from '../../../src/hash/pageHashWorker';
import { discardTarget } from '../discardTarget';
import { summarizeLongTasks, type LongTaskSummary } from './longTasks';

/** The part of simple-peer's API used here (its browser build ships no types). */
interface SimplePeerInstance {
  on(event: string, listener: (...args: any[]) => void): this;
  once(event: string, listener: (...args: any[]) => void): this;
  signal(data: unknown): void;
  write(chunk: Uint8Array): boolean;
  destroy(): void;
}

/** Epoch milliseconds, comparable across pages. */
const now = (): number => performance.timeOrigin + performance.now();

/** Peer connections of this page, by key. */
const peers = new Map<string, RTCPeerConnection>();
/** Signalling sockets, closed with everything else. */
const sockets: WebSocket[] = [];
/** simple-peer instances by key. */
const simplePeers = new Map<string, SimplePeerInstance>();
/** PeerJS peers of this page, by id. */
const peerJsPeers = new Map<string, Peer>();
/** PeerJS data connections by the remote peer's id (sender) or the local one (receiver). */
const peerJsConnections = new Map<string, DataConnection>();
/** The receive in progress: resolves with its end time. */
let receiving: Promise<ReceiveEnd> | undefined;
/** The bytes the sending page sends, made once. */
let data: Uint8Array<ArrayBuffer> | undefined;
/** Long tasks seen since `beginRun()`, and when it was called (page clock, ms). */
let longTasks: Array<{ startTime: number; duration: number }> = [];
let runStartedAt = 0;
let observer: PerformanceObserver | undefined;
/** Key counter. */
let seq = 0;

/** How a receive ended. */
export interface ReceiveEnd {
  readonly bytes: number;
  readonly finishedAt: number;
  readonly sha256?: string;
}

/** How a send went. */
export interface SendEnd {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly sha256?: string;
  /** tallow-rx: what the transfer ran as (`2 ch × 1 lane, lan, chunks up to 256 KiB`). */
  readonly detail?: string;
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${typeof what === 'string' ? what : what()}: no result after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

/** Grants media permission (the harness recipe) and starts observing long tasks. */
export async function init(): Promise<{ userAgent: string }> {
  trackPeerConnections();
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  stream.getTracks().forEach((t) => t.stop());
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push({ startTime: e.startTime, duration: e.duration });
  });
  observer.observe({ type: 'longtask', buffered: false });
  if (PerformanceObserver.supportedEntryTypes.includes('long-animation-frame')) {
    frameObserver = new PerformanceObserver((list) => frames.push(...(list.getEntries() as unknown as LongFrame[])));
    frameObserver.observe({ type: 'long-animation-frame', buffered: false });
  }
  return { userAgent: navigator.userAgent };
}

/** Makes the bytes to send (`bytes` of a xorshift stream), once per size. */
export function prepareData(bytes: number): void {
  if (data && data.length === bytes) return;
  data = new Uint8Array(bytes);
  const words = new Uint32Array(data.buffer, 0, bytes >>> 2);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
}

/** Starts a run: forgets earlier long tasks. */
export function beginRun(): void {
  observer?.takeRecords();
  frameObserver?.takeRecords();
  longTasks = [];
  frames = [];
  runStartedAt = performance.now();
}

/** Ends a run: the long tasks since `beginRun()`, and what ran in the longest (see {@link longestFrame}). */
export function endRun(): LongTaskSummary & { longest?: string } {
  for (const e of observer?.takeRecords() ?? []) longTasks.push({ startTime: e.startTime, duration: e.duration });
  frames.push(...((frameObserver?.takeRecords() ?? []) as unknown as LongFrame[]));
  // Entries arrive late: one delivered after beginRun() may have started before it.
  const summary = summarizeLongTasks(longTasks.filter((t) => t.startTime >= runStartedAt).map((t) => t.duration));
  return { ...summary, longest: longestFrame(frames.filter((f) => f.startTime >= runStartedAt)) };
}

/** A `long-animation-frame` entry (Chromium 123+): a task over 50 ms and the scripts that ran in it. */
interface LongFrame {
  readonly startTime: number;
  readonly duration: number;
  readonly blockingDuration: number;
  readonly scripts: ReadonlyArray<{ readonly invoker: string; readonly sourceFunctionName: string; readonly duration: number; readonly forcedStyleAndLayoutDuration: number }>;
}
let frames: LongFrame[] = [];
let frameObserver: PerformanceObserver | undefined;

/**
 * What ran in the longest long animation frame of a run: "161 ms: 120 ms DedicatedWorker.onmessage (drain),
 * 30 ms …" (the scripts over 5 ms, longest first; what is left is the browser's own work), or `undefined`
 * when there was none (or the browser has no `long-animation-frame` entries).
 */
function longestFrame(all: readonly LongFrame[]): string | undefined {
  const worst = all.reduce<LongFrame | undefined>((w, f) => (!w || f.duration > w.duration ? f : w), undefined);
  if (!worst) return undefined;
  const scripts = [...worst.scripts].sort((a, b) => b.duration - a.duration).filter((x) => x.duration >= 5);
  const inScripts = worst.scripts.reduce((n, x) => n + x.duration, 0);
  const parts = scripts.map((x) => `${Math.round(x.duration)} ms ${x.invoker}${x.sourceFunctionName ? ` (${x.sourceFunctionName})` : ''}`);
  return `${Math.round(worst.duration)} ms: ${[...parts, `${Math.round(worst.duration - inScripts)} ms outside scripts`].join(', ')}`;
}

/** Opens a signalling WebSocket; the runner relays it to the other end. */
async function openSocket(url: string): Promise<SignalTransport> {
  const socket = new WebSocket(url);
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`signalling socket ${url} failed`)), { once: true });
  });
  return createWebSocketTransport(socket);
}

/** A new peer connection negotiated over the signalling WebSocket `url`; returns its key. */
export async function connectPeer(url: string, role: 'offerer' | 'answerer', inWorker = false): Promise<string> {
  const key = `p${++seq}`;
  const made = new RTCPeerConnection({ iceServers: [] });
  // `channelsInWorker` before signalling, so that every channel of the connection is handed over as it is made.
  const pc = inWorker ? await channelsInWorker(made) : made;
  peers.set(key, pc);
  await negotiate(pc, { role, transport: await openSocket(url) });
  return key;
}

const peer = (key: string): RTCPeerConnection => {
  const pc = peers.get(key);
  if (!pc) throw new Error(`no peer ${key}`);
  return pc;
};

/** Counts `bytes` arriving on `channel`-like sources; resolves with the time the last one came. */
function countTo(bytes: number, subscribe: (add: (n: number) => void, fail: (e: Error) => void) => void, timeoutMs: number, what: string): Promise<ReceiveEnd> {
  let got = 0;
  const done = new Promise<ReceiveEnd>((resolve, reject) => {
    subscribe(
      (n) => {
        got += n;
        if (got >= bytes) resolve({ bytes: got, finishedAt: now() });
      },
      reject,
    );
  });
  return withTimeout(done, timeoutMs, () => `${what} (${got} of ${bytes} B)`);
}

/** Raw loop, receiving end: negotiated channels 1..`channels` on peer `key` (unordered when asked); counts `bytes`. */
export async function rawReceive(key: string, bytes: number, timeoutMs: number, unordered = false, channels = 1): Promise<void> {
  const opened = createNegotiatedChannels(peer(key), Array.from({ length: channels }, (_, i) => 1 + i), { ordered: !unordered });
  receiving = countTo(
    bytes,
    (add, fail) => {
      for (const channel of opened) {
        channel.binaryType = 'arraybuffer';
        channel.onmessage = (e: MessageEvent<ArrayBuffer>) => add(e.data.byteLength);
        channel.onclose = () => fail(new Error('raw: receiving channel closed'));
      }
    },
    timeoutMs,
    'raw receive',
  );
  receiving.catch(() => undefined);
  await Promise.all(opened.map((c) => waitForOpen(c)));
}

/** Resolves once `bufferedAmount <= low`, on `bufferedamountlow` or a 10 ms poll (the event can be late). */
function drained(channel: RTCDataChannel, low: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (channel.readyState !== 'open') finish(new Error(`raw: channel ${channel.readyState} while sending`));
      else if (channel.bufferedAmount <= low) finish();
    };
    const finish = (error?: Error): void => {
      clearInterval(poll);
      channel.removeEventListener('bufferedamountlow', check);
      if (error) reject(error);
      else resolve();
    };
    const poll = setInterval(check, 10);
    channel.addEventListener('bufferedamountlow', check);
  });
}

/** Raw loop, sending end: fill while `bufferedAmount <= high`, then park until it is `<= low`; with `channels` > 1, message k goes to channel k mod n. */
export async function rawSend(
  key: string,
  bytes: number,
  config: { messageBytes: number; highWaterBytes: number; lowWaterBytes: number; unordered?: boolean; channels?: number },
): Promise<SendEnd> {
  if (!data || data.length < bytes) throw new Error('rawSend: prepareData first');
  const opened = createNegotiatedChannels(peer(key), Array.from({ length: config.channels ?? 1 }, (_, i) => 1 + i), { ordered: !config.unordered });
  await Promise.all(opened.map((c) => waitForOpen(c)));
  for (const c of opened) c.bufferedAmountLowThreshold = config.lowWaterBytes;
  const startedAt = now();
  let sent = 0;
  for (let k = 0; sent < bytes; k++) {
    const channel = opened[k % opened.length];
    if (channel.bufferedAmount > config.highWaterBytes) await drained(channel, config.lowWaterBytes);
    const n = Math.min(config.messageBytes, bytes - sent);
    // Chromium copies on send: a view into the source is enough.
    channel.send(data.subarray(sent, sent + n));
    sent += n;
  }
  return { startedAt, finishedAt: now() };
}

/**
 * The raw loop inside a dedicated Worker: Chromium (156 here) transfers an RTCDataChannel to a worker
 * (`postMessage(channel, [channel])`, bench/channelTransfer.ts), so both ends of this variant run there and
 * the pages' main threads only start them. The same loop and watermarks as {@link rawSend}; the worker makes
 * the same bytes itself rather than receiving a copy.
 */
const RAW_WORKER_SOURCE = `
const now = () => performance.timeOrigin + performance.now();
onmessage = async ({ data: m }) => {
  const ch = m.channel;
  ch.binaryType = 'arraybuffer';
  ch.onclose = () => postMessage({ error: 'raw worker: channel closed' });
  if (m.role === 'receive') {
    let got = 0;
    ch.onmessage = (e) => { got += e.data.byteLength; if (got >= m.bytes) postMessage({ bytes: got, finishedAt: now() }); };
    return;
  }
  const data = new Uint8Array(m.bytes);
  const words = new Uint32Array(data.buffer, 0, m.bytes >>> 2);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; words[i] = x; }
  if (ch.readyState !== 'open') await new Promise((r) => ch.addEventListener('open', r, { once: true }));
  postMessage({ ready: true });
  await new Promise((r) => (onmessage = r));
  ch.bufferedAmountLowThreshold = m.low;
  const drained = () => new Promise((resolve) => {
    const check = () => { if (ch.bufferedAmount <= m.low) { clearInterval(poll); ch.removeEventListener('bufferedamountlow', check); resolve(); } };
    const poll = setInterval(check, 10);
    ch.addEventListener('bufferedamountlow', check);
  });
  const startedAt = now();
  let sent = 0;
  while (sent < m.bytes) {
    while (sent < m.bytes && ch.bufferedAmount <= m.high) {
      const n = Math.min(m.messageBytes, m.bytes - sent);
      ch.send(data.subarray(sent, sent + n));
      sent += n;
    }
    if (sent < m.bytes) await drained();
  }
  postMessage({ startedAt, finishedAt: now() });
};`;

/** Workers of the raw-in-a-worker variant, terminated by `closeAll`. */
const rawWorkers: Worker[] = [];

/** Starts a raw-loop worker with `channel` transferred to it; resolves with its next message. */
function rawWorker(channel: RTCDataChannel, message: Record<string, unknown>): { worker: Worker; next: () => Promise<any> } {
  const worker = new Worker(URL.createObjectURL(new Blob([RAW_WORKER_SOURCE], { type: 'text/javascript' })), { name: 'bench raw loop' });
  rawWorkers.push(worker);
  const next = () =>
    new Promise<any>((resolve, reject) =>
      worker.addEventListener('message', (e) => (e.data?.error ? reject(new Error(e.data.error)) : resolve(e.data)), { once: true }),
    );
  worker.postMessage({ ...message, channel }, [channel as unknown as Transferable]);
  return { worker, next };
}

/** Raw loop in a Worker, receiving end: channel 1 on peer `key`, moved to a worker that counts `bytes`. */
export async function rawWorkerReceive(key: string, bytes: number, timeoutMs: number): Promise<void> {
  const [channel] = createNegotiatedChannels(peer(key), [1], { ordered: true });
  const { next } = rawWorker(channel, { role: 'receive', bytes });
  receiving = withTimeout(next() as Promise<ReceiveEnd>, timeoutMs, 'raw worker receive');
  receiving.catch(() => undefined);
}

/** Raw loop in a Worker, sending end: the worker opens, makes the bytes, then (timed) runs {@link rawSend}'s loop. */
export async function rawWorkerSend(key: string, bytes: number, config: { messageBytes: number; highWaterBytes: number; lowWaterBytes: number }): Promise<SendEnd> {
  const [channel] = createNegotiatedChannels(peer(key), [1], { ordered: true });
  const { worker, next } = rawWorker(channel, { role: 'send', bytes, messageBytes: config.messageBytes, high: config.highWaterBytes, low: config.lowWaterBytes });
  await next();
  const done = next();
  worker.postMessage('go');
  return (await done) as SendEnd;
}

/**
 * The page's hash worker's pooled buffers so far (allocated, reused; 1 MiB and 256 KiB pools), or `undefined`
 * before a transfer started it: an allocation is a hand-off that found no buffer back from the worker.
 */
export async function hashWorkerBuffers(): Promise<{ big: { allocated: number; reused: number }; small: { allocated: number; reused: number } } | undefined> {
  const client = await pageHashWorker();
  if (!client) return undefined;
  return { big: { ...client.buffers }, small: { ...(client.smallBuffers ?? { allocated: 0, reused: 0 }) } };
}

/** The receive started by `rawReceive`, `tallowReceive`, `simplePeerReceive` or `peerJsReceive`. */
export async function received(): Promise<ReceiveEnd> {
  if (!receiving) throw new Error('received: no receive in progress');
  try {
    return await receiving;
  } finally {
    receiving = undefined;
  }
}

/** tallow-rx, receiving end: `receiveFile` on peers `keys` into a discard target. */
export function tallowReceive(keys: string[], timeoutMs: number): void {
  const target = discardTarget();
  let sha256: string | undefined;
  const run = lastValueFrom(
    receiveFile(
      keys.map((k) => peer(k)),
      { target },
    ).pipe(
      tap((e: TransferEvent) => {
        if (e.type === 'completed') sha256 = e.sha256;
      }),
    ),
    { defaultValue: undefined },
  ).then(() => ({ bytes: target.tally.bytes, finishedAt: now(), sha256 }));
  receiving = withTimeout(run, timeoutMs, 'tallow-rx receive');
  receiving.catch(() => undefined);
}

/** tallow-rx, sending end: `sendFile` of the prepared bytes on peers `keys`. */
export async function tallowSend(keys: string[], bytes: number, options: SendOptions, timeoutMs: number): Promise<SendEnd> {
  if (!data || data.length < bytes) throw new Error('tallowSend: prepareData first');
  let shape = '';
  let profile: string | undefined;
  let chunk = 0;
  let sha256: string | undefined;
  const startedAt = now();
  await withTimeout(
    lastValueFrom(
      sendFile(
        keys.map((k) => peer(k)),
        data.subarray(0, bytes),
        { name: 'bench.bin', ...options },
      ).pipe(
        tap((e: TransferEvent) => {
          if (e.type === 'started') shape = `${e.manifest.channels} ch × ${e.manifest.lanes} lane${e.manifest.lanes > 1 ? 's' : ''}`;
          if (e.type === 'stats') {
            profile = e.stats.signals.profile ?? profile;
            chunk = Math.max(chunk, e.stats.chunkSize ?? 0);
          }
          if (e.type === 'completed') sha256 = e.sha256;
        }),
      ),
      { defaultValue: undefined },
    ),
    timeoutMs,
    'tallow-rx send',
  );
  const detail = [shape, profile, chunk ? `chunks up to ${Math.round(chunk / 1024)} KiB` : undefined].filter(Boolean).join(', ');
  return { startedAt, finishedAt: now(), sha256, detail };
}

/** A simple-peer instance that signals over the WebSocket `url`; resolves with its key once connected. */
export async function simplePeerConnect(url: string, initiator: boolean, timeoutMs: number): Promise<string> {
  const key = `s${++seq}`;
  const transport = await openSocket(url);
  const p = new (SimplePeer as unknown as new (o: object) => SimplePeerInstance)({ initiator, trickle: true, config: { iceServers: [] } });
  simplePeers.set(key, p);
  p.on('signal', (signal: unknown) => transport.send(signal as never));
  transport.onMessage((m) => p.signal(m));
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      p.once('connect', () => resolve());
      p.once('error', (e: Error) => reject(e));
    }),
    timeoutMs,
    'simple-peer connect',
  );
  return key;
}

const simplePeer = (key: string): SimplePeerInstance => {
  const p = simplePeers.get(key);
  if (!p) throw new Error(`no simple-peer ${key}`);
  return p;
};

/** simple-peer, receiving end: counts `bytes` of 'data'. */
export function simplePeerReceive(key: string, bytes: number, timeoutMs: number): void {
  const p = simplePeer(key);
  receiving = countTo(
    bytes,
    (add, fail) => {
      p.on('data', (chunk: Uint8Array) => add(chunk.length));
      p.on('error', fail);
      p.on('close', () => fail(new Error('simple-peer: receiver closed')));
    },
    timeoutMs,
    'simple-peer receive',
  );
  receiving.catch(() => undefined);
}

/** simple-peer, sending end: `write()` pieces of `writeBytes`, waiting for 'drain' when it says so. */
export async function simplePeerSend(key: string, bytes: number, writeBytes: number): Promise<SendEnd> {
  if (!data || data.length < bytes) throw new Error('simplePeerSend: prepareData first');
  const p = simplePeer(key);
  const source = data;
  const startedAt = now();
  await new Promise<void>((resolve, reject) => {
    p.once('error', reject);
    let offset = 0;
    const write = (): void => {
      while (offset < bytes) {
        const piece = source.subarray(offset, Math.min(offset + writeBytes, bytes));
        offset += piece.length;
        if (!p.write(piece)) {
          p.once('drain', write);
          return;
        }
      }
      resolve();
    };
    write();
  });
  return { startedAt, finishedAt: now() };
}

/** A PeerJS peer with id `id`, registered with the PeerServer on 127.0.0.1:`port`. */
export async function peerJsOpen(id: string, port: number, timeoutMs: number): Promise<void> {
  const p = new Peer(id, { host: '127.0.0.1', port, path: '/', secure: false, debug: 0, config: { iceServers: [] } });
  peerJsPeers.set(id, p);
  p.on('connection', (conn) => peerJsConnections.set(id, conn));
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      p.once('open', () => resolve());
      p.once('error', (e) => reject(e));
    }),
    timeoutMs,
    `PeerJS open ${id}`,
  );
}

/** PeerJS, sending end: connects `from` to `to` with `serialization: 'raw'`; resolves once open. */
export async function peerJsConnect(from: string, to: string, timeoutMs: number): Promise<void> {
  const p = peerJsPeers.get(from);
  if (!p) throw new Error(`no PeerJS peer ${from}`);
  const conn = p.connect(to, { serialization: 'raw', reliable: true });
  if (!conn) throw new Error('PeerJS connect returned nothing');
  peerJsConnections.set(to, conn);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      conn.once('open', () => resolve());
      conn.once('error', (e) => reject(e));
    }),
    timeoutMs,
    `PeerJS connect ${from} → ${to}`,
  );
}

/** PeerJS, receiving end: waits for the incoming connection on `id` to open, then counts `bytes`. */
export async function peerJsReceive(id: string, bytes: number, timeoutMs: number): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!peerJsConnections.has(id)) {
    if (now() > deadline) throw new Error(`PeerJS: no connection to ${id}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const conn = peerJsConnections.get(id)!;
  if (!conn.open) await new Promise<void>((resolve) => conn.once('open', () => resolve()));
  receiving = countTo(
    bytes,
    (add, fail) => {
      conn.on('data', (d) => add((d as ArrayBuffer).byteLength));
      conn.on('close', () => fail(new Error('PeerJS: receiving connection closed')));
    },
    timeoutMs,
    'PeerJS receive',
  );
  receiving.catch(() => undefined);
}

/**
 * PeerJS, sending end: `send()` every 256 KiB piece at once. PeerJS's 'raw' connection keeps what
 * exceeds its 8 MiB `bufferedAmount` cap in its own queue and retries every 50 ms; resolves once
 * that queue is empty.
 */
export async function peerJsSend(to: string, bytes: number, messageBytes: number): Promise<SendEnd> {
  if (!data || data.length < bytes) throw new Error('peerJsSend: prepareData first');
  const conn = peerJsConnections.get(to);
  if (!conn) throw new Error(`no PeerJS connection to ${to}`);
  const startedAt = now();
  for (let offset = 0; offset < bytes; offset += messageBytes) void conn.send(data.subarray(offset, Math.min(offset + messageBytes, bytes)));
  return { startedAt, finishedAt: now() };
}

/** Closes every connection, peer and socket of this page. */
export function closeAll(): void {
  receiving = undefined;
  simplePeers.forEach((p) => p.destroy());
  peerJsConnections.forEach((c) => c.close());
  peerJsPeers.forEach((p) => p.destroy());
  peers.forEach((pc) => pc.close());
  rawWorkers.forEach((w) => w.terminate());
  rawWorkers.length = 0;
  sockets.forEach((s) => s.close());
  simplePeers.clear();
  peerJsConnections.clear();
  peerJsPeers.clear();
  peers.clear();
  sockets.length = 0;
}

/** Every RTCPeerConnection this page made (the library's, simple-peer's, PeerJS's), for {@link udpPackets}. */
const tracked = new Set<RTCPeerConnection>();

/** Wraps the page's `RTCPeerConnection` once so that {@link udpPackets} sees every connection, whoever made it. */
function trackPeerConnections(): void {
  const Native = window.RTCPeerConnection as typeof RTCPeerConnection & { tracked?: true };
  if (Native.tracked) return;
  const Tracked = function (this: unknown, ...args: ConstructorParameters<typeof RTCPeerConnection>) {
    const pc = new Native(...args);
    tracked.add(pc);
    const close = pc.close.bind(pc);
    pc.close = () => {
      if (tracked.delete(pc)) closedConnections++;
      close();
    };
    return pc;
  } as unknown as typeof RTCPeerConnection & { tracked?: true };
  Tracked.prototype = Native.prototype;
  Tracked.tracked = true;
  Object.setPrototypeOf(Tracked, Native);
  window.RTCPeerConnection = Tracked;
}

/**
 * UDP packets sent and received so far by this page's open peer connections (`transport` stats), and how many
 * of its connections were closed so far. The runner
 * reads both pages before and after a run: what the sending page sent and the receiving page did not get was
 * lost on the way (on loopback: dropped inside Chromium's networking), and each loss costs SCTP a retransmission.
 */
export async function udpPackets(): Promise<{ sent: number; received: number; closed: number }> {
  let sent = 0;
  let received = 0;
  for (const pc of [...tracked]) {
    if (pc.connectionState === 'closed') continue;
    const report = await pc.getStats().catch(() => undefined);
    report?.forEach((r: { type: string; packetsSent?: number; packetsReceived?: number }) => {
      if (r.type !== 'transport') return;
      sent += r.packetsSent ?? 0;
      received += r.packetsReceived ?? 0;
    });
  }
  return { sent, received, closed: closedConnections };
}

/** Peer connections of this page closed so far: their counters are gone, so a run that closed one has no loss figure. */
let closedConnections = 0;
