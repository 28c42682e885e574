/**
 * A given connection that fails (ICE) before the receiver answered the offer. Chromium leaves a data channel of a
 * failed connection `connecting`, so the sender saw no close: it waited out its five control channels (5 s
 * each) and `acceptTimeoutMs`, about 140 s, before an `IdleTimeoutError` (an outside check's two pages sat 120 s
 * with nothing on either side). The receiver already failed at once on its side. Now the sender watches the
 * connection's state until the answer, in virtual time here: the connection reads `failed` while its channels
 * stay `connecting` (`openDelayMs` past the test's end).
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, receiveFile, sendFile } from '../../src/index';
import { createVirtualLink, type VirtualPeer } from '../../src/testing';
import { pattern } from '../helpers/marbles';

/** `peer`, with a `connectionState` the test sets, announced to its `connectionstatechange` listeners. */
function withState(peer: VirtualPeer): { pc: VirtualPeer; set: (state: string) => void } {
  let state: string | undefined;
  const listeners = new Set<() => void>();
  const pc = new Proxy(peer, {
    get(target, key) {
      if (key === 'connectionState') return state ?? target.connectionState;
      if (key === 'addEventListener') return (type: string, l: () => void) => (type === 'connectionstatechange' ? listeners.add(l) : target.addEventListener(type, l));
      if (key === 'removeEventListener') return (type: string, l: () => void) => (type === 'connectionstatechange' ? listeners.delete(l) : target.removeEventListener(type, l));
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { pc, set: (s) => ((state = s), listeners.forEach((l) => l())) };
}

/** Sends over a virtual link whose connection reads `state` from `atMs` on (-1: already when the send starts). */
function sendWhile(state: string, atMs: number): { error: unknown; at: number } {
  const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  const out: { error: unknown; at: number } = { error: undefined, at: -1 };
  ts.run(() => {
    const link = createVirtualLink({ scheduler: ts, delayMs: 5, openDelayMs: 600_000 });
    const { pc, set } = withState(link.a);
    if (atMs < 0) set(state);
    else ts.schedule(() => set(state), atMs);
    sendFile(pc, pattern(100_000, 1), { scheduler: ts }).subscribe({ error: (e) => Object.assign(out, { error: e, at: ts.now() }) });
    ts.schedule(() => link.close(), 700_000);
  });
  return out;
}

describe('the given connection fails before the receiver answered the offer (virtual time)', () => {
  it.each(['failed', 'closed'])('connectionState "%s" at 2 s: the sender fails then with ChannelClosedError, not after about 140 s', (state) => {
    const { error, at } = sendWhile(state, 2000);
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as Error).message).toBe(`the connection ${state} before the receiver answered the offer`);
    expect(at).toBe(2000);
  });

  it('a connection that reads "failed" when the send starts fails it at once', () => {
    const { error, at } = sendWhile('failed', -1);
    expect((error as Error).message).toBe('the connection failed before the receiver answered the offer');
    expect(at).toBe(0);
  });
});

describe('the connection fails during the transfer while its channels stay open (a closed tab, in Chromium)', () => {
  // An outside check closed the receiving page mid-transfer: the sender's connection read `failed` about 17 s
  // later, its channels stayed `open`, and the send went on until the 30 s idle timeout (IdleTimeoutError). The
  // sessions now watch the control channel's connection for the whole session.
  function failMidway(side: 'sender' | 'receiver', state: string): { sender: unknown; receiver: unknown; senderAt: number; receiverAt: number } {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    const out = { sender: undefined as unknown, receiver: undefined as unknown, senderAt: -1, receiverAt: -1 };
    ts.run(() => {
      // 1 MB/s: a 4 MB file is still flowing at 1 s.
      const link = createVirtualLink({ scheduler: ts, delayMs: 5, bandwidth: 1_000_000 });
      const a = withState(link.a);
      const b = withState(link.b);
      receiveFile(b.pc, { scheduler: ts }).subscribe({ error: (e) => Object.assign(out, { receiver: e, receiverAt: ts.now() }) });
      sendFile(a.pc, pattern(4_000_000, 2), { scheduler: ts }).subscribe({ error: (e) => Object.assign(out, { sender: e, senderAt: ts.now() }) });
      ts.schedule(() => (side === 'sender' ? a : b).set(state), 1000);
      ts.schedule(() => link.close(), 120_000);
    });
    return out;
  }

  it.each(['failed', 'closed'])('the sender\'s connection reads "%s" at 1 s: the sender fails then with ChannelClosedError, not at the idle timeout', (state) => {
    const r = failMidway('sender', state);
    expect(r.sender).toBeInstanceOf(ChannelClosedError);
    expect((r.sender as Error).message).toBe(`the connection ${state} during the transfer`);
    expect((r.sender as ChannelClosedError).details).toMatchObject({ connectionState: state, phase: 'sending' });
    expect(r.senderAt).toBe(1000);
  });

  it('the receiver\'s connection reads "failed" at 1 s: the receiver fails then with ChannelClosedError', () => {
    const r = failMidway('receiver', 'failed');
    expect(r.receiver).toBeInstanceOf(ChannelClosedError);
    expect((r.receiver as Error).message).toBe('the connection failed during the transfer');
    expect(r.receiverAt).toBe(1000);
  });
});
