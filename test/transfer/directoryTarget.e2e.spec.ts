/**
 * directoryTarget over real WebRTC (node-datachannel on 127.0.0.1): two
 * transfers of one name, with different content, arrive into one
 * directoryTarget at the same time; each reported sha256 must describe the
 * bytes at its reported path, and both must be their sources.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveFile, sendFile } from '../../src/index';
import { directoryTarget, fileFromPath } from '../../src/node';
import type { ReceiveTarget } from '../../src/transfer/ReceiveTarget';
import { createNodePeerPair, shutdownNodeDataChannel, type Lane } from '../harness/nodePeers';
import { sha256Hex as sha } from '../helpers/sha256';
import { completedOf as completed } from '../helpers/events';

const MiB = 1024 * 1024;
// Before the fix, 60 of 60 and 10 of 80 rounds went wrong; 6 rounds each keep the suite fast (more: E2E_ROUNDS=40).
const ROUNDS = Number(process.env.E2E_ROUNDS ?? 6);

let dir: string;
let pairs: Array<{ lanes: Lane[]; close(): Promise<void> }> = [];
const inputs: Array<{ path: string; sha: string }> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tallow-dirtarget-e2e-'));
  for (const i of [0, 1]) {
    const data = randomBytes(5 * MiB);
    const path = join(dir, `source-${i}.bin`);
    await writeFile(path, data);
    inputs.push({ path, sha: sha(data) });
  }
  pairs = [await createNodePeerPair(), await createNodePeerPair()];
});

afterAll(async () => {
  await Promise.all(pairs.map((p) => p.close()));
  shutdownNodeDataChannel();
  await rm(dir, { recursive: true, force: true });
});


/** Sends `inputs[i]` as `name` over pair i into `target`; resolves with what the receiver reported, or the error. */
const transfer = async (i: number, name: string, target: ReceiveTarget) => {
  const { a, b } = pairs[i].lanes[0];
  const file = await fileFromPath(inputs[i].path, { name });
  const [, received] = await Promise.allSettled([
    lastValueFrom(sendFile([a], file, { channels: 2, lanes: 1 }).pipe(toArray())),
    lastValueFrom(receiveFile([b], { target }).pipe(toArray())),
  ]);
  if (received.status === 'rejected') return { error: String(received.reason) };
  const done = completed(received.value);
  return { path: done?.result as string, sha256: done?.sha256 };
};

/** Runs both transfers at once; returns what went wrong, or nothing. */
const round = async (out: string, names: [string, string]): Promise<string[]> => {
  const target = directoryTarget(out);
  const got = await Promise.all([transfer(0, names[0], target), transfer(1, names[1], target)]);
  const wrong: string[] = [];
  for (const [i, r] of got.entries()) {
    if ('error' in r) {
      wrong.push(`${names[i]}: ${r.error}`);
      continue;
    }
    if (r.sha256 !== inputs[i].sha) wrong.push(`${names[i]}: reported ${r.sha256}, sent ${inputs[i].sha}`);
    const onDisk = await readFile(r.path).then(sha, (e: unknown) => String(e));
    if (onDisk !== inputs[i].sha) wrong.push(`${names[i]}: ${r.path} holds ${onDisk}, reported ${r.sha256}`);
  }
  if (!got.some((r) => 'error' in r) && (got[0] as { path: string }).path === (got[1] as { path: string }).path) wrong.push(`both reported ${(got[0] as { path: string }).path}`);
  return wrong;
};

describe('directoryTarget over node-datachannel', () => {
  it(`${ROUNDS} rounds: two concurrent same-name transfers (report.bin twice, or ../report.bin and report.bin) both land intact`, async () => {
    const wrong: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const out = await mkdtemp(join(dir, 'same-'));
      const names: [string, string] = r % 2 ? ['../report.bin', 'report.bin'] : ['report.bin', 'report.bin'];
      for (const w of await round(out, names)) wrong.push(`round ${r}: ${w}`);
      const left = (await readdir(out)).sort();
      if (left.join() !== 'report (1).bin,report.bin') wrong.push(`round ${r}: left ${left.join()}`);
    }
    expect(wrong).toEqual([]);
  }, 180_000);

  it(`${ROUNDS} rounds: r.bin exists; r.bin and r (1).bin arriving together take distinct names and replace nothing`, async () => {
    const wrong: string[] = [];
    const kept = randomBytes(1000);
    for (let r = 0; r < ROUNDS; r++) {
      const out = await mkdtemp(join(dir, 'names-'));
      await writeFile(join(out, 'r.bin'), kept);
      for (const w of await round(out, ['r.bin', 'r (1).bin'])) wrong.push(`round ${r}: ${w}`);
      if (sha(await readFile(join(out, 'r.bin'))) !== sha(kept)) wrong.push(`round ${r}: r.bin was replaced`);
      const left = (await readdir(out)).sort();
      if (left.length !== 3) wrong.push(`round ${r}: left ${left.join()}`);
    }
    expect(wrong).toEqual([]);
  }, 180_000);
});
