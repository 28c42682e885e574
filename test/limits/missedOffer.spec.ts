/**
 * A stack that loses the offer (wrtc can deliver a control channel's first message before its
 * `datachannel` event, so the receiver never sees it): the receiver closes that channel unanswered and
 * takes the next; the sender offers again on a new control channel (docs/protocol.md, control-channel
 * replacement). Without this, the receiver failed with "'entry' is not legal while listening", or hung.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, type TransferEvent } from '../../src/index';
import { encodeControl, parseControl } from '../../src/protocol';
import { createVirtualLink, type VirtualDataChannel } from '../../src/testing';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import { deterministicBytes } from '../helpers/bytes';
import { sha256Hex } from '../helpers/sha256';
import { HostileSender, manifestOf, offerMessages, watch } from './hostileSender';

describe('a lost offer', () => {
  it('the sender offers again on a new control channel when the receiver closes the first one unanswered', () => {
    const file = deterministicBytes(300_000, 5);
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    const events: TransferEvent[] = [];
    const received: TransferEvent[] = [];
    let controls = 0;
    ts.run(() => {
      const l = createVirtualLink({ delayMs: 10, scheduler: ts });
      // The first control channel plays a stack that lost the offer: the receiver closes it on the entry that
      // follows. Only then does a real receiver listen, and it takes the second channel.
      l.b.addEventListener('datachannel', (ev: { channel: VirtualDataChannel }) => {
        if (ev.channel.label !== CONTROL_LABEL || controls++ > 0) return;
        ev.channel.addEventListener('message', (m: { data: unknown }) => {
          if (parseControl(m.data).t !== 'entry') return;
          ev.channel.close();
          receiveFile(l.b, { scheduler: ts }).subscribe((e) => received.push(e));
        });
      });
      sendFile(l.a, file, { scheduler: ts, channels: 1 }).subscribe({ next: (e) => events.push(e), error: (e) => events.push({ type: 'error', e } as never) });
    });
    expect(controls).toBe(2);
    const done = events.find((e) => e.type === 'completed');
    expect(done && done.type === 'completed' && done.sha256).toBe(sha256Hex(file));
    expect(received.map((e) => e.type)).toContain('completed');
  });

  /**
   * A receiver, then a sender of `file`, over a virtual link; `arrange` may change the link before the
   * receiver subscribes (and what it returns runs right after). Checks that the file arrives whole.
   */
  const transfer = (file: Uint8Array, arrange: (l: ReturnType<typeof createVirtualLink>) => (() => void) | void) => {
    const run = { failure: undefined as unknown, sent: [] as TransferEvent[], received: [] as TransferEvent[] };
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    ts.run(() => {
      const l = createVirtualLink({ delayMs: 10, scheduler: ts });
      const afterReceiver = arrange(l);
      receiveFile(l.b, { scheduler: ts }).subscribe((e) => run.received.push(e));
      afterReceiver?.();
      sendFile(l.a, file, { scheduler: ts, channels: 1 }).subscribe({ next: (e) => run.sent.push(e), error: (e) => (run.failure = e) });
    });
    expect(run.failure).toBeUndefined();
    const done = run.sent.find((e) => e.type === 'completed');
    expect(done && done.type === 'completed' && done.sha256).toBe(sha256Hex(file));
    expect(run.received.map((e) => e.type)).toContain('completed');
  };

  it('the sender offers again on a new control channel when the first one refuses the offer (open, but its send throws)', () => {
    // node-datachannel, when a connection's previous control channel closed just before: the new channel is
    // reported open and its first send throws "DataChannel is closed". The session failed with "the control
    // channel refused part of the offer" before.
    let controls = 0;
    transfer(deterministicBytes(300_000, 6), (l) => {
      const create = l.a.createDataChannel.bind(l.a);
      l.a.createDataChannel = ((label: string, init?: RTCDataChannelInit) => {
        const ch = create(label, init);
        if (label === CONTROL_LABEL && controls++ === 0) {
          ch.send = () => {
            throw new Error('libdatachannel error while sending data channel message: DataChannel is closed');
          };
        }
        return ch;
      }) as typeof l.a.createDataChannel;
    });
    expect(controls).toBe(2);
  });

  it('a receiver whose control channel never opens takes the next one (libdatachannel: a channel announced on a stream still closing)', () => {
    let staleClosed = 0;
    transfer(deterministicBytes(200_000, 7), (l) => {
      // A channel announced to the receiver that never opens: the receiver takes it first.
      const stale = { label: CONTROL_LABEL, id: 1, readyState: 'connecting', binaryType: 'arraybuffer', bufferedAmount: 0, addEventListener: () => undefined, removeEventListener: () => undefined, send: () => undefined, close: () => void staleClosed++ };
      return () => (l.b as unknown as { dispatch(e: unknown): void }).dispatch({ type: 'datachannel', channel: stale });
    });
    expect(staleClosed).toBe(1);
  });

  it('a receiver whose control channel closes before it opened takes the very next one (the sender needs no second)', () => {
    let controls = 0;
    transfer(deterministicBytes(100_000, 8), (l) => {
      const create = l.a.createDataChannel.bind(l.a);
      l.a.createDataChannel = ((label: string, init?: RTCDataChannelInit) => ((controls += label === CONTROL_LABEL ? 1 : 0), create(label, init))) as typeof l.a.createDataChannel;
      const listeners = new Map<string, (() => void)[]>();
      const stale = {
        label: CONTROL_LABEL,
        id: 1,
        readyState: 'connecting',
        binaryType: 'arraybuffer',
        bufferedAmount: 0,
        addEventListener: (type: string, f: () => void) => listeners.set(type, [...(listeners.get(type) ?? []), f]),
        removeEventListener: (type: string, f: () => void) => listeners.set(type, (listeners.get(type) ?? []).filter((g) => g !== f)),
        send: () => undefined,
        close: () => undefined,
      };
      return () => {
        (l.b as unknown as { dispatch(e: unknown): void }).dispatch({ type: 'datachannel', channel: stale });
        stale.readyState = 'closed';
        for (const f of listeners.get('close') ?? []) f();
      };
    });
    expect(controls).toBe(1);
  });

  it('a receiver whose first message is not an offer closes that channel and takes the next one', async () => {
    const s = new HostileSender();
    try {
      const m = manifestOf({ size: 0 });
      const [offer, entry] = offerMessages(m);
      const r = watch(receiveFile(s.link.b));
      await s.opened();
      s.send(entry); // the offer was "lost"
      await new Promise<void>((resolve) => (s.control.readyState === 'closed' ? resolve() : s.control.addEventListener('close', () => resolve())));
      expect(r.error()).toBeUndefined();
      // The sender's second control channel carries the offer again.
      const second = s.link.a.createDataChannel(CONTROL_LABEL, { ordered: true });
      const answers: string[] = [];
      second.addEventListener('message', (ev: { data: unknown }) => answers.push(parseControl(ev.data).t));
      await new Promise<void>((resolve) => second.addEventListener('open', () => resolve()));
      second.send(encodeControl(offer));
      second.send(encodeControl(entry));
      await new Promise<void>((resolve) => {
        const check = () => (answers.includes('accept') ? resolve() : setImmediate(check));
        check();
      });
      expect(r.events.map((e) => e.type)).toContain('offer');
      r.stop();
    } finally {
      s.close();
    }
  });
});
