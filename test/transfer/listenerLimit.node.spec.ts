/**
 * Many files in flight on one pair of node-datachannel channels: each file's backpressure listens on the
 * shared data channels, so Node's EventTarget used to print "MaxListenersExceededWarning: Possible
 * EventTarget memory leak detected" for a leak that was not one. The session raises the limit on its channels.
 * Likewise every receiving session watches its connection's state: 12 sessions at once on one connection
 * warned of 11 `connectionstatechange` listeners.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { getMaxListeners, setMaxListeners } from 'node:events';
import { receiveFile, receiveFiles, sendFile, sendFiles } from '../../src/index';
import { allowListeners } from '../../src/transfer/allowListeners';
import { connectLoopbackPair } from '../../src/node';
import { describeFile } from '../../src/transfer/fileInput';

const warnings: Error[] = [];
const onWarning = (w: Error) => void warnings.push(w);

afterEach(() => {
  process.off('warning', onWarning);
});

describe('a session with 32 files in flight (node-datachannel)', () => {
  it('completes without a MaxListenersExceededWarning', async () => {
    process.on('warning', onWarning);
    const pair = await connectLoopbackPair();
    try {
      const files = Array.from({ length: 300 }, (_, i) => describeFile(new Uint8Array(64 * 1024).fill(i & 255), { name: `f${i}.bin` }));
      const received = lastValueFrom(receiveFiles(pair.b).pipe(toArray()));
      const sent = await lastValueFrom(sendFiles(pair.a, { files }, { filesInFlight: 32 }).pipe(toArray()));
      await received;
      expect(sent.some((e) => e.type === 'completed')).toBe(true);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
    } finally {
      await pair.close();
    }
  }, 30_000);
});

describe('12 sessions at once on one connection (node-datachannel)', () => {
  it('complete without a MaxListenersExceededWarning', async () => {
    process.on('warning', onWarning);
    const pair = await connectLoopbackPair();
    try {
      const n = 12;
      const received = Array.from({ length: n }, () => lastValueFrom(receiveFile(pair.b).pipe(toArray())));
      const sent = await Promise.all(Array.from({ length: n }, (_, i) => lastValueFrom(sendFile(pair.a, new Blob([new Uint8Array(100_000).fill(i)])).pipe(toArray()))));
      const got = await Promise.all(received);
      expect([...sent, ...got].every((events) => events.some((e) => e.type === 'completed'))).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
    } finally {
      await pair.close();
    }
  }, 30_000);
});

describe('allowListeners', () => {
  it('raises a lower limit and keeps a higher one', () => {
    const low = new EventTarget();
    const high = new EventTarget();
    setMaxListeners(1000, high);
    allowListeners([low, high], 256);
    expect([getMaxListeners(low), getMaxListeners(high)]).toEqual([256, 1000]);
  });
});
