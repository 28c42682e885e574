/**
 * sendFile in this process, receiveFile in a child process, over
 * node-datachannel on 127.0.0.1; and resume after the receiver is SIGKILLed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChannelClosedError, sendFile, TallowError, type TransferEvent } from '../../src/index';
import { fileFromPath } from '../../src/node';
import { PARTIAL_SUFFIX } from '../../src/transfer/directoryTarget';
import { shutdownNodeDataChannel } from '../harness/nodePeers';
import { spawnPeer, type SpawnedPeer } from '../harness/spawnPeer';
import { completedOf } from '../helpers/events';
import { sha256Hex } from '../helpers/sha256';

const MiB = 1024 * 1024;
/** The file: twice the sender's 16 MiB window, so each run waits on acks, and the resumed run has most of it left. */
const SIZE = 32 * MiB;
const child = new URL('./fixtures/receiverChild.ts', import.meta.url);
const sha256File = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });

let dir: string;
let input: string;
let inputSha: string;
const peers: SpawnedPeer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tallow-2p-'));
  input = join(dir, 'input.bin');
  const data = randomBytes(SIZE);
  await writeFile(input, data);
  inputSha = sha256Hex(data);
});
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  shutdownNodeDataChannel();
  await rm(dir, { recursive: true, force: true });
});

describe('two processes', () => {
  it.each([
    { lanes: 1, channels: 2, reliability: 'reliable' as const },
    { lanes: 2, channels: 3, reliability: 'unreliable' as const },
  ])('32 MiB over $lanes lane(s), $channels channels, $reliability', async ({ lanes, channels, reliability }) => {
    const out = await mkdtemp(join(dir, 'out-'));
    const peer = await spawnPeer({ module: child, lanes, args: { dir: out } });
    peers.push(peer);
    const events = await lastValueFrom(sendFile(peer.lanes as any, await fileFromPath(input), { channels, lanes, reliability }).pipe(toArray()));
    expect(completedOf(events)?.sha256).toBe(inputSha);
    const result = (await peer.result) as { from: number; sha256: string; path: string; pid: number };
    expect(result.pid).toBe(peer.pid);
    expect(result.from).toBe(0);
    expect(result.sha256).toBe(inputSha);
    expect(await sha256File(result.path)).toBe(inputSha);
  });

  it('resumes after the receiver is killed with SIGKILL mid-transfer', async () => {
    const out = await mkdtemp(join(dir, 'resume-'));
    const first = await spawnPeer({ module: child, args: { dir: out, checkpointEvery: MiB } });
    peers.push(first);
    // Kill the receiver once it has acknowledged a good part of the file.
    let killedAt = 0;
    const err = await lastValueFrom(
      sendFile(first.lanes as any, await fileFromPath(input), { channels: 2, lanes: 1 }).pipe(
        tap((e) => {
          if (e.type === 'progress' && e.acked > 8 * MiB && !killedAt) {
            killedAt = e.acked;
            first.kill('SIGKILL');
          }
        }),
      ),
    ).then(
      () => undefined,
      (e) => e,
    );
    expect(killedAt).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(TallowError);
    expect(err).toBeInstanceOf(ChannelClosedError);
    await first.exited;
    // The partial file and its progress record are kept for resume.
    const left = await readdir(out);
    expect(left.sort()).toEqual([`input.bin${PARTIAL_SUFFIX}`, `input.bin${PARTIAL_SUFFIX}.json`]);

    const second = await spawnPeer({ module: child, args: { dir: out, checkpointEvery: MiB } });
    peers.push(second);
    const events = await lastValueFrom(sendFile(second.lanes as any, await fileFromPath(input), { channels: 2, lanes: 1 }).pipe(toArray()));
    const started = events.find((e) => e.type === 'started') as Extract<TransferEvent, { type: 'started' }>;
    // It resumed from a checkpoint well into the file (the receiver may have persisted more than the
    // sender saw acknowledged before the kill landed), and short of the end.
    expect(started.from).toBeGreaterThanOrEqual(4 * MiB);
    expect(started.from).toBeLessThan(SIZE);
    const result = (await second.result) as { from: number; sha256: string; path: string };
    expect(result.from).toBe(started.from);
    expect(result.sha256).toBe(inputSha);
    expect(await sha256File(result.path)).toBe(inputSha);
    // The partial state is cleaned up once the file is complete.
    expect(await readdir(out)).toEqual(['input.bin']);
  });
});
