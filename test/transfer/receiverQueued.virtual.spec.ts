/**
 * The receiver's backlog reaches the sender's stats: every `ack` carries `queued` (bytes received but not yet
 * persisted), and the sender's `stats` events show it as `receiverQueuedBytes` (docs/stats.md), which the
 * `receiver` bottleneck reads. Before, the sender dropped it and the field never appeared (found by an
 * outside check). In virtual time over the virtual link, with a target that persists slowly.
 */
import { concatMap, map, scan, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, type TransferEvent } from '../../src/index';
import type { ReceiveTarget } from '../../src/transfer/ReceiveTarget';
import { createVirtualLink } from '../../src/testing';
import { pattern } from '../helpers/marbles';

const KiB = 1024;

/** A target that takes `msPerChunk` of virtual time to persist each chunk. */
const slowTarget = (ts: TestScheduler, msPerChunk: number): ReceiveTarget => ({
  open: () => ({
    from: 0,
    sink: (chunks) =>
      chunks.pipe(
        concatMap((c) => timer(msPerChunk, ts).pipe(map(() => c.data.length))),
        scan((total, n) => total + n, 0),
      ),
    finish: () => 'persisted',
    abort: () => undefined,
  }),
});

const run = (msPerChunk: number) => {
  const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  const sent: TransferEvent[] = [];
  let done = false;
  ts.run(() => {
    const link = createVirtualLink({ scheduler: ts, delayMs: 5 });
    receiveFile(link.b, { scheduler: ts, target: slowTarget(ts, msPerChunk) }).subscribe({ complete: () => (done = true) });
    sendFile(link.a, pattern(4096 * KiB), { scheduler: ts, transferId: 3, channels: 1, chunking: undefined }).subscribe({ next: (e) => sent.push(e) });
  });
  const queued = sent.flatMap((e) => (e.type === 'stats' && e.stats.receiverQueuedBytes !== undefined ? [e.stats.receiverQueuedBytes] : []));
  return { done, queued, completed: sent.some((e) => e.type === 'completed') };
};

describe("the receiver's backlog in the sender's stats", () => {
  it('a target that persists slowly: the sender reports receiverQueuedBytes > 0 while the backlog lasts', () => {
    const { done, completed, queued } = run(150);
    expect(done && completed).toBe(true);
    expect(queued.length).toBeGreaterThan(0);
    expect(Math.max(...queued)).toBeGreaterThan(64 * KiB);
  });

  it('a target that keeps up: receiverQueuedBytes is present and small', () => {
    const { completed, queued } = run(0);
    expect(completed).toBe(true);
    expect(queued.length).toBeGreaterThan(0);
    expect(Math.max(...queued)).toBeLessThanOrEqual(512 * KiB);
  });
});
