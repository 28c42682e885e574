/**
 * `channelsInWorker(pc)`: starting the worker (and not, where none can run), the stand-in connection it
 * returns, and whole transfers in virtual time whose every data channel, lanes included, runs in the
 * worker (the real worker script, each hop a zero-time task on the test scheduler).
 */
import { filter, last, map, merge, type Observable } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChannelWorker } from '../../src/channels/ChannelWorker';
import { channelsInWorker, CHANNEL_WORKER_START_TIMEOUT_MS } from '../../src/channels/channelsInWorker';
import { workerOf } from '../../src/channels/inWorker';
import { WorkerChannel } from '../../src/channels/WorkerChannel';
import { InvalidConfigError, receiveFile, receiveFiles, sendFile, sendFiles, type SessionEvent, type TransferEvent } from '../../src/index';
import { createVirtualLink, createVirtualNetwork, VirtualPeerConnection } from '../../src/testing';
import { FakeChannel } from '../helpers/fakeChannel';
import { fakeChannelWorker, taskQueue } from '../helpers/fakeChannelWorker';
import { testScheduler } from '../helpers/marbles';
import { sha256Hex } from '../helpers/sha256';

const MiB = 1024 * 1024;
const FILE = new Uint8Array(3 * MiB + 7).map((_, i) => (i * 13 + (i >> 10)) % 251);

/** A virtual peer connection (unconnected). */
const vpc = (): VirtualPeerConnection => createVirtualNetwork().createConnection();

/** A worker host on a manual task queue. */
const hostOnQueue = () => {
  const q = taskQueue();
  const worker = fakeChannelWorker(q.deliver);
  return { q, worker, host: new ChannelWorker(worker) };
};

describe('channelsInWorker: starting the worker', () => {
  afterEach(() => void vi.useRealTimers());

  it('where no Worker exists (Node), resolves with the connection itself', async () => {
    const pc = vpc();
    expect(await channelsInWorker(pc)).toBe(pc);
  });

  it('resolves with the stand-in once the worker says ready', async () => {
    const q = taskQueue();
    const pc = vpc();
    const started = channelsInWorker(pc, { startWorker: () => fakeChannelWorker(q.deliver) });
    await Promise.resolve();
    q.flush();
    const wrapped = await started;
    expect(wrapped).not.toBe(pc);
    expect(workerOf(wrapped)).toBeInstanceOf(ChannelWorker);
    // Wrapping a stand-in again changes nothing.
    expect(await channelsInWorker(wrapped)).toBe(wrapped);
    expect(workerOf(wrapped)!.wrap(pc)).toBe(wrapped);
  });

  it('a worker that never says ready is ended after startTimeoutMs, and the connection stays as it was', async () => {
    vi.useFakeTimers();
    const worker = fakeChannelWorker(() => undefined, { startsReady: false });
    const pc = vpc();
    const started = channelsInWorker(pc, { startWorker: () => worker });
    await vi.advanceTimersByTimeAsync(CHANNEL_WORKER_START_TIMEOUT_MS - 1);
    expect(worker.terminated).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await started).toBe(pc);
    expect(worker.terminated).toBe(true);
  });

  it('a worker that fails to start (CSP, a throw, an error event) leaves the connection as it was', async () => {
    const pc = vpc();
    expect(
      await channelsInWorker(pc, {
        startWorker: () => {
          throw new Error('blocked by CSP');
        },
      }),
    ).toBe(pc);
    const worker = fakeChannelWorker(() => undefined, { startsReady: false });
    const started = channelsInWorker(pc, { startWorker: () => worker });
    worker.crash();
    expect(await started).toBe(pc);
  });

  it.each([[0], [-1], [Number.NaN], [Infinity]])('startTimeoutMs %s is an InvalidConfigError', async (ms) => {
    await expect(channelsInWorker(vpc(), { startTimeoutMs: ms })).rejects.toBeInstanceOf(InvalidConfigError);
  });

  it('something that is not a connection is an InvalidConfigError', async () => {
    await expect(channelsInWorker({} as never)).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
  });
});

describe('the stand-in connection', () => {
  it('is the connection for everything but data channels: methods (private fields and all), properties, events, instanceof', () => {
    const { host } = hostOnQueue();
    const pc = vpc();
    const wrapped = host.wrap(pc);
    expect(wrapped).toBeInstanceOf(VirtualPeerConnection);
    expect(wrapped.getConfiguration()).toEqual(pc.getConfiguration());
    expect(wrapped.connectionState).toBe(pc.connectionState);
    const seen: string[] = [];
    wrapped.addEventListener('connectionstatechange', () => seen.push('state'));
    wrapped.onicecandidate = () => undefined;
    expect(pc.onicecandidate).toBe(wrapped.onicecandidate);
    (pc as unknown as { dispatch(e: { type: string }): void }).dispatch({ type: 'connectionstatechange' });
    expect(seen).toEqual(['state']);
    wrapped.close();
    expect(pc.connectionState).toBe('closed');
  });

  it('createDataChannel hands the new channel to the worker; a channel the browser will not transfer stays a plain one', () => {
    const { host, worker } = hostOnQueue();
    const pc = { createDataChannel: (label: string) => new FakeChannel(label, { readyState: 'connecting' }), addEventListener: () => undefined, removeEventListener: () => undefined, close: () => undefined };
    const wrapped = host.wrap(pc);
    expect(wrapped.createDataChannel('a')).toBeInstanceOf(WorkerChannel);
    worker.refuseTransfers(true);
    expect(wrapped.createDataChannel('b')).toBeInstanceOf(FakeChannel);
  });

  it("datachannel events carry the worker's stand-in, to listeners and to ondatachannel, and removeEventListener works", () => {
    const { host } = hostOnQueue();
    let fire: (e: { channel: unknown }) => void = () => undefined;
    const pc = { createDataChannel: () => new FakeChannel('x'), addEventListener: (t: string, l: (e: any) => void) => t === 'datachannel' && (fire = l), removeEventListener: (_t: string, _l: unknown) => undefined, close: () => undefined };
    const wrapped = host.wrap(pc) as typeof pc & { ondatachannel: ((e: { channel: unknown }) => void) | null };
    const got: unknown[] = [];
    const listener = (e: { channel: unknown }) => got.push(e.channel);
    wrapped.addEventListener('datachannel', listener);
    wrapped.ondatachannel = (e) => got.push(e.channel);
    expect(typeof wrapped.ondatachannel).toBe('function');
    fire({ channel: new FakeChannel('remote', { readyState: 'connecting' }) });
    expect(got).toHaveLength(2);
    expect(got[0]).toBeInstanceOf(WorkerChannel);
    expect(got[1]).toBe(got[0]);
    wrapped.removeEventListener('datachannel', listener);
    wrapped.ondatachannel = null;
    fire({ channel: new FakeChannel('remote-2', { readyState: 'connecting' }) });
    expect(got).toHaveLength(2);
  });
});

const ended = (side: string, events$: Observable<SessionEvent | TransferEvent>): Observable<string> =>
  events$.pipe(
    filter((e) => e.type === 'completed'),
    last(),
    map(() => `${side} completed`),
  );

describe('whole transfers with every channel in the worker (virtual time)', () => {
  it('sendFile → receiveFile over a virtual link: the file arrives exact, and every channel the transfer made ran in a worker', () => {
    const scheduler = testScheduler();
    const outcomes: string[] = [];
    let sha: string | undefined;
    const hosts: ChannelWorker[] = [];
    scheduler.run(() => {
      const link = createVirtualLink({ scheduler, delayMs: 5, bandwidth: 20 * MiB });
      const host = () => {
        const h = new ChannelWorker(fakeChannelWorker((task) => scheduler.schedule(task)));
        hosts.push(h);
        return h;
      };
      const a = host().wrap(link.a);
      const b = host().wrap(link.b);
      const rx = receiveFile(b, { scheduler, idleTimeoutMs: 5000 }).pipe(
        filter((e) => {
          if (e.type === 'completed') sha = e.sha256;
          return true;
        }),
      );
      merge(ended('receiver', rx), ended('sender', sendFile(a, FILE, { scheduler, transferId: 3, channels: 3, idleTimeoutMs: 5000 }))).subscribe({
        next: (o) => outcomes.push(o),
        error: (e) => outcomes.push(`error ${String(e)}`),
      });
    });
    expect(outcomes.sort()).toEqual(['receiver completed', 'sender completed']);
    expect(sha).toBe(sha256Hex(FILE));
    // Control + 3 data channels at each end went through the worker, and all of them are closed now.
    expect(hosts.map((h) => h.size)).toEqual([0, 0]);
    // The sender's frames (3 MiB in frames of 64 KiB or more) went to the worker in pooled buffers.
    const { allocated, reused } = hosts[0].sendBuffers.counts;
    expect(allocated + reused).toBeGreaterThanOrEqual(12);
    expect(allocated).toBeLessThanOrEqual(64);
  });

  it('in-band lanes of a stand-in connection run their channels in the worker too', () => {
    const scheduler = testScheduler();
    const outcomes: string[] = [];
    const adopted = [0, 0];
    scheduler.run(() => {
      const net = createVirtualNetwork({ scheduler, rateBytesPerSecond: 2_500_000, queueBytes: 128 * 1024, delayMs: 20, lossRate: 0.01 });
      const given = net.createLink();
      const hostFor = (side: 0 | 1) => {
        const h = new ChannelWorker(fakeChannelWorker((task) => scheduler.schedule(task)));
        const adopt = h.adopt.bind(h);
        h.adopt = (ch: unknown) => (adopted[side]++, adopt(ch));
        return h;
      };
      const a = hostFor(0).wrap(given.a);
      const b = hostFor(1).wrap(given.b);
      const rx$ = receiveFiles(b, { scheduler, createConnection: net.createConnection });
      const tx$ = sendFiles(a, [FILE], { scheduler, transferId: 9, createConnection: net.createConnection, inbandLanes: 3, laneStaggerMs: 100 });
      merge(ended('receiver', rx$), ended('sender', tx$)).subscribe({ next: (o) => outcomes.push(o), error: (e) => outcomes.push(`error ${String(e)}`) });
    });
    expect(outcomes.sort()).toEqual(['receiver completed', 'sender completed']);
    // The given connection makes 3 channels at each end (control + 2 data; 3 and 3 without the lanes in the
    // worker); every channel past those is a lane's, handed to the worker through the lanes' factory.
    expect(adopted[0]).toBeGreaterThan(3);
    expect(adopted[1]).toBeGreaterThan(3);
  });
});

describe('channelsInWorker: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', async () => {
    const error = await channelsInWorker(undefined as never, null as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'channelsInWorker: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
