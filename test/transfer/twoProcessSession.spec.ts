/**
 * A multi-file session with the receiver in a child process that is SIGKILLed mid-session, and a new
 * receiver process started on the same folder (a directoryTarget). The sender keeps its session (its
 * `reconnect` starts the new process and hands over its connections) and the new process, which knows
 * nothing of the session, resumes it file by file from what is on disk: the finished file is found
 * whole and not sent again, the file cut off resumes from its last checkpoint, the rest start from 0,
 * and nothing is saved twice. node-datachannel on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sendFiles, type SessionEvent } from '../../src/index';
import { filesFromPaths } from '../../src/node';
import { PARTIAL_SUFFIX } from '../../src/transfer/directoryTarget';
import { shutdownNodeDataChannel } from '../harness/nodePeers';
import { spawnPeer, type SpawnedPeer } from '../harness/spawnPeer';
import { sha256Hex } from '../helpers/sha256';

const MiB = 1024 * 1024;
const SIZES: Record<string, number> = { 'tree/a.bin': 4 * MiB, 'tree/sub/b.bin': 32 * MiB, 'tree/sub/c.bin': 6 * MiB, 'tree/empty.txt': 0 };
const child = new URL('./fixtures/sessionReceiverChild.ts', import.meta.url);

let dir: string;
const shas: Record<string, string> = {};
const peers: SpawnedPeer[] = [];

/** Every file and folder under `root`, relative, sorted. */
const listTree = async (root: string): Promise<string[]> => {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      out.push(relative(root, join(d, e.name)));
      if (e.isDirectory()) await walk(join(d, e.name));
    }
  };
  await walk(root);
  return out.sort();
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tallow-2p-session-'));
  await mkdir(join(dir, 'src', 'tree', 'sub'), { recursive: true });
  await mkdir(join(dir, 'src', 'tree', 'hollow'));
  for (const [name, size] of Object.entries(SIZES)) {
    const data = randomBytes(size);
    await writeFile(join(dir, 'src', name), data);
    shas[name] = sha256Hex(data);
  }
});
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  shutdownNodeDataChannel();
  await rm(dir, { recursive: true, force: true });
});

describe('two processes, one session', () => {
  it('the receiver is SIGKILLed mid-session; a new receiver process on the same folder resumes it file by file', async () => {
    const out = join(dir, 'out');
    const args = { dir: out, checkpointEvery: MiB };
    const first = await spawnPeer({ module: child, args });
    peers.push(first);
    let second: SpawnedPeer | undefined;
    let killedAt = 0;
    const done = new Set<string>();
    const files = await filesFromPaths([join(dir, 'src', 'tree')]);
    const events: SessionEvent[] = await lastValueFrom(
      sendFiles(first.lanes as any, files, {
        channels: 2,
        lanes: 1,
        reconnect: async () => {
          second = await spawnPeer({ module: child, args });
          peers.push(second);
          return second.lanes as any;
        },
      }).pipe(
        tap((e) => {
          if (e.type === 'file-completed') done.add(e.manifest.name);
          // Cut once a.bin is complete and b.bin is well under way.
          if (e.type === 'file-progress' && e.manifest.name === 'tree/sub/b.bin' && e.bytes > 8 * MiB && done.has('tree/a.bin') && !killedAt) {
            killedAt = e.bytes;
            first.kill('SIGKILL');
          }
        }),
        toArray(),
      ),
    );
    expect(killedAt).toBeGreaterThan(0);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['interrupted', 'resumed', 'completed']));
    const completed = events.at(-1) as Extract<SessionEvent, { type: 'completed' }>;
    expect(Object.fromEntries(completed.files.map((f) => [f.manifest.name, f.sha256]))).toEqual(shas);

    // The new process found a.bin whole, resumed b.bin from a checkpoint, and started the rest from 0.
    expect(second).toBeDefined();
    const result = (await second!.result) as { started: Record<string, number>; completed: Record<string, { sha256: string; path: string }> };
    expect(result.started['tree/a.bin']).toBe(SIZES['tree/a.bin']);
    expect(result.started['tree/sub/b.bin']).toBeGreaterThanOrEqual(4 * MiB);
    expect(result.started['tree/sub/b.bin']).toBeLessThan(SIZES['tree/sub/b.bin']);
    expect(result.started['tree/empty.txt']).toBe(0);
    for (const name of Object.keys(SIZES)) {
      expect(result.completed[name]?.sha256).toBe(shas[name]);
      expect(result.completed[name]?.path).toBe(join(out, name));
      expect(sha256Hex(await readFile(join(out, name)))).toBe(shas[name]);
      expect(Math.round((await stat(join(out, name))).mtimeMs)).toBe(Math.floor((await stat(join(dir, 'src', name))).mtimeMs));
    }
    // Nothing saved twice, and the empty folder kept. No record is left; the killed process may leave the part
    // file of a file it had opened but not yet checkpointed (it had no chance to remove it): without a record it
    // is never resumed or placed.
    const tree = await listTree(out);
    expect(tree.filter((p) => p.endsWith('.json'))).toEqual([]);
    const orphans = tree.filter((p) => p.endsWith(PARTIAL_SUFFIX));
    expect(orphans.every((p) => ['tree/sub/c.bin', 'tree/empty.txt'].some((n) => p === `${n}${PARTIAL_SUFFIX}`))).toBe(true);
    expect(tree.filter((p) => !orphans.includes(p))).toEqual(['tree', 'tree/a.bin', 'tree/empty.txt', 'tree/hollow', 'tree/sub', 'tree/sub/b.bin', 'tree/sub/c.bin']);
  });
});
