import { take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, FrameDecodeError } from '../../src/errors';
import { fromChannelMessages } from '../../src/sources/fromChannelMessages';
import { FakeChannel } from '../helpers/fakeChannel';
import { pattern, testScheduler } from '../helpers/marbles';
import { InvalidConfigError } from '../../src/errors';
import { thrownBy } from '../helpers/thrown';

describe('fromChannelMessages', () => {
  it('emits binary messages as Uint8Array and strings as they are, then completes on close', () => {
    const ch = new FakeChannel('c1');
    const bytes = pattern(8, 3);
    testScheduler().run(({ cold, expectObservable }) => {
      cold('-a-b-c-d-|').subscribe({
        next: (k) => {
          if (k === 'a') ch.receive(bytes.slice().buffer); // ArrayBuffer (browsers, binaryType 'arraybuffer')
          if (k === 'b') ch.receive('{"type":"hello"}');
          if (k === 'c') ch.receive(Buffer.from([1, 2, 3])); // Node Buffer (node-datachannel)
          if (k === 'd') ch.receive(new DataView(bytes.buffer, 2, 3)); // a view: only its window
        },
        complete: () => ch.close(),
      });
      expectObservable(fromChannelMessages(ch)).toBe('-a-b-c-d-|', {
        a: bytes,
        b: '{"type":"hello"}',
        c: Buffer.from([1, 2, 3]),
        d: bytes.subarray(2, 5),
      });
    });
    expect(ch.binaryType).toBe('arraybuffer');
    expect(ch.listenerCount()).toBe(0);
  });

  it('normalises without copying', () => {
    const ch = new FakeChannel('c1');
    const buffer = pattern(16).buffer;
    const got: unknown[] = [];
    fromChannelMessages(ch).subscribe((m) => got.push(m));
    ch.receive(buffer);
    expect((got[0] as Uint8Array).buffer).toBe(buffer);
  });

  it('completes at once on an already closed channel, adding no listener', () => {
    const ch = new FakeChannel('c1', { readyState: 'closed' });
    testScheduler().run(({ expectObservable }) => {
      expectObservable(fromChannelMessages(ch)).toBe('|');
    });
    expect(ch.listenerCount()).toBe(0);
  });

  it('never completes while the channel stays open (never)', () => {
    const ch = new FakeChannel('c1');
    testScheduler().run(({ expectObservable }) => {
      expectObservable(fromChannelMessages(ch)).toBe('-');
    });
  });

  it('with errorOnClose, a close is a ChannelClosedError', () => {
    const ch = new FakeChannel('c1');
    let error: unknown;
    fromChannelMessages(ch, { errorOnClose: true }).subscribe({ error: (e) => (error = e) });
    ch.close();
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).details).toEqual({ label: 'c1' });
    expect(ch.listenerCount()).toBe(0);

    let again: unknown;
    fromChannelMessages(ch, { errorOnClose: true }).subscribe({ error: (e) => (again = e) });
    expect(again).toBeInstanceOf(ChannelClosedError);
  });

  it('errors with ChannelClosedError carrying the cause on an error event', () => {
    const ch = new FakeChannel('c1');
    const cause = new Error('SCTP failure');
    testScheduler().run(({ cold, expectObservable }) => {
      cold('--x').subscribe(() => ch.fail(cause));
      cold('-y').subscribe(() => ch.receive('hi'));
      expectObservable(fromChannelMessages(ch)).toBe(
        '-a#',
        { a: 'hi' },
        new ChannelClosedError('channel "c1" failed: SCTP failure', { label: 'c1', readyState: 'open' }),
      );
    });
    let error: unknown;
    fromChannelMessages(ch).subscribe({ error: (e) => (error = e) });
    ch.fail(cause);
    expect((error as Error).cause).toBe(cause);
    expect(ch.listenerCount()).toBe(0);
  });

  it('fails on a Blob (binaryType ignored by the stack) instead of emitting something unusable', () => {
    const ch = new FakeChannel('c1');
    let error: unknown;
    fromChannelMessages(ch).subscribe({ error: (e) => (error = e) });
    ch.receive(new Blob(['x']));
    expect(error).toBeInstanceOf(FrameDecodeError);
    expect(ch.listenerCount()).toBe(0);
  });

  it('removes its listeners on early unsubscription', () => {
    const ch = new FakeChannel('c1');
    testScheduler().run(({ cold, expectObservable }) => {
      cold('-a--b-c').subscribe((k) => ch.receive(k));
      expectObservable(fromChannelMessages(ch), '^--!').toBe('-a-', { a: 'a' });
    });
    expect(ch.listenerCount()).toBe(0);
  });

  it('stops listening when take(n) is satisfied by synchronous messages', () => {
    const ch = new FakeChannel('c1');
    const got: unknown[] = [];
    fromChannelMessages(ch).pipe(take(2)).subscribe((m) => got.push(m));
    let delivered = 0;
    while (ch.listenerCount('message') > 0 && delivered < 1000) {
      ch.receive(`m${delivered++}`);
    }
    expect(got).toEqual(['m0', 'm1']);
    expect(delivered).toBe(2);
    expect(ch.listenerCount()).toBe(0);
  });
});

describe('fromChannelMessages: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => fromChannelMessages({ addEventListener: () => undefined, removeEventListener: () => undefined } as never, null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'fromChannelMessages: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
