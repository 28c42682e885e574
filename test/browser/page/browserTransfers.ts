/**
 * Page side of the real-browser transfer tests. The Chromium runner bundles this entry with
 * esbuild (it imports the library from src/index.ts) and exposes it as
 * `window.bundles.tallow`; test/browser/fixtures/browserRunner.ts drives it with
 * `page.evaluate`, and every function returns a compact JSON result (hashes, counts, names).
 *
 * - Peer connections live in a registry here, addressed by string keys.
 * - `RTCDataChannel.prototype.send` is wrapped (once) to record every call: the largest
 *   message, the largest `bufferedAmount` seen right after a send, and any exception
 *   (`TypeError` above 256 KiB, `OperationError` past the 16 MiB queue). The library wraps
 *   send failures into its own errors; the log shows what Chromium itself threw.
 * - Every run has a deadline: on expiry both transfers are unsubscribed and the result
 *   says `timeout`, so nothing in the page outlives a test.
 * - The receiver is always subscribed before the sender (it must be listening for the
 *   sender's in-band `tallow-control` channel).
 */
import type { Subscription } from 'rxjs';
import { channelsInWorker, receiveFile, sendFile, streamFile, TallowError, TransferCancelledError, type TransferEvent, type TransferObservable, type TransferStats } from '../../../src/index';
import { isLoopbackUdpCandidate } from '../../../src/connect/loopbackCandidates';
import { CHROME_MAX_MESSAGE_SIZE } from '../../../src/protocol';
import { bitrate$, rtt$, statsSamples } from '../../../src/stats';
import type { Reliability } from '../../../src/protocol/control';
import type { Bitrate } from '../../../src/stats/bitrate$';
import type { PeerStatsSample } from '../../../src/stats/parseStatsReport';
import { createNegotiatedChannels, waitForOpen } from '../../harness/channels';
import { patternBytes } from '../../harness/pump';
import { connectInProcess, createWebSocketTransport, negotiate } from '../../harness/signalling';

/** A set of lanes: `a[i]` is connected to `b[i]`. */
interface Lanes {
  readonly a: RTCPeerConnection[];
  readonly b: RTCPeerConnection[];
}

/** Lanes between two page peers, by key. */
const pairs = new Map<string, Lanes>();
/** Page peers connected to Node, by key. */
const remotes = new Map<string, { pc: RTCPeerConnection; socket: WebSocket }>();
/** Receives started by `startReceive`, by key. */
const pendingReceives = new Map<string, Promise<RunResult>>();
/** Key counter. */
let seq = 0;

/** What the wrapped `send` saw since the last `resetSendLog`. */
export interface SendLog {
  calls: number;
  bytes: number;
  maxMessage: number;
  maxBuffered: number;
  errors: string[];
}
const sendLog: SendLog = { calls: 0, bytes: 0, maxMessage: 0, maxBuffered: 0, errors: [] };
let sendWrapped = false;

const byteLength = (data: unknown): number =>
  typeof data === 'string' ? new TextEncoder().encode(data).length : data instanceof Blob ? data.size : (data as ArrayBufferLike | ArrayBufferView).byteLength;

/** Wraps `RTCDataChannel.prototype.send` once to record sizes, queue depth and exceptions. */
function wrapSend(): void {
  if (sendWrapped) return;
  sendWrapped = true;
  const original = RTCDataChannel.prototype.send as (this: RTCDataChannel, data: unknown) => void;
  (RTCDataChannel.prototype as { send: (data: unknown) => void }).send = function (this: RTCDataChannel, data: unknown) {
    const size = byteLength(data);
    try {
      original.call(this, data);
    } catch (error) {
      const e = error as Error;
      sendLog.errors.push(`${e?.name}: ${e?.message}`.slice(0, 200));
      throw error;
    }
    sendLog.calls++;
    sendLog.bytes += size;
    sendLog.maxMessage = Math.max(sendLog.maxMessage, size);
    sendLog.maxBuffered = Math.max(sendLog.maxBuffered, this.bufferedAmount);
  };
}

function resetSendLog(): void {
  wrapSend();
  Object.assign(sendLog, { calls: 0, bytes: 0, maxMessage: 0, maxBuffered: 0, errors: [] });
}

const snapshotSendLog = (): SendLog => ({ ...sendLog, errors: [...sendLog.errors] });

/** Hex SHA-256 via WebCrypto. */
async function subtleHex(data: ArrayBuffer | Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** An error as JSON. */
export interface ErrorInfo {
  name: string;
  message: string;
  code?: string;
  by?: string;
  isTallowError: boolean;
  isTransferCancelledError: boolean;
}
const describeError = (error: unknown): ErrorInfo => {
  const e = error as { name?: unknown; message?: unknown; code?: unknown; by?: unknown };
  return {
    name: String(e?.name ?? typeof error),
    message: String(e?.message ?? error).slice(0, 500),
    code: typeof e?.code === 'string' ? e.code : undefined,
    by: typeof e?.by === 'string' ? e.by : undefined,
    isTallowError: error instanceof TallowError,
    isTransferCancelledError: error instanceof TransferCancelledError,
  };
};

/** How one side of a transfer ended. */
export interface SideResult {
  /** `completed`, `error`, `timeout` or `unsubscribed`. */
  outcome: 'completed' | 'error' | 'timeout' | 'unsubscribed';
  /** `completed.sha256`. */
  sha256?: string;
  /** `completed.seconds`. */
  seconds?: number;
  error?: ErrorInfo;
  /** Event counts by type. */
  events: Record<string, number>;
  /** `stats$` emissions and the last one's key fields. */
  stats: number;
  lastStats?: { bytesDone: number; rttMs?: number; throughputBps: number; channels?: number; lanes?: number };
  /** The manifest from `started`. */
  manifest?: { channels: number; lanes: number; reliability: Reliability; idBase: number; chunk: { min: number; max: number } };
  /** Bytes reported by the last `progress` event. */
  progressBytes: number;
}

/** Watches one transfer: events, `stats$`, the end. `stop()` unsubscribes. */
function watch(transfer$: TransferObservable, hooks: { onEvent?: (e: TransferEvent) => void } = {}) {
  const result: SideResult = { outcome: 'unsubscribed', events: {}, stats: 0, progressBytes: 0 };
  let completedEvent: Extract<TransferEvent, { type: 'completed' }> | undefined;
  let resolveEnd!: () => void;
  const ended = new Promise<void>((resolve) => (resolveEnd = resolve));
  let done = false;
  const end = (): void => {
    done = true;
    resolveEnd();
  };
  // stats$ first: the views share one transfer, subscribing it before the events catches every sample.
  const statsSub: Subscription = transfer$.stats$.subscribe({
    next: (s: TransferStats) => {
      result.stats++;
      result.lastStats = { bytesDone: s.bytesDone, rttMs: s.rtt.current, throughputBps: s.throughput.current, channels: s.channels, lanes: s.lanes };
    },
    error: () => undefined,
  });
  const sub: Subscription = transfer$.subscribe({
    next: (e) => {
      result.events[e.type] = (result.events[e.type] ?? 0) + 1;
      if (e.type === 'started') {
        const m = e.manifest;
        result.manifest = { channels: m.channels, lanes: m.lanes, reliability: m.reliability, idBase: m.idBase, chunk: { ...m.chunk } };
      } else if (e.type === 'progress') result.progressBytes = e.bytes;
      else if (e.type === 'completed') {
        completedEvent = e;
        result.sha256 = e.sha256;
        result.seconds = e.seconds;
      }
      hooks.onEvent?.(e);
    },
    error: (error) => {
      result.outcome = 'error';
      result.error = describeError(error);
      end();
    },
    complete: () => {
      result.outcome = 'completed';
      end();
    },
  });
  return {
    result,
    ended,
    completed: () => completedEvent,
    isDone: () => done,
    stop: (outcome: 'timeout' | 'unsubscribed') => {
      if (!done) result.outcome = outcome;
      sub.unsubscribe();
      statsSub.unsubscribe();
      end();
    },
  };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for both watchers; on the first error gives the other `graceMs` to end, then stops what is left. */
async function settle(watchers: ReturnType<typeof watch>[], timeoutMs: number, graceMs = 3_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const firstError = Promise.race(watchers.map((w) => w.ended.then(() => (w.result.outcome === 'error' ? 'error' : new Promise<never>(() => undefined)))));
  const outcome = await Promise.race([Promise.all(watchers.map((w) => w.ended)).then(() => 'done' as const), deadline, firstError]);
  if (outcome === 'error') await Promise.race([Promise.all(watchers.map((w) => w.ended)), delay(graceMs)]);
  clearTimeout(timer);
  for (const w of watchers) w.stop(outcome === 'timeout' ? 'timeout' : 'unsubscribed');
}

/** Options of a transfer run. */
export interface RunOptions {
  /** File size in bytes; the content is `patternBytes(size, seed)`. */
  size: number;
  seed: number;
  channels?: number;
  lanes?: number;
  reliability?: Reliability;
  /** Stats sample period for both sides, ms. Default: the library's. */
  statsInterval?: number;
  /** The page gives up (and unsubscribes both sides) after this long. Default 40 s. */
  timeoutMs?: number;
}

/** The outcome of a transfer run. */
export interface RunResult {
  size: number;
  /** WebCrypto SHA-256 of the Blob that was sent. */
  sourceSha256: string;
  /** WebCrypto SHA-256 of the received Blob (`completed.result`). */
  receivedSha256?: string;
  receivedSize?: number;
  receivedIsBlob?: boolean;
  receivedType?: string;
  /** Wall time from the sender's subscription to both sides ending, ms. */
  ms: number;
  /** `size * 8 / ms`, Mbps. */
  mbps: number;
  sender?: SideResult;
  receiver: SideResult;
  /** What `RTCDataChannel.send` saw in this page during the run. */
  sends: SendLog;
}

const fileOf = (size: number, seed: number): Blob => new Blob([patternBytes(size, seed)], { type: 'application/x-tallow-test' });

async function receivedFacts(w: ReturnType<typeof watch>): Promise<Pick<RunResult, 'receivedSha256' | 'receivedSize' | 'receivedIsBlob' | 'receivedType'>> {
  const blob = w.completed()?.result;
  if (!(blob instanceof Blob)) return { receivedIsBlob: false };
  return { receivedIsBlob: true, receivedSize: blob.size, receivedType: blob.type, receivedSha256: await subtleHex(await blob.arrayBuffer()) };
}

/** Connects `lanes` pairs of page peer connections; returns their key. */
export async function connectLanes(lanes: number, inWorker = false): Promise<string> {
  const key = `lanes${++seq}`;
  const set: Lanes = { a: [], b: [] };
  pairs.set(key, set);
  // `channelsInWorker` before connecting: every channel made on these connections from then on runs in the
  // page's channel worker, the in-band lanes' too.
  const made = async () => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    if (!inWorker) return pc;
    const wrapped = await channelsInWorker(pc);
    if (wrapped === pc) throw new Error('channelsInWorker: no worker started in this page');
    return wrapped;
  };
  for (let i = 0; i < lanes; i++) {
    set.a.push(await made());
    set.b.push(await made());
  }
  await Promise.all(set.a.map((a, i) => connectInProcess(a, set.b[i])));
  return key;
}

const lanesOf = (key: string): Lanes => {
  const set = pairs.get(key);
  if (!set) throw new Error(`no lanes ${key}`);
  return set;
};

/**
 * Sends `patternBytes(size, seed)` as a Blob from the `a` side of `key` to its `b` side with
 * the default Blob target, and hashes both ends with WebCrypto.
 */
export async function transferLocal(key: string, options: RunOptions): Promise<RunResult> {
  const { a, b } = lanesOf(key);
  const { size, seed, channels = 1, lanes = 1, reliability = 'reliable', statsInterval, timeoutMs = 40_000 } = options;
  const file = fileOf(size, seed);
  const sourceSha256 = await subtleHex(await file.arrayBuffer());
  resetSendLog();
  const receiver = watch(receiveFile(b, { sampleIntervalMs: statsInterval }));
  const started = performance.now();
  // inbandLanes 0: these runs measure the connections they were given (send logs, transport stats); `auto` given
  // one connection in a browser may otherwise open lanes of its own (the in-band lane tests below do that).
  const sender = watch(sendFile(a, file, { name: 'browser.bin', channels, lanes, reliability, sampleIntervalMs: statsInterval, inbandLanes: 0 }));
  await settle([receiver, sender], timeoutMs);
  const ms = performance.now() - started;
  return { size, sourceSha256, ...(await receivedFacts(receiver)), ms, mbps: (size * 8) / ms / 1000, sender: sender.result, receiver: receiver.result, sends: snapshotSendLog() };
}

/** Result of {@link cancelLocal}. */
export interface CancelResult {
  /** Sender progress bytes when it unsubscribed (-1: it never got there). */
  cancelledAt: number;
  size: number;
  receiver: SideResult;
  ms: number;
}

/** Starts `size` bytes from `a` to `b`; unsubscribes the sender once it reported `cancelAfter` bytes sent. */
export async function cancelLocal(key: string, options: { size: number; seed: number; cancelAfter: number; channels?: number; timeoutMs?: number }): Promise<CancelResult> {
  const { a, b } = lanesOf(key);
  const { size, seed, cancelAfter, channels = 2, timeoutMs = 30_000 } = options;
  const file = fileOf(size, seed);
  const receiver = watch(receiveFile(b));
  let cancelledAt = -1;
  const started = performance.now();
  const sender = watch(sendFile(a, file, { channels, lanes: 1, progressIntervalMs: 20 }), {
    onEvent: (e) => {
      if (cancelledAt < 0 && e.type === 'progress' && e.bytes >= cancelAfter) {
        cancelledAt = e.bytes;
        // Unsubscribe outside the subscriber's own next() call.
        queueMicrotask(() => sender.stop('unsubscribed'));
      }
    },
  });
  await settle([receiver], timeoutMs);
  sender.stop('unsubscribed');
  return { cancelledAt, size, receiver: receiver.result, ms: performance.now() - started };
}

/** Result of {@link statsDuringTransfer}. */
export interface StatsResult {
  rtt: number[];
  /** bitrate$ values before the transfer started (the idle connection). */
  idleBitrate: Bitrate[];
  /** bitrate$ values while it ran. */
  busyBitrate: Bitrate[];
  samples: Array<Pick<PeerStatsSample, 'timestamp' | 'bytesSent' | 'bytesReceived' | 'bytesSource' | 'rttMs' | 'payloadBytesSent'>>;
  errors: string[];
  transfer: RunResult;
}

/**
 * Polls `rtt$`, `bitrate$` and `statsSamples` (every `sampleIntervalMs` ms) on the sending peer of
 * `key`: an idle phase of `idleMs`, a transfer with `statsInterval` set so `stats$` emits,
 * then `tailMs` more.
 */
export async function statsDuringTransfer(key: string, options: RunOptions & { sampleIntervalMs: number; idleMs: number; tailMs: number }): Promise<StatsResult> {
  const { a } = lanesOf(key);
  const pc = a[0];
  const config = { sampleIntervalMs: options.sampleIntervalMs };
  const out: Omit<StatsResult, 'transfer'> = { rtt: [], idleBitrate: [], busyBitrate: [], samples: [], errors: [] };
  let busy = false;
  const onError = (what: string) => (e: unknown) => out.errors.push(`${what}: ${describeError(e).name}: ${describeError(e).message}`);
  const subs = [
    rtt$(pc, config).subscribe({ next: (ms) => out.rtt.push(ms), error: onError('rtt$') }),
    bitrate$(pc, config).subscribe({ next: (b) => (busy ? out.busyBitrate : out.idleBitrate).push(b), error: onError('bitrate$') }),
    statsSamples(pc, config).subscribe({
      next: (s) => out.samples.push({ timestamp: s.timestamp, bytesSent: s.bytesSent, bytesReceived: s.bytesReceived, bytesSource: s.bytesSource, rttMs: s.rttMs, payloadBytesSent: s.payloadBytesSent }),
      error: onError('statsSamples'),
    }),
  ];
  try {
    await delay(options.idleMs);
    busy = true;
    const transfer = await transferLocal(key, options);
    // A few more polls, so the counters include the end of the transfer.
    await delay(options.tailMs);
    return { ...out, transfer };
  } finally {
    subs.forEach((s) => s.unsubscribe());
  }
}

/** Result of {@link probeSendLimits}. */
export interface SendLimitsResult {
  /** Error name of a `send()` of 256 KiB + 1 B. */
  tooLarge?: string;
  /** Error name once the queue is full, and `bufferedAmount` then. */
  queueFull?: string;
  bufferedAtFull: number;
  /** `readyState` after both failures. */
  stateAfter: string;
  log: SendLog;
}

/**
 * Checks the instrumented `send` against Chromium's limits on a raw negotiated channel (id
 * 100, outside the library's 512+ blocks): one message of 256 KiB + 1 B, then 256 KiB
 * messages in a synchronous loop until the 16 MiB queue refuses one.
 */
export async function probeSendLimits(key: string): Promise<SendLimitsResult> {
  const { a, b } = lanesOf(key);
  const [tx] = createNegotiatedChannels(a[0], [100]);
  const [rx] = createNegotiatedChannels(b[0], [100]);
  try {
    await Promise.all([waitForOpen(tx), waitForOpen(rx)]);
    resetSendLog();
    const result: SendLimitsResult = { bufferedAtFull: -1, stateAfter: '', log: sendLog };
    try {
      tx.send(new Uint8Array(CHROME_MAX_MESSAGE_SIZE + 1));
    } catch (e) {
      result.tooLarge = (e as Error).name;
    }
    const message = new Uint8Array(CHROME_MAX_MESSAGE_SIZE);
    for (let i = 0; i < 200 && result.queueFull === undefined; i++) {
      try {
        tx.send(message);
      } catch (e) {
        result.queueFull = (e as Error).name;
        result.bufferedAtFull = tx.bufferedAmount;
      }
    }
    return { ...result, stateAfter: tx.readyState, log: snapshotSendLog() };
  } finally {
    tx.close();
    rx.close();
  }
}

/** Connects a new page peer (offerer) to a Node peer answering on the signalling WebSocket `url`. */
export async function connectToNode(url: string): Promise<string> {
  const key = `node${++seq}`;
  const pc = new RTCPeerConnection({ iceServers: [] });
  const socket = new WebSocket(url);
  remotes.set(key, { pc, socket });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`signalling socket ${url} failed`)), { once: true });
  });
  await negotiate(pc, { role: 'offerer', transport: createWebSocketTransport(socket) });
  return key;
}

const remoteOf = (key: string): RTCPeerConnection => {
  const r = remotes.get(key);
  if (!r) throw new Error(`no Node peer ${key}`);
  return r.pc;
};

/** Sends `patternBytes(size, seed)` to the Node peer of `key` (whose receiver is already subscribed). */
export async function sendToNode(key: string, options: RunOptions): Promise<Omit<RunResult, 'receiver'> & { receiver?: undefined }> {
  const { size, seed, channels = 1, reliability = 'reliable', timeoutMs = 40_000 } = options;
  const file = fileOf(size, seed);
  const sourceSha256 = await subtleHex(await file.arrayBuffer());
  resetSendLog();
  const started = performance.now();
  const sender = watch(sendFile(remoteOf(key), file, { name: 'to-node.bin', channels, lanes: 1, reliability }));
  await settle([sender], timeoutMs);
  const ms = performance.now() - started;
  return { size, sourceSha256, ms, mbps: (size * 8) / ms / 1000, sender: sender.result, sends: snapshotSendLog() };
}

/** Subscribes a receiver on the Node peer of `key` and returns at once; read it with {@link receiveResult}. */
export function startReceive(key: string, timeoutMs = 40_000): void {
  const receiver = watch(receiveFile(remoteOf(key)));
  const started = performance.now();
  const run = (async (): Promise<RunResult> => {
    await settle([receiver], timeoutMs);
    const ms = performance.now() - started;
    const facts = await receivedFacts(receiver);
    const size = facts.receivedSize ?? 0;
    return { size, sourceSha256: '', ...facts, ms, mbps: (size * 8) / ms / 1000, receiver: receiver.result, sends: snapshotSendLog() };
  })();
  run.catch(() => undefined);
  pendingReceives.set(key, run);
}

/** Waits for the receive started by {@link startReceive}. */
export async function receiveResult(key: string): Promise<RunResult> {
  const run = pendingReceives.get(key);
  if (!run) throw new Error(`startReceive(${key}) was not called`);
  pendingReceives.delete(key);
  return run;
}

/** What {@link transferInband} adds to a run: the in-band lanes each side built and what crossed them. */
export interface InbandResult extends RunResult {
  /** Connections built by each side's `createConnection`, and their states at the end. */
  senderLanes: string[];
  receiverLanes: string[];
  /** Data-channel messages that arrived on the receiver's lane connections. */
  laneMessages: number;
  /** Most lanes the sender's stats reported. */
  maxLanes: number;
}

/**
 * `patternBytes(size, seed)` from `a` to `b` of a one-lane `key`, with `inbandLanes` lanes the sender opens
 * itself over the control channel (both sides build them with the page's `RTCPeerConnection`, loopback
 * candidates only). The file is a stream whose bytes past `gateAt` are read only once the sender's stats
 * show every lane joined, so what is left must cross them.
 */
export async function transferInband(key: string, options: RunOptions & { inbandLanes: number; gateAt: number }): Promise<InbandResult> {
  const { b } = lanesOf(key);
  const built: RTCPeerConnection[] = [];
  let laneMessages = 0;
  const factory = (configuration?: RTCConfiguration) => {
    const pc = new RTCPeerConnection(configuration);
    built.push(pc);
    pc.addEventListener('datachannel', (ev) => ev.channel.addEventListener('message', () => laneMessages++));
    return pc;
  };
  const receiver = watch(receiveFile(b, { createConnection: factory, acceptLaneCandidate: isLoopbackUdpCandidate }));
  const r = await sendInband(lanesOf(key).a[0], options, [receiver]);
  const out = { ...r, ...(await receivedFacts(receiver)), receiver: receiver.result, receiverLanes: built.map((pc) => pc.connectionState), laneMessages };
  for (const pc of built) pc.close();
  return out;
}

/** {@link transferInband} to the Node peer of `key`, whose receiver (with its own `createConnection`) is already subscribed. */
export async function sendToNodeInband(key: string, options: RunOptions & { inbandLanes: number; gateAt: number }): Promise<Omit<InbandResult, 'receiver' | 'receiverLanes' | 'laneMessages'>> {
  return sendInband(remoteOf(key), options, []);
}

/** The sending half of the in-band runs: the gated stream, the sender's lanes and their states at the end. */
async function sendInband(pc: RTCPeerConnection, options: RunOptions & { inbandLanes: number; gateAt: number }, others: ReturnType<typeof watch>[]) {
  const { size, seed, inbandLanes, gateAt, timeoutMs = 40_000 } = options;
  const bytes = patternBytes(size, seed);
  const sourceSha256 = await subtleHex(bytes);
  const built: RTCPeerConnection[] = [];
  const factory = (configuration?: RTCConfiguration) => {
    const lane = new RTCPeerConnection(configuration);
    built.push(lane);
    return lane;
  };
  let open!: () => void;
  const joined = new Promise<void>((resolve) => (open = resolve));
  let maxLanes = 0;
  let read = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (read >= gateAt) await joined;
      const n = Math.min(256 * 1024, size - read, read < gateAt ? gateAt - read : Infinity);
      controller.enqueue(bytes.slice(read, read + n));
      read += n;
      if (read >= size) controller.close();
    },
  });
  resetSendLog();
  const started = performance.now();
  const file = streamFile(stream, { size, name: 'inband.bin', type: 'application/x-tallow-test' });
  const sender = watch(sendFile(pc, file, { profile: 'wifi', inbandLanes, laneStaggerMs: 0, sampleIntervalMs: 100, createConnection: factory, acceptLaneCandidate: isLoopbackUdpCandidate }), {
    onEvent: (e) => {
      if (e.type !== 'stats') return;
      maxLanes = Math.max(maxLanes, e.stats.lanes ?? 0);
      if ((e.stats.lanes ?? 0) >= 1 + inbandLanes) open();
    },
  });
  await settle([...others, sender], timeoutMs);
  const ms = performance.now() - started;
  const senderLanes = built.map((lane) => lane.connectionState);
  for (const lane of built) lane.close();
  return { size, sourceSha256, ms, mbps: (size * 8) / ms / 1000, sender: sender.result, sends: snapshotSendLog(), senderLanes, maxLanes };
}

/** Closes every peer connection and socket this module created. */
export function closeAll(): void {
  for (const { a, b } of pairs.values()) [...a, ...b].forEach((pc) => pc.close());
  for (const { pc, socket } of remotes.values()) {
    pc.close();
    socket.close();
  }
  pairs.clear();
  remotes.clear();
  pendingReceives.clear();
}
