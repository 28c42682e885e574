/**
 * sendFile / receiveFile over real WebRTC: node-datachannel's polyfill, two
 * peers in this process on 127.0.0.1, real files on disk.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelClosedError, receiveFile, sendFile, TransferCancelledError, type TransferEvent } from '../../src/index';
import { connectLoopbackPair, directoryTarget, fileFromPath } from '../../src/node';
import { createNodePeerPair, shutdownNodeDataChannel, type Lane } from '../harness/nodePeers';

const MiB = 1024 * 1024;
const sha256File = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });

let dir: string;
let pairs: Record<number, { lanes: Lane[]; close(): Promise<void> }>;
const files: Record<number, { path: string; sha: string }> = {};
const SIZES = [0, 1, MiB + 7, 64 * MiB];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tallow-node-'));
  for (const size of SIZES) {
    const path = join(dir, `in-${size}.bin`);
    const data = randomBytes(size);
    await writeFile(path, data);
    files[size] = { path, sha: createHash('sha256').update(data).digest('hex') };
  }
  pairs = { 1: await createNodePeerPair({ lanes: 1 }), 2: await createNodePeerPair({ lanes: 2 }) };
});

afterAll(async () => {
  await Promise.all(Object.values(pairs ?? {}).map((p) => p.close()));
  shutdownNodeDataChannel();
  await rm(dir, { recursive: true, force: true });
});

const transfer = async (lanes: number, size: number, options: Parameters<typeof sendFile>[2]) => {
  const { lanes: ls } = pairs[lanes];
  const out = await mkdtemp(join(dir, 'out-'));
  const file = await fileFromPath(files[size].path, { name: `got-${size}.bin` });
  const [sent, received] = await Promise.all([
    lastValueFrom(sendFile(ls.map((l) => l.a), file, options).pipe(toArray())),
    lastValueFrom(receiveFile(ls.map((l) => l.b), { target: directoryTarget(out) }).pipe(toArray())),
  ]);
  return { sent, received, out };
};

const completed = (events: TransferEvent[]) => events.find((e): e is Extract<TransferEvent, { type: 'completed' }> => e.type === 'completed');

describe.each([
  { channels: 1, lanes: 1 },
  { channels: 3, lanes: 1 },
  { channels: 1, lanes: 2 },
  { channels: 3, lanes: 2 },
] as const)('node-datachannel, $channels channel(s) over $lanes lane(s)', ({ channels, lanes }) => {
  for (const reliability of ['reliable', 'unreliable'] as const) {
    it.each(SIZES)(`${reliability}: %i bytes arrive intact`, async (size) => {
      // One lane cannot carry more channels than lanes; a single channel uses one lane.
      const useLanes = Math.min(lanes, channels);
      const { sent, received, out } = await transfer(lanes, size, { channels, lanes: useLanes, reliability });
      const s = completed(sent);
      const r = completed(received);
      expect(s?.sha256).toBe(files[size].sha);
      expect(r?.sha256).toBe(files[size].sha);
      expect(r?.result).toBe(join(out, `got-${size}.bin`));
      expect(await sha256File(r!.result as string)).toBe(files[size].sha);
      // No partial files are left behind.
      expect(await readdir(out)).toEqual([`got-${size}.bin`]);
      const started = received.find((e) => e.type === 'started');
      expect(started && started.type === 'started' && started.manifest.channels).toBe(channels);
      expect(started && started.type === 'started' && started.manifest.lanes).toBe(useLanes);
    });
  }
});

describe('cancellation over node-datachannel', () => {
  const cancelFrom = async (side: 'sender' | 'receiver') => {
    const { lanes: ls } = pairs[1];
    const out = await mkdtemp(join(dir, 'cancel-'));
    const file = await fileFromPath(files[64 * MiB].path);
    const errors: Record<string, unknown> = {};
    let stop: (() => void) | undefined;
    const done = (who: string) => (e: unknown) => {
      errors[who] = e;
    };
    await new Promise<void>((resolve) => {
      let ended = 0;
      const end = () => ++ended === 2 && resolve();
      const maybeCancel = (e: TransferEvent) => {
        if (e.type === 'progress' && e.percent > 10 && stop) {
          const s = stop;
          stop = undefined;
          s();
          errors[side] = 'unsubscribed';
          end();
        }
      };
      const sSub = sendFile([ls[0].a], file, { channels: 2, lanes: 1 }).subscribe({
        next: side === 'sender' ? maybeCancel : undefined,
        error: (e) => (done('sender')(e), end()),
        complete: () => (done('sender')('completed'), end()),
      });
      const rSub = receiveFile([ls[0].b], { target: directoryTarget(out) }).subscribe({
        next: side === 'receiver' ? maybeCancel : undefined,
        error: (e) => (done('receiver')(e), end()),
        complete: () => (done('receiver')('completed'), end()),
      });
      stop = side === 'sender' ? () => sSub.unsubscribe() : () => rSub.unsubscribe();
    });
    return errors;
  };

  it('a sender that unsubscribes ends the receiver with TransferCancelledError', async () => {
    const errors = await cancelFrom('sender');
    expect(errors.sender).toBe('unsubscribed');
    expect(errors.receiver).toBeInstanceOf(TransferCancelledError);
    expect((errors.receiver as TransferCancelledError).by).toBe('remote');
  });

  it('a receiver that unsubscribes ends the sender with TransferCancelledError', async () => {
    const errors = await cancelFrom('receiver');
    expect(errors.receiver).toBe('unsubscribed');
    expect(errors.sender).toBeInstanceOf(TransferCancelledError);
    expect((errors.sender as TransferCancelledError).by).toBe('remote');
  });

  it('leaves no timers behind, and the connection carries the next transfer', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const { sent } = await transfer(1, MiB + 7, { channels: 2, lanes: 1 });
    expect(completed(sent)?.sha256).toBe(files[MiB + 7].sha);
    // Channels close 50 ms after completion; give the close timers time to run.
    await new Promise((r) => setTimeout(r, 200));
    expect(timers()).toBeLessThanOrEqual(before);
  });
});

describe('stats$ and progress$ views', () => {
  it('share one transfer with the events and carry TransferStats to a plain subscriber', async () => {
    const { lanes: ls } = pairs[1];
    const transfer$ = sendFile([ls[0].a], await fileFromPath(files[64 * MiB].path), { channels: 2, lanes: 1, sampleIntervalMs: 100 });
    const stats: number[] = [];
    const progress: number[] = [];
    transfer$.stats$.subscribe((s) => stats.push(s.bytesDone));
    transfer$.progress$.subscribe((p) => progress.push(p.percent));
    const offers: unknown[] = [];
    const [events] = await Promise.all([
      lastValueFrom(transfer$.pipe(toArray())),
      lastValueFrom(receiveFile([ls[0].b]).pipe(toArray())).then((r) => offers.push(...r.filter((e) => e.type === 'offer'))),
    ]);
    expect(offers).toHaveLength(1);
    expect(completed(events)?.sha256).toBe(files[64 * MiB].sha);
    expect(stats.length).toBeGreaterThan(1);
    expect(stats.at(-1)).toBe(64 * MiB);
    expect(progress.at(-1)).toBe(100);
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1])).toBe(true);
  });
});

describe('both peers sending at once on one connection', () => {
  it('keeps their data-channel ids apart (control-channel parity) and both files arrive', async () => {
    const { lanes: ls } = pairs[1];
    const x = randomBytes(4 * MiB);
    const y = randomBytes(3 * MiB + 5);
    const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
    const blobSha = async (events: TransferEvent[]) => sha(new Uint8Array(await (completed(events)!.result as Blob).arrayBuffer()));
    const [ab, ba, atB, atA] = await Promise.all([
      lastValueFrom(sendFile(ls[0].a, x, { channels: 2, lanes: 1 }).pipe(toArray())),
      lastValueFrom(sendFile(ls[0].b, y, { channels: 2, lanes: 1 }).pipe(toArray())),
      lastValueFrom(receiveFile(ls[0].b).pipe(toArray())),
      lastValueFrom(receiveFile(ls[0].a).pipe(toArray())),
    ]);
    expect(completed(ab)!.sha256).toBe(sha(x));
    expect(completed(ba)!.sha256).toBe(sha(y));
    expect(await blobSha(atB)).toBe(sha(x));
    expect(await blobSha(atA)).toBe(sha(y));
    const idBases = [atB, atA].map((events) => (events.find((e) => e.type === 'offer') as Extract<TransferEvent, { type: 'offer' }>).manifest.idBase);
    // One side takes 512..767, the other 768..1023.
    expect(idBases.map((id) => id >= 768).sort()).toEqual([false, true]);
  });
});

describe('a connection that closes before the sender offers anything', () => {
  it('fails receiveFile with ChannelClosedError at once (it waited for an offer forever: a CLI receiver whose sender failed after connecting hung)', async () => {
    const pair = await connectLoopbackPair();
    const t0 = Date.now();
    const received = lastValueFrom(receiveFile(pair.b[0]).pipe(toArray())).then(
      () => undefined,
      (e: unknown) => e,
    );
    pair.a[0].close();
    const error = await received;
    await pair.close();
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).message).toBe('the connection closed before the sender offered anything');
    // The close event, not a timeout (the idle timeout is 30 s, and there was none before an offer).
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 20_000);
});
