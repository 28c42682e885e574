/**
 * Limit: a receiver that declines an offer (`accept` returns or resolves to
 * false) writes nothing: no file, no partial file, no progress record, and no
 * data frame crosses the link. The sender fails with TransferRejectedError.
 */
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, TransferRejectedError, type Manifest } from '../../src/index';
import { directoryTarget } from '../../src/node';
import { createVirtualLink } from '../../src/testing';
import { listDir, watch, within } from './hostileSender';
import { closeAfter, inbox } from './tmpDirs';

const content = new Uint8Array(200_000).fill(5);

describe('limit: a receiver that rejects writes nothing', () => {
  it.each([
    ['accept: () => false', () => false],
    ['accept: async () => false', async () => false],
  ] as [string, (m: Manifest) => boolean | Promise<boolean>][])('%s', async (_, accept) => {
    const { root, dir } = await inbox();
    const link = closeAfter(createVirtualLink());
    const seen: Manifest[] = [];
    const r = watch(receiveFile(link.b, { target: directoryTarget(dir), accept: (m) => (seen.push(m), accept(m)) }));
    const s = watch(sendFile(link.a, content, { name: 'unwanted.bin' }));
    await within(Promise.all([r.settled, s.settled]), 10_000, 'both sides settle');

    expect(seen.map((m) => m.name)).toEqual(['unwanted.bin']);
    expect(r.completed()).toBe(true);
    expect(r.events.map((e) => e.type)).toEqual(['offer', 'rejected']);
    expect(s.error()).toBeInstanceOf(TransferRejectedError);
    expect(await listDir(dir)).toEqual([]);
    expect(await listDir(root)).toEqual(['inbox']);
    const data = [...link.a.channels, ...link.b.channels].filter((ch) => ch.label !== 'tallow-control');
    expect(data.reduce((n, ch) => n + ch.stats.bytesSent, 0)).toBe(0);
  });
});
