/**
 * An offer of thousands of files: the sender paces its entries on the control channel (never more than
 * 256 KiB queued). A channel that refuses one is replaced and the offer goes again, whole; when every channel
 * refuses, the sender fails with a typed error (a gap would otherwise surface on the receiver as "entry out of
 * order", or not at all).
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, receiveFiles, sendFiles, type SessionEvent } from '../../src/index';
import { createVirtualLink, type VirtualDataChannel } from '../../src/testing';
import { describeFile } from '../../src/transfer/fileInput';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';

const emptyFiles = (n: number) => ({ files: Array.from({ length: n }, (_, i) => describeFile(new Uint8Array(0), { name: `d${i % 10}/f${i}.txt` })) });

describe('an offer of thousands of files', () => {
  it('5,000 empty files over a 1 MB/s link: paced entries (at most 256 KiB + one message queued), every file arrives', () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    let peakQueued = 0;
    const received: SessionEvent[] = [];
    const sent: SessionEvent[] = [];
    ts.run(() => {
      const l = createVirtualLink({ delayMs: 5, bandwidth: 1_000_000, scheduler: ts });
      const create = l.a.createDataChannel.bind(l.a);
      (l.a as { createDataChannel: typeof create }).createDataChannel = (label, init) => {
        const ch = create(label, init) as VirtualDataChannel;
        if (label === CONTROL_LABEL) {
          const send = ch.send.bind(ch);
          ch.send = (data: never) => {
            send(data);
            peakQueued = Math.max(peakQueued, ch.bufferedAmount);
          };
        }
        return ch;
      };
      receiveFiles(l.b, { scheduler: ts }).subscribe((e) => received.push(e));
      sendFiles(l.a, emptyFiles(5000), { scheduler: ts }).subscribe((e) => sent.push(e));
    });
    const done = (events: SessionEvent[]) => events.find((e): e is Extract<SessionEvent, { type: 'completed' }> => e.type === 'completed');
    expect(done(received)?.files).toHaveLength(5000);
    expect(done(sent)?.files).toHaveLength(5000);
    expect(peakQueued).toBeGreaterThan(0);
    expect(peakQueued).toBeLessThanOrEqual(256 * 1024 + 1024);
  });

  it('a control channel that refuses an entry is replaced; when every one does, the sender fails with ChannelClosedError, naming how far it got', () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    let error: unknown;
    let controls = 0;
    ts.run(() => {
      const l = createVirtualLink({ delayMs: 5, scheduler: ts });
      const create = l.a.createDataChannel.bind(l.a);
      (l.a as { createDataChannel: typeof create }).createDataChannel = (label, init) => {
        const ch = create(label, init) as VirtualDataChannel;
        if (label === CONTROL_LABEL) {
          controls++;
          const send = ch.send.bind(ch);
          let n = 0;
          ch.send = (data: never) => {
            if (++n === 20) throw new Error('send queue full');
            send(data);
          };
        }
        return ch;
      };
      receiveFiles(l.b, { scheduler: ts }).subscribe({ error: () => undefined });
      sendFiles(l.a, emptyFiles(100), { scheduler: ts }).subscribe({ error: (e) => (error = e) });
    });
    // The offer goes again on a new channel while it is unanswered, at most 5 channels in all (protocol.md).
    expect(controls).toBe(5);
    expect(error).toBeInstanceOf(ChannelClosedError);
    // Each channel refuses its 20th send; the last one carried a ping before the offer.
    expect((error as ChannelClosedError).details).toMatchObject({ sent: 18, of: 101 });
  });
});
