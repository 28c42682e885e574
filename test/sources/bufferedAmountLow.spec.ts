import { map, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { bufferedAmountLow } from '../../src/sources/bufferedAmountLow';
import { FakeChannel } from '../helpers/fakeChannel';
import { testScheduler } from '../helpers/marbles';

describe('bufferedAmountLow', () => {
  it('emits each bufferedamountlow event, only when the threshold is crossed downward', () => {
    const ch = new FakeChannel('c1', { bufferedAmount: 1000 });
    ch.bufferedAmountLowThreshold = 256;
    testScheduler().run(({ cold, expectObservable }) => {
      cold('-a-b-c-d-e', { a: 300, b: 200, c: 100, d: 900, e: 0 }).subscribe((n) => ch.setBufferedAmount(n));
      expectObservable(bufferedAmountLow(ch).pipe(map((e) => e.type))).toBe('---l-----l', { l: 'bufferedamountlow' });
    });
  });

  it('never completes, even when the channel closes', () => {
    const ch = new FakeChannel('c1', { bufferedAmount: 10 });
    let completed = false;
    const sub = bufferedAmountLow(ch).subscribe({ complete: () => (completed = true) });
    ch.close();
    expect(completed).toBe(false);
    expect(sub.closed).toBe(false);
    sub.unsubscribe();
  });

  it('adds the listener on subscribe and removes it on unsubscribe', () => {
    const ch = new FakeChannel('c1');
    const source = bufferedAmountLow(ch);
    expect(ch.listenerCount('bufferedamountlow')).toBe(0);
    testScheduler().run(({ cold, expectObservable }) => {
      cold('-a-b-a-b', { a: 10, b: 0 }).subscribe((n) => ch.setBufferedAmount(n));
      expectObservable(source.pipe(map(() => 'l')), '^----!').toBe('---l--');
    });
    expect(ch.listenerCount('bufferedamountlow')).toBe(0);
  });

  it('stops listening when take(n) is satisfied by synchronous events', () => {
    const ch = new FakeChannel('c1');
    const got: Event[] = [];
    bufferedAmountLow(ch).pipe(take(2)).subscribe((e) => got.push(e));
    for (let i = 0; i < 10; i++) {
      ch.setBufferedAmount(100);
      ch.setBufferedAmount(0);
    }
    expect(got).toHaveLength(2);
    expect(got[0]).toBeInstanceOf(Event);
    expect(ch.listenerCount()).toBe(0);
  });
});
