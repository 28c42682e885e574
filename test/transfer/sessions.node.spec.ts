/**
 * Sessions over real WebRTC (node-datachannel, `connectLoopbackPair` on 127.0.0.1) into a
 * `directoryTarget`: a folder tree collected with `filesFromPaths` (nested folders, an empty folder, an
 * empty file, 50 small files and one 5 MB file) arrives byte-identical, and a second session of the same
 * tree into a folder that already holds some of its files adds ` (1)` copies and never overwrites.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveFiles, sendFiles, type SessionEvent } from '../../src/index';
import { connectLoopbackPair, directoryTarget, filesFromPaths, type LoopbackPair } from '../../src/node';
import { sha256Hex } from '../helpers/sha256';

const MB = 1_000_000;

let root: string;
let tree: string;
let pair: LoopbackPair;
/** Every file of the tree by its path relative to `root` ('/'-separated), and every folder. */
const files = new Map<string, Buffer>();
const folders = ['tree', 'tree/empty', 'tree/nested', 'tree/nested/deeper', 'tree/nested/deeper/deepest', 'tree/small'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tallow-sessions-'));
  tree = join(root, 'tree');
  for (const f of folders) await mkdir(join(root, f), { recursive: true });
  const add = async (rel: string, bytes: Buffer) => {
    files.set(rel, bytes);
    await writeFile(join(root, rel), bytes);
  };
  await add('tree/empty.txt', Buffer.alloc(0));
  await add('tree/big.bin', randomBytes(5 * MB));
  await add('tree/nested/deeper/deepest/leaf.txt', Buffer.from('a leaf three folders down\n'));
  for (let i = 0; i < 50; i++) await add(`tree/small/${String(i).padStart(2, '0')}.dat`, randomBytes(1 + ((i * 977) % 20_000)));
  pair = await connectLoopbackPair();
}, 30_000);

afterAll(async () => {
  await pair?.close();
  await rm(root, { recursive: true, force: true });
});

/** Every file (bytes) and every folder under `dir`, by path relative to it. */
async function listing(dir: string): Promise<{ files: Map<string, Buffer>; folders: string[] }> {
  const out = { files: new Map<string, Buffer>(), folders: [] as string[] };
  const walk = async (at: string): Promise<void> => {
    for (const e of await readdir(at, { withFileTypes: true })) {
      const path = join(at, e.name);
      const rel = relative(dir, path).split('\\').join('/');
      if (e.isDirectory()) {
        out.folders.push(rel);
        await walk(path);
      } else out.files.set(rel, await readFile(path));
    }
  };
  await walk(dir);
  out.folders.sort();
  return out;
}

/** One session of `tree` into `dir`: both sides' events. */
async function session(dir: string): Promise<{ sent: SessionEvent[]; received: SessionEvent[] }> {
  const set = await filesFromPaths([tree]);
  const received = lastValueFrom(receiveFiles(pair.b, { target: directoryTarget(dir) }).pipe(toArray()));
  const sent = lastValueFrom(sendFiles(pair.a, set, { channels: 2 }).pipe(toArray()));
  return { sent: await sent, received: await received };
}

const completedOf = (events: readonly SessionEvent[]) => events.find((e): e is Extract<SessionEvent, { type: 'completed' }> => e.type === 'completed');

/** `a/b (1).ext` for `a/b.ext`. */
const copyOf = (rel: string): string => {
  const slash = rel.lastIndexOf('/');
  const dot = rel.lastIndexOf('.');
  return dot > slash + 1 ? `${rel.slice(0, dot)} (1)${rel.slice(dot)}` : `${rel} (1)`;
};

describe('sessions over node-datachannel into a directoryTarget', () => {
  it('a folder tree (nested and empty folders, an empty file, 50 small files, 5 MB) arrives byte-identical', async () => {
    const out = join(root, 'out-1');
    const { sent, received } = await session(out);
    const done = completedOf(received)!;
    expect(done.files).toHaveLength(files.size);
    expect(completedOf(sent)!.files).toHaveLength(files.size);
    // Every digest the receiver reports is the source's.
    for (const r of done.files) expect([r.manifest.name, r.sha256]).toEqual([r.manifest.name, sha256Hex(files.get(r.manifest.name)!)]);
    const got = await listing(out);
    expect(got.folders).toEqual([...folders].sort());
    expect([...got.files.keys()].sort()).toEqual([...files.keys()].sort());
    for (const [rel, bytes] of files) expect([rel, got.files.get(rel)!.length, sha256Hex(got.files.get(rel)!)]).toEqual([rel, bytes.length, sha256Hex(bytes)]);
  }, 20_000);

  it('a second session into a folder that already holds some of the files adds " (1)" copies and never overwrites', async () => {
    const out = join(root, 'out-2');
    // Held before the session: two files with other content, one with the same content, and an empty file.
    const held = new Map<string, Buffer>([
      ['tree/small/07.dat', Buffer.from('mine, not the sender’s')],
      ['tree/nested/deeper/deepest/leaf.txt', Buffer.from('another leaf')],
      ['tree/small/08.dat', files.get('tree/small/08.dat')!],
      ['tree/empty.txt', Buffer.alloc(0)],
    ]);
    for (const [rel, bytes] of held) {
      await mkdir(join(out, rel, '..'), { recursive: true });
      await writeFile(join(out, rel), bytes);
    }
    const { received } = await session(out);
    expect(completedOf(received)!.files).toHaveLength(files.size);
    const got = await listing(out);
    // What was there is untouched; the session's copy of it sits next to it.
    for (const [rel, bytes] of held) {
      expect(sha256Hex(got.files.get(rel)!)).toBe(sha256Hex(bytes));
      expect(sha256Hex(got.files.get(copyOf(rel))!)).toBe(sha256Hex(files.get(rel)!));
    }
    // Every other file at its own name, and nothing else.
    for (const [rel, bytes] of files) if (!held.has(rel)) expect(sha256Hex(got.files.get(rel)!)).toBe(sha256Hex(bytes));
    expect([...got.files.keys()].sort()).toEqual([...files.keys(), ...[...held.keys()].map(copyOf)].sort());
    expect(got.folders).toEqual([...folders].sort());
  }, 20_000);
});
