/**
 * Whole transfers in virtual time: `sendFile` and `receiveFile` over `createVirtualLink`, driven by
 * `TestScheduler.run()`, with their event timelines pinned as marbles. Nothing here waits on the wall
 * clock, so a loaded machine cannot change a result. Each timeline follows from the link (one-way
 * delay 10 ms unless noted) and the protocol: the offer reaches the receiver at 10 ms, which accepts
 * at once (`o` and `s` in one frame); the accept reaches the sender at 20 ms; and so on.
 */
import { catchError, filter, map, NEVER, concat, of, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { blobTarget, fromBytes, receiveFile, sendFile, type FileDescriptor, type ReceiveTarget, type TransferEvent } from '../../src/index';
import { createVirtualLink, type VirtualDataChannel, type VirtualLink, type VirtualLinkConfig } from '../../src/testing';
import { memoryTarget } from '../properties/memoryTarget';
import { pattern } from '../helpers/marbles';
import { sha256Hex } from '../limits/hostileSender';

const KiB = 1024;
const MiB = 1024 * KiB;
const FILE = pattern(MiB + 3);
const SHA = sha256Hex(FILE);
const dataOnly = (ch: VirtualDataChannel) => ch.label !== 'tallow-control';

/** Letters for the events that matter (progress and stats are left out). */
const V = { o: 'offer', s: 'started', c: 'completed', x: 'ERR_CANCELLED', i: 'ERR_IDLE_TIMEOUT', r: 'ERR_SOURCE_READ' };
const outline = (events$: Observable<TransferEvent>): Observable<string> =>
  events$.pipe(
    filter((e) => e.type !== 'progress' && e.type !== 'stats'),
    map((e) => {
      if (e.type === 'completed') expect(e.sha256).toBe(SHA);
      return e.type;
    }),
    catchError((err: { code: string }) => of(err.code)),
  );

/** A TestScheduler that compares with vitest; `run` gives the link config's scheduler for free (run mode). */
const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
/**
 * The link, and every transfer below, get the TestScheduler itself as `scheduler`. (Leaving them on the
 * default `asyncScheduler`, which run() virtualises through RxJS's timer providers, also works for short
 * transfers, but RxJS's run mode throws "Expected a due immediate or interval" once a periodic timer is
 * cleared after it repeated: pass the scheduler explicitly.)
 */
const link = (ts: TestScheduler, config: VirtualLinkConfig = {}) => createVirtualLink({ delayMs: 10, faultFilter: dataOnly, scheduler: ts, ...config });

describe('whole transfers under TestScheduler.run()', () => {
  it('clean: offer and accept at 10 ms, started at 20 ms, the receiver verifies at 30 ms and the sender hears it at 40 ms', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const l = link(ts);
      expectObservable(outline(receiveFile(l.b, { scheduler: ts }))).toBe('10ms (os) 16ms (c|)', V);
      expectObservable(outline(sendFile(l.a, FILE, { scheduler: ts, channels: 2 }))).toBe('20ms s 19ms (c|)', V);
    });
  });

  it('a 4 MB/s link: the 1 MiB file takes about 262 ms to cross, and completion moves out with it', () => {
    const done: Record<string, number> = {};
    const ts = scheduler();
    ts.run(() => {
      const l = link(ts, { bandwidth: 4_000_000 });
      receiveFile(l.b, { scheduler: ts }).subscribe((e) => e.type === 'completed' && (done.receiver = ts.now()));
      sendFile(l.a, FILE, { scheduler: ts, channels: 2, transferId: 1 }).subscribe((e) => e.type === 'completed' && (done.sender = ts.now()));
    });
    // Fractional times (bytes / bandwidth) are asserted with toBeCloseTo rather than in a marble string.
    expect(done.receiver).toBeCloseTo(292.32975, 6);
    expect(done.sender).toBeCloseTo(done.receiver + 10, 1);
  });

  it('a slow link (20 kB/s, slower than 1 MiB per idle timeout): acks come at least once a second while bytes arrive, so neither side idles out', () => {
    const done: string[] = [];
    const ts = scheduler();
    ts.run(() => {
      const l = link(ts, { bandwidth: 20_000 });
      const file = pattern(2 * MiB);
      receiveFile(l.b, { scheduler: ts }).subscribe({ next: (e) => e.type === 'completed' && done.push(`receiver ${Math.round(ts.now() / 1000)} s`), error: (e: { code: string }) => done.push(`receiver ${e.code}`) });
      sendFile(l.a, file, { scheduler: ts, channels: 1 }).subscribe({
        next: (e) => e.type === 'completed' && done.push(`sender ${Math.round(ts.now() / 1000)} s`),
        error: (e: { code: string }) => done.push(`sender ${e.code}`),
      });
    });
    // 2 MiB at 20 kB/s take about 105 s; with an ack per MiB alone the sender heard nothing for 52 s and
    // failed with ERR_IDLE_TIMEOUT at 30 s.
    expect(done).toEqual(['receiver 105 s', 'sender 105 s']);
  });

  it('loss + NACK (unreliable, 20 % of data messages lost): 7 lost, NACKed and resent; both sides verify at 300 / 310 ms', () => {
    let resent = -1;
    let l!: VirtualLink;
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      l = link(ts, { lossRate: 0.2, seed: 3 });
      expectObservable(outline(receiveFile(l.b, { scheduler: ts }))).toBe('10ms (os) 286ms (c|)', V);
      const sent$ = sendFile(l.a, FILE, { scheduler: ts, channels: 2, reliability: 'unreliable' });
      expectObservable(outline(sent$.pipe(tapCompleted((e) => (resent = e.retransmittedBytes ?? 0))))).toBe('20ms s 289ms (c|)', V);
    });
    expect(l.stats().aToB.messagesDropped).toBe(7);
    expect(resent).toBe(7 * 64 * KiB);
  });

  it('corruption (5 % of data messages get a bit flipped): CRC-32 catches it, the NACK brings each chunk back', () => {
    let resent = -1;
    let l!: VirtualLink;
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      l = link(ts, { corrupt: 0.05, seed: 3 });
      expectObservable(outline(receiveFile(l.b, { scheduler: ts }))).toBe('10ms (os) 136ms (c|)', V);
      const sent$ = sendFile(l.a, FILE, { scheduler: ts, channels: 2, transferId: 1 });
      expectObservable(outline(sent$.pipe(tapCompleted((e) => (resent = e.retransmittedBytes ?? 0))))).toBe('20ms s 139ms (c|)', V);
    });
    // The one corrupted chunk was sent again once (auto picked 128 KiB chunks for the 20 ms round trip), and nothing else.
    expect(l.stats().aToB.messagesCorrupted).toBe(1);
    expect(resent).toBe(128 * KiB);
  });

  it('reordering (30 % of data messages held back one round): reorder puts them back, nothing is resent', () => {
    let resent = -1;
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const l = link(ts, { reorder: 0.3, seed: 3 });
      expectObservable(outline(receiveFile(l.b, { scheduler: ts }))).toBe('10ms (os) 27ms (c|)', V);
      const sent$ = sendFile(l.a, FILE, { scheduler: ts, channels: 3, transferId: 1 });
      expectObservable(outline(sent$.pipe(tapCompleted((e) => (resent = e.retransmittedBytes ?? 0))))).toBe('20ms s 30ms (c|)', V);
    });
    expect(resent).toBe(0);
  });

  // A 256 KiB window paces the 1 MiB file over four round trips (acks every 64 KiB), so 45 ms is mid-transfer.
  const paced = { channels: 2, transferId: 1, window: 256 * KiB, maxChunk: 64 * KiB };

  it('cancel by the sender at 45 ms (mid-transfer): the receiver fails with ERR_CANCELLED 10 ms later', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const l = link(ts);
      expectObservable(outline(receiveFile(l.b, { scheduler: ts }))).toBe('10ms (os) 41ms (x|)', V);
      expectObservable(outline(sendFile(l.a, FILE, { ...paced, scheduler: ts })), '^ 44ms !').toBe('20ms s', V);
    });
  });

  it('cancel by the receiver at 45 ms: the sender fails with ERR_CANCELLED 10 ms later', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const l = link(ts);
      expectObservable(outline(receiveFile(l.b, { scheduler: ts })), '^ 44ms !').toBe('10ms (os)', V);
      expectObservable(outline(sendFile(l.a, FILE, { ...paced, scheduler: ts }))).toBe('20ms s 34ms (x|)', V);
    });
  });

  it('idle timeout: a source that stalls after 64 KiB → the receiver fails at idleTimeout after its last verified byte, the sender hears it', () => {
    const stalling: FileDescriptor = {
      name: 'stall.bin',
      size: FILE.length,
      type: '',
      seekable: false,
      read: ({ demand }) => concat(fromBytes(FILE.subarray(0, 64 * KiB), { demand }), NEVER),
    };
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const l = link(ts);
      expectObservable(outline(receiveFile(l.b, { scheduler: ts, idleTimeoutMs: 5000 }))).toBe('10ms (os) 4996ms (i|)', V);
      expectObservable(outline(sendFile(l.a, stalling, { scheduler: ts, channels: 1, transferId: 1 }))).toBe('20ms s 4999ms (i|)', V);
    });
  });

  it('resume: the receiver holds the first 512 KiB, proves them with accept.prefixSha256, and only the rest crosses', () => {
    const target = memoryTarget({ preload: { name: 'r.bin', size: FILE.length, lastModified: 1, bytes: FILE.subarray(0, 512 * KiB) } });
    const from: number[] = [];
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const l = link(ts);
      const froms = (o: Observable<TransferEvent>) => o.pipe(map((e) => (e.type === 'started' && from.push(e.from), e)));
      expectObservable(outline(froms(receiveFile(l.b, { scheduler: ts, target })))).toBe('10ms (os) 16ms (c|)', V);
      expectObservable(outline(froms(sendFile(l.a, FILE, { scheduler: ts, channels: 1, name: 'r.bin', lastModified: 1, transferId: 1 })))).toBe('20ms s 19ms (c|)', V);
    });
    expect(from).toEqual([512 * KiB, 512 * KiB]);
    expect(target.opens).toEqual([512 * KiB]);
    expect(sha256Hex(target.bytes())).toBe(SHA);
  });

  it('both directions at once on one link: two transfers cross, each completes on both sides', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const l = link(ts);
      expectObservable(outline(receiveFile(l.b, { scheduler: ts }))).toBe('10ms (os) 16ms (c|)', V);
      expectObservable(outline(receiveFile(l.a, { scheduler: ts }))).toBe('10ms (os) 16ms (c|)', V);
      expectObservable(outline(sendFile(l.a, FILE, { scheduler: ts, channels: 2, transferId: 1 }))).toBe('20ms s 19ms (c|)', V);
      expectObservable(outline(sendFile(l.b, FILE, { scheduler: ts, channels: 2, transferId: 2 }))).toBe('20ms s 19ms (c|)', V);
    });
  });

  it('a step that only a promise can take (an async target) cannot move in run(): the transfer fails fast with a typed error, in virtual time', () => {
    // run() flushes synchronously, so a promise never settles inside it: this target never opens.
    const asyncTarget: ReceiveTarget = { open: async (m) => blobTarget().open(m) };
    const started = Date.now();
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const l = link(ts);
      expectObservable(outline(receiveFile(l.b, { scheduler: ts, target: asyncTarget }))).toBe('10ms (os) 29996ms (i|)', V);
      expectObservable(outline(sendFile(l.a, FILE, { scheduler: ts, channels: 1, transferId: 1 }))).toBe('20ms s 29999ms (i|)', V);
    });
    // The receiver accepts before it opens the file's target, so both sides fail at the idle timeout: 30 s of
    // virtual time in well under a second of wall time, with no memory growth (the frames wait in a bounded buffer).
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

function tapCompleted(fn: (e: Extract<TransferEvent, { type: 'completed' }>) => void) {
  return (o: Observable<TransferEvent>) => o.pipe(map((e) => (e.type === 'completed' && fn(e), e)));
}
