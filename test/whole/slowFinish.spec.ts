/**
 * A receive target whose `finish` is slow (a disk that flushes slowly, an upload at the end), in virtual time.
 * Before 7 Dec 2026 the time in `finish` counted as no progress on both sides: a finish longer than
 * `idleTimeoutMs` failed a verified transfer, and the receiver's `abort` was called while its `finish` still ran
 * (a hostile check: `finish` taking 8 s against an idle timeout of 5 s). Now the receiver does not count its own
 * finish as silence, the sender waits for `complete` as long as the receiver answers pings once every `done` is
 * out, and a failure that comes while a `finish` runs waits for it: a target is finished or aborted, never both.
 */
import { scan } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { IdleTimeoutError, receiveFiles, sendFiles, TransferCancelledError, type ReceiveTarget, type SessionEvent } from '../../src/index';
import { createVirtualLink, type VirtualLink } from '../../src/testing';
import { describeFile } from '../../src/transfer/fileInput';
import { TARGET_ABORT_WAIT_MS } from '../../src/transfer/ReceiverSession';

const MiB = 1 << 20;
const IDLE_MS = 5000;

/** What the receiver did with each file's target. */
interface Calls {
  readonly finishes: string[];
  readonly finished: string[];
  readonly aborts: string[];
}

/** A target whose `finish` of the files named in `slow` settles after that many ms (never, for `Infinity`; fails after -ms for a negative value). */
function slowTarget(ts: TestScheduler, calls: Calls, slow: Record<string, number>): ReceiveTarget<string> {
  return {
    open: (m) => ({
      from: 0,
      sink: (s) => s.pipe(scan((n, c) => n + c.data.length, 0)),
      finish: () => {
        calls.finishes.push(m.name);
        const ms = slow[m.name] ?? 0;
        // A promise-like that settles in virtual time (a real promise would not settle inside run()); what its
        // `then` returns is only chained on for unhandled errors, so it never settles.
        const never: PromiseLike<never> = { then: () => never };
        return {
          then: <T,>(resolve?: ((v: string) => T) | null, reject?: ((e: unknown) => T) | null) => {
            if (ms < 0) ts.schedule(() => reject?.(new Error(`disk gone while placing ${m.name}`)), -ms);
            else if (ms !== Infinity) ts.schedule(() => (calls.finished.push(m.name), resolve?.(`placed ${m.name}`)), ms);
            return never as PromiseLike<never>;
          },
        } as PromiseLike<string>;
      },
      abort: () => void calls.aborts.push(m.name),
    }),
  };
}

interface Run {
  readonly link: VirtualLink;
  readonly sent: SessionEvent[];
  readonly received: SessionEvent[];
  readonly errors: { side: string; error: unknown; at: number }[];
  readonly calls: Calls;
}

/** Sends `files` (name → size) over a 1 MB/s, 10 ms link; `during(run)` schedules what the case does. */
type During = (r: Run, ts: TestScheduler, subs: { rx: { unsubscribe(): void }; tx: { unsubscribe(): void } }) => void;

/** Calls `fn` in the first tick (checked every 20 ms) in which `a.bin`'s finish is running. */
const whenFinishing = (r: Run, ts: TestScheduler, fn: () => void) => {
  const check = (): unknown => (r.calls.finishes.includes('a.bin') ? fn() : ts.schedule(check, 20));
  ts.schedule(check, 20);
};

function run(files: Record<string, number>, slow: Record<string, number>, during: During = () => undefined): Run {
  const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
  const calls: Calls = { finishes: [], finished: [], aborts: [] };
  const r = { sent: [], received: [], errors: [], calls } as unknown as { -readonly [K in keyof Run]: Run[K] };
  ts.run(() => {
    r.link = createVirtualLink({ scheduler: ts, bandwidth: 1_000_000, delayMs: 10 });
    const inputs = Object.entries(files).map(([name, size]) => describeFile(new Uint8Array(size).map((_, i) => i % 251), { name }));
    const fail = (side: string) => (error: unknown) => r.errors.push({ side, error, at: ts.now() });
    const rx = receiveFiles(r.link.b, { scheduler: ts, target: slowTarget(ts, calls, slow), idleTimeoutMs: IDLE_MS });
    const tx = sendFiles(r.link.a, inputs, { scheduler: ts, idleTimeoutMs: IDLE_MS, channels: 2 });
    const subs = { rx: rx.subscribe({ next: (e) => r.received.push(e), error: fail('receiver') }), tx: tx.subscribe({ next: (e) => r.sent.push(e), error: fail('sender') }) };
    during(r, ts, subs);
    ts.schedule(() => (subs.rx.unsubscribe(), subs.tx.unsubscribe()), 120_000);
  });
  return r;
}

const completedFiles = (events: SessionEvent[]) => events.filter((e) => e.type === 'file-completed').map((e) => (e as { manifest: { name: string } }).manifest.name);
const completed = (events: SessionEvent[]) => events.find((e) => e.type === 'completed');

describe('a slow finish is not idleness', () => {
  it('a finish of 8 s against an idle timeout of 5 s on both sides: both complete, finished once, never aborted', () => {
    const r = run({ 'a.bin': MiB }, { 'a.bin': 8000 });
    expect(r.errors.map((e) => [e.side, String(e.error), e.at])).toEqual([]);
    expect(completed(r.sent)).toBeDefined();
    expect(completed(r.received)).toMatchObject({ bytes: MiB });
    expect(r.calls).toEqual({ finishes: ['a.bin'], finished: ['a.bin'], aborts: [] });
    expect(completedFiles(r.received)).toEqual(['a.bin']);
  });

  it('a finish of 60 s (twelve idle timeouts): still both complete', () => {
    const r = run({ 'a.bin': MiB }, { 'a.bin': 60_000 });
    expect(r.errors).toEqual([]);
    expect(completed(r.sent)).toBeDefined();
    expect(completed(r.received)).toBeDefined();
    expect(r.calls.aborts).toEqual([]);
  });

  it('more files than filesInFlight (10 of 8 slots), each finished in 8 s: both complete (the sender waits for a slot as long as pongs come)', () => {
    // A peer written from protocol.md (7 Dec): the sender could not send the 9th file's done while the receiver
    // finished the first eight, and failed after its idle timeout although the receiver answered every ping.
    const names = Array.from({ length: 10 }, (_, i) => `f${i}.bin`);
    const r = run(Object.fromEntries(names.map((n) => [n, 20_000])), Object.fromEntries(names.map((n) => [n, 8000])));
    expect(r.errors.map((e) => [e.side, String(e.error)])).toEqual([]);
    expect(completed(r.sent)).toBeDefined();
    expect([...r.calls.finished].sort()).toEqual([...names].sort());
    expect(r.calls.aborts).toEqual([]);
  });

  it('a receiver that stops answering while its finish runs (the link cut) is still timed out by the sender', () => {
    // Once every byte is in and the finish runs, nothing gets through any more in either direction (a reliable
    // virtual channel delivers through any loss rate: an hour's delay is the frozen peer).
    let cutAt = 0;
    const r = run({ 'a.bin': MiB }, { 'a.bin': Infinity }, (run, ts) => whenFinishing(run, ts, () => ((cutAt = ts.now()), run.link.reconfigure({ delayMs: 3_600_000 }))));
    const sender = r.errors.find((e) => e.side === 'sender');
    expect(sender?.error).toBeInstanceOf(IdleTimeoutError);
    // The last pong came at most a ping period (1 s) before the cut; the timeout 5 s after it.
    expect(sender!.at - cutAt).toBeGreaterThanOrEqual(IDLE_MS - 1000);
    expect(sender!.at - cutAt).toBeLessThanOrEqual(IDLE_MS + 1000);
    expect(completed(r.sent)).toBeUndefined();
  });
});

describe('a failure while a finish runs waits for it: finished or aborted, never both', () => {
  it('the sender cancels while a.bin is being finished and b.bin still arrives: a.bin is reported and kept, only b.bin is aborted', () => {
    let cancelledAt = 0;
    const r = run({ 'a.bin': MiB, 'b.bin': 8 * MiB }, { 'a.bin': 3000 }, (run, ts, subs) => whenFinishing(run, ts, () => ((cancelledAt = ts.now()), subs.tx.unsubscribe())));
    expect(cancelledAt).toBeGreaterThan(0);
    expect(r.calls).toEqual({ finishes: ['a.bin'], finished: ['a.bin'], aborts: ['b.bin'] });
    expect(completedFiles(r.received)).toEqual(['a.bin']);
    const receiver = r.errors.find((e) => e.side === 'receiver');
    expect(receiver?.error).toBeInstanceOf(TransferCancelledError);
    // The error waited for the finish to settle (3 s after it began), no longer (an outside check: in virtual
    // time it waited out the 10 s bound, where real time did not), and a.bin's file-completed came before it.
    expect(receiver!.at).toBeGreaterThanOrEqual(cancelledAt + 2900);
    expect(receiver!.at).toBeLessThanOrEqual(cancelledAt + 3100);
    expect(r.received.at(-1)?.type).toBe('file-completed');
  });

  it('a finish that fails by itself (no other failure): the target is aborted at once, and the session fails', () => {
    let finishAt = 0;
    const r = run({ 'a.bin': MiB }, { 'a.bin': -3000 }, (run, ts) => whenFinishing(run, ts, () => (finishAt = ts.now())));
    expect(r.calls.aborts).toEqual(['a.bin']);
    const receiver = r.errors.find((e) => e.side === 'receiver');
    expect(String(receiver?.error)).toMatch(/disk gone while placing a\.bin/);
    // Not held for TARGET_ABORT_WAIT_MS: the finish had settled when the abort came (whenFinishing looks every 20 ms).
    expect(receiver!.at - finishAt).toBeGreaterThanOrEqual(3000 - 20);
    expect(receiver!.at - finishAt).toBeLessThan(3000 + 100);
    expect(r.errors.find((e) => e.side === 'sender')).toBeDefined();
  });

  it('a finish that fails after the cancel: then, and only then, the target is aborted', () => {
    const r = run({ 'a.bin': MiB, 'b.bin': 8 * MiB }, { 'a.bin': -3000 }, (run, ts, subs) => whenFinishing(run, ts, () => subs.tx.unsubscribe()));
    expect(r.calls.finished).toEqual([]);
    expect([...r.calls.aborts].sort()).toEqual(['a.bin', 'b.bin']);
    expect(completedFiles(r.received)).toEqual([]);
    expect(r.errors.find((e) => e.side === 'receiver')?.error).toBeInstanceOf(TransferCancelledError);
  });

  it('every byte in and the last file being finished when the sender cancels: the cancel came behind the data, the file completes', () => {
    const r = run({ 'a.bin': MiB }, { 'a.bin': 3000 }, (run, ts, subs) => whenFinishing(run, ts, () => subs.tx.unsubscribe()));
    expect(r.calls).toEqual({ finishes: ['a.bin'], finished: ['a.bin'], aborts: [] });
    expect(completed(r.received)).toBeDefined();
    expect(r.errors.filter((e) => e.side === 'receiver')).toEqual([]);
  });

  it('…and when that finish never settles, the session ends as cancelled by the peer, not as a closed channel', () => {
    // An outside check of 7 Dec: the cancel was ignored (every file was being placed), and when the sender's channels
    // closed the receiver failed with ChannelClosedError "control channel closed".
    const r = run({ 'a.bin': MiB }, { 'a.bin': Infinity }, (run, ts, subs) => whenFinishing(run, ts, () => subs.tx.unsubscribe()));
    const receiver = r.errors.find((e) => e.side === 'receiver');
    expect(receiver?.error).toBeInstanceOf(TransferCancelledError);
    expect((receiver?.error as TransferCancelledError).message).toMatch(/remote/);
    expect(r.calls.aborts).toEqual([]);
  });

  it('a finish that never settles: not aborted while it runs; the error goes out after the bounded wait', () => {
    let cancelledAt = 0;
    const r = run({ 'a.bin': MiB, 'b.bin': 8 * MiB }, { 'a.bin': Infinity }, (run, ts, subs) => whenFinishing(run, ts, () => ((cancelledAt = ts.now()), subs.tx.unsubscribe())));
    expect(r.calls.aborts).toEqual(['b.bin']);
    expect(r.calls.finished).toEqual([]);
    const receiver = r.errors.find((e) => e.side === 'receiver');
    expect(receiver?.error).toBeInstanceOf(TransferCancelledError);
    expect(receiver!.at - cancelledAt).toBeGreaterThanOrEqual(TARGET_ABORT_WAIT_MS);
  });
});
