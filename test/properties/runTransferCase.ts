/**
 * Runs one {@link TransferCase}: `receiveFile` and `sendFile` over fresh
 * virtual links with the case's faults, until both sides end or the deadline
 * passes. Returns what each side did, the bytes the target holds, the faults
 * that really happened, and whether every channel was closed afterwards.
 * No assertions here: {@link checkTransferCase} judges the outcome.
 */
import { createHash } from 'node:crypto';
import type { Subscription } from 'rxjs';
import {
  CONTROL_LABEL,
  FRAME_HEADER_SIZE,
  receiveFile,
  sendFile,
  TallowError,
  type ReceiveOptions,
  type SendOptions,
  type TransferEvent,
} from '../../src/index';
import { createVirtualLink, mulberry32, type VirtualDataChannel, type VirtualLink } from '../../src/testing';
import { memoryTarget } from './memoryTarget';
import { tamperingPeer } from './tamperingPeer';
import { lanesOf, MAX_CASE_SIZE, type TransferCase } from './transferCase';

type Completed = Extract<TransferEvent, { type: 'completed' }>;

/** How one side ended. */
export type SideEnd =
  | { readonly kind: 'completed'; readonly event: Completed }
  | { readonly kind: 'error'; readonly error: unknown }
  /** Completed without a `completed` event (must not happen). */
  | { readonly kind: 'empty' }
  /** Neither completed nor errored before the deadline. */
  | { readonly kind: 'pending' };

/** Faults that really happened in one case, by kind. */
export interface FaultCounts {
  /** Frames lost on unreliable channels. */
  dropped: number;
  /** Extra copies delivered. */
  duplicated: number;
  /** Messages delivered with a bit flipped by the link (anywhere: header or payload). */
  corrupted: number;
  /** Frames sent with a payload bit flipped by the case's `flip`. */
  flipped: number;
  /** Data frames that arrived after a frame with a higher index (reordering, jitter, several channels). */
  reordered: number;
  /** Messages discarded because a channel or link closed. */
  discarded: number;
  /** Data channels closed by the case. */
  channelsClosed: number;
  /** Links failed by the case. */
  linksFailed: number;
}

/** What one case did. */
export interface CaseRun {
  readonly sender: SideEnd;
  readonly receiver: SideEnd;
  /** SHA-256 of the file sent. */
  readonly expected: string;
  /** The bytes `finish()` returned, when the receiver completed. */
  readonly received: Uint8Array | undefined;
  /** `from` of each side's `started` event. */
  readonly started: { readonly sender: number | undefined; readonly receiver: number | undefined };
  /** `finish()` and `abort()` calls on the target. */
  readonly target: { readonly finishes: number; readonly aborts: number };
  readonly faults: FaultCounts;
  /** Whether the cut fired. */
  readonly cutFired: boolean;
  /** Channels of the transfer not closed within the cleanup wait, as `lane/end/label: state`. */
  readonly leftOpen: string[];
  /** Wall-clock time of the case, ms (reported, never asserted). */
  readonly ms: number;
  /** The longest the event loop was late during the case, ms: a freeze of the whole process (a loaded machine), not of the transfer. */
  readonly maxLagMs: number;
}

/** Timing knobs of {@link runTransferCase}. */
export interface RunConfig {
  /** A case that has not ended after this long is a hang. Default 15000 ms. */
  readonly deadline?: number;
  /** Both sides' idle timeout: a dead peer is detected this fast; it must exceed the reliable-mode gap repair (a NACK 500-750 ms after `done`) with room for a loaded machine. Default 3000 ms. */
  readonly idleTimeout?: number;
  /** How long both sides may take to close every channel after they end. Default 1000 ms. */
  readonly cleanupWait?: number;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** One random buffer; each case sends a prefix of it. */
let pool: Uint8Array | undefined;
const fileOf = (size: number): Uint8Array => {
  if (!pool) {
    const random = mulberry32(0x7a11);
    pool = new Uint8Array(MAX_CASE_SIZE);
    const words = new Uint32Array(pool.buffer);
    for (let i = 0; i < words.length; i++) words[i] = (random() * 0x1_0000_0000) >>> 0;
  }
  return pool.slice(0, size);
};

/** True for the data channels of a transfer. */
export const isData = (ch: VirtualDataChannel): boolean => ch.label.startsWith('tallow-') && ch.label !== CONTROL_LABEL;

/** Chunk index of a data frame (header bytes 8-11). */
const indexOf = (data: unknown): number | undefined => {
  if (!(data instanceof ArrayBuffer) || data.byteLength < 12) return undefined;
  return new DataView(data).getUint32(8);
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs the case; resolves once both sides ended (or the deadline passed) and the cleanup wait is over. */
export async function runTransferCase(c: TransferCase, config: RunConfig = {}): Promise<CaseRun> {
  const deadline = config.deadline ?? 15_000;
  const idleTimeout = config.idleTimeout ?? 3000;
  const t0 = performance.now();
  // Event-loop lag: how late a 20 ms interval fires.
  let maxLagMs = 0;
  let lastTick = t0;
  const lagTimer = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - lastTick - 20);
    lastTick = now;
  }, 20);
  const links: VirtualLink[] = Array.from({ length: c.connections }, (_, i) =>
    createVirtualLink({
      seed: c.link.seed + i * 7919,
      bandwidth: c.link.bandwidth,
      delay: c.link.delay,
      jitter: c.link.jitter,
      reorder: c.link.reorder,
      duplicate: c.link.duplicate,
      loss: c.link.loss,
      corrupt: c.link.corrupt,
      faultFilter: (ch) => ch.label !== CONTROL_LABEL,
    }),
  );
  const lanes = lanesOf(c);
  const bytes = fileOf(c.size);
  const expected = sha256(bytes);
  const target = memoryTarget({ resume: false });
  const ends: { sender: SideEnd; receiver: SideEnd } = { sender: { kind: 'pending' }, receiver: { kind: 'pending' } };
  const started: { sender: number | undefined; receiver: number | undefined } = { sender: undefined, receiver: undefined };
  let received: Uint8Array | undefined;
  let reordered = 0;
  let cutFired = false;
  let channelsClosed = 0;
  let linksFailed = 0;
  const listeners: (() => void)[] = [];

  const fire = () => {
    if (cutFired || !c.cut) return;
    cutFired = true;
    if (c.cut.kind === 'fail-link') {
      links[c.cut.lane].fail();
      linksFailed++;
      return;
    }
    const label = `tallow-${c.cut.channel}`;
    const l = links[c.cut.channel % lanes];
    const ch = (c.cut.end === 'sender' ? l.a : l.b).channels.find((x) => x.label === label);
    if (ch && ch.readyState !== 'closed' && ch.readyState !== 'closing') {
      ch.close();
      channelsClosed++;
    }
  };

  /** At the receiver's `started`: count data frames (and out-of-order ones), and fire the cut at the chosen frame. */
  const watchFrames = () => {
    let frames = 0;
    let highest = -1;
    for (const l of links.slice(0, lanes)) {
      for (const ch of l.b.channels.filter(isData)) {
        const onMessage = (ev: { data: unknown }) => {
          const index = indexOf(ev.data);
          if (index !== undefined) {
            if (index < highest) reordered++;
            else highest = index;
          }
          frames++;
          if (c.cut && frames === c.cut.at) fire();
        };
        ch.addEventListener('message', onMessage);
        listeners.push(() => ch.removeEventListener('message', onMessage));
      }
    }
    if (c.cut && c.cut.at === 0) fire();
  };

  const send: SendOptions = {
    name: `case-${c.size}.bin`,
    channels: c.channels,
    lanes,
    reliability: c.reliability,
    ...(c.chunk ? { minChunk: c.chunk.min, maxChunk: c.chunk.max } : {}),
    idleTimeout,
  };
  const receive: ReceiveOptions = {
    target,
    idleTimeout,
    ...(c.maxCorruptRetries === undefined ? {} : { maxCorruptRetries: c.maxCorruptRetries }),
  };
  // The payload bit flip: counts data frames across the sender's channels and flips one bit of frame `flip.frame`.
  let sentFrames = 0;
  let flipped = 0;
  const flip = c.flip;
  const senders = flip
    ? links.map((l) =>
        tamperingPeer(l.a, (frame) => {
          if (sentFrames++ !== flip.frame || frame.byteLength <= FRAME_HEADER_SIZE) return frame;
          const copy = frame.slice();
          const payload = copy.byteLength - FRAME_HEADER_SIZE;
          copy[FRAME_HEADER_SIZE + Math.min(payload - 1, Math.floor(flip.at * payload))] ^= 1 << flip.bit;
          flipped++;
          return copy;
        }),
      )
    : links.map((l) => l.a);
  const a = c.connections === 1 ? senders[0] : senders;
  const b = c.connections === 1 ? links[0].b : links.map((l) => l.b);

  let settle!: () => void;
  const bothEnded = new Promise<void>((resolve) => (settle = resolve));
  const check = () => {
    if (ends.sender.kind !== 'pending' && ends.receiver.kind !== 'pending') settle();
  };
  const observe = (side: 'sender' | 'receiver', onEvent: (e: TransferEvent) => void): Partial<import('rxjs').Observer<TransferEvent>> => {
    let completed: Completed | undefined;
    return {
      next: (e) => {
        if (e.type === 'completed') completed = e;
        if (e.type === 'started') started[side] = e.from;
        onEvent(e);
      },
      error: (error) => {
        ends[side] = { kind: 'error', error };
        check();
      },
      complete: () => {
        ends[side] = completed ? { kind: 'completed', event: completed } : { kind: 'empty' };
        if (side === 'receiver' && completed) received = completed.result as Uint8Array;
        check();
      },
    };
  };

  const subs: Subscription[] = [];
  subs.push(receiveFile(b, receive).subscribe(observe('receiver', (e) => e.type === 'started' && watchFrames())));
  subs.push(sendFile(a, bytes, send).subscribe(observe('sender', () => undefined)));

  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([bothEnded, new Promise<void>((resolve) => (timer = setTimeout(resolve, deadline)))]);
  clearTimeout(timer);

  // Cleanup: both sides close every channel of the transfer by themselves, on every path.
  const cleanupWait = config.cleanupWait ?? 1000;
  const all = () => links.flatMap((l, lane) => [...l.a.channels.map((ch) => ({ lane, end: 'a', ch })), ...l.b.channels.map((ch) => ({ lane, end: 'b', ch }))]);
  const open = () => all().filter(({ ch }) => ch.readyState !== 'closed');
  const waitUntil = performance.now() + cleanupWait;
  while (open().length && performance.now() < waitUntil) await sleep(5);
  const leftOpen = open().map(({ lane, end, ch }) => `${lane}/${end}/${ch.label}: ${ch.readyState}`);

  clearInterval(lagTimer);
  for (const sub of subs) sub.unsubscribe();
  for (const off of listeners) off();
  const stats = links.map((l) => l.stats());
  for (const l of links) l.close();
  const sum = (f: (s: (typeof stats)[number]) => number) => stats.reduce((n, s) => n + f(s), 0);

  return {
    sender: ends.sender,
    receiver: ends.receiver,
    expected,
    received,
    started,
    target: { finishes: target.finishes, aborts: target.aborts.length },
    faults: {
      dropped: sum((s) => s.messagesDropped),
      duplicated: sum((s) => s.messagesDuplicated),
      corrupted: sum((s) => s.messagesCorrupted),
      flipped,
      reordered,
      discarded: sum((s) => s.messagesDiscarded),
      channelsClosed,
      linksFailed,
    },
    cutFired,
    leftOpen,
    ms: performance.now() - t0,
    maxLagMs,
  };
}

/** Codes that name each cause. */
const CLOSED_CODES = ['ERR_CHANNEL_CLOSED'];
const CORRUPT_CODES = ['ERR_HASH_MISMATCH', 'ERR_FRAME_TOO_SHORT', 'ERR_FRAME_VERSION', 'ERR_FRAME_TYPE', 'ERR_FRAME_LENGTH', 'ERR_FRAME_VALUE', 'ERR_FRAME_HEADER'];

/**
 * True when the outcome was decided by the whole process stalling (a loaded machine), not by the transfer:
 * - both idle timers fired while the event loop was late by at least half the idle timeout; or
 * - with no cut, the receiver completed with the right bytes and the sender failed with ERR_CHANNEL_CLOSED,
 *   while the event loop was late by 40 ms or more: the receiver closes its channels 50 ms after sending
 *   `complete` (receiveFile), and the virtual link discards what a closing channel has not delivered yet
 *   (browsers deliver it first; docs/testing.md), so a stall there loses `complete`.
 * Such a case says nothing about the transfer; the property runs it again once.
 */
export const stalled = (c: TransferCase, run: CaseRun, idleTimeout = 3000): boolean => {
  const code = (end: SideEnd) => (end.kind === 'error' && end.error instanceof TallowError ? end.error.code : undefined);
  if (run.maxLagMs >= idleTimeout / 2 && code(run.sender) === 'ERR_IDLE_TIMEOUT' && code(run.receiver) === 'ERR_IDLE_TIMEOUT') return true;
  return run.maxLagMs >= 40 && !run.cutFired && run.receiver.kind === 'completed' && code(run.sender) === 'ERR_CHANNEL_CLOSED';
};

/**
 * True when the receiver completed and the sender failed with ERR_CHANNEL_CLOSED because the case failed the
 * control link: `link.fail()` takes effect on the next tick, so frames delivered in the same tick may complete
 * the file, and the receiver's `complete` is then lost with the link. No protocol can avoid that; the receiver
 * holds the right bytes (checked) and the sender reports the cause.
 */
export const completeLost = (c: TransferCase, run: CaseRun): boolean =>
  run.receiver.kind === 'completed' &&
  run.sender.kind === 'error' &&
  run.cutFired &&
  c.cut?.kind === 'fail-link' &&
  c.cut.lane === 0 &&
  run.sender.error instanceof TallowError &&
  run.sender.error.code === 'ERR_CHANNEL_CLOSED';

/** A short description of how a side ended. */
export const describeEnd = (end: SideEnd): string => {
  if (end.kind !== 'error') return end.kind;
  const e = end.error as { name?: string; code?: string; message?: string };
  return `${e?.name ?? typeof e} ${e?.code ?? '(no code)'}: ${String(e?.message ?? e).slice(0, 160)}`;
};

/**
 * The property: the receiver ends with exactly the sent bytes (SHA-256 equal to
 * the source and to both `completed.sha256`), or both sides end with a typed
 * error whose code names a fault the case really injected. Never a success
 * with wrong bytes, never a hang, never an untyped error; and afterwards every
 * channel is closed and the target was finished or aborted exactly once.
 * Returns the violations (empty when the case holds).
 */
export function checkTransferCase(c: TransferCase, run: CaseRun): string[] {
  const bad: string[] = [];
  const { sender, receiver } = run;
  if (sender.kind === 'pending' || receiver.kind === 'pending') {
    bad.push(`hang: sender ${describeEnd(sender)}, receiver ${describeEnd(receiver)} at the deadline`);
    return bad;
  }
  if (sender.kind === 'empty' || receiver.kind === 'empty') bad.push(`completed without a completed event: sender ${sender.kind}, receiver ${receiver.kind}`);
  if (receiver.kind === 'completed') {
    const got = run.received ? sha256(run.received) : '(no bytes)';
    if (run.received?.length !== c.size) bad.push(`receiver completed with ${run.received?.length} B, expected ${c.size}`);
    if (got !== run.expected) bad.push(`receiver completed with wrong bytes: ${got} ≠ ${run.expected}`);
    if (receiver.event.sha256 !== run.expected) bad.push(`receiver completed.sha256 ${receiver.event.sha256} ≠ ${run.expected}`);
    if (run.target.finishes !== 1 || run.target.aborts !== 0) bad.push(`target: ${run.target.finishes} finish, ${run.target.aborts} abort after success`);
  }
  if (sender.kind === 'completed' && sender.event.sha256 !== run.expected) bad.push(`sender completed.sha256 ${sender.event.sha256} ≠ ${run.expected}`);
  if (sender.kind === 'completed' && receiver.kind !== 'completed') bad.push(`sender completed but the receiver: ${describeEnd(receiver)}`);
  if (receiver.kind === 'completed' && sender.kind !== 'completed' && !completeLost(c, run)) bad.push(`receiver completed but the sender: ${describeEnd(sender)}`);

  const allowed = [...(run.cutFired ? CLOSED_CODES : []), ...(run.faults.corrupted + run.faults.flipped > 0 ? CORRUPT_CODES : [])];
  for (const [side, end] of [['sender', sender], ['receiver', receiver]] as const) {
    if (end.kind !== 'error') continue;
    const e = end.error;
    if (!(e instanceof TallowError) || typeof e.code !== 'string' || !e.code) bad.push(`${side} failed with an untyped error: ${describeEnd(end)}`);
    else if (!allowed.includes(e.code)) bad.push(`${side} failed with ${e.code}, which names no injected fault (allowed: ${allowed.join(', ') || 'none'}): ${describeEnd(end)}`);
  }
  if (receiver.kind === 'error' && (run.target.finishes !== 0 || run.target.aborts !== 1)) {
    bad.push(`target: ${run.target.finishes} finish, ${run.target.aborts} abort after a failure`);
  }
  if (run.started.receiver !== undefined && run.started.receiver !== 0) bad.push(`receiver started at ${run.started.receiver}, expected 0`);
  if (run.leftOpen.length) bad.push(`channels left open after both sides ended: ${run.leftOpen.join(', ')}`);
  return bad;
}
