/**
 * The outside check "a peer written from docs/protocol.md alone": an
 * independent implementation of the wire protocol (./independentPeer.ts, which
 * imports nothing from tallow-rx) interoperates with tallow-rx in both
 * directions, over virtual channels: many files, folders and an empty file;
 * skip; resume from a matching prefix; restart after a prefix that does not
 * match; a NACKed chunk; a session cancelled part-way and resumed into the same
 * directory. Imports go through the package names, as an outsider's would.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { fromBytes, receiveFile, receiveFiles, sendFile, sendFiles, type FileDescriptor } from 'tallow-rx';
import { directoryTarget } from 'tallow-rx/node';
import { decodeFrame, encodeFrame, frameIdOf } from 'tallow-rx/protocol';
import { createVirtualLink, type VirtualLink } from 'tallow-rx/testing';
import { watchAborts } from './watchAborts';
import { decodeDocFrame, docReceive, docSend, encodeDocFrame, sha256Hex, type DocFile, type RawConnection } from './independentPeer';

const bytes = (n: number, seed: number): Uint8Array<ArrayBuffer> => {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
};

/** A seekable descriptor over bytes in memory, named by a relative path (what `sendFiles` takes). */
const descriptor = (f: DocFile): FileDescriptor => ({
  name: f.name,
  size: f.bytes.length,
  type: 'application/octet-stream',
  lastModified: f.lastModified ?? 1_700_000_000_000,
  seekable: true,
  read: ({ start = 0, end = f.bytes.length, demand } = {}) => fromBytes(f.bytes.subarray(start, end), { demand }),
});

const set: DocFile[] = [
  { name: 'a.bin', bytes: bytes(3 * 1024 * 1024 + 17, 1) },
  { name: 'sub/dir/b.bin', bytes: bytes(200_000, 2) },
  { name: 'empty.txt', bytes: new Uint8Array(0) },
  ...Array.from({ length: 20 }, (_, k) => ({ name: `many/f${k}.txt`, bytes: bytes(1000 + k * 37, 10 + k) })),
];

const dirs: string[] = [];
const links: VirtualLink[] = [];
afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'tallow-outside-'));
  dirs.push(d);
  return d;
};
const link = () => {
  const l = createVirtualLink();
  links.push(l);
  return l;
};
const raw = (peer: unknown) => [peer as RawConnection];
const collect = <T,>(events$: Observable<T>) => lastValueFrom(events$.pipe(toArray()));

describe('an independent peer written from docs/protocol.md', () => {
  it("writes frames byte-identical to tallow-rx/protocol's, and reads them back", () => {
    const payload = bytes(1000, 3);
    for (const [id, i, index, offset] of [
      [7, 0, 0, 0],
      [2 ** 32 - 1, 2, 5, 2 ** 40 + 7],
    ]) {
      const ours = encodeFrame({ transferId: frameIdOf(id, i), index, offset }, payload);
      expect(encodeDocFrame(id + i, index, offset, payload)).toEqual(ours);
      expect(decodeDocFrame(ours)).toMatchObject({ transferId: frameIdOf(id, i), index, offset });
      expect(decodeFrame(encodeDocFrame(id + i, index, offset, payload))).toMatchObject({ transferId: frameIdOf(id, i), index, offset, data: payload });
    }
  });

  it('sends many files, an empty one and an empty folder to receiveFiles', async () => {
    const l = link();
    const dir = await tmp();
    const received = collect(receiveFiles(l.b, { target: directoryTarget(dir) }));
    const sent = await docSend(raw(l.a), set, { folders: ['emptydir'] });
    const events = await received;
    expect(sent.skipped).toEqual([]);
    expect(events.filter((e) => e.type === 'file-completed')).toHaveLength(set.length);
    for (const f of set) expect(sha256Hex(await readFile(join(dir, f.name)))).toBe(sha256Hex(f.bytes));
    expect((await stat(join(dir, 'emptydir'))).isDirectory()).toBe(true);
  });

  it('receives from sendFiles: skips one file and resumes another from the prefix it holds', async () => {
    const l = link();
    const received = docReceive(raw(l.b), { skip: new Set(['many/f3.txt']), held: new Map([['a.bin', set[0].bytes.subarray(0, 1_000_000)]]) });
    const events = await collect(sendFiles(l.a, { files: set.map(descriptor), folders: ['x/y'] }));
    const got = await received;
    expect(events.at(-1)?.type).toBe('completed');
    expect(got.folders).toEqual(['x/y']);
    expect(got.entries.map((e) => e.name)).toEqual(set.map((f) => f.name));
    for (const f of set) if (f.name !== 'many/f3.txt') expect(sha256Hex(got.files.get(f.name)!)).toBe(sha256Hex(f.bytes));
    expect(got.files.has('many/f3.txt')).toBe(false);
    // The resumed file's frames start at byte 1,000,000.
    expect(got.restarted).toEqual([]);
    expect(got.lowestOffset.get('a.bin')).toBe(1_000_000);
    expect(got.lowestOffset.get('sub/dir/b.bin')).toBe(0);
  });

  it('receives from sendFile: a prefix that does not match is restarted, a NACKed chunk comes again', async () => {
    const l = link();
    const file = bytes(700_000, 9);
    const received = docReceive(raw(l.b), { nackChunkOne: true, held: new Map([['d.bin', bytes(300_000, 99)]]) });
    const events = await collect(sendFile(l.a, new File([file], 'd.bin')));
    const got = await received;
    expect(events.at(-1)?.type).toBe('completed');
    expect(got.restarted).toEqual([0]);
    expect(got.nacked).toBe(1);
    expect(sha256Hex(got.files.get('d.bin')!)).toBe(sha256Hex(file));
  });

  it('a session it cancels part-way resumes into the same directory from what receiveFiles verified', async () => {
    const l = link();
    const dir = await tmp();
    const big: DocFile[] = [{ name: 'big.bin', bytes: bytes(6 * 1024 * 1024, 7), lastModified: 1_700_000_000_000 }];
    const target = () => directoryTarget(dir, { checkpointEvery: 256 * 1024 });
    const w = watchAborts(target());
    const first = collect(receiveFiles(l.b, { target: w.target })).catch((e: unknown) => e);
    const cut = await docSend(raw(l.a), big, { idBase: 600, id: 1, cancelAfterBytes: 2 * 1024 * 1024 });
    expect(await first).toMatchObject({ code: 'ERR_CANCELLED' });
    // The error can come before the target has let go of its partial (retryAfterFailure.spec.ts).
    await Promise.all(w.aborts);

    const second = collect(receiveFiles(l.b, { target: target() }));
    const again = await docSend(raw(l.a), big, { idBase: 616, id: 2 });
    await second;
    expect(again.resumed).toHaveLength(1);
    const [[, from]] = again.resumed;
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(cut.cancelledAt!);
    expect(sha256Hex(await readFile(join(dir, 'big.bin')))).toBe(sha256Hex(big[0].bytes));
  });

  it('sends over unreliable channels on a lossy link: receiveFile NACKs what was lost, and the NACKed chunks come back', async () => {
    const l = createVirtualLink({ lossRate: 0.05, seed: 7, faultFilter: (ch) => ch.label !== 'tallow-control' });
    links.push(l);
    const file = bytes(2 * 1024 * 1024 + 3, 11);
    const received = lastValueFrom(receiveFile(l.b));
    const sent = await docSend(raw(l.a), [{ name: 'lossy.bin', bytes: file }], { reliability: 'unreliable', chunkBytes: 16_384 });
    const done = await received;
    expect(l.stats().aToB.messagesDropped).toBeGreaterThan(0);
    expect(sent.resent).toBeGreaterThanOrEqual(l.stats().aToB.messagesDropped); // every lost copy was asked for again
    const blob = (done as { result: Blob }).result;
    expect(sha256Hex(new Uint8Array(await blob.arrayBuffer()))).toBe(sha256Hex(file));
  });

  it('receiveFile (one file) takes a one-entry session from it', async () => {
    const l = link();
    const file = bytes(123_457, 5);
    const received = lastValueFrom(receiveFile(l.b));
    await docSend(raw(l.a), [{ name: 'one.bin', bytes: file }], { channels: 3, chunkBytes: 16_384 });
    const done = await received;
    expect(done.type).toBe('completed');
    const blob = (done as { result: Blob }).result;
    expect(sha256Hex(new Uint8Array(await blob.arrayBuffer()))).toBe(sha256Hex(file));
  });
});
