/**
 * Whole transfers of several virtual minutes (an outside check of 7 Dec 2026: a 220 s transfer over a 20 kB/s
 * virtual link threw "Maximum call stack size exceeded" from TestScheduler.run() when torn down, and longer ones
 * ran out of memory: every tick of a repeating timer chained a new action to the last). Each takes well under a
 * second of real time.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, type TransferEvent } from '../../src/index';
import { createVirtualLink } from '../../src/testing';
import { pattern } from '../helpers/marbles';
import { sha256Hex } from '../helpers/sha256';

function slowTransfer(seconds: number, reliability: 'reliable' | 'unreliable') {
  const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
  const file = pattern(20_000 * seconds);
  const done: { side: string; at: number; sha256?: string; error?: unknown }[] = [];
  const on = (side: string) => ({
    next: (e: TransferEvent) => e.type === 'completed' && done.push({ side, at: ts.now(), sha256: e.sha256 }),
    error: (error: unknown) => done.push({ side, at: ts.now(), error }),
  });
  ts.run(() => {
    const link = createVirtualLink({ scheduler: ts, delayMs: 10, bandwidth: 20_000 });
    receiveFile(link.b, { scheduler: ts }).subscribe(on('receiver'));
    sendFile(link.a, file, { scheduler: ts, transferId: 1, reliability, channels: 1 }).subscribe(on('sender'));
  });
  return { done, sha256: sha256Hex(file) };
}

describe('whole transfers of several virtual minutes', () => {
  it.each([
    [220, 'unreliable'],
    [400, 'reliable'],
  ] as const)('%i s over a 20 kB/s link (%s): both complete, and run() returns', (seconds, reliability) => {
    const { done, sha256 } = slowTransfer(seconds, reliability);
    expect(done.map((d) => [d.side, d.sha256, d.error])).toEqual([
      ['receiver', sha256, undefined],
      ['sender', sha256, undefined],
    ]);
    expect(done[0].at).toBeGreaterThan(seconds * 1000);
  });
});
