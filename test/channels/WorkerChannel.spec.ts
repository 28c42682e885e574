/**
 * A data channel run by the channel worker, seen from the page: the real worker script
 * (src/channels/channelWorkerSource.ts) in this thread behind a fake Worker, each hop a task of its own,
 * and a scriptable channel on the worker's side.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ChannelWorker } from '../../src/channels/ChannelWorker';
import type { WorkerChannel } from '../../src/channels/WorkerChannel';
import { FakeChannel } from '../helpers/fakeChannel';
import { fakeChannelWorker, taskQueue, type FakeChannelWorker } from '../helpers/fakeChannelWorker';

describe('WorkerChannel and the channel worker', () => {
  let q: ReturnType<typeof taskQueue>;
  let worker: FakeChannelWorker;
  let host: ChannelWorker;
  let real: FakeChannel;
  let ch: WorkerChannel;
  let events: string[];

  /** Hands a new channel to the worker and records the page side's events. */
  const adopt = (state: 'connecting' | 'open' | 'closed' = 'connecting') => {
    real = new FakeChannel('data-0', { readyState: state, accumulates: true, copies: true });
    real.bufferedAmountLowThreshold = 1000;
    ch = host.adopt(real)!;
    events = [];
    for (const type of ['open', 'message', 'bufferedamountlow', 'error', 'close']) ch.addEventListener(type, (e) => events.push(type === 'message' ? `message ${describe(e.data)}` : type));
    q.flush();
  };
  const describe = (d: unknown) => (typeof d === 'string' ? d : `${(d as ArrayBuffer).byteLength} B`);

  beforeEach(() => {
    q = taskQueue();
    worker = fakeChannelWorker(q.deliver);
    host = new ChannelWorker(worker);
    adopt();
  });

  it('keeps what the channel was: label, options, threshold; readyState connecting until the worker says open, once', () => {
    expect(ch).toMatchObject({ label: 'data-0', readyState: 'connecting', ordered: true, bufferedAmountLowThreshold: 1000, binaryType: 'arraybuffer' });
    expect(real.binaryType).toBe('arraybuffer');
    real.open();
    expect(ch.readyState).toBe('connecting');
    q.flush();
    expect(ch.readyState).toBe('open');
    expect(events).toEqual(['open']);
    expect(host.size).toBe(1);
  });

  it('send() before open throws InvalidStateError and posts nothing, as a channel does', () => {
    const before = worker.posted.length;
    expect(() => ch.send(new Uint8Array(4))).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    expect(worker.posted).toHaveLength(before);
  });

  it("send() hands the worker a copy: the caller's buffer stays whole and may be reused at once", () => {
    real.open();
    q.flush();
    const frame = new Uint8Array([1, 2, 3, 4, 5]);
    ch.send(frame.subarray(1, 4));
    frame.fill(9);
    q.flush();
    expect(frame.byteLength).toBe(5);
    expect(real.sent).toHaveLength(1);
    expect([...new Uint8Array(real.sent[0] as ArrayBuffer)]).toEqual([2, 3, 4]);
    ch.send('héllo');
    ch.send(new ArrayBuffer(7));
    q.flush();
    expect(real.sent[1]).toBe('héllo');
    expect((real.sent[2] as ArrayBuffer).byteLength).toBe(7);
  });

  it('binary sends of 64 KiB or more travel in pooled 256 KiB buffers that the worker hands back: the channel gets exactly the bytes, the next send reuses the buffer', () => {
    real.open();
    q.flush();
    const frame = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 7 + seed) % 251);
    const sizes = [64 * 1024, 256 * 1024, 100_003];
    for (const [k, n] of sizes.entries()) {
      const bytes = frame(n, k);
      ch.send(k === 1 ? bytes.buffer : bytes);
      bytes.fill(0);
      q.flush();
      const got = real.sent[k] as Uint8Array;
      expect(got.byteLength).toBe(n);
      expect(Buffer.from(got).equals(Buffer.from(frame(n, k)))).toBe(true);
    }
    // One buffer made, then reused; under 64 KiB a send copies into a fresh buffer of its own size.
    expect(host.sendBuffers.counts).toEqual({ allocated: 1, reused: 2 });
    ch.send(new Uint8Array(64 * 1024 - 1));
    q.flush();
    expect(host.sendBuffers.counts).toEqual({ allocated: 1, reused: 2 });
    expect((real.sent[3] as ArrayBuffer).byteLength).toBe(64 * 1024 - 1);
    expect(ch.bufferedAmount).toBe(real.bufferedAmount);
  });

  it('a pooled buffer comes back from a send the channel refuses, and from a send held until the channel opens', () => {
    real.sendError = new DOMException('queue full', 'OperationError');
    real.open();
    q.flush();
    ch.send(new Uint8Array(70_000));
    q.flush();
    expect(events).toEqual(['open', 'error', 'close']);
    expect(host.sendBuffers.counts).toEqual({ allocated: 1, reused: 0 });
    // Open on the page, still connecting in the worker: the send is held, then sent, and its buffer returns.
    real = new FakeChannel('data-1', { readyState: 'open', copies: true });
    const c = host.adopt(real)!;
    real.readyState = 'connecting';
    c.send(new Uint8Array(70_000).fill(3));
    q.flush();
    expect(host.sendBuffers.counts).toEqual({ allocated: 1, reused: 1 });
    real.open();
    q.flush();
    expect(real.sent).toEqual([new Uint8Array(70_000).fill(3)]);
    c.send(new Uint8Array(70_000));
    q.flush();
    expect(host.sendBuffers.counts).toEqual({ allocated: 1, reused: 2 });
  });

  it('at most 64 pooled buffers are out at the worker; past that a send copies into a new buffer of its own', () => {
    real.open();
    q.flush();
    for (let k = 0; k < 66; k++) ch.send(new Uint8Array(65_536).fill(k));
    expect(host.sendBuffers.counts).toEqual({ allocated: 64, reused: 0 });
    q.flush();
    expect(real.sent.map((m) => new Uint8Array(m as ArrayBuffer)[0])).toEqual(Array.from({ length: 66 }, (_, k) => k));
    ch.send(new Uint8Array(65_536));
    expect(host.sendBuffers.counts).toEqual({ allocated: 64, reused: 1 });
  });

  it('bufferedAmount is what waits for the worker plus what the channel holds; bufferedamountlow fires on the way down through the threshold', () => {
    real.open();
    q.flush();
    ch.send(new Uint8Array(600));
    ch.send(new Uint8Array(600));
    expect(ch.bufferedAmount).toBe(1200);
    q.flush();
    // The channel holds both (it never drains by itself here): the worker reported 1200, nothing waits.
    expect(real.bufferedAmount).toBe(1200);
    expect(ch.bufferedAmount).toBe(1200);
    expect(events).toEqual(['open']);
    real.setBufferedAmount(900);
    q.flush();
    expect(ch.bufferedAmount).toBe(900);
    expect(events).toEqual(['open', 'bufferedamountlow']);
    // Below the threshold and staying there: no second event.
    real.setBufferedAmount(0);
    ch.send(new Uint8Array(10));
    q.flush();
    expect(events).toEqual(['open', 'bufferedamountlow']);
  });

  it('a send that drains at once still ends a crossing: the event fires when the bytes in transit arrive', () => {
    real.open();
    real.accumulates = false;
    q.flush();
    ch.send(new Uint8Array(5000));
    expect(ch.bufferedAmount).toBe(5000);
    q.flush();
    expect(ch.bufferedAmount).toBe(0);
    expect(events).toEqual(['open', 'bufferedamountlow']);
  });

  it('a new threshold goes to the channel, and the worker answers with the current amount', () => {
    real.open();
    q.flush();
    ch.bufferedAmountLowThreshold = 64;
    q.flush();
    expect(real.bufferedAmountLowThreshold).toBe(64);
    expect(ch.bufferedAmountLowThreshold).toBe(64);
  });

  it('messages arrive in order, binary as ArrayBuffer and text as string; on* handlers run too', () => {
    real.open();
    q.flush();
    const seen: unknown[] = [];
    ch.onmessage = (e) => seen.push(e.data);
    const payload = new Uint8Array([7, 8, 9]).buffer;
    real.receive(payload);
    real.receive('hi');
    real.receive(new ArrayBuffer(3000));
    q.flush();
    expect(events).toEqual(['open', 'message 3 B', 'message hi', 'message 3000 B']);
    expect([...new Uint8Array(seen[0] as ArrayBuffer)]).toEqual([7, 8, 9]);
    // Transferred from the worker, not copied: the worker's buffer is detached.
    expect(payload.byteLength).toBe(0);
  });

  it('close() from the page: closing at once, close once the worker closed it; send afterwards throws', () => {
    real.open();
    q.flush();
    ch.close();
    expect(ch.readyState).toBe('closing');
    expect(() => ch.send('x')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    q.flush();
    expect(real.readyState).toBe('closed');
    expect(ch.readyState).toBe('closed');
    expect(events).toEqual(['open', 'close']);
    expect(host.size).toBe(0);
    ch.close();
    q.flush();
    expect(events).toEqual(['open', 'close']);
  });

  it('the far end closing: close reaches the page, after every message that came before it', () => {
    real.open();
    q.flush();
    real.receive('last');
    real.close();
    q.flush();
    expect(events).toEqual(['open', 'message last', 'close']);
    expect(ch.bufferedAmount).toBe(0);
  });

  it('a send the channel refuses (queue full) is an error event and closes the channel, so no byte is lost silently', () => {
    real.open();
    q.flush();
    real.sendError = Object.assign(new Error('queue full'), { name: 'OperationError' });
    const errors: unknown[] = [];
    ch.addEventListener('error', (e) => errors.push(e.error));
    ch.send(new Uint8Array(10));
    q.flush();
    expect(events).toEqual(['open', 'error', 'close']);
    expect(errors[0]).toMatchObject({ name: 'OperationError', message: 'queue full' });
  });

  it('a channel that is open on the page side before the worker sees it open holds the sends until it does', () => {
    real = new FakeChannel('data-1', { readyState: 'open' });
    const c = host.adopt(real)!;
    // The page read it open when it handed it over; the worker finds it still connecting.
    real.readyState = 'connecting';
    c.send('early');
    expect(c.bufferedAmount).toBe(5);
    q.flush();
    expect(real.sent).toEqual([]);
    real.open();
    q.flush();
    expect(c.bufferedAmount).toBe(5);
    expect(real.sent).toEqual(['early']);
    expect(c.bufferedAmount).toBe(5);
  });

  it('a channel that closed before it was handed over reads closed, fires nothing, and the worker lets it go', () => {
    adopt('closed');
    expect(ch.readyState).toBe('closed');
    expect(events).toEqual([]);
    expect(host.size).toBe(1);
  });

  it('a worker that crashes closes every channel it ran, and takes no more', () => {
    real.open();
    q.flush();
    worker.crash();
    expect(events).toEqual(['open', 'close']);
    expect(worker.terminated).toBe(true);
    expect(host.adopt(new FakeChannel('late', { readyState: 'connecting' }))).toBeUndefined();
  });

  it('a channel the browser refuses to transfer is not adopted', () => {
    worker.refuseTransfers(true);
    expect(host.adopt(new FakeChannel('old'))).toBeUndefined();
    expect(host.size).toBe(1);
  });

  it('send() takes strings, ArrayBuffers, views and Blobs, and nothing else', () => {
    real.open();
    q.flush();
    expect(() => ch.send(42)).toThrow(TypeError);
    ch.send(new Blob(['abc']));
    expect(ch.bufferedAmount).toBe(3);
    ch.send(new DataView(new ArrayBuffer(8), 2, 4));
    expect(ch.bufferedAmount).toBe(7);
  });
});
