/**
 * ReadAhead (the sender reads small files before their turn): which files it reads and when, what a turn
 * then reads, failures, and teardown; then whole sessions in virtual time, where reads that take time
 * overlap instead of running one after another, and a file that cannot be read still fails at its turn.
 */
import { catchError, concat, defer, filter, lastValueFrom, map, of, switchMap, tap, throwError, timer, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { SourceReadError } from '../../src/errors';
import { receiveFiles, sendFiles, type SessionEvent } from '../../src/index';
import { fromBytes } from '../../src/sources/fromBytes';
import { createVirtualLink } from '../../src/testing';
import type { FileDescriptor, ReadRange } from '../../src/transfer/fileInput';
import { READ_AHEAD_FILES, READ_AHEAD_MAX_BYTES, ReadAhead } from '../../src/transfer/readAhead';
import { pattern } from '../helpers/marbles';
import { sha256Hex } from '../helpers/sha256';
import { filesTarget } from './fakeSessionSender';

/** A descriptor over `bytes` whose reads are made by `read$` (default: at once), recording each range read. */
function fileOf(name: string, bytes: Uint8Array, read$: (range: ReadRange) => Observable<Uint8Array> = (r) => fromBytes(bytes.subarray(r.start ?? 0, r.end ?? bytes.length), r)) {
  const reads: { start: number; end: number }[] = [];
  const desc: FileDescriptor = {
    name,
    size: bytes.length,
    type: 'application/octet-stream',
    lastModified: 1,
    seekable: true,
    read: (range) => defer(() => (reads.push({ start: range.start ?? 0, end: range.end ?? bytes.length }), read$(range))),
  };
  return { name, bytes, desc, reads };
}

const all = (o: Observable<Uint8Array>) => lastValueFrom(o.pipe(toArray())).then((pieces) => Buffer.concat(pieces));

describe('ReadAhead', () => {
  it('reads the small, seekable, non-empty files among the next maxFiles, once each, and no more than maxFiles', () => {
    const small = [0, 1, 2, 3].map((i) => fileOf(`s${i}`, pattern(100 + i, i)));
    const large = fileOf('large', pattern(READ_AHEAD_MAX_BYTES + 1, 9));
    const empty = fileOf('empty', new Uint8Array(0));
    const stream = fileOf('stream', pattern(10, 3));
    const files = [small[0].desc, large.desc, empty.desc, { ...stream.desc, seekable: false }, small[1].desc, small[2].desc, small[3].desc];
    const ahead = new ReadAhead(files, { maxFiles: 2 });
    // Only the first two positions are looked at: s0 is read, the large file is not.
    ahead.fill([0, 1, 2, 3, 4, 5, 6]);
    expect([ahead.size, small[0].reads, large.reads]).toEqual([1, [{ start: 0, end: 100 }], []]);
    ahead.fill([0, 1, 2, 3, 4, 5, 6]);
    expect(small[0].reads).toHaveLength(1);
    // The empty file and the stream are never read ahead; and nothing beyond them is looked at yet.
    ahead.fill([2, 3, 4]);
    expect([ahead.size, empty.reads, stream.reads, small[1].reads]).toEqual([1, [], [], []]);
    ahead.fill([4, 5, 6]);
    expect([ahead.size, small[1].reads.length, small[2].reads]).toEqual([2, 1, []]);
    // Room again once s0 is taken: s2 is read, s3 waits.
    ahead.take(0);
    ahead.fill([5, 6]);
    expect([ahead.size, small[2].reads.length, small[3].reads]).toEqual([2, 1, []]);
  });

  it('a turn reads the bytes read ahead, in any range, in pieces of its readSize, without reading the file again', async () => {
    const f = fileOf('a.bin', pattern(1000, 1));
    const ahead = new ReadAhead([f.desc]);
    ahead.fill([0]);
    const turn = ahead.take(0);
    expect(turn).not.toBe(f.desc);
    expect([turn.name, turn.size, turn.type, turn.lastModified, turn.seekable]).toEqual(['a.bin', 1000, 'application/octet-stream', 1, true]);
    expect(await all(turn.read({}))).toEqual(Buffer.from(f.bytes));
    expect(await all(turn.read({ start: 10, end: 20 }))).toEqual(Buffer.from(f.bytes.subarray(10, 20)));
    expect((await lastValueFrom(turn.read({ start: 0, end: 1000, readSize: 300 }).pipe(toArray()))).map((p) => p.length)).toEqual([300, 300, 300, 100]);
    expect(f.reads).toEqual([{ start: 0, end: 1000 }]);
    // Taken once: the next turn of the same file reads it itself.
    expect(ahead.take(0)).toBe(f.desc);
  });

  it('a file not read ahead is taken as it is', () => {
    const f = fileOf('a.bin', pattern(10, 1));
    expect(new ReadAhead([f.desc]).take(0)).toBe(f.desc);
  });

  it('a read still running when the turn comes: the turn waits for it (marbles)', () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const bytes = Uint8Array.of(1, 2, 3, 4);
      const source = cold('---a-b|', { a: bytes.subarray(0, 2), b: bytes.subarray(2) });
      const f = fileOf('a.bin', bytes, () => source);
      const ahead = new ReadAhead([f.desc]);
      ahead.fill([0]);
      // The turn comes at 1 ms; the read, subscribed at 0, ends at 6 ms: the turn gets one piece of 4 bytes then.
      const turn$ = timer(1).pipe(switchMap(() => ahead.take(0).read({})));
      expectObservable(turn$.pipe(map((b) => Array.from(b).join(',')))).toBe('------(v|)', { v: '1,2,3,4' });
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
  });

  it('a file that shrank is served as read (the turn sees the short read and fails, as it would have)', async () => {
    const bytes = pattern(100, 4);
    const f = fileOf('shrunk.bin', bytes, () => fromBytes(bytes.subarray(0, 60)));
    const ahead = new ReadAhead([f.desc]);
    ahead.fill([0]);
    expect((await all(ahead.take(0).read({}))).length).toBe(60);
  });

  it('a read that fails fails the turn, not before; one that throws at once too', async () => {
    const err = new SourceReadError('cannot read b.bin', { path: 'b.bin' });
    const failing = fileOf('b.bin', pattern(10, 2), () => throwError(() => err));
    const throwing: FileDescriptor = {
      ...fileOf('c.bin', pattern(10, 3)).desc,
      read: () => {
        throw err;
      },
    };
    const ahead = new ReadAhead([failing.desc, throwing]);
    expect(() => ahead.fill([0, 1])).not.toThrow();
    await expect(all(ahead.take(0).read({}))).rejects.toBe(err);
    await expect(all(ahead.take(1).read({}))).rejects.toBe(err);
  });

  it('stop() ends the reads in progress and drops what is held', () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    ts.run(({ cold, expectSubscriptions, flush }) => {
      const source = cold('-----a|', { a: Uint8Array.of(1) });
      const ahead = new ReadAhead([fileOf('a.bin', Uint8Array.of(1), () => source).desc]);
      ahead.fill([0]);
      ts.schedule(() => ahead.stop(), 2);
      flush();
      expectSubscriptions(source.subscriptions).toBe('^-!');
      expect(ahead.size).toBe(0);
      ahead.fill([0]);
      expect(ahead.size).toBe(0);
    });
  });
});

describe('sendFiles reads small files ahead (whole sessions in virtual time)', () => {
  const FILES = 20;
  /** Each read takes `readMs` of virtual time (a disk), counting reads in flight. */
  const slowFiles = (ts: TestScheduler, readMs: number, failAt = -1) => {
    const inFlight = { now: 0, most: 0 };
    const files = Array.from({ length: FILES }, (_, i) => {
      const bytes = pattern(1024 + i, i + 1);
      return fileOf(`f${String(i).padStart(2, '0')}.bin`, bytes, (r) =>
        concat(
          defer(() => {
            inFlight.most = Math.max(inFlight.most, ++inFlight.now);
            return timer(readMs, ts);
          }).pipe(
            tap(() => inFlight.now--),
            filter(() => false),
          ),
          defer(() => (i === failAt ? throwError(() => new SourceReadError(`cannot read f${i}`, { path: `f${i}` })) : fromBytes(bytes.subarray(r.start ?? 0, r.end ?? bytes.length), r))),
        ) as Observable<Uint8Array>,
      );
    });
    return { files, inFlight };
  };

  it('reads overlap (up to the read-ahead limit), each file is read once, every digest is right, and the session ends sooner', () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    ts.run(({ flush }) => {
      const { files, inFlight } = slowFiles(ts, 20);
      const l = createVirtualLink({ delayMs: 1, scheduler: ts });
      const target = filesTarget();
      let ended = -1;
      const events: SessionEvent[] = [];
      receiveFiles(l.b, { target, scheduler: ts }).subscribe();
      sendFiles(l.a, { files: files.map((f) => f.desc) }, { scheduler: ts, channels: 1, transferId: 1 }).subscribe({ next: (e) => events.push(e), complete: () => (ended = ts.now()) });
      flush();
      const completed = events.find((e) => e.type === 'completed');
      expect(completed && completed.type === 'completed' && completed.files.map((r) => r.sha256)).toEqual(files.map((f) => sha256Hex(f.bytes)));
      for (const f of files) expect([f.name, f.reads]).toEqual([f.name, [{ start: 0, end: f.bytes.length }]]);
      for (const f of files) expect(sha256Hex(target.bytes(f.name)!)).toBe(sha256Hex(f.bytes));
      // One read at a time would take FILES × 20 ms of reading alone.
      expect(inFlight.most).toBeGreaterThan(1);
      expect(inFlight.most).toBeLessThanOrEqual(READ_AHEAD_FILES + 1);
      expect(ended).toBeGreaterThan(0);
      expect(ended).toBeLessThan(FILES * 20);
    });
  });

  it('a file that cannot be read fails the session at its turn, after the files before it completed', () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    ts.run(({ flush }) => {
      const { files } = slowFiles(ts, 5, 3);
      const l = createVirtualLink({ delayMs: 1, scheduler: ts });
      const outline: string[] = [];
      receiveFiles(l.b, { target: filesTarget(), scheduler: ts }).subscribe({ error: () => undefined });
      sendFiles(l.a, { files: files.map((f) => f.desc) }, { scheduler: ts, channels: 1, transferId: 1, filesInFlight: 1 })
        .pipe(
          filter((e) => e.type === 'file-completed'),
          map((e) => (e.type === 'file-completed' ? `done ${e.manifest.index}` : '')),
          catchError((err: { code?: string }) => of(`error ${err.code}`)),
        )
        .subscribe((s) => outline.push(s));
      flush();
      expect(outline).toEqual(['done 0', 'done 1', 'done 2', 'error ERR_SOURCE_READ']);
    });
  });
});
