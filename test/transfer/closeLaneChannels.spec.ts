/**
 * closeLaneChannels: a channel that still reads `open` after `close()` (node-datachannel's polyfill once its
 * connection is gone: the native channel is destroyed and no close comes back) is made to read `closed` and
 * fire `close`; one that moves to `closing` by itself (browsers, the virtual link) is left to its own events.
 */
import { describe, expect, it } from 'vitest';
import { createVirtualLink } from '../../src/testing';
import { closeLaneChannels } from '../../src/transfer/closeLaneChannels';
import type { DataChannelLike } from '../../src/types';

/** A channel whose `close()` does nothing it can see, as node-datachannel's when destroyed. */
class StuckChannel extends EventTarget {
  readonly label = 'tallow-lane-0-0';
  get readyState(): string {
    return 'open';
  }
  closeCalls = 0;
  close(): void {
    this.closeCalls++;
  }
}

describe('closeLaneChannels', () => {
  it('a channel that stays open after close() reads closed and fires close once', () => {
    const ch = new StuckChannel();
    let closes = 0;
    ch.addEventListener('close', () => closes++);
    closeLaneChannels([ch as unknown as DataChannelLike]);
    expect(ch.closeCalls).toBe(1);
    expect(ch.readyState).toBe('closed');
    expect(closes).toBe(1);
    closeLaneChannels([ch as unknown as DataChannelLike]);
    expect([ch.closeCalls, closes]).toEqual([1, 1]);
  });

  it('a virtual channel closes by its own rules: no forced state, one close event', () => {
    const link = createVirtualLink();
    const ch = link.a.createDataChannel('tallow-lane-0-0', { negotiated: true, id: 600 });
    link.b.createDataChannel('tallow-lane-0-0', { negotiated: true, id: 600 });
    let closes = 0;
    ch.addEventListener('close', () => closes++);
    closeLaneChannels([ch]);
    expect(Object.getOwnPropertyDescriptor(ch, 'readyState')).toBeUndefined();
    expect(['closing', 'closed']).toContain(ch.readyState);
    link.close();
    expect(closes).toBeLessThanOrEqual(1);
  });
});
