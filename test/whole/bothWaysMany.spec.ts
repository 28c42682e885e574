/**
 * Many sessions each way at once on one virtual link. The library's sender picks its block of negotiated
 * data-channel ids by the parity of its control channel's stream id (docs/protocol.md), so two peers sending to
 * each other never collide on a real connection. The virtual link handed in-band ids from one link-wide counter,
 * either parity to either side, and until 7 Dec 2026 8 + 8 sessions started one way first all collided: the
 * receivers failed with `ERR_INTERNAL` ("Data channel id 512 is already in use at endpoint b") and the senders
 * waited 120 s (an outside check, 16 of 16). Now `a` creates even ids and `b` odd ones, as the DTLS roles do.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFiles, sendFiles } from '../../src/index';
import { createVirtualLink, type VirtualLinkConfig } from '../../src/testing';
import { describeFile } from '../../src/transfer/fileInput';
import { deterministicBytes } from '../helpers/bytes';
import { sha256Hex } from '../helpers/sha256';

function run(perSide: number, config: VirtualLinkConfig = {}, reliability: 'reliable' | 'unreliable' = 'reliable'): { completed: number; wrong: number; errors: string[] } {
  const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  let completed = 0;
  let wrong = 0;
  const errors: string[] = [];
  const expected = new Map<string, string>();
  ts.run(() => {
    const link = createVirtualLink({ scheduler: ts, delayMs: 5, bandwidth: 5_000_000, ...config });
    const starts: (() => void)[] = [];
    const session = (dir: 'ab' | 'ba', k: number) => {
      const [from, to] = dir === 'ab' ? [link.a, link.b] : [link.b, link.a];
      const bytes = deterministicBytes(50_000 + k * 1000, k + (dir === 'ab' ? 0 : 500));
      const name = `${dir}-${k}.bin`;
      expected.set(name, sha256Hex(bytes));
      receiveFiles(to, { scheduler: ts }).subscribe({
        next: (e) => {
          if (e.type !== 'file-completed') return;
          if (expected.get(e.manifest.name) === e.sha256) completed++;
          else wrong++;
        },
        error: (e: { code: string }) => errors.push(`receiver ${e.code}`),
      });
      starts.push(() => sendFiles(from, { files: [describeFile(bytes, { name })] }, { scheduler: ts, reliability }).subscribe({ error: (e: { code: string }) => errors.push(`sender ${e.code}`) }));
    };
    // One direction's sessions are all set up before the other's, as in the outside check.
    for (let k = 0; k < perSide; k++) session('ab', k);
    for (let k = 0; k < perSide; k++) session('ba', k);
    for (const start of starts) start();
  });
  return { completed, wrong, errors };
}

describe('sessions both ways at once on one virtual link', () => {
  it.each([1, 8, 16])('%i each way, one way set up first: every file arrives, no collision', (n) => {
    expect(run(n)).toEqual({ completed: 2 * n, wrong: 0, errors: [] });
  });

  it('8 each way, unreliable with 5 % loss on the data channels', () => {
    expect(run(8, { lossRate: 0.05, seed: 3, faultFilter: (ch) => ch.label !== 'tallow-control' }, 'unreliable')).toEqual({ completed: 16, wrong: 0, errors: [] });
  });
});
