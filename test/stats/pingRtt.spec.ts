import { delay, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { answerPings } from '../../src/stats/answerPings';
import { pingRtt } from '../../src/stats/pingRtt';
import { testScheduler } from '../helpers/marbles';
import { thrownBy } from '../helpers/thrown';

const pong = (n: number, ts: number) => JSON.stringify({ t: 'pong', n, ts });
const ping = (n: number, ts: number) => JSON.stringify({ t: 'ping', n, ts });

describe('pingRtt', () => {
  it('sends a ping every interval and emits the round trip of each matching pong', () => {
    const ts = testScheduler();
    const sent: [number, string][] = [];
    ts.run(({ hot, expectObservable }) => {
      const messages = hot('----a--x--y-z--b-c--d', {
        a: pong(1, 0), // 4 ms after ping 1
        x: 'not json',
        y: JSON.stringify({ t: 'ack', id: 1, bytes: 0, queued: 0 }),
        z: pong(2, 999), // ts does not match what was sent
        b: pong(2, 10), // 5 ms after ping 2
        c: pong(1, 0), // duplicate
        d: pong(9, 20), // never sent
      });
      const send = (m: string) => void sent.push([ts.now(), m]);
      expectObservable(pingRtt(send, messages, { intervalMs: 10, scheduler: ts }), '25ms !').toBe('4ms a 10ms b', { a: 4, b: 5 });
    });
    expect(sent).toEqual([
      [0, ping(1, 0)],
      [10, ping(2, 10)],
      [20, ping(3, 20)],
    ]);
  });

  it('ignores pongs later than the timeout', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const messages = hot('-------a--b', { a: pong(1, 0), b: pong(2, 5) });
      expectObservable(pingRtt(() => undefined, messages, { intervalMs: 5, timeoutMs: 6, scheduler: ts }), '12ms !').toBe('----------b', { b: 5 });
    });
  });

  it('measures a round trip through answerPings over a 3 ms link each way', () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const toB = new Subject<string>();
      const toA = new Subject<string>();
      answerPings(toB.pipe(delay(3, ts)), (m) => toA.next(m)).subscribe();
      expectObservable(pingRtt((m) => toB.next(m), toA.pipe(delay(3, ts)), { intervalMs: 10, scheduler: ts }), '30ms !').toBe('6ms a 9ms a 9ms a', { a: 6 });
    });
  });

  it('completes and errors with messages$', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(pingRtt(() => undefined, cold('---|'), { intervalMs: 10, scheduler: ts })).toBe('---|');
      expectObservable(pingRtt(() => undefined, cold('---#'), { intervalMs: 10, scheduler: ts })).toBe('---#');
      expectObservable(pingRtt(() => undefined, cold('|'), { intervalMs: 10, scheduler: ts })).toBe('|');
    });
  });

  it('errors when send throws, and stops pinging', () => {
    const ts = testScheduler();
    let calls = 0;
    const boom = new Error('channel closed');
    ts.run(({ hot, expectObservable }) => {
      const send = () => {
        if (++calls === 2) throw boom;
      };
      expectObservable(pingRtt(send, hot('-'), { intervalMs: 10, scheduler: ts })).toBe('10ms #', undefined, boom);
    });
    expect(calls).toBe(2);
  });

  it('stops pinging and unsubscribes messages$ on unsubscribe', () => {
    const ts = testScheduler();
    let calls = 0;
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const messages = hot('-');
      expectObservable(pingRtt(() => void calls++, messages, { intervalMs: 10, scheduler: ts }), '^ 24ms !').toBe('');
      expectSubscriptions(messages.subscriptions).toBe('^ 24ms !');
    });
    expect(calls).toBe(3);
    expect(ts.actions.length).toBe(0);
  });

  it('rejects bad options with InvalidConfigError', () => {
    expect(() => pingRtt(() => undefined, new Subject(), { intervalMs: 0 })).toThrow(InvalidConfigError);
    expect(() => pingRtt(() => undefined, new Subject(), { timeoutMs: -1 })).toThrow(InvalidConfigError);
  });
});

describe('pingRtt: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => pingRtt(undefined as never, undefined as never, null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'pingRtt: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
