/**
 * connectLoopbackPair (tallow-rx/node): node-datachannel pairs connected in one process over
 * 127.0.0.1, ready for sendFile/receiveFile, with no channel of their own left over.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { blobTarget, InvalidConfigError, receiveFile, sendFile, TallowError } from '../../src/index';
import { connectLoopbackPair, type LoopbackPair } from '../../src/node';
import { selectedCandidatePair } from '../harness/stats';
import { sha256Hex as sha256 } from '../helpers/sha256';
import { completedOf as completed } from '../helpers/events';

const run = promisify(execFile);

/** The polyfill's `peer-connection` stats entry: channels open and closed on this connection. */
const channelCounts = async (pc: RTCPeerConnection): Promise<{ dataChannelsOpened: number; dataChannelsClosed: number }> => {
  let found: any;
  (await pc.getStats()).forEach((s: any) => {
    if (s.type === 'peer-connection') found = s;
  });
  return { dataChannelsOpened: found.dataChannelsOpened, dataChannelsClosed: found.dataChannelsClosed };
};

let pair: LoopbackPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

describe('connectLoopbackPair', () => {
  it('connects every lane over UDP 127.0.0.1, each its own association', async () => {
    pair = await connectLoopbackPair({ lanes: 2 });
    expect(pair.a).toHaveLength(2);
    expect(pair.b).toHaveLength(2);
    const ports = new Set<number>();
    for (let i = 0; i < 2; i++) {
      expect([pair.a[i].connectionState, pair.b[i].connectionState]).toEqual(['connected', 'connected']);
      const fromA = await selectedCandidatePair(pair.a[i]);
      const fromB = await selectedCandidatePair(pair.b[i]);
      expect([fromA?.local.address, fromA?.remote.address, fromB?.local.address, fromB?.remote.address]).toEqual(Array(4).fill('127.0.0.1'));
      expect(fromA?.remote.port).toBe(fromB?.local.port);
      ports.add(fromA!.local.port);
    }
    expect(ports.size).toBe(2);
  });

  it('resolves with no channel open: the bootstrap channel is closed again', async () => {
    pair = await connectLoopbackPair();
    expect(await channelCounts(pair.a[0])).toEqual({ dataChannelsOpened: 0, dataChannelsClosed: 1 });
    expect(await channelCounts(pair.b[0])).toEqual({ dataChannelsOpened: 0, dataChannelsClosed: 0 });
  });

  it('carries a sendFile over two lanes intact (SHA-256), in both directions', async () => {
    pair = await connectLoopbackPair({ lanes: 2 });
    const data = randomBytes(3 * 1024 * 1024 + 5);
    for (const [from, to] of [[pair.a, pair.b], [pair.b, pair.a]]) {
      const [sent, received] = await Promise.all([
        lastValueFrom(sendFile(from, data, { channels: 2, lanes: 2 }).pipe(toArray())),
        lastValueFrom(receiveFile(to, { target: blobTarget() }).pipe(toArray())),
      ]);
      const got = new Uint8Array(await (completed(received)!.result as Blob).arrayBuffer());
      expect(sha256(got)).toBe(sha256(data));
      expect(completed(sent)!.sha256).toBe(sha256(data));
    }
  });

  it('passes maxMessageSize to both peers', async () => {
    pair = await connectLoopbackPair({ maxMessageSize: 1024 * 1024 });
    expect(pair.a[0].sctp?.maxMessageSize).toBe(1024 * 1024);
    expect(pair.b[0].sctp?.maxMessageSize).toBe(1024 * 1024);
  });

  it('close() closes every connection and can be called again', async () => {
    pair = await connectLoopbackPair({ lanes: 2 });
    await Promise.all([pair.close(), pair.close()]);
    expect([...pair.a, ...pair.b].map((pc) => pc.connectionState)).toEqual(Array(4).fill('closed'));
    await pair.close();
  });

  it.each([
    [{ lanes: 0 }],
    [{ lanes: 17 }],
    [{ lanes: 1.5 }],
    [{ maxMessageSize: -1 }],
    [{ timeoutMs: 0 }],
  ])('rejects %j with InvalidConfigError', async (config) => {
    await expect(connectLoopbackPair(config)).rejects.toBeInstanceOf(InvalidConfigError);
  });

  it('rejects a config that is not an object, naming it: null threw a TypeError, 5, "x" and [] connected (an outside check)', async () => {
    for (const [config, value, shown] of [[null, null, 'null'], [5, 5, '5'], ['x', 'x', '"x"'], [[], '[]', '[]']] as const) {
      // A pair that connects anyway is closed, so a failing check leaves nothing open.
      const outcome = await connectLoopbackPair(config as never).then(
        async (pair) => (await pair.close(), pair),
        (e: unknown) => e,
      );
      expect(outcome, shown).toBeInstanceOf(InvalidConfigError);
      expect(outcome).toMatchObject({ message: `connectLoopbackPair: config must be an object, got ${shown}`, details: { field: 'config', value } });
    }
  });

  it('names the option and shows the value as given: lanes "2" is not 2', async () => {
    const error = await connectLoopbackPair({ lanes: '2' as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).message).toBe('connectLoopbackPair: lanes must be an integer from 1 to 16, got "2"');
    expect((error as InvalidConfigError).details).toEqual({ field: 'lanes', value: '2' });
  });

  it('rejects with ERR_CONNECT_FAILED when a lane is not connected in time', async () => {
    const error = await connectLoopbackPair({ timeoutMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TallowError);
    expect((error as TallowError).code).toBe('ERR_CONNECT_FAILED');
    expect((error as TallowError).message).toMatch(/not connected after 1 ms/);
  });

  it('rejects with ERR_PEER_DEPENDENCY when node-datachannel is not installed', async () => {
    vi.resetModules();
    vi.doMock('node-datachannel/polyfill', () => {
      throw new Error("Cannot find package 'node-datachannel'");
    });
    try {
      const fresh = await import('../../src/connect/connectLoopbackPair');
      const error = await fresh.connectLoopbackPair().catch((e: unknown) => e);
      expect((error as TallowError).code).toBe('ERR_PEER_DEPENDENCY');
      expect((error as Error).message).toMatch(/npm install node-datachannel/);
    } finally {
      vi.doUnmock('node-datachannel/polyfill');
      vi.resetModules();
    }
  });

  // Retried: about 1 run in 60 under load, the child stays up after close() with no JS handle left
  // (process.getActiveResourcesInfo() is empty), its main thread in epoll with V8's 8 s GC timer next: a
  // node-datachannel callback whose native close event never came keeps the loop alive until the GC frees its
  // wrapper. A leak of ours (a timer, a listener) fails every attempt.
  it('lets the process exit on its own once close() resolved (no cleanup, no process.exit)', { retry: 2 }, async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/connect/fixtures/connectAndClose.ts'], { timeout: 20_000 });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ text: 'bye', states: Array(4).fill('closed') });
  });
});
