import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitForClose } from '../harness/channels';
import { shutdownNodeDataChannel } from '../harness/nodePeers';
import { patternBytes, receiveBytes, sendBytes } from '../harness/pump';
import { spawnPeer, type SpawnedPeer } from '../harness/spawnPeer';
import { selectedCandidatePair } from '../harness/stats';
import { sha256Hex as sha256 } from '../helpers/sha256';

const fixture = (name: string): URL => new URL(`./fixtures/${name}.ts`, import.meta.url);

describe('spawnPeer', () => {
  // Every child started here; afterEach stops them by PID.
  const peers: SpawnedPeer[] = [];
  const track = (peer: SpawnedPeer): SpawnedPeer => (peers.push(peer), peer);
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });
  afterAll(() => shutdownNodeDataChannel());

  it('carries 8 MiB parent → child intact over 127.0.0.1', async () => {
    const data = patternBytes(8 * 1024 * 1024, 42);
    const peer = track(await spawnPeer({ module: fixture('receiveSha256'), args: { bytes: data.length } }));
    const pair = await selectedCandidatePair(peer.lanes[0]);
    expect([pair?.local.address, pair?.remote.address]).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(peer.pid).not.toBe(process.pid);

    await sendBytes(peer.channels[0][0], data);
    expect(await peer.result).toEqual({ sha256: sha256(data), bytes: data.length });
  });

  it('carries child → parent data on every lane and relays port messages', async () => {
    const peer = track(await spawnPeer({ module: fixture('sendOnRequest'), lanes: 2, channelInit: { ordered: false } }));
    expect(peer.lanes).toHaveLength(2);
    expect(peer.channels.map((lane) => lane[0].ordered)).toEqual([false, false]);
    const bytes = 1024 * 1024;
    const received = peer.channels.map((lane) => receiveBytes(lane[0], bytes));
    peer.port.send({ bytes, seed: 9 });
    const expected = sha256(patternBytes(bytes, 9));
    for (const r of received) expect(sha256(await r)).toBe(expected);
    expect(await peer.port.next()).toEqual({ sent: bytes, pid: peer.pid });
    peer.port.send('stop');
    expect(await peer.result).toBe(1);
  });

  it('SIGKILL of the child closes the parent channel within a few seconds', async () => {
    const peer = track(await spawnPeer({ module: fixture('idle') }));
    expect(await peer.result).toBe(peer.pid);
    const channel = peer.channels[0][0];
    expect(channel.readyState).toBe('open');
    const started = Date.now();
    peer.kill('SIGKILL');
    await waitForClose(channel, 5_000);
    const elapsed = Date.now() - started;
    expect(channel.readyState).toBe('closed');
    expect(elapsed).toBeLessThan(5_000);
    expect(await peer.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(peer.lanes[0].connectionState).toBe('closed');
  });

  it('a failing module rejects result with its message', async () => {
    const peer = track(await spawnPeer({ module: fixture('broken') }));
    await expect(peer.result).rejects.toThrow(/broken fixture failed on purpose/);
  });

  it('a missing module rejects spawnPeer and the child exits', async () => {
    await expect(spawnPeer({ module: fixture('does-not-exist'), timeoutMs: 10_000 })).rejects.toThrow(/spawnPeer: child (failed|exited)/);
  });
});
