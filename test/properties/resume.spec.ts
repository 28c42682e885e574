/**
 * Promise: a receiver whose target already holds a verified prefix of the file
 * resumes there. Only the rest crosses the link, both sides start at `from`,
 * and the whole-file SHA-256 (prefix included) still decides success. Over
 * virtual links in virtual time (each transfer inside its own
 * `TestScheduler.run()`), with an in-memory target that keeps its bytes
 * between transfers.
 */
import { describe, expect, it } from 'vitest';
import {
  ChannelClosedError,
  HashMismatchError,
  receiveFile,
  sendFile,
  TransferCancelledError,
  type SendOptions,
  type TransferEvent,
} from '../../src/index';
import type { Reliability } from '../../src/protocol/control';
import { createVirtualLink, mulberry32, type VirtualLink, type VirtualLinkConfig } from '../../src/testing';
import { memoryTarget, type MemoryTarget } from './memoryTarget';
import { propsReport } from './propsParams';
import { isData } from './runTransferCase';
import { find, inVirtualTime, record } from './virtualClock';
import { sha256Hex as sha256 } from '../helpers/sha256';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 64 * KiB;
const SIZE = 3 * MiB + 5;
const NAME = 'resume.bin';
const LAST_MODIFIED = 1_700_000_000_000;
type Completed = Extract<TransferEvent, { type: 'completed' }>;
type Started = Extract<TransferEvent, { type: 'started' }>;

const file = (() => {
  const random = mulberry32(4242);
  const bytes = new Uint8Array(SIZE).map(() => (random() * 256) | 0);
  return { bytes, sha256: sha256(bytes) };
})();

/** Both sides must end within this much virtual time (the idle timeouts are 5 s). */
const DEADLINE = 30_000;

const sendOptions = (channels: number, reliability: Reliability) => ({
  name: NAME,
  lastModified: LAST_MODIFIED,
  channels,
  lanes: 1,
  reliability,
  minChunk: CHUNK,
  maxChunk: CHUNK,
  // Little in flight, so the cut lands mid-file: 256 KiB per channel before backpressure.
  high: 256 * KiB,
  low: 64 * KiB,
  idleTimeoutMs: 5000,
  // Fixed, so the 20 MB/s first transfer cuts at the same byte every run (the id's digits are in every control message).
  transferId: 1,
});

/** Lets a test arm the cut after the target exists (the cut needs the link, which each transfer creates). */
interface CutHook {
  onPersisted?: (total: number) => void;
}

/** A first transfer in virtual time, cut once the target holds half the file; returns both sides. */
const interrupted = (target: MemoryTarget, hook: CutHook, how: 'link.fail()' | 'sender unsubscribes') =>
  inVirtualTime((clock) => {
    const { scheduler } = clock;
    // 20 MB/s: a 64 KiB frame every ~3 ms, so the cut lands a few frames after half the file.
    const l = createVirtualLink({ delayMs: 1, bandwidth: 20_000_000, scheduler });
    let cut = false;
    hook.onPersisted = (total) => {
      if (cut || total < SIZE / 2) return;
      cut = true;
      if (how === 'link.fail()') l.fail();
      // Outside the receiver's emitting call, as an application would.
      else scheduler.schedule(() => sender.subscription.unsubscribe());
    };
    const receiver = record(receiveFile(l.b, { target, idleTimeoutMs: 5000, scheduler }));
    const sender = record(sendFile(l.a, file.bytes, { ...sendOptions(1, 'reliable'), scheduler }));
    const ended = clock.runUntil(() => receiver.ended && (how !== 'link.fail()' || sender.ended), DEADLINE);
    expect(ended, 'the first transfer ends within the virtual deadline').toBe(true);
    hook.onPersisted = undefined;
    l.close();
    return { receiver, sender, cut };
  });

/** One transfer in virtual time over a fresh link into `target`; both sides must end by the deadline. */
const transfer = (target: MemoryTarget, bytes: Uint8Array, send: SendOptions, config: VirtualLinkConfig = {}) =>
  inVirtualTime((clock) => {
    const { scheduler } = clock;
    const l = createVirtualLink({ delayMs: 1, ...config, scheduler });
    const receiver = record(receiveFile(l.b, { target, idleTimeoutMs: 5000, scheduler }));
    const sender = record(sendFile(l.a, bytes, { ...send, scheduler }));
    expect(clock.runUntil(() => receiver.ended && sender.ended, DEADLINE), 'both sides end within the virtual deadline').toBe(true);
    // The link is left open, so its counters can be read (the scheduler, and whatever it still holds, goes with it).
    return { receiver, sender, link: l };
  });

/** A second transfer of the file, with the same target. */
const resumed = (target: MemoryTarget, channels: number, reliability: Reliability, config: VirtualLinkConfig = {}) =>
  transfer(target, file.bytes, sendOptions(channels, reliability), config);

/** Payload and frames the sender put on the data channels of a link. */
const dataSent = (l: VirtualLink) => {
  const channels = l.a.channels.filter(isData);
  return { bytes: channels.reduce((n, ch) => n + ch.stats.bytesSent, 0), frames: channels.reduce((n, ch) => n + ch.stats.messagesSent, 0) };
};

describe('resume on the virtual link', () => {
  it.each([
    { how: 'link.fail()' as const, channels: 1, reliability: 'reliable' as const, config: {} },
    { how: 'sender unsubscribes' as const, channels: 2, reliability: 'reliable' as const, config: { jitterMs: 1, reorder: 0.1 } },
    { how: 'link.fail()' as const, channels: 3, reliability: 'unreliable' as const, config: { lossRate: 0.05, reorder: 0.1, duplicate: 0.05, seed: 3 } },
  ])('cut by $how, resumed over $channels $reliability channel(s) with $config: only the rest crosses, SHA-256 matches', ({ how, channels, reliability, config }) => {
    const hook: CutHook = {};
    const target = memoryTarget({ onPersisted: (n) => hook.onPersisted?.(n) });

    const first = interrupted(target, hook, how);
    expect(first.cut).toBe(true);
    expect(find(first.receiver.events, 'completed')).toBeUndefined();
    if (how === 'link.fail()') {
      expect(first.receiver.error).toBeInstanceOf(ChannelClosedError);
      expect(first.sender.error).toBeInstanceOf(ChannelClosedError);
    } else {
      expect(first.receiver.error).toBeInstanceOf(TransferCancelledError);
      expect((first.receiver.error as TransferCancelledError).details.by).toBe('remote');
    }
    const held = target.persisted;
    expect(held).toBeGreaterThanOrEqual(SIZE / 2);
    expect(held).toBeLessThan(SIZE);
    expect(held % CHUNK).toBe(0);
    expect(sha256(target.bytes())).toBe(sha256(file.bytes.subarray(0, held)));
    expect(target.aborts).toHaveLength(1);

    const second = resumed(target, channels, reliability, config);
    expect(second.receiver.error).toBeUndefined();
    expect(second.sender.error).toBeUndefined();
    // Both sides start where the target stopped.
    expect((find(second.receiver.events, 'started') as Started).from).toBe(held);
    expect((find(second.sender.events, 'started') as Started).from).toBe(held);
    expect(target.opens).toEqual([0, held]);
    // The whole file, prefix included, is what the SHA-256 covers.
    const got = find(second.receiver.events, 'completed') as Completed;
    const confirmed = find(second.sender.events, 'completed') as Completed;
    expect(sha256(got.result as Uint8Array)).toBe(file.sha256);
    expect(got.sha256).toBe(file.sha256);
    expect(confirmed.sha256).toBe(file.sha256);
    expect(target.finishes).toBe(1);
    // Only the rest crossed: every payload byte once (plus retransmissions of lost frames), and a 32-byte header per frame.
    const rest = SIZE - held;
    const data = dataSent(second.link);
    const retransmitted = confirmed.retransmittedBytes ?? 0;
    expect(data.bytes).toBe(rest + retransmitted + 32 * data.frames);
    if (!config.lossRate) expect(retransmitted).toBe(0);
    const s = second.link.stats();
    // Everything a → b (data and control) is the rest plus a little: far less than the file.
    expect(s.aToB.bytesSent).toBeGreaterThanOrEqual(rest);
    expect(s.aToB.bytesSent).toBeLessThan(rest + retransmitted + 32 * data.frames + 4 * KiB);
    expect(s.aToB.bytesSent).toBeLessThan(SIZE - SIZE / 4);
    if (propsReport()) {
      console.info(`resume (${how}, ${channels} ${reliability}): held ${held} of ${SIZE} B; second link a→b ${s.aToB.bytesSent} B = ${data.frames} frames (${data.bytes} B, ${retransmitted} B retransmitted) + control`);
    }
  });

  it('a target that holds the whole file resumes at the end: no data crosses, and the SHA-256 still decides', () => {
    const target = memoryTarget({ preload: { name: NAME, size: SIZE, lastModified: LAST_MODIFIED, bytes: file.bytes } });
    const { receiver, sender, link: l } = resumed(target, 2, 'reliable');
    expect(receiver.error).toBeUndefined();
    expect(sender.error).toBeUndefined();
    expect((find(receiver.events, 'started') as Started).from).toBe(SIZE);
    expect((find(sender.events, 'started') as Started).from).toBe(SIZE);
    expect((find(receiver.events, 'completed') as Completed).sha256).toBe(file.sha256);
    expect((find(sender.events, 'completed') as Completed).sha256).toBe(file.sha256);
    expect(dataSent(l).bytes).toBe(0);
  });

  it('a held prefix that is not the sender\'s file: the sender answers accept with restart, both start over from 0, and the right file completes', () => {
    const wrong = file.bytes.slice(0, MiB);
    wrong[1234] ^= 0x40;
    const target = memoryTarget({ preload: { name: NAME, size: SIZE, lastModified: LAST_MODIFIED, bytes: wrong } });
    const { receiver, sender, link: l } = resumed(target, 1, 'reliable');
    // The receiver offered its prefix (started from 1 MiB), was told to restart, discarded it and accepted from 0.
    expect(receiver.events.filter((e) => e.type === 'started').map((e) => (e as Started).from)).toEqual([MiB, 0]);
    expect(target.opens).toEqual([MiB, 0]);
    expect(target.aborts).toHaveLength(1);
    expect((target.aborts[0] as HashMismatchError).code).toBe('ERR_HASH_MISMATCH');
    // The sender started once, from 0, and both sides verified the real file.
    expect(sender.events.filter((e) => e.type === 'started').map((e) => (e as Started).from)).toEqual([0]);
    expect((find(receiver.events, 'completed') as Completed).sha256).toBe(file.sha256);
    expect((find(sender.events, 'completed') as Completed).sha256).toBe(file.sha256);
    expect(sha256(target.bytes())).toBe(file.sha256);
    expect(receiver.error).toBeUndefined();
    // The whole file crossed once: nothing of the wrong prefix was kept.
    expect(dataSent(l).bytes).toBeGreaterThanOrEqual(SIZE);
  });

  it('a sender whose accept carries a prefix digest that is not its own (Uint8Array inputs of one size, no mtime) never resumes it', () => {
    // Two different buffers of one size share the default name and have no lastModified: only the digest tells them apart.
    const other = new Uint8Array(SIZE).fill(7);
    const target = memoryTarget();
    const first = transfer(target, other, { channels: 1 });
    expect(find(first.receiver.events, 'completed')).toBeDefined();
    // Now a partial of `other` is held as if cut after 1 MiB; the next file has the same name and size.
    const name = find(first.receiver.events, 'offer')!.manifest.name;
    const partial = memoryTarget({ preload: { name, size: SIZE, bytes: other.slice(0, MiB) } });
    const { receiver, sender } = transfer(partial, file.bytes, { channels: 1 });
    const [r2, s2] = [receiver.events, sender.events];
    expect((find(r2, 'completed') as Completed).sha256).toBe(file.sha256);
    expect((find(s2, 'completed') as Completed).sha256).toBe(file.sha256);
    expect(sha256(partial.bytes())).toBe(file.sha256);
  });
});
