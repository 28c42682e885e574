/**
 * Whole sessions in virtual time: `sendFiles` and `receiveFiles` over `createVirtualLink`, driven by
 * `TestScheduler.run()`, with their event timelines pinned as marbles. Nothing here waits on the wall
 * clock. The link's one-way delay is 10 ms: the offer (and its entries) reach the receiver at 10 ms, which
 * accepts at once; the accept reaches the sender at 20 ms; a file's frames and `done` reach the receiver
 * 10 ms after they leave, its `complete` comes back 10 ms after that.
 *
 * Letters: `o` offer, `s` started, `a` `b` `c` … file-started of file 0, 1, 2 …, `A` `B` `C` … its
 * file-completed, `z` completed, `x` ERR_CANCELLED, `t` ERR_IDLE_TIMEOUT (progress and stats are left out).
 */
import { catchError, concat, filter, map, NEVER, of, throwError, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { fromBytes, receiveFiles, sendFiles, type FileDescriptor, type Manifest, type SessionEvent } from '../../src/index';
import { parseControl, type ControlMessage } from '../../src/protocol/control';
import { createVirtualLink, type VirtualDataChannel, type VirtualLink, type VirtualLinkConfig } from '../../src/testing';
import { describeFile } from '../../src/transfer/fileInput';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import { pattern } from '../helpers/marbles';
import { sha256Hex } from '../helpers/sha256';
import { filesTarget } from '../transfer/fakeSessionSender';

const KiB = 1024;
const MiB = 1024 * KiB;
const FRAME_HEADER = 32;
const dataOnly = (ch: VirtualDataChannel) => ch.label !== CONTROL_LABEL;

/** A file to send: its name, its bytes, and the descriptor `sendFiles` reads (seekable, so it can resume). */
interface Source {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly desc: FileDescriptor;
}
const source = (name: string, bytes: Uint8Array): Source => ({ name, bytes, desc: describeFile(bytes, { name, lastModified: 1 }) });

/** Three files of different sizes, a zero-byte one in the middle; the third is in a folder and larger than the window below. */
const THREE = [source('a.bin', pattern(300_005, 1)), source('empty.txt', new Uint8Array(0)), source('c/d.bin', pattern(MiB + 3, 2))];

/** The event letters (see the header). */
const V = {
  o: 'offer',
  s: 'started',
  z: 'completed',
  x: 'ERR_CANCELLED',
  t: 'ERR_IDLE_TIMEOUT',
  ...Object.fromEntries([...'abcde'].map((l, i) => [l, `file-started ${i}`])),
  ...Object.fromEntries([...'ABCDE'].map((l, i) => [l, `file-completed ${i}`])),
};

/**
 * The events that matter as strings, checking every digest on the way: each file-completed carries its
 * file's SHA-256, and completed lists exactly `taken` (default: every file), in order, with theirs
 * (`anyOrder`: in any order). A failed check errors the stream with the assertion, shown in the diff.
 */
const outline =
  (files: readonly Source[], { taken = files.map((_, i) => i), anyOrder = false }: { taken?: readonly number[]; anyOrder?: boolean } = {}) =>
  (events$: Observable<SessionEvent>): Observable<string> =>
    events$.pipe(
      filter((e) => e.type !== 'progress' && e.type !== 'file-progress' && e.type !== 'stats'),
      map((e) => {
        if (e.type === 'file-completed') expect([e.manifest.name, e.sha256]).toEqual([files[e.manifest.index].name, sha256Hex(files[e.manifest.index].bytes)]);
        if (e.type === 'completed') {
          const listed = e.files.map((r) => [r.manifest.index, r.manifest.name, r.sha256] as const);
          if (anyOrder) listed.sort((x, y) => x[0] - y[0]);
          expect(listed).toEqual(taken.map((i) => [i, files[i].name, sha256Hex(files[i].bytes)]));
          expect(e.bytes).toBe(taken.reduce((n, i) => n + files[i].bytes.length, 0));
        }
        return e.type === 'file-started' || e.type === 'file-completed' ? `${e.type} ${e.manifest.index}` : e.type;
      }),
      catchError((err: { code?: string }) => (err.code ? of(err.code) : throwError(() => err))),
    );

/** Marble frames as one line each (`30 N file-completed 0`), so a failing timeline reads as a short diff. */
const lines = (frames: unknown): unknown =>
  Array.isArray(frames)
    ? frames.map((f: { frame: number; notification: { kind: string; value?: unknown; error?: unknown } }) =>
        f.notification ? `${f.frame} ${f.notification.kind} ${String(f.notification.value ?? f.notification.error ?? '')}`.trim() : f,
      )
    : frames;
const scheduler = () => new TestScheduler((actual, expected) => expect(lines(actual)).toEqual(lines(expected)));

/** What crossed the link from the sender (endpoint `a`), seen by a spy on the channels it creates. */
interface Wire {
  /** Payload bytes of data frames sent (retransmissions included). */
  payload(): number;
  /** Control messages the sender sent, and the ones it received (the receiver's), parsed. */
  readonly sent: ControlMessage[];
  readonly heard: ControlMessage[];
}

/**
 * A virtual link with a spy on endpoint `a`: every channel created there is recorded, the control channel's
 * traffic parsed; `onHeard` sees each of the receiver's messages as it reaches the sender, before the sender
 * does (the spy's listener is the channel's first).
 */
function link(ts: TestScheduler, config: VirtualLinkConfig = {}, onHeard: (m: ControlMessage) => void = () => undefined): { l: VirtualLink; wire: Wire } {
  const l = createVirtualLink({ delayMs: 10, faultFilter: dataOnly, scheduler: ts, ...config });
  const channels: VirtualDataChannel[] = [];
  const sent: ControlMessage[] = [];
  const heard: ControlMessage[] = [];
  const create = l.a.createDataChannel.bind(l.a);
  l.a.createDataChannel = (label, init) => {
    const ch = create(label, init);
    if (label !== CONTROL_LABEL) channels.push(ch);
    else {
      const send = ch.send.bind(ch);
      ch.send = (data) => {
        sent.push(parseControl(data));
        send(data);
      };
      ch.addEventListener('message', (ev: { data: unknown }) => {
        const m = parseControl(ev.data);
        heard.push(m);
        onHeard(m);
      });
    }
    return ch;
  };
  const sum = (f: (ch: VirtualDataChannel) => number) => channels.reduce((n, ch) => n + f(ch), 0);
  const wire: Wire = {
    payload: () => sum((ch) => ch.stats.bytesSent - FRAME_HEADER * ch.stats.messagesSent),
    sent,
    heard,
  };
  return { l, wire };
}

/** The target holds exactly the file's bytes (compared by digest: a deep equality over a MiB is slow). */
const expectHeld = (target: { bytes(name: string): Uint8Array | undefined }, f: Source) => {
  const got = target.bytes(f.name);
  expect([f.name, got?.length, got && sha256Hex(got)]).toEqual([f.name, f.bytes.length, sha256Hex(f.bytes)]);
};

const setOf = (files: readonly Source[], folders?: readonly string[]) => ({ files: files.map((f) => f.desc), ...(folders ? { folders } : {}) });
const sizes = (files: readonly Source[], taken: readonly number[]) => taken.reduce((n, i) => n + files[i].bytes.length, 0);

/** Records each event with the virtual time it came at. */
const stamped = (ts: TestScheduler, into: { at: number; e: SessionEvent }[]) => (e$: Observable<SessionEvent>) => e$.pipe(map((e) => (into.push({ at: ts.now(), e }), e)));
/** Where (position in the stream, and virtual time) a file's `type` event came. */
const find = (log: readonly { at: number; e: SessionEvent }[], type: SessionEvent['type'], i: number): { n: number; at: number } => {
  const n = log.findIndex(({ e }) => e.type === type && 'manifest' in e && e.manifest.index === i);
  if (n < 0) throw new Error(`no ${type} for file ${i}`);
  return { n, at: log[n].at };
};

describe('whole sessions under TestScheduler.run()', () => {
  describe('three files (300 KB, 0 B, 1 MiB), every digest right, in order', () => {
    it('one file in flight: each file starts when the previous one is complete (a round trip apart on the sender)', () => {
      const ts = scheduler();
      ts.run(({ expectObservable }) => {
        const { l } = link(ts);
        // The receiver starts a file when it accepts (file 0) or when the previous one completes; its data arrives 10 ms after the sender starts it.
        expectObservable(outline(THREE)(receiveFiles(l.b, { scheduler: ts }))).toBe('10ms (osa) 15ms (Ab) 16ms (Bc) 16ms (Cz|)', V);
        expectObservable(outline(THREE)(sendFiles(l.a, setOf(THREE), { scheduler: ts, channels: 2, transferId: 1, filesInFlight: 1 }))).toBe(
          '20ms (sa) 16ms (Ab) 16ms (Bc) 16ms (Cz|)',
          V,
        );
      });
    });

    it('eight in flight, a 256 KiB window: the next file starts once the previous one is read, before it is complete', () => {
      const ts = scheduler();
      ts.run(({ expectObservable }) => {
        const { l } = link(ts);
        // The receiver starts all three at accept. File 0 (300 KB) needs one ack round trip for its last 44 KB:
        // its done goes at 40 ms, files 1 and 2 start at once; file 2 (1 MiB, four windows) takes five more round trips.
        expectObservable(outline(THREE)(receiveFiles(l.b, { scheduler: ts }))).toBe('10ms (osabc) 33ms (AB) 76ms (Cz|)', V);
        const sent$ = sendFiles(l.a, setOf(THREE), { scheduler: ts, channels: 2, transferId: 1, window: 256 * KiB, maxChunk: 64 * KiB });
        expectObservable(outline(THREE)(sent$)).toBe('20ms (sa) 16ms (bc) 16ms (AB) 76ms (Cz|)', V);
      });
    });

    it('the receiver ends up with every byte of every file, and every byte crossed once', () => {
      const target = filesTarget();
      let wire!: Wire;
      const ts = scheduler();
      ts.run(() => {
        const made = link(ts);
        wire = made.wire;
        receiveFiles(made.l.b, { scheduler: ts, target }).subscribe();
        sendFiles(made.l.a, setOf(THREE), { scheduler: ts, channels: 2, transferId: 1 }).subscribe();
      });
      for (const f of THREE) expectHeld(target, f);
      expect(target.opens.map((o) => o.name)).toEqual(THREE.map((f) => f.name));
      expect(wire.payload()).toBe(sizes(THREE, [0, 1, 2]));
      // The zero-byte file has no frames: its done says chunks 0 and the SHA-256 of nothing.
      expect(wire.sent.find((m) => m.t === 'done' && m.i === 1)).toMatchObject({ chunks: 0, bytes: 0, sha256: sha256Hex(new Uint8Array(0)) });
    });
  });

  it('accept returns a subset: the skipped file never crosses, the sender confirms only the taken ones', () => {
    const target = filesTarget();
    let wire!: Wire;
    const sender: { at: number; e: SessionEvent }[] = [];
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const made = link(ts);
      wire = made.wire;
      const accept = (offer: { files: readonly Manifest[] }) => offer.files.filter((m) => m.index !== 2);
      expectObservable(outline(THREE, { taken: [0, 1] })(receiveFiles(made.l.b, { scheduler: ts, target, accept }))).toBe('10ms (osab) 14ms (ABz|)', V);
      const sent$ = sendFiles(made.l.a, setOf(THREE), { scheduler: ts, channels: 2, transferId: 1 }).pipe(stamped(ts, sender));
      expectObservable(outline(THREE, { taken: [0, 1] })(sent$)).toBe('20ms (sab) 15ms (ABz|)', V);
    });
    // The 1 MiB file 2 was skipped: only files 0 and 1 crossed.
    expect(wire.payload()).toBe(sizes(THREE, [0, 1]));
    expect(wire.sent.some((m) => 'i' in m && m.i === 2 && m.t !== 'entry')).toBe(false);
    expect(wire.heard.filter((m) => m.t === 'skip')).toEqual([{ t: 'skip', id: 1, i: 2 }]);
    const started = sender.find(({ e }) => e.type === 'started')!.e as Extract<SessionEvent, { type: 'started' }>;
    expect([started.files.map((m) => m.index), started.bytes]).toEqual([[0, 1], 300_005]);
    expect(target.opens.map((o) => o.name)).toEqual(['a.bin', 'empty.txt']);
    expect(target.bytes('c/d.bin')).toBeUndefined();
  });

  describe('per-file resume', () => {
    // File 1 (of 0, 1, 2) is the one held in part: 200 KB of 500 KB.
    const FILES = [source('one.bin', pattern(120_000, 3)), source('two.bin', pattern(500_000, 4)), source('three.bin', pattern(80_000, 5))];
    const HELD = 200_000;

    it('a verified prefix of file 1: only the rest of file 1 crosses, files 0 and 2 whole', () => {
      const target = filesTarget({ 'two.bin': { size: 500_000, bytes: FILES[1].bytes.subarray(0, HELD) } });
      let wire!: Wire;
      const froms: [string, number, number][] = [];
      const ts = scheduler();
      ts.run(({ expectObservable }) => {
        const made = link(ts);
        wire = made.wire;
        const from = (side: string) => (e$: Observable<SessionEvent>) =>
          e$.pipe(map((e) => ((e.type === 'file-started' || e.type === 'started') && froms.push([side, 'manifest' in e ? e.manifest.index : -1, e.from]), e)));
        expectObservable(outline(FILES)(from('R')(receiveFiles(made.l.b, { scheduler: ts, target })))).toBe('10ms (osabc) 13ms (ABCz|)', V);
        expectObservable(outline(FILES)(from('S')(sendFiles(made.l.a, setOf(FILES), { scheduler: ts, channels: 2, transferId: 1 })))).toBe('20ms (sabc) 14ms (ABCz|)', V);
      });
      expect(wire.payload()).toBe(120_000 + (500_000 - HELD) + 80_000);
      expect(wire.heard.filter((m) => m.t === 'resume')).toEqual([{ t: 'resume', id: 1, i: 1, from: HELD, prefixSha256: sha256Hex(FILES[1].bytes.subarray(0, HELD)) }]);
      expect(wire.sent.some((m) => m.t === 'restart')).toBe(false);
      // Both sides say where each file starts: the session's `from` is the held prefix.
      for (const side of ['R', 'S']) expect(froms.filter(([s]) => s === side).map(([, i, f]) => [i, f])).toEqual([[-1, HELD], [0, 0], [1, HELD], [2, 0]]);
      expect(target.opens).toEqual([
        { name: 'two.bin', resume: true, from: HELD },
        { name: 'one.bin', resume: false, from: 0 },
        { name: 'three.bin', resume: false, from: 0 },
      ]);
      for (const f of FILES) expectHeld(target, f);
    });

    it("a held prefix that is not the sender's: file 1 restarts from 0, files 0 and 2 are unaffected", () => {
      const wrong = pattern(HELD, 99);
      const target = filesTarget({ 'two.bin': { size: 500_000, bytes: wrong } });
      let wire!: Wire;
      const receiver: { at: number; e: SessionEvent }[] = [];
      const sender: { at: number; e: SessionEvent }[] = [];
      const ts = scheduler();
      ts.run(({ expectObservable }) => {
        const made = link(ts);
        wire = made.wire;
        // The receiver starts file 1 at its held prefix, and again (`b` at 30 ms) when the restart arrives.
        expectObservable(outline(FILES)(receiveFiles(made.l.b, { scheduler: ts, target }).pipe(stamped(ts, receiver)))).toBe('10ms (osabc) 13ms (Ab) 16ms (BCz|)', V);
        // The sender starts file 1 only after the receiver's resume from 0 (40 ms), and file 2 right after it (files go in order).
        const sent$ = sendFiles(made.l.a, setOf(FILES), { scheduler: ts, channels: 2, transferId: 1 }).pipe(stamped(ts, sender));
        expectObservable(outline(FILES)(sent$)).toBe('20ms (sa) 16ms (Abc) 15ms (BCz|)', V);
      });
      expect(wire.payload()).toBe(120_000 + 500_000 + 80_000);
      expect(wire.sent.filter((m) => m.t === 'restart')).toEqual([{ t: 'restart', id: 1, i: 1 }]);
      expect(wire.heard.filter((m) => m.t === 'resume').map((m) => m.t === 'resume' && [m.i, m.from])).toEqual([
        [1, HELD],
        [1, 0],
      ]);
      expect(receiver.filter(({ e }) => e.type === 'file-started' && e.manifest.index === 1).map(({ e }) => (e as { from: number }).from)).toEqual([HELD, 0]);
      // Files go in order: file 2 waits until file 1 (restarted) has sent its done.
      expect(sender.filter(({ e }) => e.type === 'file-started').map(({ e }) => [(e as { manifest: Manifest }).manifest.index, (e as { from: number }).from])).toEqual([
        [0, 0],
        [1, 0],
        [2, 0],
      ]);
      // Only file 1's target was aborted (the wrong prefix) and reopened from 0.
      expect(target.aborts.map((a) => a.name)).toEqual(['two.bin']);
      expect(target.opens.map((o) => [o.name, o.from])).toEqual([
        ['two.bin', HELD],
        ['one.bin', 0],
        ['three.bin', 0],
        ['two.bin', 0],
      ]);
      for (const f of FILES) expectHeld(target, f);
    });
  });

  describe('files in flight over a link with a 10 ms delay', () => {
    const FOUR = [0, 1, 2, 3].map((i) => source(`f${i}.bin`, pattern(150_000 + i * 7, i)));
    const WINDOW = 256 * KiB;

    /**
     * Runs the session and watches the sender's memory: bytes it read from the sources (a spy on each
     * descriptor's `read`) minus the bytes the receiver acknowledged (its `ack`s as they reach the sender),
     * at every read. The window bounds exactly that.
     */
    const run = (filesInFlight: number) => {
      const log: { at: number; e: SessionEvent }[] = [];
      const acked = new Map<number, number>();
      let read = 0;
      let most = 0;
      const spied = FOUR.map((f) => ({
        ...f.desc,
        read: (range: Parameters<FileDescriptor['read']>[0]) =>
          f.desc.read(range).pipe(
            map((b) => {
              read += b.length;
              most = Math.max(most, read - [...acked.values()].reduce((n, x) => n + x, 0));
              return b;
            }),
          ),
      }));
      const ts = scheduler();
      let error: unknown;
      ts.run(() => {
        const { l } = link(ts, {}, (m) => m.t === 'ack' && acked.set(m.i, Math.max(acked.get(m.i) ?? 0, m.bytes)));
        receiveFiles(l.b, { scheduler: ts }).subscribe({ error: (e) => (error = e) });
        sendFiles(l.a, { files: spied }, { scheduler: ts, channels: 2, transferId: 1, window: WINDOW, maxChunk: 64 * KiB, filesInFlight })
          .pipe(stamped(ts, log))
          .subscribe({ error: (e) => (error = e) });
      });
      expect(error).toBeUndefined();
      expect(log.at(-1)?.e.type).toBe('completed');
      return { log, most };
    };

    it('filesInFlight 1: strictly one after another (each file-started after the previous file-completed)', () => {
      const { log, most } = run(1);
      for (let i = 1; i < FOUR.length; i++) {
        const [started, previous] = [find(log, 'file-started', i), find(log, 'file-completed', i - 1)];
        // After it in the stream, in the same instant as the previous file's complete arrives.
        expect(started.n).toBeGreaterThan(previous.n);
        expect(started.at).toBe(previous.at);
      }
      expect(most).toBeLessThanOrEqual(WINDOW);
      expect(most).toBeGreaterThan(0);
    });

    it('filesInFlight 8: they overlap (the next file-started before the previous file-completed), within one window', () => {
      const { log, most } = run(8);
      // A round trip before, at least: the next file starts when the previous one's done is sent.
      for (let i = 1; i < FOUR.length; i++) expect(find(log, 'file-started', i).at).toBeLessThanOrEqual(find(log, 'file-completed', i - 1).at - 20);
      // The window is the session's: files in flight together never hold more than it read-but-unacknowledged.
      expect(most).toBeLessThanOrEqual(WINDOW);
      expect(most).toBeGreaterThan(WINDOW / 2);
    });
  });

  describe('loss + NACK (unreliable, 20 % of data messages lost) over a five-file session', () => {
    const FIVE = [0, 1, 2, 3, 4].map((i) => source(`loss/${i}.bin`, pattern(100_000 + i * 60_011, 10 + i)));
    const lossy = (ts: TestScheduler) => link(ts, { lossRate: 0.2, seed: 3 }).l;
    const options = (ts: TestScheduler) => ({ scheduler: ts, channels: 2, transferId: 1, reliability: 'unreliable' as const });

    // Files whose lost chunks are the last of every channel (nothing later arrives on any) wait for every channel to
    // be quiet a second (repairChunks' channelOf: a channel may only be running behind), then come back together.
    it('completes with every digest right; files complete as their last lost chunk comes back (1, 0, then 3 and 4, then 2)', () => {
      let l!: VirtualLink;
      let resent = -1;
      const ts = scheduler();
      ts.run(({ expectObservable }) => {
        l = lossy(ts);
        expectObservable(outline(FIVE)(receiveFiles(l.b, { scheduler: ts }))).toBe('10ms (osabcde) 11ms B 269ms A 899ms (DE) 96ms (Cz|)', V);
        const sent$ = sendFiles(l.a, setOf(FIVE), options(ts)).pipe(map((e) => (e.type === 'completed' && (resent = e.retransmittedBytes ?? 0), e)));
        // Unreliable: every chunk is handed off at once, so each done goes out at once and all five start at 20 ms.
        expectObservable(outline(FIVE, { anyOrder: true })(sent$)).toBe('20ms (sabcde) 12ms B 269ms A 899ms (DE) 96ms (Cz|)', V);
      });
      expect(l.stats().aToB.messagesDropped).toBeGreaterThan(0);
      expect(resent).toBeGreaterThan(0);
    });

    // The receiver confirms these files out of order (1, 0, 2, 3, 4); both sides still list them by index.
    it("the sender's completed lists the files in offer order, as the receiver's does", () => {
      let files: number[] = [];
      const ts = scheduler();
      ts.run(() => {
        const l = lossy(ts);
        receiveFiles(l.b, { scheduler: ts }).subscribe();
        sendFiles(l.a, setOf(FIVE), options(ts)).subscribe((e) => e.type === 'completed' && (files = e.files.map((r) => r.manifest.index)));
      });
      expect(files).toEqual([0, 1, 2, 3, 4]);
    });
  });

  describe('ending mid-session', () => {
    // A 256 KiB window and 64 KiB chunks pace the session: file 2 (1 MiB) takes several round trips.
    const paced = { channels: 2, transferId: 1, window: 256 * KiB, maxChunk: 64 * KiB };

    it('cancel by the receiver at 75 ms (during file 2): the sender fails with ERR_CANCELLED 10 ms later', () => {
      const ts = scheduler();
      ts.run(({ expectObservable }) => {
        const { l } = link(ts);
        expectObservable(outline(THREE)(receiveFiles(l.b, { scheduler: ts })), '^ 74ms !').toBe('10ms (osabc) 33ms (AB)', V);
        expectObservable(outline(THREE)(sendFiles(l.a, setOf(THREE), { ...paced, scheduler: ts }))).toBe('20ms (sa) 16ms (bc) 16ms (AB) 21ms (x|)', V);
      });
    });

    it('idle timeout: file 1 stalls after 64 KiB of its 200 KiB, file 0 complete → both sides fail 5 s after the last progress', () => {
      const big = pattern(200 * KiB, 7);
      const stalling: FileDescriptor = { name: 'stall.bin', size: big.length, type: '', seekable: false, read: ({ demand }) => concat(fromBytes(big.subarray(0, 64 * KiB), { demand }), NEVER) };
      const FILES = [source('ok.bin', pattern(10_000, 6)), { name: 'stall.bin', bytes: big, desc: stalling }];
      const ts = scheduler();
      ts.run(({ expectObservable }) => {
        const { l } = link(ts);
        expectObservable(outline(FILES)(receiveFiles(l.b, { scheduler: ts, idleTimeoutMs: 5000 }))).toBe('10ms (osab) 14ms A 4999ms (t|)', V);
        expectObservable(outline(FILES)(sendFiles(l.a, { files: [FILES[0].desc, stalling] }, { ...paced, scheduler: ts, idleTimeoutMs: 5000 }))).toBe(
          '20ms (sab) 15ms A 4999ms (t|)',
          V,
        );
      });
    });
  });

  it("empty folders reach the target's folder(), in order, before accept; a session of folders only completes at accept", () => {
    const target = filesTarget();
    const folders = ['empty', 'photos/2024/none', 'photos'];
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const { l } = link(ts);
      const ONE = [THREE[0]];
      expectObservable(outline(ONE)(receiveFiles(l.b, { scheduler: ts, target }))).toBe('10ms (osa) 15ms (Az|)', V);
      expectObservable(outline(ONE)(sendFiles(l.a, setOf(ONE, folders), { scheduler: ts, transferId: 1 }))).toBe('20ms (sa) 16ms (Az|)', V);
    });
    expect(target.folders).toEqual(folders);

    const only = filesTarget();
    const ts2 = scheduler();
    ts2.run(({ expectObservable }) => {
      const { l } = link(ts2);
      expectObservable(outline([])(receiveFiles(l.b, { scheduler: ts2, target: only }))).toBe('10ms (osz|)', V);
      expectObservable(outline([])(sendFiles(l.a, { files: [], folders: ['x', 'x/y'] }, { scheduler: ts2, transferId: 1 }))).toBe('20ms (sz|)', V);
    });
    expect(only.folders).toEqual(['x', 'x/y']);
    expect(only.opens).toEqual([]);
  });

  it('both directions at once on one link: a session each way, each completes on both sides', () => {
    const TO_B = [source('ab/1.bin', pattern(200_000, 20)), source('ab/2.bin', pattern(3, 21))];
    const TO_A = [source('ba/1.bin', pattern(0, 22)), source('ba/2.bin', pattern(400_000, 23)), source('ba/3.bin', pattern(5, 24))];
    const intoB = filesTarget();
    const intoA = filesTarget();
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const { l } = link(ts);
      expectObservable(outline(TO_B)(receiveFiles(l.b, { scheduler: ts, target: intoB }))).toBe('10ms (osab) 14ms (ABz|)', V);
      expectObservable(outline(TO_A)(receiveFiles(l.a, { scheduler: ts, target: intoA }))).toBe('10ms (osabc) 13ms (ABCz|)', V);
      expectObservable(outline(TO_B)(sendFiles(l.a, setOf(TO_B), { scheduler: ts, channels: 2, transferId: 1 }))).toBe('20ms (sab) 15ms (ABz|)', V);
      expectObservable(outline(TO_A)(sendFiles(l.b, setOf(TO_A), { scheduler: ts, channels: 2, transferId: 2 }))).toBe('20ms (sabc) 14ms (ABCz|)', V);
    });
    for (const f of TO_B) expectHeld(intoB, f);
    for (const f of TO_A) expectHeld(intoA, f);
    expect(intoA.opens.some((o) => o.name.startsWith('ab/'))).toBe(false);
  });
});
