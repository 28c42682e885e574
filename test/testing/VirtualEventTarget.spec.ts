import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualEventTarget } from '../../src/testing';
import type { VirtualEvent } from '../../src/testing/VirtualEventTarget';

/** Exposes `dispatch` for the test. */
class Target extends VirtualEventTarget {
  onping: ((e: any) => void) | null = null;
  fire(event: VirtualEvent): void {
    this.dispatch(event);
  }
}

afterEach(() => vi.useRealTimers());

describe('VirtualEventTarget', () => {
  it('calls the on<type> handler first, then listeners in order; duplicates are ignored; removal works', () => {
    const t = new Target();
    const calls: string[] = [];
    const one = () => calls.push('one');
    const obj = { handleEvent: (e: VirtualEvent) => calls.push(`obj ${e.type}`) };
    t.addEventListener('ping', one);
    t.addEventListener('ping', one);
    t.addEventListener('ping', obj);
    t.addEventListener('ping', null);
    t.onping = () => calls.push('handler');
    t.fire({ type: 'ping' });
    t.removeEventListener('ping', one);
    t.fire({ type: 'ping' });
    t.fire({ type: 'other' });
    expect(calls).toEqual(['handler', 'one', 'obj ping', 'handler', 'obj ping']);
  });

  it('a listener removed during dispatch still gets the current event (the list is copied), not the next', () => {
    const t = new Target();
    const calls: string[] = [];
    const second = () => calls.push('second');
    t.addEventListener('ping', () => {
      calls.push('first');
      t.removeEventListener('ping', second);
    });
    t.addEventListener('ping', second);
    t.fire({ type: 'ping' });
    t.fire({ type: 'ping' });
    expect(calls).toEqual(['first', 'second', 'first']);
  });

  it('a throwing listener does not stop the others; the error is rethrown asynchronously', () => {
    vi.useFakeTimers();
    const t = new Target();
    const calls: string[] = [];
    t.onping = () => {
      throw new Error('boom');
    };
    t.addEventListener('ping', () => calls.push('after'));
    expect(() => t.fire({ type: 'ping' })).not.toThrow();
    expect(calls).toEqual(['after']);
    expect(() => vi.runAllTimers()).toThrow('boom');
  });
});
