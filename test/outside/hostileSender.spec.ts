/**
 * The outside check "hostile peers": a sender that lies, written against
 * docs/protocol.md with the independent peer's codec, fed to receiveFiles with
 * a directoryTarget. Each case pins what the document promises: a typed error
 * (and an `error` message to the peer), nothing finished that was not
 * verified, nothing written outside the receiver's folder, and a held prefix
 * that survives a sender ignoring it. These are the cases the suite did not
 * pin yet (test/limits has the rest).
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { receiveFiles } from 'tallow-rx';
import { directoryTarget } from 'tallow-rx/node';
import { createVirtualLink, type VirtualDataChannel, type VirtualLink } from 'tallow-rx/testing';
import { docSend, encodeDocFrame, sha256Hex, type RawConnection } from './independentPeer';
import { watchAborts } from './watchAborts';

const roots: string[] = [];
const links: VirtualLink[] = [];
afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  await Promise.all(roots.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** `root/inbox` for the receiver; `root` must hold nothing else afterwards. */
async function inbox(): Promise<{ root: string; dir: string }> {
  const root = await mkdtemp(join(tmpdir(), 'tallow-outside-hostile-'));
  roots.push(root);
  const dir = join(root, 'inbox');
  await mkdir(dir);
  return { root, dir };
}

const outcome = <T,>(events$: Observable<T>): Promise<T[] | { name: string; code: string; message: string }> =>
  lastValueFrom(events$.pipe(toArray())).catch((e: { name: string; code: string; message: string }) => e);

type Msg = { readonly t: string } & Record<string, unknown>;
interface Entry {
  readonly name: string;
  readonly size: number;
  readonly lastModified?: number;
}

/** A hand-driven sender: offer, entries and folders as given (with `offer` overrides), then whatever the test sends. */
async function hostileSender(link: VirtualLink, entries: readonly Entry[], options: { folders?: readonly string[]; offer?: Record<string, unknown>; id?: number } = {}) {
  const id = options.id ?? 77;
  const control = link.a.createDataChannel('tallow-control');
  const received: Msg[] = [];
  let wake = () => undefined as void;
  control.addEventListener('message', (e: { data: unknown }) => {
    received.push(JSON.parse(String(e.data)) as Msg);
    wake();
  });
  await new Promise<void>((resolve) => control.addEventListener('open', () => resolve()));
  const send = (m: Record<string, unknown>) => control.readyState === 'open' && control.send(JSON.stringify({ id, ...m }));
  const folders = options.folders ?? [];
  const offer = { t: 'offer', v: 3, files: entries.length, folders: folders.length, bytes: entries.reduce((s, e) => s + e.size, 0), channels: 1, lanes: 1, idBase: 600, reliability: 'reliable', chunk: { min: 1024, max: 65_536 }, digest: 'sha-256', window: 1 << 20, parallel: 1, ...options.offer };
  send(offer);
  entries.forEach((e, i) => send({ t: 'entry', i, type: '', ...e }));
  for (const name of folders) send({ t: 'folder', name });
  let data: VirtualDataChannel | undefined;
  /** The first message of type `t` (and file `i`, when given; one already received counts). */
  const next = (t: string, i?: number): Promise<Msg> =>
    new Promise((resolve) => {
      const check = () => {
        const m = received.find((x) => x.t === t && (i === undefined || x.i === i));
        if (m) resolve(m);
        else wake = check;
      };
      check();
    });
  const frame = async (i: number, index: number, offset: number, payload: Uint8Array) => {
    data ??= link.a.createDataChannel('tallow-0', { negotiated: true, id: offer.idBase as number, ordered: false });
    if (data.readyState !== 'open') await new Promise<void>((resolve) => data!.addEventListener('open', () => resolve()));
    data.send(encodeDocFrame(id + i, index, offset, payload));
  };
  return { send, next, frame, received };
}

const link = () => {
  const l = createVirtualLink();
  links.push(l);
  return l;
};
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('a hostile sender, from the outside', () => {
  it('a frame that reaches past its file → ProtocolError naming the range, the sender is told, no finished file', async () => {
    const l = link();
    const { root, dir } = await inbox();
    const rx = outcome(receiveFiles(l.b, { target: directoryTarget(dir) }));
    const s = await hostileSender(l, [{ name: 'o.txt', size: 11 }]);
    await s.next('accept');
    await s.frame(0, 0, 5, bytes(11, 1));
    expect(await rx).toMatchObject({ name: 'ProtocolError', code: 'ERR_PROTOCOL', message: expect.stringContaining('covers bytes 5..16, outside 0..11') });
    expect(await s.next('error')).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(await readdir(root)).toEqual(['inbox']);
    expect((await readdir(dir)).filter((n) => !n.includes('.tallow-part'))).toEqual([]);
  });

  it('the right chunk index at another offset (overlapping the previous chunk) → ReorderError, no finished file', async () => {
    const l = link();
    const { dir } = await inbox();
    const rx = outcome(receiveFiles(l.b, { target: directoryTarget(dir) }));
    const s = await hostileSender(l, [{ name: 'ov.bin', size: 40_000 }]);
    await s.next('accept');
    const whole = bytes(40_000, 7);
    await s.frame(0, 0, 0, whole.subarray(0, 20_000));
    await s.frame(0, 1, 10_000, whole.subarray(10_000));
    s.send({ t: 'done', i: 0, chunks: 2, bytes: 40_000, sha256: sha256Hex(whole) });
    expect(await rx).toMatchObject({ name: 'ReorderError', code: 'ERR_REORDER_GAP' });
    expect((await readdir(dir)).filter((n) => !n.includes('.tallow-part'))).toEqual([]);
  });

  it("the entries' sizes do not add up to offer.bytes → ProtocolError before anything is written", async () => {
    const l = link();
    const { dir } = await inbox();
    const rx = outcome(receiveFiles(l.b, { target: directoryTarget(dir) }));
    const s = await hostileSender(l, [{ name: 'z.txt', size: 11 }], { offer: { bytes: 3 } });
    expect(await rx).toMatchObject({ name: 'ProtocolError', message: expect.stringContaining('add up to 11 B, the offer announced 3 B') });
    expect(await s.next('error')).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('done.bytes other than the entry size → ProtocolError', async () => {
    const l = link();
    const { dir } = await inbox();
    const rx = outcome(receiveFiles(l.b, { target: directoryTarget(dir) }));
    const s = await hostileSender(l, [{ name: 'l.txt', size: 11 }]);
    await s.next('accept');
    await s.frame(0, 0, 0, bytes(11, 2));
    s.send({ t: 'done', i: 0, chunks: 1, bytes: 16, sha256: sha256Hex(bytes(11, 2)) });
    expect(await rx).toMatchObject({ name: 'ProtocolError', code: 'ERR_PROTOCOL' });
    expect((await readdir(dir)).filter((n) => !n.includes('.tallow-part'))).toEqual([]);
  });

  it('an offer over more lanes than the receiver has connections → reject and InvalidConfigError', async () => {
    const l = link();
    const { dir } = await inbox();
    const rx = outcome(receiveFiles(l.b, { target: directoryTarget(dir) }));
    const s = await hostileSender(l, [{ name: 'lm.txt', size: 11 }], { offer: { lanes: 2, channels: 2 } });
    expect(await s.next('reject')).toBeDefined();
    expect(await rx).toMatchObject({ name: 'InvalidConfigError', code: 'ERR_INVALID_CONFIG' });
  });

  it('restart for a file that was not resumed → ProtocolError', async () => {
    const l = link();
    const { dir } = await inbox();
    const rx = outcome(receiveFiles(l.b, { target: directoryTarget(dir) }));
    const s = await hostileSender(l, [{ name: 'r.txt', size: 11 }]);
    await s.next('accept');
    s.send({ t: 'restart', i: 0 });
    expect(await rx).toMatchObject({ name: 'ProtocolError', message: expect.stringContaining('restart of file 0') });
  });

  it('two entries with one name: both land, the second beside the first, both verified', async () => {
    const l = link();
    const { root, dir } = await inbox();
    const rx = outcome(receiveFiles(l.b, { target: directoryTarget(dir) }));
    const s = await hostileSender(l, [
      { name: 'same.txt', size: 5 },
      { name: 'same.txt', size: 5 },
    ]);
    await s.next('accept');
    for (const i of [0, 1]) {
      await s.frame(i, 0, 0, bytes(5, 65 + i));
      s.send({ t: 'done', i, chunks: 1, bytes: 5, sha256: sha256Hex(bytes(5, 65 + i)) });
      await s.next('complete', i); // one file at a time (offer.parallel 1)
    }
    expect(Array.isArray(await rx)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['same (1).txt', 'same.txt']);
    expect(await readFile(join(dir, 'same.txt'), 'latin1')).toBe('AAAAA');
    expect(await readFile(join(dir, 'same (1).txt'), 'latin1')).toBe('BBBBB');
    expect(await readdir(root)).toEqual(['inbox']);
  });

  it('a file whose path is another file (x, then x/y.txt) → ProtocolError before anything is written', async () => {
    const l = link();
    const { root, dir } = await inbox();
    const rx = outcome(receiveFiles(l.b, { target: directoryTarget(dir) }));
    const s = await hostileSender(l, [
      { name: 'x', size: 5 },
      { name: 'x/y.txt', size: 5 },
    ]);
    // The listing names "x" as a file and as a folder: refused at the entry, nothing opened.
    expect(await s.next('error')).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(await rx).toMatchObject({ code: 'ERR_PROTOCOL', message: expect.stringContaining('"x" is listed both as a file and as a folder') });
    expect(await readdir(dir).catch(() => [])).toEqual([]);
    expect(await readdir(root)).toEqual(['inbox']);
  });

  it('a folder entry named like a listed file (a.txt, then folder a.txt) → ProtocolError', async () => {
    const l = link();
    const { dir } = await inbox();
    const rx = outcome(receiveFiles(l.b, { target: directoryTarget(dir) }));
    const s = await hostileSender(l, [{ name: 'a.txt', size: 5 }], { folders: ['a.txt'] });
    expect(await s.next('error')).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(await rx).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(await readdir(dir).catch(() => [])).toEqual([]);
  });

  it('a sender that ignores a resume and starts at byte 0 → ProtocolError, and the verified prefix is kept for the next try', async () => {
    const l = link();
    const { dir } = await inbox();
    const file = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
    const target = () => directoryTarget(dir, { checkpointEvery: 256 * 1024 });
    const w1 = watchAborts(target());
    const first = outcome(receiveFiles(l.b, { target: w1.target }));
    await docSend([l.a as unknown as RawConnection], [{ name: 'big.bin', bytes: file, lastModified: 1_700_000_000_000 }], { id: 1, idBase: 600, cancelAfterBytes: 1024 * 1024 });
    expect(await first).toMatchObject({ code: 'ERR_CANCELLED' });
    await Promise.all(w1.aborts); // see retryAfterFailure.spec.ts

    const w2 = watchAborts(target());
    const second = outcome(receiveFiles(l.b, { target: w2.target }));
    const s = await hostileSender(l, [{ name: 'big.bin', size: file.length, lastModified: 1_700_000_000_000 }], { id: 2, offer: { idBase: 616 } });
    const resume = await s.next('resume');
    expect(resume.from).toBeGreaterThan(0);
    await s.next('accept');
    await s.frame(0, 0, 0, file.subarray(0, 65_536));
    expect(await second).toMatchObject({ name: 'ProtocolError', message: expect.stringContaining(`outside ${resume.from as number}..${file.length}`) });
    await Promise.all(w2.aborts);

    // An honest sender afterwards still resumes from the same prefix.
    const third = outcome(receiveFiles(l.b, { target: target() }));
    const again = await docSend([l.a as unknown as RawConnection], [{ name: 'big.bin', bytes: file, lastModified: 1_700_000_000_000 }], { id: 3, idBase: 632 });
    expect(Array.isArray(await third)).toBe(true);
    expect(again.resumed).toEqual([[0, resume.from]]);
    expect(sha256Hex(await readFile(join(dir, 'big.bin')))).toBe(sha256Hex(file));
  });
});

