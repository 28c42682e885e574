/**
 * Runs one {@link TransferCase} in virtual time: `receiveFile` and `sendFile`
 * over fresh virtual links with the case's faults, all on one TestScheduler
 * inside `TestScheduler.run()`, until both sides end or the virtual deadline
 * passes. Returns what each side did, the bytes the target holds, the faults
 * that really happened, and whether every channel was closed and every timer
 * gone afterwards. The outcome depends only on the case (the faults come from
 * seeded PRNGs, the timers from the virtual clock), never on how busy the
 * machine is. No assertions here: {@link checkTransferCase} judges it.
 */
import type { Observer, Subscription } from 'rxjs';
import { receiveFile, sendFile, TallowError, type ReceiveOptions, type SendOptions, type TransferEvent } from '../../src/index';
import { FRAME_HEADER_SIZE } from '../../src/protocol';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import { createVirtualLink, type VirtualDataChannel, type VirtualLink } from '../../src/testing';
import { memoryTarget } from './memoryTarget';
import { tamperingPeer } from './tamperingPeer';
import { lanesOf, MAX_CASE_SIZE, type TransferCase } from './transferCase';
import { inVirtualTime } from './virtualClock';
import { deterministicBytes } from '../helpers/bytes';
import { sha256Hex as sha256 } from '../helpers/sha256';

type Completed = Extract<TransferEvent, { type: 'completed' }>;

/** How one side ended. */
export type SideEnd =
  | { readonly kind: 'completed'; readonly event: Completed }
  | { readonly kind: 'error'; readonly error: unknown }
  /** Completed without a `completed` event (must not happen). */
  | { readonly kind: 'empty' }
  /** Neither completed nor errored by the virtual deadline. */
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
  /** Scheduled actions (timers) of the transfer still alive after the cleanup wait. */
  readonly timersLeft: number;
  /** Virtual time at which the second side ended, ms (`undefined`: not by the deadline). */
  readonly endedAt: number | undefined;
  /** Virtual ms from the second side's end until the last channel of the transfer closed (`undefined`: not within the cleanup wait). */
  readonly closedAfter: number | undefined;
  /** Wall-clock time of the case, ms (reported, never asserted). */
  readonly ms: number;
}

/** Timing knobs of {@link runTransferCase}, all in virtual ms. */
export interface RunConfig {
  /** A case that has not ended by this virtual time is a hang. Default 30 000 ms (ten idle timeouts). */
  readonly deadline?: number;
  /** Both sides' idle timeout: a dead peer is detected this fast; it must exceed the reliable-mode gap repair (a NACK 500-750 ms after `done`). Default 3000 ms. */
  readonly idleTimeout?: number;
  /**
   * How long after both sides ended every channel must be closed, and every timer gone. Default 6000 ms: a
   * receiver that sent `complete` waits up to 5 s for the sender to close first (closeAfterPeer).
   */
  readonly cleanupWait?: number;
}


/** One random buffer; each case sends a prefix of it. */
let pool: Uint8Array | undefined;
const fileOf = (size: number): Uint8Array => {
  pool ??= deterministicBytes(MAX_CASE_SIZE, 0x7a11);
  return pool.slice(0, size);
};

/** True for the data channels of a transfer. */
export const isData = (ch: VirtualDataChannel): boolean => ch.label.startsWith('tallow-') && ch.label !== CONTROL_LABEL;

/** Chunk index of a data frame (header bytes 8-11). */
const indexOf = (data: unknown): number | undefined => {
  if (!(data instanceof ArrayBuffer) || data.byteLength < 12) return undefined;
  return new DataView(data).getUint32(8);
};

/** Runs the case in virtual time; returns once both sides ended (or the deadline passed) and the cleanup wait is over. */
export function runTransferCase(c: TransferCase, config: RunConfig = {}): CaseRun {
  const deadline = config.deadline ?? 30_000;
  const idleTimeout = config.idleTimeout ?? 3000;
  const cleanupWait = config.cleanupWait ?? 6000;
  const t0 = performance.now();
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
  let flipped = 0;
  const listeners: (() => void)[] = [];
  const subs: Subscription[] = [];

  const run = inVirtualTime((clock) => {
    const links: VirtualLink[] = Array.from({ length: c.connections }, (_, i) =>
      createVirtualLink({
        scheduler: clock.scheduler,
        seed: c.link.seed + i * 7919,
        bandwidth: c.link.bandwidth,
        delayMs: c.link.delayMs,
        jitterMs: c.link.jitterMs,
        reorder: c.link.reorder,
        duplicate: c.link.duplicate,
        lossRate: c.link.lossRate,
        corrupt: c.link.corrupt,
        faultFilter: (ch) => ch.label !== CONTROL_LABEL,
      }),
    );

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
      idleTimeoutMs: idleTimeout,
      scheduler: clock.scheduler,
      // Fixed, so a bandwidth-limited case keeps its exact timings (the id's digits are in every control message).
      transferId: 1,
    };
    const receive: ReceiveOptions = {
      target,
      idleTimeoutMs: idleTimeout,
      scheduler: clock.scheduler,
      ...(c.maxCorruptRetries === undefined ? {} : { maxCorruptRetries: c.maxCorruptRetries }),
    };
    // The payload bit flip: counts data frames across the sender's channels and flips one bit of frame `flip.frame`.
    let sentFrames = 0;
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

    let endedAt: number | undefined;
    const observe = (side: 'sender' | 'receiver', onEvent: (e: TransferEvent) => void): Partial<Observer<TransferEvent>> => {
      let completed: Completed | undefined;
      const end = (how: SideEnd) => {
        ends[side] = how;
        if (ends.sender.kind !== 'pending' && ends.receiver.kind !== 'pending') endedAt = clock.now();
      };
      return {
        next: (e) => {
          if (e.type === 'completed') completed = e;
          if (e.type === 'started') started[side] = e.from;
          onEvent(e);
        },
        error: (error) => end({ kind: 'error', error }),
        complete: () => {
          if (side === 'receiver' && completed) received = completed.result as Uint8Array;
          end(completed ? { kind: 'completed', event: completed } : { kind: 'empty' });
        },
      };
    };

    subs.push(receiveFile(b, receive).subscribe(observe('receiver', (e) => e.type === 'started' && watchFrames())));
    subs.push(sendFile(a, bytes, send).subscribe(observe('sender', () => undefined)));

    // Cleanup: both sides close every channel of the transfer by themselves, on every path, and stop every timer.
    const all = () => links.flatMap((l, lane) => [...l.a.channels.map((ch) => ({ lane, end: 'a', ch })), ...l.b.channels.map((ch) => ({ lane, end: 'b', ch }))]);
    const open = () => all().filter(({ ch }) => ch.readyState !== 'closed');
    clock.runUntil(() => endedAt !== undefined, deadline);
    // How each side stood at the deadline: a hang stays a hang, whatever the cleanup flush below would let happen.
    const final = { ...ends };
    // A hung case is torn down as an application would, by unsubscribing.
    if (endedAt === undefined) for (const sub of subs) sub.unsubscribe();
    const cleanupFrom = endedAt ?? clock.now();
    const closedAfter = clock.runUntil(() => open().length === 0, cleanupFrom + cleanupWait) ? clock.now() - cleanupFrom : undefined;
    // Timers that would still fire within the wait (a close grace, the last poll) may run out.
    clock.runTo(cleanupFrom + cleanupWait);
    const leftOpen = open().map(({ lane, end, ch }) => `${lane}/${end}/${ch.label}: ${ch.readyState}`);
    const timersLeft = clock.pending();

    for (const sub of subs) sub.unsubscribe();
    for (const off of listeners) off();
    const stats = links.map((l) => l.stats());
    for (const l of links) l.close();
    return { final, stats, leftOpen, timersLeft, endedAt, closedAfter };
  });

  const sum = (f: (s: (typeof run.stats)[number]) => number) => run.stats.reduce((n, s) => n + f(s), 0);
  return {
    sender: run.final.sender,
    receiver: run.final.receiver,
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
    leftOpen: run.leftOpen,
    timersLeft: run.timersLeft,
    endedAt: run.endedAt,
    closedAfter: run.closedAfter,
    ms: performance.now() - t0,
  };
}

/** Codes that name each cause. */
const CLOSED_CODES = ['ERR_CHANNEL_CLOSED'];
const CORRUPT_CODES = ['ERR_HASH_MISMATCH', 'ERR_FRAME_TOO_SHORT', 'ERR_FRAME_VERSION', 'ERR_FRAME_TYPE', 'ERR_FRAME_LENGTH', 'ERR_FRAME_VALUE', 'ERR_FRAME_HEADER'];

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
 * channel is closed, no timer is left, and the target was finished or aborted
 * exactly once.
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
  if (run.timersLeft) bad.push(`${run.timersLeft} timer(s) still scheduled after both sides ended and the cleanup wait`);
  return bad;
}
