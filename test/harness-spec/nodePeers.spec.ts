import { afterAll, describe, expect, it } from 'vitest';
import { createNodePeerPair, openChannels, shutdownNodeDataChannel } from '../harness/nodePeers';
import { patternBytes, receiveBytes, sendBytes } from '../harness/pump';
import { selectedCandidatePair } from '../harness/stats';
import { sha256Hex as sha256 } from '../helpers/sha256';


describe('createNodePeerPair', () => {
  afterAll(() => shutdownNodeDataChannel());

  it('connects every lane over UDP 127.0.0.1 on both sides', async () => {
    const pair = await createNodePeerPair({ lanes: 2 });
    try {
      expect(pair.lanes).toHaveLength(2);
      const ports = new Set<number>();
      for (const { a, b } of pair.lanes) {
        expect([a.connectionState, b.connectionState]).toEqual(['connected', 'connected']);
        const fromA = await selectedCandidatePair(a);
        const fromB = await selectedCandidatePair(b);
        expect(fromA?.local.address).toBe('127.0.0.1');
        expect(fromA?.remote.address).toBe('127.0.0.1');
        expect(fromB?.local.address).toBe('127.0.0.1');
        expect(fromB?.remote.address).toBe('127.0.0.1');
        // Each side sees the other's port: a real two-socket path, not one socket talking to itself.
        expect(fromA?.remote.port).toBe(fromB?.local.port);
        ports.add(fromA!.local.port);
      }
      // Lanes are separate ICE transports.
      expect(ports.size).toBe(2);
    } finally {
      await pair.close();
    }
  });

  it('openChannels returns open, index-aligned negotiated channels that carry data intact', async () => {
    const pair = await createNodePeerPair();
    try {
      const lane = pair.lanes[0];
      const [local, remote] = await openChannels(lane, 3, { ordered: false });
      const [more] = await openChannels(lane, 1);
      expect(local.map((c) => c.id)).toEqual([0, 1, 2]);
      expect(remote.map((c) => c.id)).toEqual([0, 1, 2]);
      expect(more[0].id).toBe(3);
      expect([...local, ...remote].map((c) => c.readyState)).toEqual(Array(6).fill('open'));
      expect(remote.map((c) => c.ordered)).toEqual([false, false, false]);

      const data = patternBytes(2 * 1024 * 1024, 7);
      const received = receiveBytes(remote[1], data.length);
      await sendBytes(local[1], data, { chunkSize: 16 * 1024, highWater: 256 * 1024, lowWater: 64 * 1024 });
      expect(sha256(await received)).toBe(sha256(data));
    } finally {
      await pair.close();
    }
  });

  it('maxMessageSize raises the per-message limit on both peers', async () => {
    const pair = await createNodePeerPair({ maxMessageSize: 1024 * 1024 });
    try {
      const lane = pair.lanes[0];
      expect(lane.a.sctp?.maxMessageSize).toBe(1024 * 1024);
      expect(lane.b.sctp?.maxMessageSize).toBe(1024 * 1024);
      const [[tx], [rx]] = await openChannels(lane, 1);
      const big = patternBytes(600_000, 3);
      const received = receiveBytes(rx, big.length);
      tx.send(big);
      expect(sha256(await received)).toBe(sha256(big));
    } finally {
      await pair.close();
    }
  });

  it('close() closes the connections and their channels', async () => {
    const pair = await createNodePeerPair();
    const [[tx], [rx]] = await openChannels(pair.lanes[0], 1);
    await pair.close();
    expect([tx.readyState, rx.readyState]).toEqual(['closed', 'closed']);
    expect([pair.lanes[0].a.connectionState, pair.lanes[0].b.connectionState]).toEqual(['closed', 'closed']);
  });
});
