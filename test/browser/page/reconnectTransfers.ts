/**
 * Page side of test/browser/reconnect.spec.ts: a session of files from one page to another that survives
 * the loss of every peer connection. The Chromium runner bundles this entry into both pages (as
 * `window.bundles.reconnect`); test/browser/fixtures/reconnectRunner.ts relays signalling between them and
 * orders the hand-over. Every function returns compact JSON.
 *
 * - The sending page runs `sendFiles` on the first connections and, once `cutAt` bytes are confirmed,
 *   closes every one of them (in its `progress` handler, so nothing is sent after the figure it records)
 *   and tells the runner (`window.tallowNotify({ kind: 'cut' })`), which closes the receiving page's ends.
 * - Each side's `reconnect` tells the runner it asks (`{ kind: 'reconnect', side }`) and waits for
 *   `handOver()`, which resolves it with this page's end of the second connections.
 * - `RTCDataChannel.prototype.send` is wrapped (once) to read the header of every data frame: which file,
 *   which bytes, on which connections. The union of the ranges per file gives the bytes sent twice.
 * - The receiver writes into `resumableMemoryTarget` (per-file buffers with `held()`), so the file cut
 *   mid-way resumes from what was written; every file is hashed with WebCrypto on both pages.
 */
import { Subscription } from 'rxjs';
import { receiveFiles, sendFiles, type SessionEvent, type SessionObservable } from '../../../src/index';
import { FRAME_HEADER_SIZE } from '../../../src/protocol/frame';
import { patternBytes } from '../../harness/pump';
import { createWebSocketTransport, negotiate } from '../../harness/signalling';
import { resumableMemoryTarget, type ResumableMemoryTarget } from './resumableMemoryTarget';

/** What a page tells the runner. */
export type Notice = { kind: 'cut'; confirmed: number; sent: number } | { kind: 'reconnect'; side: 'sender' | 'receiver' };

/** Peer connections of this page, by key. */
const peers = new Map<string, RTCPeerConnection>();
/** Signalling sockets, by peer key. */
const sockets = new Map<string, WebSocket>();
/** The connection each data channel was created on, and the channels of each connection. */
const channelPeer = new WeakMap<RTCDataChannel, RTCPeerConnection>();
const peerChannels = new WeakMap<RTCPeerConnection, RTCDataChannel[]>();
/** Which connections a frame went out on: the first set or the second. */
const connectionSet = new Map<RTCPeerConnection, 'first' | 'second'>();
/** Resolves this page's pending `reconnect`. */
let handOverTo: (() => void) | undefined;
/** The receive started by `startReceiving`. */
let receiving: Promise<SideResult> | undefined;
/** Key counter. */
let seq = 0;

const notify = (notice: Notice): void => void (window as unknown as { tallowNotify?: (n: Notice) => Promise<void> }).tallowNotify?.(notice);

const peer = (key: string): RTCPeerConnection => {
  const pc = peers.get(key);
  if (!pc) throw new Error(`no peer ${key}`);
  return pc;
};

/** Hex SHA-256 via WebCrypto. */
async function subtleHex(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A new peer connection that negotiates with the other page over the signalling WebSocket `url` (the runner relays). */
export async function connectPeer(url: string, role: 'offerer' | 'answerer'): Promise<string> {
  const key = `p${++seq}`;
  const pc = new RTCPeerConnection({ iceServers: [] });
  const socket = new WebSocket(url);
  peers.set(key, pc);
  sockets.set(key, socket);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`signalling socket ${url} failed`)), { once: true });
  });
  await negotiate(pc, { role, transport: createWebSocketTransport(socket) });
  return key;
}

/** Closes the peer connections `keys` (the connection loss). */
export function closePeers(keys: string[]): void {
  for (const k of keys) peer(k).close();
}

/** Resolves this page's pending `reconnect` with its second connections; returns once the session took them. */
export async function handOver(): Promise<void> {
  if (!handOverTo) throw new Error('handOver: no reconnect is waiting');
  handOverTo();
  handOverTo = undefined;
  // resumeSession starts the next run on a microtask; one macrotask later the receiver listens.
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** `reconnect` for one side: tells the runner, then waits for `handOver()`. */
const reconnectVia = (side: 'sender' | 'receiver', second: RTCPeerConnection[]) => (): Promise<RTCPeerConnection[]> =>
  new Promise((resolve) => {
    handOverTo = () => resolve(second);
    notify({ kind: 'reconnect', side });
  });

/** One data frame as the sender's wrapped `send` saw it. */
interface SentFrame {
  file: number;
  offset: number;
  length: number;
  set: 'first' | 'second';
}
/** Frames sent since the last `send`, when recording. */
let frames: SentFrame[] | undefined;
/** The session id whose frames are recorded. */
let recordedSession = 0;
/** `send()` calls that threw, by error name. */
let sendErrors: string[] = [];
let wrapped = false;

/** Wraps `createDataChannel` (to know each channel's connection) and `send` (to read each data frame's header). */
function wrapChannels(): void {
  if (wrapped) return;
  wrapped = true;
  const create = RTCPeerConnection.prototype.createDataChannel;
  RTCPeerConnection.prototype.createDataChannel = function (this: RTCPeerConnection, label: string, init?: RTCDataChannelInit) {
    const ch = create.call(this, label, init);
    channelPeer.set(ch, this);
    peerChannels.set(this, [...(peerChannels.get(this) ?? []), ch]);
    return ch;
  };
  const send = RTCDataChannel.prototype.send as (this: RTCDataChannel, data: unknown) => void;
  (RTCDataChannel.prototype as { send: (data: unknown) => void }).send = function (this: RTCDataChannel, data: unknown) {
    // Recorded before the call: a send() that throws as its connection closes (at the cut) may still have
    // queued the message, and the receiver may then hold those bytes and never ask for them again.
    const set = connectionSet.get(channelPeer.get(this)!);
    const isFrame = frames && set && this.label.startsWith('tallow-') && this.label !== 'tallow-control' && typeof data !== 'string';
    const view = isFrame ? (ArrayBuffer.isView(data) ? new DataView(data.buffer, data.byteOffset, data.byteLength) : new DataView(data as ArrayBuffer)) : undefined;
    if (frames && set && view && view.byteLength >= FRAME_HEADER_SIZE) {
      frames.push({
        file: (view.getUint32(4) - recordedSession) >>> 0,
        offset: view.getUint32(12) * 0x1_0000_0000 + view.getUint32(16),
        length: view.getUint32(20),
        set,
      });
    }
    try {
      send.call(this, data);
    } catch (error) {
      sendErrors.push(`${(error as Error)?.name}: ${(error as Error)?.message}`.slice(0, 200));
      throw error;
    }
  };
}

/** Per file, from the recorded frames: payload bytes on each set of connections, and bytes sent more than once. */
export interface FileSends {
  first: number;
  second: number;
  /** Bytes of the file covered by at least one frame. */
  unique: number;
  /** `first + second - unique`: bytes sent twice (or more), a NACK's resend on one set of connections included. */
  twice: number;
  /** Bytes sent on both sets of connections: what the resume sent again. */
  across: number;
  /** End of the highest byte sent on the first connections (0: none). */
  firstEnd: number;
  /** Lowest offset sent on the second connections (-1: none). */
  secondStart: number;
}

/** Bytes covered by at least one of `frames` (sorted by offset). */
function covered(frames: readonly SentFrame[]): number {
  let unique = 0;
  let end = 0;
  for (const f of frames) {
    const to = f.offset + f.length;
    if (to > end) {
      unique += to - Math.max(end, f.offset);
      end = to;
    }
  }
  return unique;
}

function fileSends(all: SentFrame[], files: number): FileSends[] {
  return Array.from({ length: files }, (_, i) => {
    const mine = all.filter((f) => f.file === i).sort((a, b) => a.offset - b.offset);
    const unique = covered(mine);
    const across = covered(mine.filter((f) => f.set === 'first')) + covered(mine.filter((f) => f.set === 'second')) - unique;
    const sum = (set: SentFrame['set']) => mine.filter((f) => f.set === set).reduce((n, f) => n + f.length, 0);
    const first = sum('first');
    const second = sum('second');
    const firstEnd = mine.filter((f) => f.set === 'first').reduce((n, f) => Math.max(n, f.offset + f.length), 0);
    const secondStart = mine.find((f) => f.set === 'second')?.offset ?? -1;
    return { first, second, unique, twice: first + second - unique, across, firstEnd, secondStart };
  });
}

/** How one side's session went. */
export interface SideResult {
  outcome: 'completed' | 'error' | 'timeout';
  error?: { name: string; message: string; code?: string };
  /** Event counts by type. */
  events: Record<string, number>;
  interrupted: { reason: string; code: string; attempt: number; atMs: number }[];
  resumed: { attempt: number; atMs: number }[];
  /** `file-started`, in order; `afterResume` once a `resumed` was seen. */
  starts: { index: number; name: string; from: number; afterResume: boolean }[];
  /** `completed.files`: name, size and SHA-256 as the library reports them. */
  completed?: { index: number; name: string; size: number; sha256: string }[];
  /** Receiver: WebCrypto SHA-256 of each completed file's result (what the target finished with). */
  resultSha256?: string[];
  retransmittedBytes?: number;
  ms: number;
}

/** Records one side's events; resolves when it ends or after `timeoutMs` (then unsubscribes). */
function watch(session$: SessionObservable, timeoutMs: number, onEvent?: (e: SessionEvent) => void): { result: SideResult; ended: Promise<SideResult> } {
  const started = performance.now();
  const result: SideResult = { outcome: 'timeout', events: {}, interrupted: [], resumed: [], starts: [], ms: 0 };
  let completed: Extract<SessionEvent, { type: 'completed' }> | undefined;
  const ended = new Promise<SideResult>((resolve) => {
    // Owns the session's subscription (added below), so an end during `subscribe` still tears it down.
    const sub = new Subscription();
    const end = (outcome: SideResult['outcome']): void => {
      clearTimeout(timer);
      result.outcome = outcome;
      result.ms = performance.now() - started;
      sub.unsubscribe();
      resolve(result);
    };
    const timer = setTimeout(() => end('timeout'), timeoutMs);
    sub.add(session$.subscribe({
      next: (e) => {
        result.events[e.type] = (result.events[e.type] ?? 0) + 1;
        const atMs = performance.now() - started;
        if (e.type === 'interrupted') result.interrupted.push({ reason: e.reason, code: e.code, attempt: e.attempt, atMs });
        else if (e.type === 'resumed') result.resumed.push({ attempt: e.attempt, atMs });
        else if (e.type === 'file-started') result.starts.push({ index: e.manifest.index, name: e.manifest.name, from: e.from, afterResume: result.resumed.length > 0 });
        else if (e.type === 'completed') {
          completed = e;
          result.completed = e.files.map((f) => ({ index: f.manifest.index, name: f.manifest.name, size: f.manifest.size, sha256: f.sha256 }));
          result.retransmittedBytes = e.retransmittedBytes;
        }
        onEvent?.(e);
      },
      error: (error: unknown) => {
        const e = error as { name?: string; message?: string; code?: string };
        result.error = { name: String(e?.name), message: String(e?.message).slice(0, 500), code: e?.code };
        end('error');
      },
      complete: () => end('completed'),
    }));
  });
  return {
    result,
    ended: ended.then(async (r) => {
      if (completed) r.resultSha256 = await Promise.all(completed.files.map((f) => (f.result instanceof Uint8Array ? subtleHex(f.result as Uint8Array<ArrayBuffer>) : Promise.resolve(''))));
      return r;
    }),
  };
}

/** The receiving target, kept for `receiveResult`. */
let target: ResumableMemoryTarget | undefined;

/** Options of both sides. */
export interface SideOptions {
  /** This page's ends of the first and the second connections (lanes, in the same order on both pages). */
  first: string[];
  second: string[];
  /** Give-up time for this side, ms. */
  timeoutMs: number;
  /** How long either side waits for `reconnect`, ms. */
  interruptionGraceMs: number;
}

/** Subscribes `receiveFiles` on the first connections, into a fresh resumable target; returns at once. */
export function startReceiving(options: SideOptions): void {
  const { first, second, timeoutMs, interruptionGraceMs } = options;
  target = resumableMemoryTarget();
  const session$ = receiveFiles(first.map(peer), { target, reconnect: reconnectVia('receiver', second.map(peer)), interruptionGraceMs, progressIntervalMs: 20 });
  receiving = watch(session$, timeoutMs).ended;
  receiving.catch(() => undefined);
}

/** What the receiving page saw. */
export interface ReceiveResult extends SideResult {
  /** Per file the target held, by name: `open()` froms, aborts, bytes held, and the WebCrypto SHA-256 of its buffer. */
  held: Record<string, { opens: number[]; aborts: string[]; finishes: number; persisted: number; sha256: string }>;
}

/** Waits for the receive started by {@link startReceiving}. */
export async function receiveResult(): Promise<ReceiveResult> {
  if (!receiving || !target) throw new Error('startReceiving was not called');
  const side = await receiving;
  const held: ReceiveResult['held'] = {};
  for (const [key, f] of target.files) {
    held[key.split('\u0000')[0]] = { opens: f.opens, aborts: f.aborts, finishes: f.finishes, persisted: f.persisted, sha256: await subtleHex(f.buffer.slice(0, f.persisted)) };
  }
  receiving = undefined;
  target = undefined;
  return { ...side, held };
}

/** One file of the session: `patternBytes(size, seed)`. */
export interface FileSpec {
  name: string;
  size: number;
  seed: number;
}

/** What the sending page saw. */
export interface SendResult extends SideResult {
  /** WebCrypto SHA-256 of each source file. */
  sourceSha256: string[];
  /**
   * When the first connections were closed (-1: never): confirmed and sent bytes of the session, and what
   * Chromium still held in the data channels' send queues (`bufferedAmount`, frame headers included).
   */
  cut: { confirmed: number; sent: number; queued: number; atMs: number };
  /** Per file: payload bytes on each set of connections, and sent twice. */
  sends: FileSends[];
  sendErrors: string[];
}

/**
 * Sends `files` (Files built from `patternBytes`) over the first connections; closes them all once `cutAt`
 * bytes are confirmed; goes on over the second after the hand-over. The receiver must already listen.
 */
export async function send(options: SideOptions & { files: FileSpec[]; window: number; cutAt: number; transferId: number }): Promise<SendResult> {
  const { first, second, timeoutMs, interruptionGraceMs, window, cutAt, transferId } = options;
  const inputs = options.files.map((f, i) => new File([patternBytes(f.size, f.seed)], f.name, { type: 'application/x-tallow-test', lastModified: 1_700_000_000_000 + i }));
  const sourceSha256 = await Promise.all(inputs.map(async (f) => subtleHex(new Uint8Array(await f.arrayBuffer()))));
  wrapChannels();
  first.forEach((k) => connectionSet.set(peer(k), 'first'));
  second.forEach((k) => connectionSet.set(peer(k), 'second'));
  frames = [];
  sendErrors = [];
  recordedSession = transferId;
  const cut = { confirmed: -1, sent: -1, queued: -1, atMs: -1 };
  const queued = () => first.flatMap((k) => peerChannels.get(peer(k)) ?? []).reduce((n, ch) => n + (ch.label === 'tallow-control' ? 0 : ch.bufferedAmount), 0);
  const started = performance.now();
  const session$ = sendFiles(first.map(peer), inputs, {
    window,
    transferId,
    interruptionGraceMs,
    // An unanswered offer on the second connections fails in seconds, not the default 120 s.
    acceptTimeoutMs: 10_000,
    progressIntervalMs: 20,
    // No lanes opened in band: `auto` given one connection may open some with the page's RTCPeerConnection,
    // which the byte accounting here (per set of the test's own connections) would not see, and which the
    // cut (closing the test's connections) would not close.
    inbandLanes: 0,
    reconnect: reconnectVia('sender', second.map(peer)),
  });
  const { ended } = watch(session$, timeoutMs, (e) => {
    if (cut.confirmed < 0 && e.type === 'progress' && e.bytes >= cutAt) {
      Object.assign(cut, { confirmed: e.bytes, sent: e.sent ?? -1, queued: queued(), atMs: performance.now() - started });
      closePeers(first);
      notify({ kind: 'cut', confirmed: cut.confirmed, sent: cut.sent });
    }
  });
  const side = await ended;
  const sends = fileSends(frames, inputs.length);
  frames = undefined;
  return { ...side, sourceSha256, cut, sends, sendErrors: [...sendErrors] };
}

/** Closes every peer connection and socket of this page. */
export function closeAll(): void {
  peers.forEach((pc) => pc.close());
  sockets.forEach((s) => s.close());
  peers.clear();
  sockets.clear();
  connectionSet.clear();
  handOverTo = undefined;
}
