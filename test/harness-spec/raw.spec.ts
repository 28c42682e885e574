import { afterAll, describe, expect, it } from 'vitest';
import { runRaw } from '../../bench/raw';
import { shutdownNodeDataChannel } from '../harness/nodePeers';

describe('bench/raw runRaw', () => {
  afterAll(() => shutdownNodeDataChannel());

  it.each([
    [64 * 1024, true],
    [256 * 1024, false],
  ])('moves every byte (message %i, ordered %s) and reports consistent figures', async (messageSize, ordered) => {
    // Not a multiple of the message size, so the short last message is exercised; small water
    // marks, so the sender parks and resumes many times.
    const bytes = 3_000_000 + 123;
    const result = await runRaw({ bytes, messageSize, ordered, highWater: 256 * 1024, lowWater: 64 * 1024 });
    expect(result.bytes).toBe(bytes);
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.mbps).toBeCloseTo((bytes * 8) / result.seconds / 1e6, 6);
  });

  it('rejects a message size above 256 KiB before connecting', async () => {
    await expect(runRaw({ messageSize: 256 * 1024 + 1 })).rejects.toThrow(RangeError);
  });
});
