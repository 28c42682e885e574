/**
 * transferChannels: the shared `datachannel` listener of incomingControlChannels
 * (fake and real node-datachannel peers) and closeWhenDrained under TestScheduler.
 */
import { getEventListeners } from 'node:events';
import type { SchedulerLike, Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { closeAfterPeer, closeWhenDrained, CONTROL_LABEL, createControlChannel, DRAIN_MAX_WAIT_MS, DRAIN_MIN_WAIT_MS, DRAIN_POLL_MS } from '../../src/transfer/transferChannels';
import { incomingControlChannels } from '../../src/transfer/controlChannelHub';
import type { DataChannelLike, Listener, PeerConnectionLike } from '../../src/types';
import { FakeChannel } from '../helpers/fakeChannel';
import { countingScheduler, testScheduler } from '../helpers/marbles';
import { createNodePeerPair, shutdownNodeDataChannel, type Lane } from '../harness/nodePeers';

/** A peer connection that only counts `datachannel` listeners and fires `datachannel` on demand. */
class FakePeer implements PeerConnectionLike {
  readonly listeners = new Set<Listener>();
  createDataChannel(): DataChannelLike {
    throw new Error('not used');
  }
  addEventListener(type: string, listener: Listener): void {
    if (type === 'datachannel') this.listeners.add(listener);
  }
  removeEventListener(type: string, listener: Listener): void {
    if (type === 'datachannel') this.listeners.delete(listener);
  }
  open(channel: DataChannelLike): void {
    for (const l of [...this.listeners]) l({ channel });
  }
  close(): void {}
}

describe('incomingControlChannels (listener-counting fake)', () => {
  it('attaches one listener for any number of subscribers and removes it with the last', () => {
    const pc = new FakePeer();
    const subs = Array.from({ length: 20 }, () => incomingControlChannels(pc).subscribe());
    expect(pc.listeners.size).toBe(1);
    subs.slice(1).forEach((s) => s.unsubscribe());
    expect(pc.listeners.size).toBe(1);
    subs[0].unsubscribe();
    expect(pc.listeners.size).toBe(0);
    // A later subscriber attaches a fresh one.
    const again = incomingControlChannels(pc).subscribe();
    expect(pc.listeners.size).toBe(1);
    again.unsubscribe();
    expect(pc.listeners.size).toBe(0);
  });

  it('hands each control channel to one subscriber, in subscription order, and ignores other labels', () => {
    const pc = new FakePeer();
    const got: string[][] = [[], [], []];
    // Like receiveFile: each subscriber takes one channel, then leaves.
    const subs: Subscription[] = got.map((list, i) =>
      incomingControlChannels(pc).subscribe((ch) => {
        list.push(ch.label + ':' + (ch as FakeChannel & { n: number }).n);
        subs[i].unsubscribe();
      }),
    );
    const control = (n: number) => Object.assign(new FakeChannel(CONTROL_LABEL), { n });
    pc.open(Object.assign(new FakeChannel('tallow-0'), { n: -1 }));
    const c0 = control(0);
    pc.open(c0);
    pc.open(c0); // the same channel again: already claimed
    pc.open(control(1));
    pc.open(control(2));
    pc.open(control(3)); // nobody left
    expect(got).toEqual([[`${CONTROL_LABEL}:0`], [`${CONTROL_LABEL}:1`], [`${CONTROL_LABEL}:2`]]);
    expect(c0.binaryType).toBe('arraybuffer');
    expect(pc.listeners.size).toBe(0);
  });

  it('a subscriber that stays keeps every channel; others see none of them', () => {
    const pc = new FakePeer();
    const first: number[] = [];
    const second: number[] = [];
    const a = incomingControlChannels(pc).subscribe((ch) => first.push((ch as FakeChannel & { n: number }).n));
    const b = incomingControlChannels(pc).subscribe((ch) => second.push((ch as FakeChannel & { n: number }).n));
    for (let n = 0; n < 3; n++) pc.open(Object.assign(new FakeChannel(CONTROL_LABEL), { n }));
    a.unsubscribe();
    pc.open(Object.assign(new FakeChannel(CONTROL_LABEL), { n: 3 }));
    b.unsubscribe();
    expect({ first, second }).toEqual({ first: [0, 1, 2], second: [3] });
  });
});

describe('incomingControlChannels on node-datachannel', () => {
  let pair: { lanes: Lane[]; close(): Promise<void> };
  beforeAll(async () => {
    pair = await createNodePeerPair();
  });
  afterAll(async () => {
    await pair?.close();
    shutdownNodeDataChannel();
  });

  it('20 subscribers on one connection: one listener, no MaxListenersExceededWarning, claims in order', async () => {
    const { a, b } = pair.lanes[0];
    const pc = b as unknown as PeerConnectionLike;
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const before = getEventListeners(b, 'datachannel').length; // the polyfill's own `ondatachannel` hook
      const got: Array<{ sub: number; label: string }> = [];
      let claimedThree!: () => void;
      const three = new Promise<void>((resolve) => (claimedThree = resolve));
      const subs: Subscription[] = [];
      for (let i = 0; i < 20; i++) {
        subs.push(
          incomingControlChannels(pc).subscribe((ch) => {
            got.push({ sub: i, label: ch.label });
            subs[i].unsubscribe();
            if (got.length === 3) claimedThree();
          }),
        );
      }
      const added = getEventListeners(b, 'datachannel').length - before;
      const sent = [0, 1, 2].map(() => createControlChannel(a as unknown as PeerConnectionLike));
      await three;
      subs.forEach((s) => s.unsubscribe());
      const left = getEventListeners(b, 'datachannel').length - before;
      // process.emitWarning reports on process.nextTick: one macrotask later, every such tick has run.
      await new Promise((r) => setImmediate(r));
      const maxListenerWarnings = warnings.filter((w) => w.name === 'MaxListenersExceededWarning').length;
      expect({ added, left, maxListenerWarnings }).toEqual({ added: 1, left: 0, maxListenerWarnings: 0 });
      expect(got).toEqual([0, 1, 2].map((sub) => ({ sub, label: CONTROL_LABEL })));
      sent.forEach((ch) => ch.close());
    } finally {
      process.off('warning', onWarning);
    }
  });
});

/** Records when (in virtual time) each channel fired `close`. */
const closedAt = (ts: SchedulerLike, channels: Record<string, FakeChannel>) => {
  const at: Record<string, number> = {};
  for (const [name, ch] of Object.entries(channels)) ch.addEventListener('close', () => (at[name] = ts.now()));
  return at;
};

describe('closeWhenDrained', () => {
  it('closes each channel right after its bufferedAmount reaches 0, and the stuck one at maxWaitMs', () => {
    const ts = testScheduler();
    ts.run(() => {
      const draining = new FakeChannel('draining', { bufferedAmount: 3000 });
      const empty = new FakeChannel('empty');
      const stuck = new FakeChannel('stuck', { bufferedAmount: 10 });
      const at = closedAt(ts, { draining, empty, stuck });
      const counting = countingScheduler(ts);
      const sub = closeWhenDrained([draining, undefined, empty, stuck], { maxWaitMs: 1000, scheduler: counting.scheduler });
      const seen: Record<number, [string, number]> = {};
      for (const t of [100, 200, 300]) ts.schedule(() => draining.setBufferedAmount(3000 - (t / 100) * 1000), t);
      // Just before the last byte leaves, the draining channel is still open; one timer is armed at a time.
      ts.schedule(() => (seen[299] = [draining.readyState, counting.live()]), 299);
      ts.schedule(() => (seen[999] = [stuck.readyState, counting.live()]), 999);
      ts.flush();
      expect(seen).toEqual({ 299: ['open', 1], 999: ['open', 1] });
      // Drained from the start: closed at minWaitMs (default 100).
      expect(at.empty).toBe(DRAIN_MIN_WAIT_MS);
      expect(at.draining).toBeGreaterThanOrEqual(300);
      expect(at.draining).toBeLessThanOrEqual(300 + DRAIN_POLL_MS);
      expect(at.stuck).toBe(1000);
      expect(sub.closed).toBe(true);
      expect(counting.live()).toBe(0);
    });
  });

  it('never closes synchronously, and not before minWaitMs', () => {
    const ts = testScheduler();
    ts.run(() => {
      const a = new FakeChannel('a');
      const b = new FakeChannel('b');
      const at = closedAt(ts, { a, b });
      closeWhenDrained([a], { minWaitMs: 0, scheduler: ts });
      closeWhenDrained([b], { minWaitMs: 40, scheduler: ts });
      expect(a.readyState).toBe('open');
      ts.flush();
      expect(at).toEqual({ a: 0, b: 40 });
    });
  });

  it('defaults maxWaitMs to 5000 and leaves bufferedAmountLowThreshold alone', () => {
    const ts = testScheduler();
    ts.run(() => {
      const stuck = new FakeChannel('stuck', { bufferedAmount: 10 });
      stuck.bufferedAmountLowThreshold = 1234;
      const at = closedAt(ts, { stuck });
      closeWhenDrained([stuck], { scheduler: ts });
      ts.flush();
      expect(at.stuck).toBe(DRAIN_MAX_WAIT_MS);
      expect(stuck.bufferedAmountLowThreshold).toBe(1234);
    });
  });

  it('unsubscribing stops the wait: nothing is closed afterwards and no timer is left', () => {
    const ts = testScheduler();
    ts.run(() => {
      const stuck = new FakeChannel('stuck', { bufferedAmount: 10 });
      const counting = countingScheduler(ts);
      const sub = closeWhenDrained([stuck], { maxWaitMs: 1000, scheduler: counting.scheduler });
      ts.schedule(() => sub.unsubscribe(), 500);
      ts.flush();
      expect(stuck.readyState).toBe('open');
      expect(counting.live()).toBe(0);
    });
  });

  it('skips channels that are closed, closing or closed by someone else meanwhile', () => {
    const ts = testScheduler();
    ts.run(() => {
      const closed = new FakeChannel('closed', { readyState: 'closed' });
      const closing = new FakeChannel('closing', { readyState: 'closing' });
      const other = new FakeChannel('other', { bufferedAmount: 10 });
      let closes = 0;
      for (const ch of [closed, closing, other]) {
        const close = ch.close.bind(ch);
        ch.close = () => {
          closes++;
          close();
        };
      }
      expect(closeWhenDrained([closed, closing], { scheduler: ts }).closed).toBe(true);
      const sub = closeWhenDrained([other], { scheduler: ts });
      ts.schedule(() => other.close(), 150);
      ts.flush();
      expect(closes).toBe(1);
      expect(sub.closed).toBe(true);
      expect(ts.now()).toBeLessThanOrEqual(150 + DRAIN_POLL_MS);
    });
  });

  it('rejects a negative or non-numeric minWaitMs / maxWaitMs', () => {
    expect(() => closeWhenDrained([], { maxWaitMs: -1 })).toThrow(InvalidConfigError);
    expect(() => closeWhenDrained([], { maxWaitMs: NaN })).toThrow(InvalidConfigError);
    expect(() => closeWhenDrained([], { minWaitMs: -1 })).toThrow(InvalidConfigError);
  });
});

describe('closeWhenDrained on the default asyncScheduler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('with real timers: a drained channel after minWaitMs, a full one once drained', () => {
    vi.useFakeTimers();
    const empty = new FakeChannel('empty');
    const full = new FakeChannel('full', { bufferedAmount: 10 });
    closeWhenDrained([empty, full], { minWaitMs: 60 });
    vi.advanceTimersByTime(59);
    expect([empty.readyState, full.readyState]).toEqual(['open', 'open']);
    vi.advanceTimersByTime(1);
    expect([empty.readyState, full.readyState]).toEqual(['closed', 'open']);
    vi.advanceTimersByTime(200);
    expect(full.readyState).toBe('open');
    full.drain();
    vi.advanceTimersByTime(DRAIN_POLL_MS);
    expect(full.readyState).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('closeAfterPeer', () => {
  it('closes every channel as soon as the peer closes the first one, and waits for it until then', () => {
    const ts = testScheduler();
    ts.run(() => {
      const control = new FakeChannel('control');
      const data = new FakeChannel('data');
      const at = closedAt(ts, { control, data });
      const listeners = control.listenerCount();
      const sub = closeAfterPeer([control, undefined, data], { scheduler: ts });
      // The peer closes the control channel at 250 ms (when our last message arrived).
      ts.schedule(() => control.close(), 250);
      ts.schedule(() => expect(data.readyState).toBe('open'), 249);
      ts.flush();
      expect(at).toEqual({ control: 250, data: 250 });
      expect(sub.closed).toBe(true);
      expect(control.listenerCount()).toBe(listeners);
    });
  });

  it('closes them itself at maxWaitMs when the peer never does, and leaves no timer or listener behind', () => {
    const ts = testScheduler();
    ts.run(() => {
      const control = new FakeChannel('control');
      const data = new FakeChannel('data');
      const at = closedAt(ts, { control, data });
      const counting = countingScheduler(ts);
      const listeners = control.listenerCount();
      const sub = closeAfterPeer([control, data], { maxWaitMs: 700, scheduler: counting.scheduler });
      ts.flush();
      expect(at).toEqual({ control: 700, data: 700 });
      expect(sub.closed).toBe(true);
      expect(counting.live()).toBe(0);
      expect(control.listenerCount()).toBe(listeners);
    });
  });

  it('an already closed control channel closes the rest at once; unsubscribing stops the wait', () => {
    const closed = new FakeChannel('control', { readyState: 'closed' });
    const data = new FakeChannel('data');
    expect(closeAfterPeer([closed, data]).closed).toBe(true);
    expect(data.readyState).toBe('closed');
    const ts = testScheduler();
    ts.run(() => {
      const control = new FakeChannel('control');
      const other = new FakeChannel('data');
      const sub = closeAfterPeer([control, other], { maxWaitMs: 100, scheduler: ts });
      sub.unsubscribe();
      ts.flush();
      expect([control.readyState, other.readyState]).toEqual(['open', 'open']);
    });
    expect(() => closeAfterPeer([data], { maxWaitMs: -1 })).toThrow(InvalidConfigError);
  });
});
