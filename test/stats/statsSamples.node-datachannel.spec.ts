/**
 * statsSamples, bitrate$ and loss$ against real node-datachannel peers on 127.0.0.1:
 * checks that the recorded fixture shape still matches what the polyfill returns.
 */
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { bitrate$ } from '../../src/stats/bitrate$';
import { loss$ } from '../../src/stats/loss$';
import { statsSamples } from '../../src/stats/statsSamples';
import type { PeerConnectionLike } from '../../src/types';
import { createNodePeerPair, openChannels } from '../harness/nodePeers';

describe('statsSamples on node-datachannel (real, loopback)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('reads payload byte counters and an RTT in ms; loss is unknown; completes after close()', async () => {
    const pair = await createNodePeerPair();
    cleanups.push(pair.close);
    const { a, b } = pair.lanes[0];
    const [[tx]] = await openChannels(pair.lanes[0], 1);
    const pc = a as unknown as PeerConnectionLike;

    const first = await firstValueFrom(statsSamples(pc, { sampleIntervalMs: 50 }));
    expect(first.bytesSource).toBe('transport');
    expect(first.dataChannels).toEqual([]);

    const chunk = new Uint8Array(64 * 1024);
    const rates = lastValueFrom(bitrate$(pc, { sampleIntervalMs: 100 }).pipe(take(3), toArray()));
    const losses = lastValueFrom(loss$(pc, { sampleIntervalMs: 100 }).pipe(take(2), toArray()));
    for (let i = 0; i < 32; i++) tx.send(chunk);
    const [got, lost] = await Promise.all([rates, losses]);
    expect(got.reduce((sum, r) => sum + (r.sendBps * r.intervalMs) / 8000, 0)).toBeGreaterThan(0);
    expect(lost).toEqual([undefined, undefined]);

    // payload only: exactly what was sent once the channel has drained (nothing else uses this pair)
    let later = await firstValueFrom(statsSamples(pc));
    for (let i = 0; i < 100 && (tx.bufferedAmount > 0 || later.bytesSent - first.bytesSent < 32 * 64 * 1024); i++) {
      await new Promise((r) => setTimeout(r, 20));
      later = await firstValueFrom(statsSamples(pc));
    }
    expect(later.bytesSent - first.bytesSent).toBe(32 * 64 * 1024);
    expect(later.rttMs).toBeGreaterThanOrEqual(0);
    expect(later.rttMs).toBeLessThan(1000);
    expect(Number.isInteger(later.rttMs)).toBe(true);

    const all = lastValueFrom(statsSamples(b as unknown as PeerConnectionLike, { sampleIntervalMs: 50 }).pipe(toArray()));
    b.close();
    // completes (rather than polling an empty report forever) once the connection is closed
    await expect(all).resolves.toBeInstanceOf(Array);
  });
});
