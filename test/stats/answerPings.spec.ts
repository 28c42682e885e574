import { describe, expect, it } from 'vitest';
import { answerPings } from '../../src/stats/answerPings';
import { testScheduler } from '../helpers/marbles';

describe('answerPings', () => {
  it('answers each ping with a pong carrying the same n and ts, ignoring everything else', () => {
    const ts = testScheduler();
    const sent: [number, string][] = [];
    ts.run(({ cold, expectObservable }) => {
      const messages = cold('-a-b-c-d-e|', {
        a: JSON.stringify({ t: 'ping', n: 5, ts: 100.25 }),
        b: 'garbage',
        c: JSON.stringify({ t: 'pong', n: 5, ts: 1 }),
        d: JSON.stringify({ t: 'ping', n: -1, ts: 1 }), // invalid n
        e: JSON.stringify({ t: 'ping', n: 6, ts: 200 }),
      });
      expectObservable(answerPings(messages, (m) => void sent.push([ts.now(), m]))).toBe('-a-------e|', { a: 5, e: 6 });
    });
    expect(sent).toEqual([
      [1, '{"t":"pong","n":5,"ts":100.25}'],
      [9, '{"t":"pong","n":6,"ts":200}'],
    ]);
  });

  it('passes errors through, and errors when send throws', () => {
    const ts = testScheduler();
    const boom = new Error('closed');
    ts.run(({ cold, expectObservable }) => {
      expectObservable(answerPings(cold('--#'), () => undefined)).toBe('--#');
      const send = () => {
        throw boom;
      };
      expectObservable(answerPings(cold('-a-a|', { a: '{"t":"ping","n":1,"ts":0}' }), send)).toBe('-#', undefined, boom);
    });
  });

  it('unsubscribes messages$ on unsubscribe; empty and never pass through', () => {
    const ts = testScheduler();
    ts.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const messages = hot('-a---a', { a: '{"t":"ping","n":1,"ts":0}' });
      expectObservable(answerPings(messages, () => undefined), '^ 3ms !').toBe('-a', { a: 1 });
      expectSubscriptions(messages.subscriptions).toBe('^ 3ms !');
      expectObservable(answerPings(cold('|'), () => undefined)).toBe('|');
      expectObservable(answerPings(cold('-'), () => undefined)).toBe('-');
    });
  });
});
