/**
 * The "done when" test: a file goes through the whole sender pipeline, over
 * three virtual data channels, through the whole receiver pipeline, and arrives
 * byte-identical. Everything runs in virtual time on a TestScheduler, so a
 * 10 MiB transfer over a slow, jittery link takes well under a second of wall
 * time and replays exactly (the link's PRNG is seeded).
 *
 * sender:   fromBytes(file, { demand }) → adaptiveChunk(rtt$) → encodeFrames
 *           → roundRobin(3 channels) → backpressure({ high, low, demand }) → sendToChannels()
 * receiver: merge(fromChannelMessages(remote) × 3) → decodeFrames → reorder({ end: total$ })
 *           → verifyHash({ expected }) → toBlob()
 */
import { map, merge, Observable, of, ReplaySubject, startWith, takeUntil, tap, timer, type SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, HashMismatchError, ReorderError } from '../../src/errors';
import { Demand } from '../../src/flow/Demand';
import { adaptiveChunk } from '../../src/operators/adaptiveChunk';
import { backpressure } from '../../src/operators/backpressure';
import { chooseChunkSize } from '../../src/operators/chooseChunkSize';
import { decodeFrames } from '../../src/operators/decodeFrames';
import { encodeFrames } from '../../src/operators/encodeFrames';
import { reorder } from '../../src/operators/reorder';
import { roundRobin } from '../../src/operators/roundRobin';
import { verifyHash } from '../../src/operators/verifyHash';
import { FRAME_HEADER_SIZE } from '../../src/protocol/frame';
import { sendToChannels } from '../../src/sinks/sendToChannels';
import { toBlob } from '../../src/sinks/toBlob';
import { fromBytes } from '../../src/sources/fromBytes';
import { fromChannelMessages } from '../../src/sources/fromChannelMessages';
import { createVirtualLink, type VirtualDataChannel, type VirtualLinkConfig } from '../../src/testing';
import { CHROME_MAX_MESSAGE_SIZE } from '../../src/types';
import { pattern } from '../helpers/marbles';
import { sha256Hex as sha256 } from '../helpers/sha256';

const MiB = 1024 * 1024;
const TRANSFER_ID = 0x7a11;
const MAX_MESSAGE_SIZE = CHROME_MAX_MESSAGE_SIZE;
/** Backpressure watermarks, small enough that a 10 MiB file must wait for the channels many times. */
const HIGH = 512 * 1024;
const LOW = 128 * 1024;
/** backpressure's default credit window is `high`. */
const WINDOW = HIGH;
const CHANNELS = 3;
/** What the sender may hold beyond what has drained onto the wire: every channel full plus one window of credit. */
const MEMORY_BOUND = CHANNELS * (HIGH + MAX_MESSAGE_SIZE) + WINDOW;
/** A transfer that has not finished by then (virtual ms) is stuck; the run stops instead of polling forever. */
const DEADLINE = 10 * 60_000;
/** RTT before and after the mid-transfer change, and when it happens (virtual ms). */
const FAST_RTT = 5;
const SLOW_RTT = 150;
const RTT_CHANGE_AT = 1000;

/** Payload size the adaptive policy picks for an RTT; the chunk-boundary sizes are derived from it. */
const chunkFor = (rttMs: number): number => chooseChunkSize({ rttMs }, { maxMessageSize: MAX_MESSAGE_SIZE });
const CHUNK = chunkFor(FAST_RTT);

const LINKS: ReadonlyArray<{ readonly name: string; readonly ordered: boolean; readonly config: VirtualLinkConfig }> = [
  { name: 'ordered lossless link', ordered: true, config: { bandwidth: 8 * MiB, delayMs: 2 } },
  {
    name: 'reordering, jittery link (unordered channels, 2 MiB/s)',
    ordered: false,
    config: { bandwidth: 2 * MiB, delayMs: 20, jitterMs: 15, reorder: 0.25, reorderDelayMs: 300, lossRate: 0.02, seed: 7 },
  },
];

const SIZES: ReadonlyArray<readonly [string, number]> = [
  ['0 B', 0],
  ['1 B', 1],
  ['chunk - 1', CHUNK - 1],
  ['chunk', CHUNK],
  ['chunk + 1', CHUNK + 1],
  ['10 MiB + 3 B', 10 * MiB + 3],
];


/** What one transfer produced, gathered while the scheduler ran. */
interface Outcome {
  blob?: Blob;
  receiverError?: unknown;
  senderError?: unknown;
  senderDone: boolean;
  /** Virtual time the sender's pipeline ended (completed, or erred). */
  senderEndAt?: number;
  /** Chunk count, as the sender announced it when its pipeline completed. */
  total?: number;
  /** Every chunk the sender cut: virtual time and payload size, in index order. */
  cut: Array<{ at: number; size: number }>;
  /** Chunk indexes in arrival order at the receiver (before `reorder`). */
  arrivals: number[];
  /** Bytes the source had emitted at virtual time 0. */
  readAtStart: number;
  /** Largest `read - drained` seen (see `heldBySender`). */
  maxHeld: number;
  /** Largest `bufferedAmount` seen on any one channel. */
  maxBuffered: number;
}

interface TransferOptions {
  readonly link: VirtualLinkConfig;
  readonly ordered: boolean;
  readonly rtt$: (scheduler: SchedulerLike) => Observable<number>;
  /** The digest the receiver expects. Default: the file's real SHA-256. */
  readonly expected?: string;
  /** Give the source a Demand (the real pipeline). `false` is the negative control for the memory bound. Default true. */
  readonly withDemand?: boolean;
  /** Close every sending channel at this virtual time (ms). Default: never. */
  readonly closeAllAtMs?: number;
  /** The receiver's `reorder({ gapTimeoutMs })`, as the README's pipeline has it. Default none. */
  readonly gapTimeoutMs?: number;
  /** Pass the channels to `backpressure({ channels })`, as the README's pipeline does. Default true. */
  readonly channelsToBackpressure?: boolean;
}

/**
 * Bytes the sender holds that have not yet drained onto the wire: read by the
 * source, minus the payload that has left the channels' send buffers. Drained
 * payload is counted low (every frame's header is subtracted, drained or not),
 * so the figure errs on the high side.
 */
const heldBySender = (read: number, channels: readonly VirtualDataChannel[]): number => {
  let drainedPayload = 0;
  for (const c of channels) {
    const { bytesSent, messagesSent } = c.stats;
    drainedPayload += bytesSent - c.bufferedAmount - messagesSent * FRAME_HEADER_SIZE;
  }
  return read - drainedPayload;
};

/** Runs one transfer of `file` to completion in virtual time and reports what happened. */
function transfer(file: Uint8Array, options: TransferOptions): Outcome {
  const out: Outcome = { senderDone: false, cut: [], arrivals: [], readAtStart: 0, maxHeld: 0, maxBuffered: 0 };
  const scheduler = new TestScheduler((a, e) => expect(a).toStrictEqual(e));
  scheduler.run(() => {
    const link = createVirtualLink({ ...options.link, scheduler });
    const [locals, remotes] = link.createChannels(CHANNELS, { ordered: options.ordered, label: 'data' });
    const deadline = timer(DEADLINE, scheduler);
    // The chunk count, sent once the sender's pipeline completes (the `done` control message in the real protocol).
    const total$ = new ReplaySubject<number>(1);

    // Receiver first: listeners must be attached before anything arrives.
    merge(...remotes.map((c) => fromChannelMessages(c)))
      .pipe(
        decodeFrames({ transferId: TRANSFER_ID }),
        tap((frame) => out.arrivals.push(frame.index)),
        reorder({ end: total$, scheduler, gapTimeoutMs: options.gapTimeoutMs }),
        verifyHash({ expected: options.expected ?? sha256(file) }),
        toBlob(),
        takeUntil(deadline),
      )
      .subscribe({ next: (blob) => (out.blob = blob), error: (err) => (out.receiverError = err) });

    const demand = options.withDemand === false ? undefined : new Demand();
    // The counting wrapper: every byte the source reads passes here.
    let read = 0;
    const source = fromBytes(file, { demand }).pipe(
      tap((piece) => {
        read += piece.length;
        if (scheduler.now() === 0) out.readAtStart = read;
        out.maxHeld = Math.max(out.maxHeld, heldBySender(read, locals));
      }),
    );
    let chunks = 0;
    source
      .pipe(
        adaptiveChunk(options.rtt$(scheduler), { maxMessageSize: MAX_MESSAGE_SIZE }),
        tap((chunk) => {
          chunks++;
          out.cut.push({ at: scheduler.now(), size: chunk.data.length });
        }),
        encodeFrames({ transferId: TRANSFER_ID }),
        roundRobin(locals, { high: HIGH }),
        backpressure({ high: HIGH, low: LOW, demand, maxMessageSize: MAX_MESSAGE_SIZE, scheduler, channels: options.channelsToBackpressure === false ? undefined : locals }),
        sendToChannels({ maxMessageSize: MAX_MESSAGE_SIZE }),
        tap(() => {
          for (const c of locals) out.maxBuffered = Math.max(out.maxBuffered, c.bufferedAmount);
        }),
        takeUntil(deadline),
      )
      .subscribe({
        error: (err) => {
          out.senderError = err;
          out.senderEndAt = scheduler.now();
        },
        complete: () => {
          out.senderEndAt = scheduler.now();
          out.senderDone = true;
          out.total = chunks;
          total$.next(chunks);
        },
      });
    if (options.closeAllAtMs !== undefined) scheduler.schedule(() => locals.forEach((c) => c.close()), options.closeAllAtMs);
  });
  return out;
}

const constantRtt = () => of(FAST_RTT);

/**
 * The README's receiver without an expected digest: the sender cuts the file into 262112 B chunks and every
 * channel closes at `closeAtMs`; the receiver is told the real chunk count at `countAtMs` (as a side channel
 * would, after the sender finished).
 */
function transferCut(file: Uint8Array, closeAtMs: number, countAtMs: number): { blob?: Blob; receiverError?: unknown } {
  const out: { blob?: Blob; receiverError?: unknown } = {};
  const scheduler = new TestScheduler((a, e) => expect(a).toStrictEqual(e));
  scheduler.run(() => {
    const link = createVirtualLink({ bandwidth: 1 * MiB, delayMs: 2, scheduler });
    const [locals, remotes] = link.createChannels(CHANNELS, { ordered: true, label: 'data' });
    const total$ = new ReplaySubject<number>(1);
    merge(...remotes.map((c) => fromChannelMessages(c)))
      .pipe(decodeFrames({ transferId: TRANSFER_ID }), reorder({ end: total$, scheduler }), verifyHash(), toBlob(), takeUntil(timer(DEADLINE, scheduler)))
      .subscribe({ next: (blob) => (out.blob = blob), error: (err) => (out.receiverError = err) });
    const demand = new Demand();
    fromBytes(file, { demand })
      .pipe(adaptiveChunk(constantRtt(), { maxMessageSize: MAX_MESSAGE_SIZE }), encodeFrames({ transferId: TRANSFER_ID }), roundRobin(locals, { high: HIGH }), backpressure({ high: HIGH, low: LOW, demand, scheduler, channels: locals }), sendToChannels())
      .subscribe({ error: () => undefined });
    scheduler.schedule(() => locals.forEach((c) => c.close()), closeAtMs);
    scheduler.schedule(() => total$.next(Math.ceil(file.length / CHUNK)), countAtMs);
  });
  return out;
}

/** 5 ms until `RTT_CHANGE_AT`, then 150 ms. */
const changingRtt = (scheduler: SchedulerLike) =>
  timer(RTT_CHANGE_AT, scheduler).pipe(
    map(() => SLOW_RTT),
    startWith(FAST_RTT),
  );

const bytesOf = async (blob: Blob | undefined): Promise<Uint8Array> => {
  expect(blob).toBeInstanceOf(Blob);
  return new Uint8Array(await blob!.arrayBuffer());
};

const isSorted = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1] <= x);

describe('integration: file → 3 virtual channels → file', () => {
  it('a count told after the channels completed decides: chunks missing are ERR_REORDER_GAP, not a shorter file (it completed with a truncated blob)', () => {
    // The receiver gets only what the link delivered before every channel closed; the count comes later.
    const file = pattern(4 * MiB, 5);
    const out = transferCut(file, 500, 2000);
    expect(out.blob).toBeUndefined();
    expect(out.receiverError).toBeInstanceOf(ReorderError);
    expect((out.receiverError as ReorderError).code).toBe('ERR_REORDER_GAP');
  });

  it('every channel closing between frames fails the sender with ChannelClosedError at once (with demand it waited until the deadline)', () => {
    // The README's pipeline passes its channels to backpressure: with them, the operator knows none is left.
    const file = pattern(4 * MiB, 3);
    const link = { bandwidth: 1 * MiB, delayMs: 2 };
    const out = transfer(file, { link, ordered: true, rtt$: constantRtt, closeAllAtMs: 500, gapTimeoutMs: 10_000 });
    expect(out.senderError).toBeInstanceOf(ChannelClosedError);
    // The receiver's channels completed with part of the file; the count never came: a typed error, no file.
    expect(out.blob).toBeUndefined();
    expect(out.receiverError).toBeInstanceOf(ReorderError);
    expect((out.receiverError as ReorderError).code).toBe('ERR_REORDER_TIMEOUT');
    expect((out.senderError as ChannelClosedError).message).toMatch(/every channel closed before the source completed|is closed/);
    expect(out.senderDone).toBe(false);
    expect(out.senderEndAt).toBeLessThanOrEqual(510); // the close event comes after the link delay
    // Without `channels` the operator cannot know the router has no other channel: the run waits until the
    // test's deadline ends it (takeUntil completes it).
    const blind = transfer(file, { link, ordered: true, rtt$: constantRtt, closeAllAtMs: 500, channelsToBackpressure: false });
    expect(blind.senderError).toBeUndefined();
    expect(blind.senderEndAt).toBe(DEADLINE);
  });

  it('derives the chunk-boundary sizes from the policy (262112 B at 5 ms, 32 KiB at 150 ms)', () => {
    expect(CHUNK).toBe(MAX_MESSAGE_SIZE - FRAME_HEADER_SIZE);
    expect(chunkFor(SLOW_RTT)).toBe(32 * 1024);
  });

  describe.each(LINKS)('over an $name', ({ ordered, config }) => {
    it.each(SIZES)('%s arrives byte-identical, verified, with the sender bounded by backpressure', async (_label, size) => {
      const file = pattern(size, size % 251);
      const out = transfer(file, { link: config, ordered, rtt$: constantRtt });

      expect(out.senderError).toBeUndefined();
      expect(out.receiverError).toBeUndefined();
      expect(out.senderDone).toBe(true);
      expect(out.total).toBe(Math.ceil(size / CHUNK));
      expect(out.cut.map((c) => c.size)).toStrictEqual(Array.from({ length: out.total! }, (_, i) => Math.min(CHUNK, size - i * CHUNK)));
      expect(out.arrivals.length).toBe(out.total);
      const received = await bytesOf(out.blob);
      expect(received.length).toBe(size);
      expect(Buffer.compare(received, file)).toBe(0);
      expect(out.maxHeld).toBeLessThanOrEqual(MEMORY_BOUND);
    });

    it('10 MiB + 3 B: backpressure really paused the source, and held memory stayed bounded', () => {
      const size = 10 * MiB + 3;
      const out = transfer(pattern(size), { link: config, ordered, rtt$: constantRtt });
      expect(out.senderError).toBeUndefined();
      expect(out.receiverError).toBeUndefined();
      // The source could not read the file in one go: it waited for credit...
      expect(out.readAtStart).toBeGreaterThan(0);
      expect(out.readAtStart).toBeLessThan(size);
      // ...because the channels filled up to the high-water mark...
      expect(out.maxBuffered).toBeGreaterThanOrEqual(HIGH);
      // ...and what it held never exceeded every channel full plus one window of credit.
      expect(out.maxHeld).toBeGreaterThan(HIGH);
      expect(out.maxHeld).toBeLessThanOrEqual(MEMORY_BOUND);
      expect(MEMORY_BOUND).toBeLessThan(size);
    });
  });

  it('the reordering link really reorders: 10 MiB arrives out of index order and is restored', async () => {
    const size = 10 * MiB + 3;
    const file = pattern(size, 3);
    const out = transfer(file, { link: LINKS[1].config, ordered: false, rtt$: constantRtt });
    expect(out.arrivals.length).toBe(Math.ceil(size / CHUNK));
    expect(isSorted(out.arrivals)).toBe(false);
    expect([...out.arrivals].sort((x, y) => x - y)).toStrictEqual(out.arrivals.map((_, i) => i));
    expect(Buffer.compare(await bytesOf(out.blob), file)).toBe(0);
  });

  it('negative control: without a Demand the source reads everything at once and the memory bound is exceeded', () => {
    const size = 10 * MiB + 3;
    const out = transfer(pattern(size), { link: LINKS[1].config, ordered: false, rtt$: constantRtt, withDemand: false });
    expect(out.readAtStart).toBe(size);
    expect(out.maxHeld).toBeGreaterThan(MEMORY_BOUND);
  });

  it('a wrong expected digest fails the receiver with HashMismatchError and emits no Blob', () => {
    const file = pattern(CHUNK + 1);
    const out = transfer(file, { link: LINKS[1].config, ordered: false, rtt$: constantRtt, expected: '0'.repeat(64) });
    expect(out.senderDone).toBe(true);
    expect(out.blob).toBeUndefined();
    expect(out.receiverError).toBeInstanceOf(HashMismatchError);
    expect((out.receiverError as HashMismatchError).actual).toBe(sha256(file));
  });

  describe.each(LINKS)('RTT 5 ms → 150 ms mid-transfer over an $name', ({ ordered, config }) => {
    it('cuts 262112 B chunks before the change and 32 KiB chunks after, and the file still arrives intact', async () => {
      const size = 10 * MiB + 3;
      const file = pattern(size, 11);
      // 2 MiB/s so the transfer is still running at the change on either link.
      const out = transfer(file, { link: { ...config, bandwidth: 2 * MiB }, ordered, rtt$: changingRtt });
      expect(out.senderError).toBeUndefined();
      expect(out.receiverError).toBeUndefined();

      const before = out.cut.filter((c) => c.at < RTT_CHANGE_AT);
      const after = out.cut.filter((c) => c.at >= RTT_CHANGE_AT);
      expect(before.length).toBeGreaterThan(0);
      expect(after.length).toBeGreaterThan(0);
      expect(before.every((c) => c.size === CHUNK)).toBe(true);
      // Every chunk cut after the change is 32 KiB, except the final remainder.
      expect(after.slice(0, -1).every((c) => c.size === chunkFor(SLOW_RTT))).toBe(true);
      expect(after[after.length - 1].size).toBeLessThanOrEqual(chunkFor(SLOW_RTT));
      expect(out.cut.reduce((n, c) => n + c.size, 0)).toBe(size);
      expect(out.total).toBe(out.cut.length);
      expect(Buffer.compare(await bytesOf(out.blob), file)).toBe(0);
    });
  });
});
