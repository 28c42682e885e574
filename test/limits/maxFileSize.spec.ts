/**
 * Limit: the largest file a receiver accepts (`receiveFile(…, { maxFileSize })`).
 * A bigger offer is refused before anything touches the disk: the receiver
 * fails with LimitExceededError, the sender with TransferRejectedError.
 */
import { describe, expect, it } from 'vitest';
import { LimitExceededError, receiveFile, sendFile, TransferRejectedError } from '../../src/index';
import { directoryTarget } from '../../src/node';
import { createVirtualLink } from '../../src/testing';
import { listDir, watch } from './hostileSender';
import { closeAfter, inbox } from './tmpDirs';
import { deterministicBytes } from '../helpers/bytes';

describe('limit: maxFileSize', () => {
  it('an offer one byte over maxFileSize is rejected on both sides and nothing is written', async () => {
    const { root, dir } = await inbox();
    const link = closeAfter(createVirtualLink());
    const r = watch(receiveFile(link.b, { maxFileSize: 999, target: directoryTarget(dir) }));
    const s = watch(sendFile(link.a, deterministicBytes(1000), { name: 'big.bin' }));
    await Promise.all([r.settled, s.settled]);

    expect(r.error()).toBeInstanceOf(LimitExceededError);
    expect((r.error() as LimitExceededError).details).toEqual({ limit: 'file size', value: 1000, max: 999 });
    expect(s.error()).toBeInstanceOf(TransferRejectedError);
    expect(r.events.map((e) => e.type)).not.toContain('started');
    expect(s.events.map((e) => e.type)).not.toContain('started');
    // No file, no partial file, no progress record; nothing next to the inbox either.
    expect(await listDir(dir)).toEqual([]);
    expect(await listDir(root)).toEqual(['inbox']);
    // Not one data frame crossed the link: only control messages.
    const data = [...link.a.channels, ...link.b.channels].filter((ch) => ch.label !== 'tallow-control');
    expect(data.reduce((n, ch) => n + ch.stats.bytesSent, 0)).toBe(0);
  });

  it('an offer of exactly maxFileSize is accepted and written (the boundary)', async () => {
    const { dir } = await inbox();
    const link = closeAfter(createVirtualLink());
    const r = watch(receiveFile(link.b, { maxFileSize: 1000, target: directoryTarget(dir) }));
    const s = watch(sendFile(link.a, deterministicBytes(1000), { name: 'fits.bin' }));
    await Promise.all([r.settled, s.settled]);
    expect(r.error()).toBeUndefined();
    expect(s.error()).toBeUndefined();
    expect(await listDir(dir)).toEqual(['fits.bin']);
  });

  it('maxFileSize 0 accepts only empty files', async () => {
    const { dir } = await inbox();
    const link = closeAfter(createVirtualLink());
    const r = watch(receiveFile(link.b, { maxFileSize: 0, target: directoryTarget(dir) }));
    const s = watch(sendFile(link.a, deterministicBytes(1), { name: 'one.bin' }));
    await Promise.all([r.settled, s.settled]);
    expect(r.error()).toBeInstanceOf(LimitExceededError);
    expect(s.error()).toBeInstanceOf(TransferRejectedError);
    expect(await listDir(dir)).toEqual([]);
  });
});
