/**
 * One of two given connections closes before data flows, in virtual time. README: "One lane of several dying is
 * not a lost connection: the session goes on over the others". Until 7 Dec 2026 (an outside check, deterministic)
 * it did only once data flowed: closed while the offer was in flight, the receiver failed ("the connection closed
 * as the offer was accepted") without telling the sender, which waited 120 s for an answer (with `reconnect`
 * the receiver resumed alone and both waited out the grace); closed after the answer and before the first frame,
 * the sender failed with `ERR_CHANNEL_CLOSED` ("channel tallow-1 is closed"). Now the receiver creates no channel
 * on a lane already gone, and the sender takes a lane whose connection went before its channel opened for a lane
 * lost: both sides complete over the other lane.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFiles, sendFiles, type SessionEvent } from '../../src/index';
import { createVirtualLink, type VirtualLink } from '../../src/testing';
import { describeFile } from '../../src/transfer/fileInput';
import { deterministicBytes } from '../helpers/bytes';
import { sha256Hex } from '../helpers/sha256';

const FILES = [deterministicBytes(400_000, 1), deterministicBytes(600_000, 2)];

interface Outcome {
  readonly ends: string[];
  readonly senderEvents: string[];
  readonly receiverEvents: string[];
  readonly digests: string[];
  readonly reconnects: number;
}

function run(closeAtMs: number, reliability: 'reliable' | 'unreliable', withReconnect: boolean): Outcome {
  const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  const ends: string[] = [];
  const senderEvents: string[] = [];
  const receiverEvents: string[] = [];
  const digests: string[] = [];
  let reconnects = 0;
  const notable = (e: SessionEvent) => ['interrupted', 'resumed', 'lane-lost'].includes(e.type);
  ts.run(() => {
    const links: VirtualLink[] = [0, 1].map((k) => createVirtualLink({ scheduler: ts, delayMs: 10, bandwidth: 1_000_000, seed: k + 1 }));
    // A reconnect that never answers: it must not be needed.
    const reconnect = withReconnect ? { reconnect: () => ((reconnects++, new Promise<never>(() => undefined))) } : {};
    receiveFiles(links.map((l) => l.b), { scheduler: ts, ...reconnect }).subscribe({
      next: (e) => {
        if (notable(e)) receiverEvents.push(e.type);
        if (e.type === 'file-completed') digests.push(e.sha256);
      },
      error: (e: { code: string }) => ends.push(`receiver ${e.code}`),
      complete: () => ends.push('receiver'),
    });
    const files = FILES.map((b, i) => describeFile(b, { name: `f${i}.bin` }));
    sendFiles(links.map((l) => l.a), { files }, { scheduler: ts, lanes: 2, channels: 2, reliability, ...reconnect }).subscribe({
      next: (e) => notable(e) && senderEvents.push(e.type),
      error: (e: { code: string }) => ends.push(`sender ${e.code}`),
      complete: () => ends.push('sender'),
    });
    ts.schedule(() => links[1].close(), closeAtMs);
  });
  return { ends: ends.sort(), senderEvents, receiverEvents, digests, reconnects };
}

describe('one of two given connections closes before data flows (virtual time)', () => {
  it.each([
    [5, 'reliable', false],
    [5, 'reliable', true],
    [20, 'reliable', false],
    [20, 'reliable', true],
    [5, 'unreliable', false],
    [20, 'unreliable', true],
    [40, 'reliable', true],
    [300, 'unreliable', false],
  ] as const)('closed at %i ms (%s, reconnect %s): both sides complete over the other lane, the sender says lane-lost', (at, reliability, withReconnect) => {
    const o = run(at, reliability, withReconnect);
    expect(o.ends).toEqual(['receiver', 'sender']);
    expect(o.digests).toEqual(FILES.map(sha256Hex));
    expect(o.senderEvents).toContain('lane-lost');
    // Not a lost connection: nobody was interrupted, no reconnect was asked for.
    expect([...o.senderEvents, ...o.receiverEvents]).not.toContain('interrupted');
    expect(o.reconnects).toBe(0);
  });
});
