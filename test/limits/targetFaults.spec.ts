/**
 * A receive target of the app's own that misbehaves: a wrong shape from `open`, a `sink` or `finish` that throws
 * when called, an `abort` that throws or never settles. Found by an outside check: the first five threw through
 * RxJS and took the whole Node process down (no error reached either side), an `abort` that threw left
 * `receiveFile` pending for good, and one that never settled held it for good too. Now each fails the receiver
 * with a typed error, the sender hears it, and a failed session waits at most TARGET_ABORT_WAIT_MS for aborts.
 */
import { lastValueFrom, map, of, throwError, concat, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { blobTarget, InvalidConfigError, receiveFile, sendFile, SourceReadError, TallowError, type FileDescriptor, type OpenedTarget, type ReceiveTarget } from '../../src/index';
import { createVirtualLink } from '../../src/testing';
import { TARGET_ABORT_WAIT_MS } from '../../src/transfer/ReceiverSession';
import { deterministicBytes } from '../helpers/bytes';
import { inVirtualTime } from '../properties/virtualClock';

const bytes = deterministicBytes(300_000);
const base = blobTarget();

/** A blob target with `change` applied to what its `open` gives. */
const patched = (change: (o: OpenedTarget) => unknown): ReceiveTarget => ({ open: async (m) => change(await base.open(m)) as OpenedTarget });

/** Both sides' outcome (`completed`, or the error's class and code) over a virtual link in real time. */
async function outcomes(target: ReceiveTarget, file: Uint8Array | FileDescriptor = bytes) {
  const link = createVirtualLink({ delayMs: 1 });
  const settled = (o: Observable<{ type: string }>) => lastValueFrom(o).then(() => 'completed', (e: TallowError) => `${e.name} ${e.code}`);
  const [received, sent] = await Promise.all([settled(receiveFile(link.b, { target })), settled(sendFile(link.a, file, { name: 'f.bin', channels: 1 }))]);
  link.close();
  return { received, sent };
}

describe('a target that misbehaves fails the transfer with a typed error, not the process', () => {
  it.each([
    ['open gives null', { open: () => null as never }],
    ['open gives {}', { open: () => ({}) as never }],
    ['sink is not a function', patched((o) => ({ ...o, sink: 42 }))],
  ])('%s: InvalidConfigError on the receiver, the sender hears it', async (_, target) => {
    const { received, sent } = await outcomes(target as ReceiveTarget);
    expect(received).toBe('InvalidConfigError ERR_INVALID_CONFIG');
    expect(sent).toMatch(/ERR_INVALID_CONFIG/);
  });

  it.each([
    ['sink throws when called', patched((o) => ({ ...o, sink: () => { throw new Error('sink boom'); } }))],
    ['finish throws', patched((o) => ({ ...o, finish: () => { throw new Error('finish boom'); } }))],
  ])('%s: ERR_INTERNAL with the error as cause, the sender hears it', async (_, target) => {
    const { received, sent } = await outcomes(target);
    expect(received).toBe('TallowError ERR_INTERNAL');
    expect(sent).toMatch(/ERR_INTERNAL/);
  });

  it.each([
    ['reports twice what it wrote', (o: OpenedTarget) => ({ ...o, sink: (c: Observable<never>) => o.sink(c).pipe(map((n) => n * 2)) })],
    ['reports nothing written', (o: OpenedTarget) => ({ ...o, sink: (c: Observable<never>) => o.sink(c).pipe(map(() => 0)) })],
  ])('a sink that %s: ERR_INTERNAL naming the target (it blamed the sender with ERR_PROTOCOL)', async (_, change) => {
    const { received, sent } = await outcomes(patched(change));
    expect(received).toBe('TallowError ERR_INTERNAL');
    expect(sent).toMatch(/ERR_INTERNAL/);
  });

  it('open gives null: the message names the target and the file', async () => {
    const link = createVirtualLink({ delayMs: 1 });
    const error = lastValueFrom(receiveFile(link.b, { target: { open: () => null as never } })).catch((e: Error) => e);
    sendFile(link.a, bytes, { name: 'f.bin' }).subscribe({ error: () => undefined });
    expect(await error).toBeInstanceOf(InvalidConfigError);
    expect((await error as Error).message).toBe('target.open(f.bin) must give an OpenedTarget ({ from, sink, finish, abort }), got null');
    // As every argument check: a primitive as it is, an object shown.
    expect((await error as InvalidConfigError).details).toEqual({ field: 'target', value: null });
    link.close();
  });
});

/** A file whose read fails after its first 100,000 bytes: the sender fails, the receiver aborts its target. */
const failingFile: FileDescriptor = {
  name: 'f.bin', size: bytes.length, type: '', seekable: false,
  read: () => concat(of(bytes.subarray(0, 100_000)), throwError(() => new SourceReadError('source boom'))),
};

describe("a target's abort that throws or never settles", () => {
  it('abort throws: the receiver still fails (it stayed pending for good)', async () => {
    const { received, sent } = await outcomes(patched((o) => ({ ...o, abort: () => { throw new Error('abort boom'); } })), failingFile);
    expect(sent).toBe('SourceReadError ERR_SOURCE_READ');
    expect(received).toMatch(/ERR_SOURCE_READ/);
  });

  it(`abort never settles: the receiver fails TARGET_ABORT_WAIT_MS (${TARGET_ABORT_WAIT_MS} ms) after the failure, in virtual time`, () => {
    const result = inVirtualTime((clock) => {
      const link = createVirtualLink({ delayMs: 1, scheduler: clock.scheduler });
      const opened: OpenedTarget = { from: 0, sink: (chunks) => chunks.pipe(map(() => 0)), finish: () => undefined, abort: () => new Promise<void>(() => undefined) };
      let receivedAt: number | undefined;
      let sentAt: number | undefined;
      receiveFile(link.b, { scheduler: clock.scheduler, target: { open: () => opened } }).subscribe({ error: () => (receivedAt = clock.scheduler.now()) });
      sendFile(link.a, failingFile, { scheduler: clock.scheduler, channels: 1 }).subscribe({ error: () => (sentAt = clock.scheduler.now()) });
      clock.runUntil(() => receivedAt !== undefined, 60_000);
      link.close();
      return { receivedAt, sentAt };
    });
    expect(result.sentAt).toBeDefined();
    expect(result.receivedAt).toBeDefined();
    expect(result.receivedAt! - result.sentAt!).toBeGreaterThanOrEqual(TARGET_ABORT_WAIT_MS);
    expect(result.receivedAt! - result.sentAt!).toBeLessThan(TARGET_ABORT_WAIT_MS + 1000);
  });
});
