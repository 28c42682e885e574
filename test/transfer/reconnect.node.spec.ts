/**
 * Surviving a lost connection on real WebRTC (node-datachannel, 127.0.0.1): mid-transfer, every peer
 * connection is closed; `reconnect` hands each side its end of a fresh pair, and the file arrives whole in
 * the same directoryTarget. What crossed twice is at most one window: the receiver resumes from every byte it
 * had written (directoryTarget records them when the transfer is cut), not from its last checkpoint.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { receiveFiles, sendFiles, type SessionEvent } from '../../src/index';
import { connectLoopbackPair, directoryTarget, fileFromPath, type LoopbackPair } from '../../src/node';
import { deterministicBytes } from '../helpers/bytes';
import { sha256Hex } from '../helpers/sha256';

const MiB = 1024 * 1024;

describe('a session whose peer connections all close mid-transfer (node-datachannel)', () => {
  it('resumes on a fresh pair: the file is byte-identical and at most one window crosses twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tallow-reconnect-'));
    const first = await connectLoopbackPair();
    let second: Promise<LoopbackPair> | undefined;
    const fresh = () => (second ??= connectLoopbackPair());
    try {
      const bytes = deterministicBytes(24 * MiB + 5, 9);
      await writeFile(join(dir, 'big.bin'), bytes);
      const window = 4 * MiB;
      let sentAtCut = -1;
      const received = lastValueFrom(
        receiveFiles(first.b, { target: directoryTarget(join(dir, 'in')), reconnect: () => fresh().then((p) => p.b) }).pipe(toArray()),
      );
      const sent$ = sendFiles(first.a, { files: [await fileFromPath(join(dir, 'big.bin'))] }, { window, reconnect: () => fresh().then((p) => p.a) });
      const sent = lastValueFrom(
        sent$.pipe(toArray()),
      );
      // Cut once 8 MiB are confirmed: close every peer connection of the first pair.
      const cut = sent$.subscribe((e) => {
        if (e.type === 'progress' && e.bytes >= 8 * MiB && sentAtCut < 0) {
          sentAtCut = e.sent ?? e.bytes;
          void first.close();
        }
      });
      const [r, s] = await Promise.all([received, sent]);
      cut.unsubscribe();
      const types = (events: SessionEvent[]) => events.map((e) => e.type);
      for (const events of [r, s]) {
        expect(types(events)).toContain('interrupted');
        expect(types(events)).toContain('resumed');
        const done = events.find((e): e is Extract<SessionEvent, { type: 'completed' }> => e.type === 'completed')!;
        expect(done.files.map((f) => f.sha256)).toEqual([sha256Hex(bytes)]);
      }
      const path = (r.find((e): e is Extract<SessionEvent<string>, { type: 'completed' }> => e.type === 'completed')!.files[0].result!);
      expect(sha256Hex(await readFile(path))).toBe(sha256Hex(bytes));
      // The receiver's file started again from what it had written; everything sent past that crossed twice.
      const resumedAt = r.findIndex((e) => e.type === 'resumed');
      const restart = r.slice(resumedAt).find((e): e is Extract<SessionEvent, { type: 'file-started' }> => e.type === 'file-started')!;
      console.log(`[reconnect] cut with ${sentAtCut} B sent; the receiver resumed from ${restart.from} B: ${sentAtCut - restart.from} B crossed twice (window ${window})`);
      expect(restart.from).toBeGreaterThanOrEqual(8 * MiB - window);
      expect(sentAtCut - restart.from).toBeLessThanOrEqual(window);
    } finally {
      await first.close();
      await (await second)?.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
