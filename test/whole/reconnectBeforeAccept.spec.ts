/**
 * A connection lost while the receiver's `accept` is still pending, with `reconnect` on both sides (a hostile check
 * of 7 Dec: both sides reported `completed` with no files and 0 bytes, and nothing was sent). The run that ended
 * started nothing; the user's answer, still pending, carries over to the session on the new connections and is
 * asked once. In virtual time, over two virtual links.
 */
import { map, of, scan, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFiles, sendFiles, type ReceiveTarget, type SessionEvent } from '../../src/index';
import { createVirtualLink, type VirtualLink } from '../../src/testing';
import { describeFile } from '../../src/transfer/fileInput';

const SIZE = 2 << 20;

function run(acceptAtMs: number, closeAtMs: number) {
  const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
  const sent: SessionEvent[] = [];
  const received: SessionEvent[] = [];
  const errors: unknown[] = [];
  const calls = { asked: 0, sunk: 0, finish: 0, abort: 0 };
  ts.run(() => {
    const first = createVirtualLink({ scheduler: ts, delayMs: 5 });
    let second: VirtualLink | undefined;
    const next = () => (second ??= createVirtualLink({ scheduler: ts, delayMs: 5 }));
    const bytes = new Uint8Array(SIZE).map((_, i) => i % 251);
    const target: ReceiveTarget<string> = {
      open: () => ({
        from: 0,
        sink: (s) => s.pipe(scan((n, c) => ((calls.sunk += c.data.length), n + c.data.length), 0)),
        finish: () => (calls.finish++, 'ok'),
        abort: () => void calls.abort++,
      }),
    };
    const accept = () => (calls.asked++, timer(acceptAtMs, ts).pipe(map(() => true)));
    receiveFiles(first.b, { scheduler: ts, target, accept, reconnect: () => of(next().b), interruptionGraceMs: 10_000 }).subscribe({ next: (e) => received.push(e), error: (e) => errors.push(e) });
    sendFiles(first.a, { files: [describeFile(bytes, { name: 'f.bin' })] }, { scheduler: ts, reconnect: () => of(next().a), interruptionGraceMs: 10_000 }).subscribe({ next: (e) => sent.push(e), error: (e) => errors.push(e) });
    ts.schedule(() => first.close(), closeAtMs);
  });
  const completed = (events: SessionEvent[]) => events.find((e): e is Extract<SessionEvent, { type: 'completed' }> => e.type === 'completed');
  return { sent, received, errors, calls, completed };
}

describe('reconnect while the receiver is deciding', () => {
  it.each([
    ['the loss before the answer (20 ms, accept at 50 ms)', 50, 20],
    ['the loss long before the answer (5 ms, accept at 500 ms)', 500, 5],
    // The same check's second finding: closed in the tick the answer is acted on (55 ms here; a sweep of 50-80 ms
    // found only this one), the receiver's createDataChannel threw and it failed with ERR_INTERNAL ("The virtual link
    // is closed"; on node-datachannel "createDataChannel() called on destroyed peer connection") instead of resuming.
    ['the loss in the tick the answer is acted on (55 ms, accept at 50 ms)', 50, 55],
  ])('%s: the file arrives whole on the new connection; accept is asked once; offer and started shown once', (_, acceptAt, closeAt) => {
    const r = run(acceptAt, closeAt);
    expect(r.errors).toEqual([]);
    for (const events of [r.sent, r.received]) {
      const done = r.completed(events);
      expect(done?.files.map((f) => f.manifest.name)).toEqual(['f.bin']);
      expect(done?.bytes).toBe(SIZE);
      expect(events.filter((e) => e.type === 'started')).toHaveLength(1);
    }
    expect(r.received.filter((e) => e.type === 'offer')).toHaveLength(1);
    expect(r.calls).toEqual({ asked: 1, sunk: SIZE, finish: 1, abort: 0 });
  });
});
