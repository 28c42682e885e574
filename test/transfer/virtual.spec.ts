/**
 * sendFile / receiveFile end to end over virtual links (src/testing): every
 * size edge, 1 and 3 channels, reliable and unreliable, on lossless, jittery
 * and lossy links, with bit flips, over two lanes, and cancel / reject. In
 * virtual time: each test runs its links and both sides on one TestScheduler
 * inside `TestScheduler.run()` (test/properties/virtualClock.ts), so no
 * outcome depends on how busy the machine is, and a transfer that does not
 * end fails at a virtual deadline instead of hanging.
 */
import type { SchedulerLike } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import {
  InvalidConfigError,
  receiveFile,
  sendFile,
  TallowError,
  TransferCancelledError,
  TransferRejectedError,
  type ReceiveOptions,
  type ReceiveTarget,
  type SendOptions,
  type PeerConnectionLike,
  type TransferEvent,
} from '../../src/index';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import {
  createVirtualLink,
  mulberry32,
  type VirtualDataChannel,
  type VirtualLink,
  type VirtualLinkConfig,
  type VirtualPeer,
} from '../../src/testing';
import { inVirtualTime, record, type Recorded, type VirtualClock } from '../properties/virtualClock';
import { sha256Hex as sha256 } from '../helpers/sha256';

const MiB = 1024 * 1024;
type Completed = Extract<TransferEvent, { type: 'completed' }>;

/** Deterministic pseudo-random bytes (a different stream per size). */
const bytesOf = (size: number): Uint8Array => {
  const random = mulberry32(size + 17);
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, size >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = (random() * 0x1_0000_0000) >>> 0;
  for (let i = words.length * 4; i < size; i++) out[i] = (random() * 256) | 0;
  return out;
};
const cache = new Map<number, { bytes: Uint8Array; sha256: string }>();
const file = (size: number) => {
  let f = cache.get(size);
  if (!f) {
    const bytes = bytesOf(size);
    cache.set(size, (f = { bytes, sha256: sha256(bytes) }));
  }
  return f;
};

/** Faults hit only the data channels: the control channel is as trustworthy as a real DTLS/SCTP one. */
const dataOnly = (channel: VirtualDataChannel): boolean => channel.label !== CONTROL_LABEL;
const isData = (channel: VirtualDataChannel): boolean => channel.label.startsWith('tallow-') && channel.label !== CONTROL_LABEL;

/** A link on the clock's scheduler (a test's links live and die with its TestScheduler). */
const link = (clock: VirtualClock, config: VirtualLinkConfig = {}, seed = 1): VirtualLink =>
  createVirtualLink({ seed, faultFilter: dataOnly, ...config, scheduler: clock.scheduler });

/** Every transfer here ends well within this much virtual time (the idle timeouts are 30 s). */
const DEADLINE = 60_000;

/** Flushes until every recorded side has ended, failing the test at the virtual deadline. */
const untilEnded = (clock: VirtualClock, sides: Recorded[], deadline = DEADLINE) =>
  expect(clock.runUntil(() => sides.every((r) => r.ended), deadline), `every side ends within ${deadline} ms of virtual time`).toBe(true);

/** The events of a side that must have completed (its error, if any, fails the test). */
const eventsOf = (r: Recorded): TransferEvent[] => {
  expect(r.error).toBeUndefined();
  return r.events;
};

const completedOf = (events: TransferEvent[]): Completed | undefined => events.find((e): e is Completed => e.type === 'completed');

/** Runs one transfer over `lanes` (one virtual link per lane) and checks every byte and both digests. */
const transfer = async (
  size: number,
  config: VirtualLinkConfig,
  send: SendOptions,
  opts: { lanes?: number; receive?: ReceiveOptions } = {},
) => {
  const { bytes, sha256: expected } = file(size);
  const { ls, received, sent, pending } = inVirtualTime((clock) => {
    const { scheduler } = clock;
    const ls = Array.from({ length: opts.lanes ?? 1 }, (_, i) => link(clock, config, 1 + i));
    const a = ls.length === 1 ? ls[0].a : ls.map((l) => l.a);
    const b = ls.length === 1 ? ls[0].b : ls.map((l) => l.b);
    const r = record(receiveFile(b, { ...opts.receive, scheduler }));
    const s = record(sendFile(a, bytes, { name: `f-${size}.bin`, ...send, scheduler }));
    untilEnded(clock, [r, s]);
    return { ls, received: eventsOf(r), sent: eventsOf(s), pending: ls.map((l) => l.stats().messagesPending) };
  });
  const got = completedOf(received);
  const confirmed = completedOf(sent);
  expect(got, 'receiver completed').toBeDefined();
  expect(confirmed, 'sender completed').toBeDefined();
  // The default target's Blob is read after run(): its arrayBuffer() is a promise.
  const result = new Uint8Array(await (got!.result as Blob).arrayBuffer());
  expect(result.length).toBe(size);
  expect(sha256(result)).toBe(expected);
  expect(got!.sha256).toBe(expected);
  expect(confirmed!.sha256).toBe(expected);
  expect(got!.manifest.size).toBe(size);
  for (const [i, l] of ls.entries()) {
    // The receiver creates its data channels before `accept`, and the sender sends no frame before it.
    expect(l.stats().messagesUndeliverable).toBe(0);
    // Nothing was still in flight when both sides had ended.
    expect(pending[i]).toBe(0);
  }
  return { links: ls, sent, received };
};

/** Bytes sent on the data channels of a link (both directions). */
const dataBytes = (l: VirtualLink): number =>
  [...l.a.channels, ...l.b.channels].filter(isData).reduce((n, ch) => n + ch.stats.bytesSent, 0);

/** Messages sent on the data channels of a link (both directions). */
const dataMessages = (l: VirtualLink): number =>
  [...l.a.channels, ...l.b.channels].filter(isData).reduce((n, ch) => n + ch.stats.messagesSent, 0);

const SIZES = [0, 1, MiB + 7, 8 * MiB];
const NETWORKS: { name: string; config: VirtualLinkConfig; reliabilities: ('reliable' | 'unreliable')[] }[] = [
  { name: 'lossless', config: {}, reliabilities: ['reliable', 'unreliable'] },
  { name: 'delay 5 ms, jitter 2 ms, reorder 0.05', config: { delayMs: 5, jitterMs: 2, reorder: 0.05 }, reliabilities: ['reliable', 'unreliable'] },
  { name: 'delay 5, jitter 2, reorder 0.05, loss 0.02', config: { delayMs: 5, jitterMs: 2, reorder: 0.05, lossRate: 0.02 }, reliabilities: ['unreliable'] },
];

describe('sendFile → receiveFile over a virtual link', () => {
  describe.each(NETWORKS)('$name', ({ config, reliabilities }) => {
    const cases = SIZES.flatMap((size) => [1, 3].flatMap((channels) => reliabilities.map((reliability) => ({ size, channels, reliability }))));
    it.each(cases)('$size B, $channels channel(s), $reliability', async ({ size, channels, reliability }) => {
      const { links: [l] } = await transfer(size, config, { channels, lanes: 1, reliability });
      const used = l.a.channels.filter(isData);
      expect(used.map((ch) => [ch.negotiated, ch.maxRetransmits])).toEqual(
        Array.from({ length: channels }, () => [true, reliability === 'unreliable' ? 0 : null]),
      );
      if (size >= MiB) {
        expect(dataBytes(l)).toBeGreaterThanOrEqual(size);
        // Every channel carried frames.
        for (const ch of used) expect(ch.stats.messagesSent).toBeGreaterThan(0);
      }
      // With seed 1 the 8 MiB runs really lose frames (about 130 frames at 2%), so NACKs were exercised.
      if (config.lossRate && size === 8 * MiB) expect(l.stats().messagesDropped).toBeGreaterThan(0);
    });
  });

  describe('with bit flips on the data channels (corrupt 0.1): CRC-32 catches them, NACK brings them back', () => {
    // Fixed chunk sizes give many frames (64 per MiB at 16 KiB, 128 per 8 MiB at 64 KiB), so some are surely
    // hit. A chunk hit 4 times in a row would exhaust the default 3 re-requests, so allow 10. A flip that lands
    // in the 32-byte header is NOT repaired (see 'header bit flips' below): with seed 1 none does.
    it.each([
      { size: MiB + 7, chunk: 16 * 1024, channels: 1, reliability: 'reliable' as const, config: {} },
      { size: 8 * MiB, chunk: 64 * 1024, channels: 3, reliability: 'reliable' as const, config: { delayMs: 5, jitterMs: 2, reorder: 0.05 } },
      { size: MiB + 7, chunk: 16 * 1024, channels: 1, reliability: 'unreliable' as const, config: {} },
      { size: 8 * MiB, chunk: 64 * 1024, channels: 3, reliability: 'unreliable' as const, config: { delayMs: 5, jitterMs: 2, reorder: 0.05, lossRate: 0.02 } },
    ])('$size B in $chunk B chunks, $channels channel(s), $reliability, $config', async ({ size, chunk, channels, reliability, config }) => {
      const { links: [l] } = await transfer(
        size,
        { ...config, corrupt: 0.1 },
        { channels, lanes: 1, reliability, minChunk: chunk, maxChunk: chunk },
        { receive: { maxCorruptRetries: 10 } },
      );
      const s = l.stats();
      expect(s.messagesCorrupted).toBeGreaterThan(0);
      // Every corrupted frame was sent again: at least one extra frame per corruption.
      expect(dataMessages(l)).toBeGreaterThanOrEqual(Math.ceil(size / chunk) + s.messagesCorrupted);
    });
  });

  describe('header bit flips (one bit of one frame, flipped before the virtual channel)', () => {
    /** `peer`, except that data frame number `victim` leaves with bit 0 of header byte `byte` flipped. */
    const flipping = (peer: VirtualPeer, victim: number, byte: number): PeerConnectionLike => {
      let n = 0;
      return {
        sctp: peer.sctp,
        get connectionState() {
          return peer.connectionState;
        },
        addEventListener: (type, listener) => peer.addEventListener(type, listener),
        removeEventListener: (type, listener) => peer.removeEventListener(type, listener),
        close: () => peer.close(),
        createDataChannel: (label, init) => {
          const channel = peer.createDataChannel(label, init);
          if (label !== CONTROL_LABEL) {
            const send = channel.send.bind(channel);
            channel.send = (frame: Uint8Array) => {
              const copy = frame.slice();
              if (n++ === victim) copy[byte] ^= 1;
              send(copy);
            };
          }
          return channel;
        },
      };
    };

    /** Sends 1 MiB + 7 in 16 KiB chunks with frame 5 tampered; returns 'completed' or the first error, or 'stalled' when both sides have not ended after 3 s of virtual time. */
    const run = async (byte: number, reliability: 'reliable' | 'unreliable') => {
      const { bytes, sha256: expected } = file(MiB + 7);
      const { r, s } = inVirtualTime((clock) => {
        const { scheduler } = clock;
        const l = link(clock, { delayMs: 2 });
        const r = record(receiveFile(l.b, { scheduler }));
        const s = record(sendFile(flipping(l.a, 5, byte), bytes, { channels: 1, lanes: 1, reliability, minChunk: 16 * 1024, maxChunk: 16 * 1024, scheduler }));
        clock.runUntil(() => r.ended && s.ended, 3000);
        return { r, s };
      });
      if (!r.ended || !s.ended) return 'stalled';
      const err = (r.error ?? s.error) as { name?: string; code?: string } | undefined;
      if (err) return `${err.name} ${err.code}`;
      return sha256(new Uint8Array(await (completedOf(r.events)!.result as Blob).arrayBuffer())) === expected ? 'completed' : 'wrong bytes';
    };

    it.each([
      ['the CRC-32 field (byte 24)', 24, 'reliable'],
      ['the CRC-32 field (byte 24)', 24, 'unreliable'],
      ['the transfer id (byte 5)', 5, 'unreliable'],
    ] as const)('a flip in %s of a %s frame is repaired', async (_, byte, reliability) => {
      expect(await run(byte, reliability)).toBe('completed');
    });

    // A flipped header bit fails the header check: the frame is dropped, and the gap NACK (after `done`) brings it back.
    it.each([
      ['the version byte (0)', 0, 'reliable'],
      ['the chunk index (byte 9)', 9, 'reliable'],
      ['the offset (byte 18)', 18, 'unreliable'],
      ['the transfer id (byte 5)', 5, 'reliable'],
      ['the header check (byte 30)', 30, 'reliable'],
    ] as const)('a flip in %s of a %s frame is repaired', async (_, byte, reliability) => {
      expect(await run(byte, reliability)).toBe('completed');
    });
  });

  describe('over two lanes (two virtual links)', () => {
    it.each([
      { reliability: 'reliable' as const, config: {} },
      { reliability: 'reliable' as const, config: { delayMs: 5, jitterMs: 2, reorder: 0.05 } },
      { reliability: 'unreliable' as const, config: { delayMs: 5, jitterMs: 2, reorder: 0.05, lossRate: 0.02 } },
      { reliability: 'unreliable' as const, config: { corrupt: 0.05 } },
    ])('8 MiB, 3 channels, $reliability, $config', async ({ reliability, config }) => {
      const { links: ls, received } = await transfer(8 * MiB, config, { channels: 3, lanes: 2, reliability }, { lanes: 2 });
      expect(completedOf(received)!.manifest.lanes).toBe(2);
      // Channels 0 and 2 run on lane 0, channel 1 on lane 1; the control channel only on lane 0.
      expect(ls.map((l) => l.a.channels.filter(isData).map((ch) => ch.label))).toEqual([['tallow-0', 'tallow-2'], ['tallow-1']]);
      expect(ls[1].a.channels.some((ch) => ch.label === CONTROL_LABEL)).toBe(false);
      for (const l of ls) expect(dataBytes(l)).toBeGreaterThan(MiB);
    });

    it('auto (no lanes or channels given) uses every connection offered: 3 links, 3 lanes', async () => {
      const { links: ls, received } = await transfer(4 * MiB + 3, {}, {}, { lanes: 3 });
      expect(completedOf(received)!.manifest.lanes).toBe(3);
      for (const l of ls) expect(dataBytes(l)).toBeGreaterThan(512 * 1024);
    });

    it('unreliable over a fast and a slow lane: chunks still queued on the slow lane are not resent when NACKed', async () => {
      // No loss at all: every NACK comes from the slow lane delivering later indexes after the fast one. Before the
      // sender checked where its last copy was, each NACK queued another copy (every 100 ms), and on a real 40 ms,
      // 0.5 % loss link the duplicates starved the acks until the idle timeout (docs/benchmarks.md).
      const { bytes, sha256: expected } = file(4 * MiB);
      const { slow, received, sent } = inVirtualTime((clock) => {
        const { scheduler } = clock;
        const fast = link(clock, { bandwidth: 40 * MiB, delayMs: 2 }, 1);
        const slow = link(clock, { bandwidth: 1 * MiB, delayMs: 2 }, 2);
        const r = record(receiveFile([fast.b, slow.b], { scheduler }));
        const s = record(sendFile([fast.a, slow.a], bytes, { channels: 2, lanes: 2, reliability: 'unreliable', transferId: 1, scheduler }));
        untilEnded(clock, [r, s]);
        return { slow, received: eventsOf(r), sent: eventsOf(s) };
      });
      expect(completedOf(received)!.sha256).toBe(expected);
      const done = completedOf(sent)!;
      expect(dataBytes(slow)).toBeGreaterThan(0);
      // Measured in real time: 0 B resent with the check, 960 KiB (23 %) without it. In virtual time no event-loop
      // stall can delay an ack, so the allowance for them (10 % of the file) is gone: nothing is resent.
      expect(done.retransmittedBytes ?? 0).toBe(0);
    });

    it('1 channel over two connections uses one lane', async () => {
      const { links: ls } = await transfer(MiB + 7, {}, { channels: 1, lanes: 1 }, { lanes: 2 });
      expect(dataBytes(ls[1])).toBe(0);
    });
  });

  it('auto starts at the chunk size the probed RTT picks (2 ms: the largest), not at 64 KiB', () => {
    const rttReport = new Map<string, unknown>([
      ['t', { type: 'transport', id: 't', selectedCandidatePairId: 'cp', bytesSent: 0, bytesReceived: 0 }],
      ['cp', { type: 'candidate-pair', id: 'cp', state: 'succeeded', nominated: true, currentRoundTripTime: 0.002, bytesSent: 0, bytesReceived: 0 }],
    ]);
    const chunk = 262_144 - 32;
    const { bytes, sha256: expected } = file(4 * chunk);
    const { l, received } = inVirtualTime((clock) => {
      const { scheduler } = clock;
      const l = link(clock, { delayMs: 1 });
      // A browser's getStats() returns a promise, which never settles inside run(): this one returns a thenable
      // that answers at once (the probe and the stats poll both call `.then` directly), so the probe sees the RTT
      // before its 500 ms timer.
      Object.assign(l.a, { getStats: () => ({ then: (ok: (report: typeof rttReport) => void) => ok(rttReport) }) });
      const r = record(receiveFile(l.b, { scheduler }));
      const s = record(sendFile(l.a, bytes, { name: 'probe.bin', scheduler }));
      untilEnded(clock, [r, s]);
      return { l, received: eventsOf(r) };
    });
    expect(completedOf(received)!.sha256).toBe(expected);
    const sent = l.a.channels.filter(isData);
    expect(sent.reduce((n, ch) => n + ch.stats.messagesSent, 0)).toBe(4);
  });

  describe('sendBytesPerTask', () => {
    /** The most frame bytes the sender handed to send() within one scheduled action (one task), and the result. */
    const largestTask = (send: SendOptions) => {
      const { bytes, sha256: expected } = file(4 * MiB);
      return inVirtualTime((clock) => {
        // Every action of the links and both sides runs through this wrapper: each run is one task.
        let task = 0;
        const inner = clock.scheduler;
        const scheduler: SchedulerLike = {
          now: () => inner.now(),
          schedule: (work: any, delay?: number, state?: any) =>
            inner.schedule(function (this: any, x: any) {
              task++;
              work.call(this, x);
            }, delay, state),
        };
        const l = createVirtualLink({ seed: 1, delayMs: 2, scheduler });
        const perTask = new Map<number, number>();
        const create = l.a.createDataChannel.bind(l.a);
        l.a.createDataChannel = (label, init) => {
          const ch = create(label, init);
          const send = ch.send.bind(ch);
          if (label !== CONTROL_LABEL) {
            ch.send = (data: any) => {
              perTask.set(task, (perTask.get(task) ?? 0) + data.byteLength);
              send(data);
            };
          }
          return ch;
        };
        const r = record(receiveFile(l.b, { scheduler }));
        const s = record(sendFile(l.a, bytes, { name: 'tasks.bin', channels: 2, lanes: 1, ...send, scheduler }));
        untilEnded(clock, [r, s]);
        expect(completedOf(eventsOf(r))!.sha256).toBe(expected);
        expect(completedOf(eventsOf(s))!.sha256).toBe(expected);
        return Math.max(...perTask.values());
      });
    };

    it('one frame per task when set to 1 byte (a page defaults to 256 KiB), every byte still arrives', () => {
      expect(largestTask({ sendBytesPerTask: 1 })).toBeLessThanOrEqual(262_144);
    });

    it('without it (the default in Node: no limit) a task sends several frames', () => {
      expect(largestTask({})).toBeGreaterThan(262_144);
    });

    it('rejects 0, a negative number or NaN with InvalidConfigError', () => {
      for (const sendBytesPerTask of [0, -5, Number.NaN]) {
        const s = inVirtualTime((clock) => {
          const r = record(sendFile(link(clock).a, new Uint8Array(1), { sendBytesPerTask, scheduler: clock.scheduler }));
          untilEnded(clock, [r]);
          return r;
        });
        expect(s.error).toBeInstanceOf(InvalidConfigError);
        expect((s.error as InvalidConfigError).details).toEqual({ field: 'sendBytesPerTask', value: sendBytesPerTask });
      }
    });
  });

  it('a bad laneController option fails the send with InvalidConfigError naming the field (it threw, uncaught, once the receiver accepted)', () => {
    for (const laneController of [{ settleMs: -1 }, { rampShare: Number.NaN }, { startLanes: 1.5 }]) {
      const s = inVirtualTime((clock) => {
        const l = link(clock);
        record(receiveFile(l.b, { scheduler: clock.scheduler }));
        const r = record(sendFile(l.a, new Uint8Array(1), { laneController, scheduler: clock.scheduler }));
        untilEnded(clock, [r]);
        return r;
      });
      expect(s.error).toBeInstanceOf(InvalidConfigError);
      expect((s.error as InvalidConfigError).details.field).toBe(Object.keys(laneController)[0]);
    }
  });

  it('auto in a browser page (document exists) gives its one lane one channel; elsewhere the two of its profile', async () => {
    const elsewhere = await transfer(MiB + 7, {}, {});
    expect(completedOf(elsewhere.received)!.manifest).toMatchObject({ channels: 2, lanes: 1 });
    vi.stubGlobal('document', {});
    try {
      const page = await transfer(MiB + 7, {}, {});
      expect(completedOf(page.received)!.manifest).toMatchObject({ channels: 1, lanes: 1 });
      expect(page.links[0].a.channels.filter(isData)).toHaveLength(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('channels: 1 works with the default profile, whose lanes (2) exceed it', async () => {
    const { received } = await transfer(1000, {}, { channels: 1 });
    expect(completedOf(received)!.manifest.lanes).toBe(1);
  });
});

describe('cancel', () => {
  // The window (1 MiB ahead of the acks, acked every 256 KiB) paces 8 MiB over ~8 round trips of 20 ms, so
  // there is a middle to cancel in. The bandwidth stays unlimited: on a slow virtual link the `cancel` would
  // queue behind megabytes of frames and be discarded by the close 100 ms later (see the report / docs).
  const paced = { config: { delayMs: 10 }, send: { channels: 3, window: MiB }, receive: { ackEvery: 256 * 1024, progressIntervalMs: 10 } };

  /** Calls `fn` (once, outside the emitting call) when the receiver has verified and written some bytes. */
  const midway = (clock: VirtualClock, fn: () => void) => {
    let done = false;
    return (e: TransferEvent) => {
      if (!done && e.type === 'progress' && e.bytes > 0 && e.bytes < e.total) {
        done = true;
        clock.scheduler.schedule(fn);
      }
    };
  };

  it('unsubscribing the sender mid-transfer makes the receiver fail with TransferCancelledError (ERR_CANCELLED)', () => {
    const { sender, receiver } = inVirtualTime((clock) => {
      const { scheduler } = clock;
      const l = link(clock, paced.config);
      const sender = record(sendFile(l.a, file(8 * MiB).bytes, { ...paced.send, scheduler }));
      const receiver = record(receiveFile(l.b, { ...paced.receive, scheduler }), midway(clock, () => sender.subscription.unsubscribe()));
      untilEnded(clock, [receiver]);
      return { sender, receiver };
    });
    const err = receiver.error as TransferCancelledError;
    expect(err).toBeInstanceOf(TransferCancelledError);
    expect(err.code).toBe('ERR_CANCELLED');
    expect(err.details.by).toBe('remote');
    expect(completedOf(receiver.events)).toBeUndefined();
    expect(completedOf(sender.events)).toBeUndefined();
  });

  it('unsubscribing the receiver mid-transfer makes the sender fail with TransferCancelledError (ERR_CANCELLED)', () => {
    const { sender, receiver } = inVirtualTime((clock) => {
      const { scheduler } = clock;
      const l = link(clock, paced.config);
      const sender = record(sendFile(l.a, file(8 * MiB).bytes, { ...paced.send, scheduler }));
      const receiver = record(receiveFile(l.b, { ...paced.receive, scheduler }), midway(clock, () => receiver.subscription.unsubscribe()));
      untilEnded(clock, [sender]);
      return { sender, receiver };
    });
    const err = sender.error as TransferCancelledError;
    expect(err).toBeInstanceOf(TransferCancelledError);
    expect(err.code).toBe('ERR_CANCELLED');
    expect(err.details.by).toBe('remote');
    expect(completedOf(sender.events)).toBeUndefined();
    expect(completedOf(receiver.events)).toBeUndefined();
  });
});

describe('reject', () => {
  it('accept: () => false ends the sender with TransferRejectedError and the receiver with a rejected event, writing nothing', () => {
    let opened = 0;
    const target: ReceiveTarget = {
      open: () => {
        opened++;
        throw new Error('a rejected offer must not open the target');
      },
    };
    const offered: string[] = [];
    const { l, receiver, sender } = inVirtualTime((clock) => {
      const { scheduler } = clock;
      const l = link(clock, { delayMs: 2 });
      const accept = (m: { name: string }) => {
        offered.push(m.name);
        return false;
      };
      const receiver = record(receiveFile(l.b, { target, accept, scheduler }));
      const sender = record(sendFile(l.a, file(MiB + 7).bytes, { name: 'nope.bin', channels: 3, scheduler }));
      untilEnded(clock, [receiver, sender]);
      return { l, receiver, sender };
    });
    const err = sender.error as TransferRejectedError;
    expect(err).toBeInstanceOf(TransferRejectedError);
    expect(err.code).toBe('ERR_REJECTED');
    expect(eventsOf(receiver).map((e) => e.type)).toEqual(['offer', 'rejected']);
    expect(offered).toEqual(['nope.bin']);
    expect(opened).toBe(0);
    // No frame crossed, and the receiver never created its data channels.
    expect(dataBytes(l)).toBe(0);
    expect(l.b.channels.filter(isData)).toEqual([]);
  });
});

describe('progress under retransmission', () => {
  it('bytesDone and progress count each byte once; retransmissions are reported apart', async () => {
    const size = 4 * MiB;
    const { sent, received, links } = await transfer(size, { delayMs: 2, lossRate: 0.1, seed: 7 }, { channels: 2, reliability: 'unreliable', sampleIntervalMs: 50 }, { receive: { sampleIntervalMs: 50 } });
    const done = completedOf(sent)!;
    expect(links[0].stats().messagesDropped).toBeGreaterThan(0);
    expect(done.retransmittedBytes).toBeGreaterThan(0);
    for (const events of [sent, received]) {
      const stats = events.filter((e) => e.type === 'stats').map((e) => (e as Extract<TransferEvent, { type: 'stats' }>).stats);
      expect(stats.length).toBeGreaterThan(0);
      expect(Math.max(...stats.map((s) => s.bytesDone))).toBe(size);
      const progress = events.filter((e) => e.type === 'progress').map((e) => (e as Extract<TransferEvent, { type: 'progress' }>).bytes);
      expect(Math.max(...progress)).toBe(size);
    }
  });
});

describe('a sender nobody answers', () => {
  it('fails with IdleTimeoutError after acceptTimeout instead of waiting forever', () => {
    const { sender, endedAt } = inVirtualTime((clock) => {
      const l = link(clock, {});
      const sender = record(sendFile(l.a, new Uint8Array(10), { acceptTimeoutMs: 200, scheduler: clock.scheduler }));
      untilEnded(clock, [sender]);
      return { sender, endedAt: clock.now() };
    });
    const err = sender.error as TallowError;
    expect(err).toBeInstanceOf(TallowError);
    expect(err.code).toBe('ERR_IDLE_TIMEOUT');
    expect(err.details).toMatchObject({ side: 'sender', waitingFor: 'accept' });
    // Exactly at acceptTimeout.
    expect(endedAt).toBe(200);
  });
});

describe('a control channel that dies at birth', () => {
  it('is replaced by the sender, and the receiver listens again', () => {
    let killed = 0;
    const { bytes, sha256: expected } = file(300_000);
    const { received, sent } = inVirtualTime((clock) => {
      const { scheduler } = clock;
      const l = link(clock, { delayMs: 1 });
      // The first tallow-control channel closes the moment it is created, as fresh node-datachannel channels sometimes do.
      const a = dyingControlPeer(l.a, () => killed++ === 0);
      const r = record(receiveFile(l.b, { scheduler }));
      const s = record(sendFile(a, bytes, { channels: 2, scheduler }));
      untilEnded(clock, [r, s]);
      return { received: eventsOf(r), sent: eventsOf(s) };
    });
    expect(killed).toBe(2);
    expect(completedOf(sent)!.sha256).toBe(expected);
    expect(completedOf(received)!.sha256).toBe(expected);
  });
});

/** Wraps a peer so that `dies()` decides whether each new control channel closes at birth. */
function dyingControlPeer(peer: VirtualPeer, dies: () => boolean): PeerConnectionLike {
  return {
    sctp: peer.sctp,
    get connectionState() {
      return peer.connectionState;
    },
    addEventListener: (t, fn) => peer.addEventListener(t, fn),
    removeEventListener: (t, fn) => peer.removeEventListener(t, fn),
    close: () => peer.close(),
    createDataChannel: (label, init) => {
      const ch = peer.createDataChannel(label, init);
      if (label === CONTROL_LABEL && dies()) ch.close();
      return ch;
    },
  };
}
