/**
 * A `maxChunk` of the app's below the profile's `minChunk`, in virtual time. docs/reliability.md advises "a
 * smaller `maxChunk`" for a slow path, but until 7 Dec 2026 `maxChunk` alone below 64 KiB was refused at
 * subscription under `auto`, `lan` and `wifi` ("maxChunk must be >= minChunk (65536 from the profile)", an
 * outside check, 16 of 16 cases), though `auto`'s transfer ran with a `minChunk` of 16 KiB. Now `minChunk`
 * comes down with it: every frame carries at most `maxChunk`, and the file arrives whole.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, type SendOptions } from '../../src/index';
import { createVirtualLink } from '../../src/testing';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import { FRAME_HEADER_SIZE } from '../../src/protocol/frame';
import { pattern } from '../helpers/marbles';
import { sha256Hex } from '../limits/hostileSender';

/** Sends 300 kB + 5 B over a 1 MB/s link; the largest data message the sender handed to a channel, and how both sides ended. */
function run(options: SendOptions): { ends: string[]; largest: number; frames: number } {
  const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  const file = pattern(300_005, 7);
  const ends: string[] = [];
  let largest = 0;
  let frames = 0;
  ts.run(() => {
    const link = createVirtualLink({ scheduler: ts, bandwidth: 1e6, delayMs: 5, lossRate: 0.02, seed: 3, faultFilter: (ch) => ch.label !== CONTROL_LABEL });
    const create = link.a.createDataChannel.bind(link.a);
    link.a.createDataChannel = (label: string, init?: RTCDataChannelInit) => {
      const ch = create(label, init);
      if (label === CONTROL_LABEL) return ch;
      const send = ch.send.bind(ch);
      ch.send = (data: Parameters<typeof send>[0]) => {
        largest = Math.max(largest, (data as Uint8Array).byteLength);
        frames++;
        send(data);
      };
      return ch;
    };
    receiveFile(link.b, { scheduler: ts }).subscribe({
      next: (e) => e.type === 'completed' && expect(e.sha256).toBe(sha256Hex(file)),
      error: (e: { code: string }) => ends.push(`receiver ${e.code}`),
      complete: () => ends.push('receiver'),
    });
    sendFile(link.a, file, { scheduler: ts, ...options }).subscribe({ error: (e: { code: string }) => ends.push(`sender ${e.code}`), complete: () => ends.push('sender') });
  });
  return { ends: ends.sort(), largest, frames };
}

describe("a maxChunk of the app's below the profile's minChunk (virtual time, 2 % loss)", () => {
  it.each([
    { maxChunk: 16_384 },
    { maxChunk: 32_768 },
    { maxChunk: 8_192 },
    { maxChunk: 16_384, profile: 'lan' },
    { maxChunk: 16_384, profile: 'wifi' },
    { maxChunk: 16_384, profile: 'internet' },
    { maxChunk: 16_384, reliability: 'unreliable' },
    { maxChunk: 8_192, profile: 'lan', reliability: 'unreliable' },
  ] as SendOptions[])('%j: completes, no frame over maxChunk + header', (options) => {
    const o = run(options);
    expect(o.ends).toEqual(['receiver', 'sender']);
    expect(o.largest).toBeLessThanOrEqual(options.maxChunk! + FRAME_HEADER_SIZE);
    expect(o.frames).toBeGreaterThanOrEqual(Math.ceil(300_005 / options.maxChunk!));
  });
});
