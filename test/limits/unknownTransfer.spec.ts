/**
 * Limit: frames of another transfer (another id) on the data channels are
 * dropped and counted by `decodeFrames({ transferId, onUnknownTransfer })`; the
 * real transfer still completes, byte for byte. The foreign frames reuse the
 * real chunks' indexes and offsets with other bytes, so a receiver that took
 * any of them would fail its SHA-256.
 */
import { readFile } from 'node:fs/promises';
import { merge, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decodeFrames, fromChannelMessages, receiveFile, sendFile } from '../../src/index';
import { encodeFrame } from '../../src/protocol';
import { directoryTarget } from '../../src/node';
import { createVirtualLink } from '../../src/testing';
import { listDir, watch } from './hostileSender';
import { closeAfter, inbox } from './tmpDirs';
import { deterministicBytes } from '../helpers/bytes';
import { completedOf } from '../helpers/events';
import { sha256Hex as sha } from '../helpers/sha256';

const SIZE = 1024 * 1024 + 7;
const content = deterministicBytes(SIZE);
const FOREIGN = [0, 1, 0xffff_ffff, 0x1234_5678];

describe('limit: frames for an unknown transfer id', () => {
  it('are dropped and counted, and the transfer completes intact', async () => {
    const { dir } = await inbox();
    const link = closeAfter(createVirtualLink({ delayMs: 1, bandwidth: 10_000_000 }));
    const id = 0xabc;
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const r = watch(receiveFile(link.b, { target: directoryTarget(dir) }).pipe(tap((e) => e.type === 'started' && markStarted())));
    const s = watch(sendFile(link.a, content, { name: 'real.bin', transferId: id, channels: 2, lanes: 1 }));

    // Watch what reaches the receiver's data channels, through the public operator, counting foreign frames.
    let counted = 0;
    let own = 0;
    let injected = 0;
    await started;
    const receiving = link.b.channels.filter((ch) => ch.label.startsWith('tallow-') && ch.label !== 'tallow-control');
    expect(receiving.length).toBe(2);
    const counting = merge(...receiving.map((ch) => fromChannelMessages(ch)))
      .pipe(decodeFrames({ transferId: id, onUnknownTransfer: () => void counted++ }))
      .subscribe(() => void own++);

    // Inject foreign frames on the sender's data channels while the real frames flow.
    const sending = link.a.channels.filter((ch) => ch.label.startsWith('tallow-') && ch.label !== 'tallow-control');
    for (let k = 0; k < 40; k++) {
      const ch = sending[k % sending.length];
      const transferId = FOREIGN[k % FOREIGN.length];
      const index = k % 8;
      ch.send(encodeFrame({ transferId, index, offset: index * 65_536 }, new Uint8Array(1000).fill(0xee)));
      injected++;
      if (k % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    // They went out mid-transfer (1 MiB at 10 MB/s takes ~100 ms).
    expect(r.completed()).toBe(false);

    await Promise.all([r.settled, s.settled]);
    counting.unsubscribe();
    expect(r.error()).toBeUndefined();
    expect(s.error()).toBeUndefined();
    const done = completedOf(r.events);
    expect(done?.sha256).toBe(sha(content));
    expect(await listDir(dir)).toEqual(['real.bin']);
    expect(sha(await readFile(done!.result as string))).toBe(sha(content));
    // Every foreign frame reached the receiver and was counted; the real ones were not.
    expect(counted).toBe(injected);
    expect(own).toBeGreaterThan(0);
  });
});
