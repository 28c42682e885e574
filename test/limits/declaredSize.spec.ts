/**
 * Limit: a receiver holds the sender to the size it declared in the manifest.
 * `maxFileSize` is checked against the offer; these tests check that a sender
 * cannot then send more (or fewer) bytes than it offered, or announce an absurd
 * chunk count in `done`.
 *
 * The receiver checks every frame against [from, size), refuses a `done` whose
 * byte count differs from the manifest or whose chunk count the manifest cannot
 * hold, and refuses to complete with fewer bytes than declared
 * (src/transfer/receiveFile.ts). The gap scan is bounded by the reorder window
 * (src/operators/repairChunks.ts), so no `done` can make it walk 2^32 indexes.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProtocolError, receiveFile, TallowError, type ReceiveTarget } from '../../src/index';
import { directoryTarget } from '../../src/node';
import { HostileSender, listDir, manifestOf, outcomeOf, sha256Hex, sleep, watch } from './hostileSender';
import { closeAfter, inbox } from './tmpDirs';
import { completedOf } from '../helpers/events';

const sizes = async (dir: string): Promise<number[]> => Promise.all((await listDir(dir)).map(async (f) => (await stat(join(dir, f))).size));

describe('limit: the size declared in the manifest', () => {
  it('a sender that sends exactly what it declared completes (control case)', async () => {
    const { dir } = await inbox();
    const s = closeAfter(new HostileSender());
    const m = manifestOf({ size: 10_000 });
    const r = watch(receiveFile(s.link.b, { maxFileSize: 10_000, target: directoryTarget(dir) }));
    await s.handshake(m);
    s.sendAll(m, new Uint8Array(10_000).fill(3), 4096);
    await r.settled;
    expect(outcomeOf(r)).toBe('completed');
    expect(await sizes(dir)).toEqual([10_000]);
  });

  it('a sender that sends more than it declared is stopped; the disk never holds more than maxFileSize', async () => {
    const { dir } = await inbox();
    const s = closeAfter(new HostileSender());
    // Declares 1000 B (within maxFileSize), then sends 64 KiB with a matching digest.
    const m = manifestOf({ size: 1000 });
    const r = watch(receiveFile(s.link.b, { maxFileSize: 1000, target: directoryTarget(dir) }));
    await s.handshake(m);
    s.sendAll(m, new Uint8Array(65_536).fill(3), 4096);
    await r.settled;
    // Today: 'completed', reported as 1000 B, with a 65,536 B file on disk.
    expect(r.error()).toBeInstanceOf(TallowError);
    for (const size of await sizes(dir)) expect(size).toBeLessThanOrEqual(1000);
  });

  it('a sender that sends fewer bytes than it declared does not complete', async () => {
    const { dir } = await inbox();
    const s = closeAfter(new HostileSender());
    const m = manifestOf({ size: 1000 });
    const r = watch(receiveFile(s.link.b, { target: directoryTarget(dir) }));
    await s.handshake(m);
    // 10 B and a `done` whose digest matches those 10 B.
    s.sendAll(m, new Uint8Array(10).fill(1), 4096);
    await r.settled;
    // Today: 'completed' with `bytes: 1000` while the file holds 10 B.
    expect(r.error()).toBeInstanceOf(ProtocolError);
    expect(completedOf(r.events)).toBeUndefined();
  });

  it.each([
    ['after the last chunk', true],
    ['before the chunks', false],
  ])('a `done` announcing one chunk more than carried every byte (%s) fails at once, not at the idle timeout', async (_, doneLast) => {
    const { dir } = await inbox();
    const s = closeAfter(new HostileSender());
    const bytes = new Uint8Array(20_000).fill(7);
    const m = manifestOf({ size: bytes.length, chunk: { min: 1024, max: 4096 } });
    const r = watch(receiveFile(s.link.b, { idleTimeoutMs: 60_000, target: directoryTarget(dir) }));
    await s.handshake(m);
    const done = { t: 'done', id: m.id, i: 0, chunks: 6, bytes: bytes.length, sha256: sha256Hex(bytes) } as const;
    if (!doneLast) s.send(done);
    expect(s.sendAll(m, bytes, 4096, false)).toBe(5);
    if (doneLast) s.send(done);
    // Bounded well below the 60 s idle timeout the receiver would otherwise wait for.
    await Promise.race([r.settled, sleep(10_000)]);
    r.stop();
    expect(r.error()).toBeInstanceOf(ProtocolError);
    expect((r.error() as ProtocolError).message).toMatch(/announces 6 chunks, but its 20000 B came in 5/);
    expect(completedOf(r.events)).toBeUndefined();
  });

  it('a `done` announcing more chunks than the manifest can hold is refused with ProtocolError', async () => {
    const s = closeAfter(new HostileSender());
    // 1000 B with chunks of at least 1024 B: one chunk at most.
    const m = manifestOf({ size: 1000, chunk: { min: 1024, max: 65_536 } });
    const r = watch(receiveFile(s.link.b, { idleTimeoutMs: 60_000 }));
    await s.handshake(m);
    // 100,000 is harmless to this machine; 2^24 or more crashes the process (see the header).
    s.send({ t: 'done', id: m.id, i: 0, chunks: 100_000, bytes: 1000, sha256: sha256Hex(new Uint8Array(1000)) });
    await Promise.race([r.settled, sleep(2_000)]);
    r.stop();
    // Today: still running, NACKing 4096 indexes that cannot exist at every scan.
    const nacked = s.received.flatMap((msg) => (msg.t === 'nack' ? msg.chunks : []));
    expect(nacked.filter((i) => i >= 1)).toEqual([]);
    expect(r.error()).toBeInstanceOf(ProtocolError);
  });
});

describe('a second done', () => {
  // An outside check: two identical `done`s after every byte failed the session with ProtocolError while the file
  // was already placed under its name, and the app never heard of it (no completed event).
  it('once every byte is verified, a second done is ignored: the file completes and is reported, right on disk', async () => {
    const { dir } = await inbox();
    const s = closeAfter(new HostileSender());
    const bytes = new Uint8Array(10_000).map((_, i) => (i * 7) & 255);
    const m = manifestOf({ size: bytes.length, chunk: { min: 1024, max: 4096 } });
    // The file's target holds its finish (placing the file) until the second done has been read.
    let placing!: () => void;
    const finishing = new Promise<void>((resolve) => (placing = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const disk = directoryTarget(dir);
    const held: ReceiveTarget<string> = {
      open: async (manifest) => {
        const opened = await disk.open(manifest);
        return { ...opened, finish: async () => (placing(), await released, opened.finish()) };
      },
    };
    const r = watch(receiveFile(s.link.b, { idleTimeoutMs: 60_000, target: held }));
    await s.handshake(m);
    s.sendAll(m, bytes, 4096);
    await finishing;
    s.send({ t: 'done', id: m.id, i: 0, chunks: 3, bytes: bytes.length, sha256: sha256Hex(bytes) });
    // A ping behind it: its pong says the receiver has read the second done.
    s.send({ t: 'ping', n: 1, ts: 0 });
    await s.next('pong');
    release();
    await Promise.race([r.settled, sleep(10_000)]);
    expect(outcomeOf(r)).toBe('completed');
    expect(completedOf(r.events)).toMatchObject({ sha256: sha256Hex(bytes) });
    expect(await listDir(dir)).toEqual(['hostile.bin']);
    expect(await sizes(dir)).toEqual([bytes.length]);
  });

  it('a second done while chunks are still missing is a ProtocolError', async () => {
    const s = closeAfter(new HostileSender());
    const bytes = new Uint8Array(10_000).fill(3);
    const m = manifestOf({ size: bytes.length, chunk: { min: 1024, max: 4096 } });
    const r = watch(receiveFile(s.link.b, { idleTimeoutMs: 60_000 }));
    await s.handshake(m);
    const done = { t: 'done', id: m.id, i: 0, chunks: 3, bytes: bytes.length, sha256: sha256Hex(bytes) } as const;
    s.send(done);
    s.send(done);
    await Promise.race([r.settled, sleep(10_000)]);
    expect(r.error()).toBeInstanceOf(ProtocolError);
    expect((r.error() as ProtocolError).message).toMatch(/a second done for file 0/);
  });
});
