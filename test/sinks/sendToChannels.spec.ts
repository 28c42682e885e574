import { map, mergeMap, Observable, of, take, tap } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, InvalidConfigError, MessageTooLargeError, SinkWriteError } from '../../src/errors';
import { Demand } from '../../src/flow/Demand';
import { backpressure } from '../../src/operators/backpressure';
import { roundRobin } from '../../src/operators/roundRobin';
import { decodeFrame, encodeFrame, FRAME_HEADER_SIZE } from '../../src/protocol/frame';
import { sendToChannels } from '../../src/sinks/sendToChannels';
import { pullSource, type ByteReader } from '../../src/sources/pullSource';
import type { Routed } from '../../src/types';
import { FakeChannel } from '../helpers/fakeChannel';
import { firstDifference } from '../helpers/bytes';
import { pattern, testScheduler } from '../helpers/marbles';
import { thrownBy } from '../helpers/thrown';

const two = () => [new FakeChannel('c1'), new FakeChannel('c2')] as const;
const frameA = pattern(40, 1);
const frameB = pattern(10, 2);

describe('sendToChannels', () => {
  describe('the usual operator cases', () => {
    it('sends each frame on its channel and emits the bytes sent', () => {
      const [c1, c2] = two();
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-|', { a: { channel: c1, frame: frameA }, b: { channel: c2, frame: frameB } });
        expectObservable(source.pipe(sendToChannels())).toBe('-x-y-|', { x: 40, y: 10 });
        expectSubscriptions(source.subscriptions).toBe('^----!');
      });
      expect(c1.sent).toEqual([frameA]);
      expect(c1.sent[0]).toBe(frameA); // no copy
      expect(c2.sent).toEqual([frameB]);
    });

    it('handles empty', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<Routed>('|');
        expectObservable(source.pipe(sendToChannels())).toBe('|');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
    });

    it('handles never', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<Routed>('-');
        expectObservable(source.pipe(sendToChannels())).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^');
      });
    });

    it('passes errors through', () => {
      const [c1] = two();
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-#', { a: { channel: c1, frame: frameA } }, new Error('boom'));
        expectObservable(source.pipe(sendToChannels())).toBe('-x-#', { x: 40 }, new Error('boom'));
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
    });

    it('allows early unsubscription', () => {
      const [c1] = two();
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const r = { channel: c1, frame: frameB };
        const source = hot('-a-a-a-a-|', { a: r });
        expectObservable(source.pipe(sendToChannels()), '^----!').toBe('-x-x-', { x: 10 });
        expectSubscriptions(source.subscriptions).toBe('^----!');
      });
      expect(c1.sent).toHaveLength(2);
    });

    it('does not break unsubscription chains', () => {
      const [c1] = two();
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-a-a-a-a-|', { a: { channel: c1, frame: frameB } });
        const result = source.pipe(
          mergeMap((x) => of(x)),
          sendToChannels(),
          mergeMap((x) => of(x)),
        );
        expectObservable(result, '^----!').toBe('-x-x-', { x: 10 });
        expectSubscriptions(source.subscriptions).toBe('^----!');
      });
    });

    it('stops a synchronous source when unsubscribed', () => {
      const c1 = new FakeChannel('c1', { accumulates: false });
      let produced = 0;
      const infinite = new Observable<Routed>((subscriber) => {
        while (!subscriber.closed) {
          produced++;
          subscriber.next({ channel: c1, frame: frameB });
        }
      });
      infinite.pipe(sendToChannels(), take(3)).subscribe();
      expect(produced).toBe(3);
      expect(c1.sent).toHaveLength(3);
    });
  });

  it('sends synchronously: bufferedAmount includes the frame as soon as next returns', () => {
    const c1 = new FakeChannel('c1');
    const seen: number[] = [];
    of({ channel: c1, frame: frameA }, { channel: c1, frame: frameB })
      .pipe(
        sendToChannels(),
        tap(() => seen.push(c1.bufferedAmount)),
      )
      .subscribe();
    expect(seen).toEqual([40, 50]);
  });

  it('checks the size before sending: MessageTooLargeError, nothing sent', () => {
    const c1 = new FakeChannel('c1');
    let error: unknown;
    const got: number[] = [];
    of({ channel: c1, frame: frameB }, { channel: c1, frame: pattern(262_145) }, { channel: c1, frame: frameB })
      .pipe(sendToChannels())
      .subscribe({ next: (n) => got.push(n), error: (e) => (error = e) });
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as MessageTooLargeError).details).toEqual({ size: 262_145, maxMessageSize: 262_144, label: 'c1' });
    expect(got).toEqual([10]);
    expect(c1.sent).toHaveLength(1);
    expect(c1.bufferedAmount).toBe(10);

    error = undefined;
    of({ channel: c1, frame: frameA })
      .pipe(sendToChannels({ maxMessageSize: 39 }))
      .subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(c1.sent).toHaveLength(1);
  });

  it('fails with ChannelClosedError, without sending, on a closing or closed channel', () => {
    const [c1] = two();
    c1.readyState = 'closing';
    let error: unknown;
    of({ channel: c1, frame: frameA })
      .pipe(sendToChannels())
      .subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).details).toEqual({ label: 'c1', size: 40 });
    expect(c1.sent).toEqual([]);
  });

  it('turns an InvalidStateError from send into ChannelClosedError with the cause', () => {
    const [c1] = two();
    const cause = new DOMException("Failed to execute 'send' on 'RTCDataChannel': RTCDataChannel.readyState is not 'open'", 'InvalidStateError');
    c1.sendError = cause;
    let error: unknown;
    of({ channel: c1, frame: frameA })
      .pipe(sendToChannels())
      .subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as Error).cause).toBe(cause);
    expect((error as Error).message).toMatch(/readyState is not 'open'/);
  });

  it('skipClosed: a frame whose channel turned out closed is skipped on such a channel, an error on the others', () => {
    const [c1, c2] = two();
    c1.sendError = new Error('DataChannel is closed'); // node-datachannel, readyState still 'open'
    const got: number[] = [];
    let error: unknown;
    of({ channel: c1, frame: frameA }, { channel: c2, frame: frameB })
      .pipe(sendToChannels({ skipClosed: (ch) => ch === c1 }))
      .subscribe({ next: (n) => got.push(n), error: (e) => (error = e) });
    expect(got).toEqual([frameB.length]);
    expect(error).toBeUndefined();
    c2.sendError = new Error('DataChannel is closed');
    of({ channel: c2, frame: frameB })
      .pipe(sendToChannels({ skipClosed: (ch) => ch === c1 }))
      .subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(ChannelClosedError);
    // Other failures are never skipped.
    c1.sendError = new DOMException('send queue is full', 'OperationError');
    of({ channel: c1, frame: frameA })
      .pipe(sendToChannels({ skipClosed: () => true }))
      .subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(SinkWriteError);
  });

  it("turns Chrome's OperationError 'send queue is full' into SinkWriteError with the cause", () => {
    const c1 = new FakeChannel('c1', { bufferedAmount: 16 * 1024 * 1024 - 10 });
    const cause = new DOMException("Failed to execute 'send' on 'RTCDataChannel': RTCDataChannel send queue is full", 'OperationError');
    c1.sendError = cause;
    let error: unknown;
    of({ channel: c1, frame: frameA })
      .pipe(sendToChannels())
      .subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(SinkWriteError);
    expect((error as SinkWriteError).code).toBe('ERR_SINK_WRITE');
    expect((error as Error).cause).toBe(cause);
    expect((error as SinkWriteError).details).toEqual({ label: 'c1', size: 40, bufferedAmount: 16 * 1024 * 1024 - 10 });
  });

  it('rejects a bad maxMessageSize at call time', () => {
    expect(() => sendToChannels({ maxMessageSize: 0 })).toThrow(InvalidConfigError);
    expect(() => sendToChannels({ maxMessageSize: Infinity })).toThrow(InvalidConfigError);
  });

  it('delivers a whole file through roundRobin → backpressure → sendToChannels under Demand', () => {
    const file = pattern(300_000, 7);
    const channels = [new FakeChannel('c1'), new FakeChannel('c2'), new FakeChannel('c3', { firesLowEvent: false })];
    let offset = 0;
    const reader: ByteReader = {
      read: (max) => {
        if (offset >= file.length) return null;
        const out = file.subarray(offset, offset + max);
        offset += out.length;
        return out;
      },
    };
    const demand = new Demand();
    const ts = new TestScheduler(() => undefined);
    const high = 40_000;
    let index = 0;
    let at = 0;
    let sent = 0;
    let completed = false;
    pullSource(() => reader, { demand, readSize: 7000 })
      .pipe(
        map((data) => {
          const frame = encodeFrame({ transferId: 9, index: index++, offset: at }, data);
          at += data.length;
          return frame;
        }),
        roundRobin(channels, { high }),
        backpressure({ high, low: 10_000, maxMessageSize: 8000, demand, scheduler: ts }),
        sendToChannels({ maxMessageSize: 8000 }),
      )
      .subscribe({ next: (n) => (sent += n), complete: () => (completed = true) });
    // The channels drain a little every 10 ms (c3 without events).
    for (let t = 10; t <= 20_000; t += 10) ts.schedule(() => channels.forEach((c) => c.setBufferedAmount(Math.max(0, c.bufferedAmount - 15_000))), t);
    ts.maxFrames = 20_000;
    ts.flush();
    expect(completed).toBe(true);
    const received = channels.flatMap((c) => c.sent.map((m) => decodeFrame(m)));
    expect(sent).toBe(file.length + received.length * FRAME_HEADER_SIZE);
    const out = new Uint8Array(file.length);
    for (const f of received) out.set(f.data, f.offset);
    expect(firstDifference(out, file)).toBe(-1);
    expect(received.map((f) => f.index).sort((a, b) => a - b)).toEqual([...Array(received.length).keys()]);
    // Each channel got its frames in index order.
    for (const c of channels) {
      const idx = c.sent.map((m) => decodeFrame(m).index);
      expect(idx).toEqual([...idx].sort((a, b) => a - b));
      expect(idx.length).toBeGreaterThan(0);
    }
  });
});

describe('sendToChannels with a stack that throws a plain "closed" error', () => {
  it('reports ChannelClosedError, as node-datachannel does before its readyState changes', async () => {
    const { of, lastValueFrom } = await import('rxjs');
    const { sendToChannels } = await import('../../src/sinks/sendToChannels');
    const { ChannelClosedError } = await import('../../src/errors');
    const channel: any = { label: 'x', readyState: 'open', bufferedAmount: 0, send: () => { throw new Error('DataChannel is closed'); } };
    await expect(lastValueFrom(of({ channel, frame: new Uint8Array(4) }).pipe(sendToChannels()))).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('reports ChannelClosedError for libdatachannel\'s EPIPE after its connection closed (the channel still says open), SinkWriteError for other send failures', async () => {
    const { of, lastValueFrom } = await import('rxjs');
    const { sendToChannels } = await import('../../src/sinks/sendToChannels');
    const { ChannelClosedError, SinkWriteError } = await import('../../src/errors');
    const failing = (message: string): any => ({ label: 'x', readyState: 'open', bufferedAmount: 0, send: () => { throw new Error(message); } });
    const epipe = failing('libdatachannel error while sending data channel message: Sending failed, errno=32');
    await expect(lastValueFrom(of({ channel: epipe, frame: new Uint8Array(4) }).pipe(sendToChannels()))).rejects.toBeInstanceOf(ChannelClosedError);
    // node-datachannel once the peer closed the lane's connection: the channel still reads 'open'.
    const destroyed = failing('sendMessagBinary() called on destroyed channel');
    await expect(lastValueFrom(of({ channel: destroyed, frame: new Uint8Array(4) }).pipe(sendToChannels()))).rejects.toBeInstanceOf(ChannelClosedError);
    await expect(lastValueFrom(of({ channel: destroyed, frame: new Uint8Array(4) }).pipe(sendToChannels({ skipClosed: () => true })), { defaultValue: 'skipped' })).resolves.toBe('skipped');
    const other = failing('libdatachannel error while sending data channel message: Sending failed, errno=12');
    await expect(lastValueFrom(of({ channel: other, frame: new Uint8Array(4) }).pipe(sendToChannels()))).rejects.toBeInstanceOf(SinkWriteError);
  });
});

describe('sendToChannels: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => sendToChannels(null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'sendToChannels: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
