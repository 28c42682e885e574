/**
 * Re-injection (docs/protocol.md, "A sender may also resend chunks nobody asked for") is for a lane that stalls,
 * not for a receiver whose disk is behind: while the receiver's acks report a backlog (`queued` > 0: bytes it holds
 * in order but has not persisted), a frontier that stands still is its disk's, nothing is missing, and the sender
 * resends nothing. In virtual time, two given connections, a target that persists fast and then stalls 12 s.
 */
import { concatMap, map, scan, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFiles, sendFiles } from '../../src/index';
import type { ReceiveTarget } from '../../src/transfer/ReceiveTarget';
import { createVirtualLink } from '../../src/testing';
import { pattern } from '../helpers/marbles';
import { sha256Hex } from '../helpers/sha256';

const MiB = 1024 * 1024;
const FILE = pattern(24 * MiB + 5);

/** Persists at once, except one chunk (the `stallAt`-th) that takes `stallMs`. */
const hiccupTarget = (ts: TestScheduler, stallAt: number, stallMs: number): ReceiveTarget => ({
  open: () => {
    let n = 0;
    return {
      from: 0,
      sink: (chunks) =>
        chunks.pipe(
          concatMap((c) => timer(++n === stallAt ? stallMs : 0, ts).pipe(map(() => c.data.length))),
          scan((total, k) => total + k, 0),
        ),
      finish: () => 'persisted',
      abort: () => undefined,
    };
  },
});

describe('re-injection and a receiver whose disk is behind', () => {
  it('a 12 s disk stall with a backlog reported: the transfer completes and nothing is resent', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    let resent = -1;
    let sha: string | undefined;
    ts.run(() => {
      const links = [createVirtualLink({ scheduler: ts, delayMs: 10 }), createVirtualLink({ scheduler: ts, delayMs: 10 })];
      receiveFiles(links.map((l) => l.b), { scheduler: ts, target: hiccupTarget(ts, 40, 12_000) }).subscribe();
      sendFiles(links.map((l) => l.a), [FILE], { scheduler: ts, transferId: 21, lanes: 2 }).subscribe((e) => {
        if (e.type === 'completed') resent = e.retransmittedBytes ?? 0;
        if (e.type === 'file-completed') sha = e.sha256;
      });
    });
    expect(sha).toBe(sha256Hex(FILE));
    expect(resent).toBe(0);
  });
});

describe('re-injection and a receiver that stops receiving altogether', () => {
  it('each re-injection that brings no ack doubles the wait for the next: a silent receiver costs about a window, not one per stall until the idle timeout', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    let resentBytes = 0;
    let error: unknown;
    ts.run(() => {
      const links = [createVirtualLink({ scheduler: ts, delayMs: 10, bandwidth: 2_000_000 }), createVirtualLink({ scheduler: ts, delayMs: 10, bandwidth: 2_000_000 })];
      // Both data channels of the sender deliver what they get in the first 1.5 s, then nothing (a black hole).
      // Resends are the frames with flag bit 0 (retransmission) set.
      for (const link of links) {
        const create = link.a.createDataChannel.bind(link.a);
        link.a.createDataChannel = ((label: string, init?: Record<string, unknown>) => {
          const ch = create(label, init);
          if (label === 'tallow-control') return ch;
          const send = ch.send.bind(ch);
          ch.send = ((data: Uint8Array) => {
            if (data.byteLength > 32 && (((data[28] << 8) | data[29]) & 1) === 1) resentBytes += data.byteLength - 32;
            if (ts.now() < 1500) send(data as never);
          }) as typeof ch.send;
          return ch;
        }) as typeof link.a.createDataChannel;
      }
      receiveFiles(links.map((l) => l.b), { scheduler: ts }).subscribe({ error: () => undefined });
      sendFiles(links.map((l) => l.a), [FILE], { scheduler: ts, transferId: 22, lanes: 2, window: 8 * MiB }).subscribe({ error: (e) => (error = e) });
    });
    expect((error as { code?: string }).code).toBe('ERR_IDLE_TIMEOUT');
    expect(resentBytes).toBeGreaterThan(0);
    expect(resentBytes).toBeLessThanOrEqual(8 * MiB);
  });
});
