/**
 * Many files in flight on one pair of node-datachannel channels: each file's backpressure listens on the
 * shared data channels, so Node's EventTarget used to print "MaxListenersExceededWarning: Possible
 * EventTarget memory leak detected" for a leak that was not one. The session raises the limit on its channels.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { receiveFiles, sendFiles } from '../../src/index';
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
