/**
 * The offer's data-channel ids are taken on the receiver's connection (an app's own negotiated channel there).
 * Creating them throws `OperationError`; until 7 Dec 2026 the receiver failed with `ERR_INTERNAL` ("unexpected
 * error: Data channel id 512 is already in use") and did not tell the sender, which waited 120 s for an answer
 * (an outside check, with sessions both ways on one virtual link). Now it is the offer's fault, a
 * `ProtocolError`, and the sender hears it at once over the control channel.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile } from '../../src/index';
import { createVirtualLink } from '../../src/testing';
import { pattern } from '../helpers/marbles';

describe("the offer's data-channel ids are in use on the receiver's connection (virtual time)", () => {
  it('the receiver fails with ProtocolError naming the ids; the sender is told within a round trip', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    const ends: { who: string; code: string; message: string; at: number }[] = [];
    ts.run(() => {
      const link = createVirtualLink({ scheduler: ts, delayMs: 10 });
      // The app's own negotiated channels on the receiving side take every id of the sender's first block.
      for (let id = 512; id < 528; id++) link.b.createDataChannel(`app-${id}`, { negotiated: true, id });
      receiveFile(link.b, { scheduler: ts }).subscribe({ error: (e) => ends.push({ who: 'receiver', code: e.code, message: e.message, at: ts.now() }) });
      sendFile(link.a, pattern(100_000, 1), { scheduler: ts, profile: 'lan', channels: 2 }).subscribe({ error: (e) => ends.push({ who: 'sender', code: e.code, message: e.message, at: ts.now() }) });
    });
    const receiver = ends.find((e) => e.who === 'receiver')!;
    const sender = ends.find((e) => e.who === 'sender')!;
    expect(receiver.code).toBe('ERR_PROTOCOL');
    expect(receiver.message).toMatch(/^the offer's data-channel ids 512\.\.513 cannot be used on this connection: /);
    expect(sender.code).toBe('ERR_PROTOCOL');
    expect(sender.at - receiver.at).toBeLessThanOrEqual(10);
  });
});
