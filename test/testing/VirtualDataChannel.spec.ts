import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVirtualLink, type VirtualLinkConfig } from '../../src/testing';
import { VirtualDataChannel } from '../../src/testing/VirtualDataChannel';
import { pattern, testScheduler } from '../helpers/marbles';

/** Runs `body` inside TestScheduler.run with a link on that scheduler; flushes at the end. */
const virtual = (config: VirtualLinkConfig, body: (link: ReturnType<typeof createVirtualLink>, now: () => number) => void): void => {
  const scheduler = testScheduler();
  scheduler.run(() => body(createVirtualLink({ scheduler, ...config }), () => scheduler.now()));
};

/** Opens a pair and records what the remote end receives. */
const openPair = (link: ReturnType<typeof createVirtualLink>, init = {}) => {
  const [local, remote] = link.createChannel('data', init);
  const received: unknown[] = [];
  remote.addEventListener('message', (e) => received.push(e.data));
  return { local, remote, received };
};

const thrown = (fn: () => void): any => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

afterEach(() => vi.restoreAllMocks());

describe('VirtualDataChannel', () => {
  it('implements the RTCDataChannel surface with browser defaults', () => {
    virtual({}, (link) => {
      const [local, remote] = link.createChannel('x', { ordered: false, maxRetransmits: 2, protocol: 'p' });
      expect(local).toBeInstanceOf(VirtualDataChannel);
      expect(local.label).toBe('x');
      expect(remote.label).toBe('x');
      expect(local.id).toBe(remote.id);
      expect(local.readyState).toBe('connecting');
      expect(local.bufferedAmount).toBe(0);
      expect(local.bufferedAmountLowThreshold).toBe(0);
      expect(local.binaryType).toBe('arraybuffer');
      expect(remote.ordered).toBe(false);
      expect(remote.maxRetransmits).toBe(2);
      expect(local.protocol).toBe('p');
      expect(local.maxMessageSize).toBe(262_144);
      expect(link.createChannel('y')[0].maxRetransmits).toBeNull();
      expect(link.createChannel('y')[0].ordered).toBe(true);
    });
  });

  it('opens both ends asynchronously after openDelayMs, firing open once on each', () => {
    virtual({ openDelayMs: 7 }, (link, now) => {
      const [local, remote] = link.createChannel('x');
      const events: string[] = [];
      local.onopen = () => events.push(`local@${now()}`);
      remote.addEventListener('open', () => events.push(`remote@${now()}:${remote.readyState}`));
      expect(events).toEqual([]);
      link.config.scheduler.schedule(() => expect(events).toEqual(['local@7', 'remote@7:open']), 8);
    });
  });

  describe('send()', () => {
    it('throws InvalidStateError before open and changes nothing', () => {
      virtual({}, (link) => {
        const { local } = openPair(link);
        const error = thrown(() => local.send(new Uint8Array(10)));
        expect(error.name).toBe('InvalidStateError');
        expect(error).toBeInstanceOf(Error);
        expect(local.bufferedAmount).toBe(0);
        expect(local.stats.messagesSent).toBe(0);
      });
    });

    it('throws TypeError above maxMessageSize, before touching bufferedAmount; exactly the maximum is fine', () => {
      virtual({ maxMessageSize: 1000, bandwidth: 1 }, (link) => {
        const { local, received } = openPair(link);
        local.onopen = () => {
          local.send(new Uint8Array(5));
          const error = thrown(() => local.send(new Uint8Array(1001)));
          expect(error).toBeInstanceOf(TypeError);
          expect(error.message).toMatch(/max-message-size/);
          expect(local.bufferedAmount).toBe(5);
          expect(local.stats.messagesSent).toBe(1);
          expect(local.readyState).toBe('open');
          local.send(new Uint8Array(1000));
          expect(local.bufferedAmount).toBe(1005);
          expect(thrown(() => local.send('x'.repeat(1001)))).toBeInstanceOf(TypeError);
        };
        link.config.scheduler.schedule(() => expect(received.map((d: any) => d.byteLength)).toEqual([5, 1000]), 1006_000);
      });
    });

    it('defaults maxMessageSize to Chrome’s 262144', () => {
      virtual({}, (link) => {
        const { local } = openPair(link);
        local.onopen = () => {
          local.send(new Uint8Array(262_144));
          expect(thrown(() => local.send(new Uint8Array(262_145)))).toBeInstanceOf(TypeError);
          expect(local.bufferedAmount).toBe(262_144);
        };
      });
    });

    it('throws OperationError "send queue is full" at the send queue limit; nothing queued, channel keeps working', () => {
      virtual({ sendQueueLimit: 1000, bandwidth: 1000 }, (link, now) => {
        const { local, remote, received } = openPair(link);
        const arrivals: number[] = [];
        remote.addEventListener('message', () => arrivals.push(now()));
        local.onopen = () => {
          local.send(new Uint8Array(600));
          local.send(new Uint8Array(400)); // exactly at the limit
          const error = thrown(() => local.send(new Uint8Array(1)));
          expect(error.name).toBe('OperationError');
          expect(error.message).toBe('send queue is full');
          expect(local.bufferedAmount).toBe(1000);
          expect(local.stats).toMatchObject({ messagesSent: 2, bytesSent: 1000, messagesPending: 2 });
          expect(local.readyState).toBe('open');
        };
        // 600 B drained at 600 ms: room again.
        link.config.scheduler.schedule(() => {
          expect(local.bufferedAmount).toBe(400);
          local.send(new Uint8Array(600));
          expect(thrown(() => local.send(new Uint8Array(1))).name).toBe('OperationError');
        }, 601);
        link.config.scheduler.schedule(() => {
          expect(received.map((d: any) => d.byteLength)).toEqual([600, 400, 600]);
          expect(arrivals).toEqual([600, 1000, 1600]);
          expect(link.stats().messagesDelivered).toBe(3);
        }, 2000);
      });
    });

    it('defaults the send queue limit to 16 MiB', () => {
      virtual({ bandwidth: 1 }, (link) => {
        const { local } = openPair(link);
        local.onopen = () => {
          for (let i = 0; i < 64; i++) local.send(new Uint8Array(262_144));
          expect(local.bufferedAmount).toBe(16 * 1024 * 1024);
          expect(thrown(() => local.send(new Uint8Array(1))).name).toBe('OperationError');
          link.close();
        };
      });
    });

    it('rejects unsupported payload types with TypeError', () => {
      virtual({}, (link) => {
        const { local } = openPair(link);
        local.onopen = () => {
          for (const bad of [42, null, undefined, {}, [1, 2]]) expect(thrown(() => local.send(bad as any))).toBeInstanceOf(TypeError);
          expect(local.bufferedAmount).toBe(0);
        };
      });
    });

    it('delivers strings as strings (bufferedAmount counts UTF-8 bytes) and binary as ArrayBuffer', () => {
      virtual({}, (link) => {
        const { local, remote, received } = openPair(link);
        const bytes = pattern(300);
        local.onopen = () => {
          local.send('héllo 😀'); // 1+2+3 +1 + 4 = 11 UTF-8 bytes
          expect(local.bufferedAmount).toBe(11);
          local.send(bytes.buffer as ArrayBuffer); // ArrayBuffer
          local.send(bytes.subarray(10, 20)); // a view with an offset
          local.send(new DataView(bytes.buffer, 100, 8)); // DataView works here (unlike node-datachannel)
          local.send(new Uint16Array([0x0102, 0x0304]));
          local.send(new Uint8Array(0));
          expect(local.bufferedAmount).toBe(11 + 300 + 10 + 8 + 4);
        };
        link.config.scheduler.schedule(() => {
          expect(received[0]).toBe('héllo 😀');
          for (const d of received.slice(1)) expect(d).toBeInstanceOf(ArrayBuffer);
          expect(new Uint8Array(received[1] as ArrayBuffer)).toEqual(bytes);
          expect(new Uint8Array(received[2] as ArrayBuffer)).toEqual(bytes.subarray(10, 20));
          expect(new Uint8Array(received[3] as ArrayBuffer)).toEqual(bytes.subarray(100, 108));
          expect(new Uint16Array(received[4] as ArrayBuffer)).toEqual(new Uint16Array([0x0102, 0x0304]));
          expect((received[5] as ArrayBuffer).byteLength).toBe(0);
          expect(remote.stats).toMatchObject({ messagesReceived: 6, bytesReceived: 333 });
          expect(local.stats).toMatchObject({ messagesSent: 6, bytesSent: 333, messagesDelivered: 6, bytesDelivered: 333 });
        }, 1);
      });
    });

    it('copies the payload, so the sender may reuse its buffer at once', () => {
      virtual({ delayMs: 5 }, (link) => {
        const { local, received } = openPair(link);
        const buf = new Uint8Array([1, 2, 3]);
        local.onopen = () => {
          local.send(buf);
          buf.fill(9);
          local.send(buf);
        };
        link.config.scheduler.schedule(() => {
          expect(received.map((d: any) => [...new Uint8Array(d)])).toEqual([
            [1, 2, 3],
            [9, 9, 9],
          ]);
          expect((received[0] as ArrayBuffer) === buf.buffer).toBe(false);
        }, 10);
      });
    });
  });

  describe('binaryType', () => {
    it("accepts 'arraybuffer', throws NotSupportedError for 'blob' and SyntaxError for anything else", () => {
      virtual({}, (link) => {
        const [local] = link.createChannel('x');
        local.binaryType = 'arraybuffer';
        expect(thrown(() => (local.binaryType = 'blob')).name).toBe('NotSupportedError');
        expect(thrown(() => (local.binaryType = 'text')).name).toBe('SyntaxError');
        expect(local.binaryType).toBe('arraybuffer');
      });
    });
  });

  describe('bufferedAmount and bufferedamountlow', () => {
    it('falls message by message as the link drains, at bandwidth', () => {
      virtual({ bandwidth: 1000 }, (link) => {
        const { local } = openPair(link);
        const seen: number[] = [];
        local.onopen = () => [1, 2, 3].forEach(() => local.send(new Uint8Array(100)));
        for (const t of [50, 99, 150, 199, 250, 299, 350]) link.config.scheduler.schedule(() => seen.push(local.bufferedAmount), t);
        link.config.scheduler.schedule(() => expect(seen).toEqual([300, 300, 200, 200, 100, 100, 0]), 400);
      });
    });

    it('fires only when crossing the threshold downward, never while it stays below', () => {
      virtual({ bandwidth: 1000 }, (link, now) => {
        const { local } = openPair(link);
        const lows: number[] = [];
        local.bufferedAmountLowThreshold = 500;
        local.onbufferedamountlow = () => lows.push(now());
        local.onopen = () => {
          local.send(new Uint8Array(100)); // 100: below the threshold, never crosses
          local.send(new Uint8Array(100)); // 200
        };
        link.config.scheduler.schedule(() => {
          expect(lows).toEqual([]);
          expect(local.bufferedAmount).toBe(0);
          for (let i = 0; i < 7; i++) local.send(new Uint8Array(100)); // 700, drains 100 per 100 ms
        }, 1000);
        link.config.scheduler.schedule(() => expect(lows).toEqual([1200]), 2000); // 700 → 600 → 500 at 1200
      });
    });

    it('fires when the buffer empties with the default threshold 0', () => {
      virtual({}, (link, now) => {
        const { local } = openPair(link);
        const lows: number[] = [];
        local.addEventListener('bufferedamountlow', () => lows.push(now()));
        local.onopen = () => local.send(new Uint8Array(10));
        link.config.scheduler.schedule(() => local.send(new Uint8Array(10)), 5);
        link.config.scheduler.schedule(() => expect(lows).toEqual([0, 5]), 6);
      });
    });
  });

  describe('close()', () => {
    it('goes closing on both ends at once, closed one delay later, with close on both; undelivered messages are discarded', () => {
      virtual({ delayMs: 10, bandwidth: 1000 }, (link, now) => {
        const { local, remote, received } = openPair(link);
        const events: string[] = [];
        local.onclose = () => events.push(`local close@${now()}`);
        remote.onclosing = () => events.push(`remote closing@${now()}`);
        remote.onclose = () => events.push(`remote close@${now()}:${remote.readyState}`);
        local.onopen = () => [1, 2, 3].forEach(() => local.send(new Uint8Array(100)));
        link.config.scheduler.schedule(() => {
          expect(received).toHaveLength(1); // drained at 100, arrived at 110
          local.close();
          expect(local.readyState).toBe('closing');
          expect(remote.readyState).toBe('closing');
          expect(thrown(() => local.send('x')).name).toBe('InvalidStateError');
          expect(thrown(() => remote.send('x')).name).toBe('InvalidStateError');
          local.close(); // idempotent
        }, 150);
        link.config.scheduler.schedule(() => {
          expect(received).toHaveLength(1);
          expect(local.readyState).toBe('closed');
          expect(remote.readyState).toBe('closed');
          expect(events).toEqual(['remote closing@160', 'local close@160', 'remote close@160:closed']);
          expect(local.stats).toMatchObject({ messagesSent: 3, messagesDelivered: 1, messagesDiscarded: 2, messagesPending: 0 });
          expect(local.bufferedAmount).toBe(200); // frozen at close, as the W3C spec says
        }, 1000);
      });
    });

    it('can be called from the remote end, and discards messages already in flight', () => {
      virtual({ delayMs: 50 }, (link, now) => {
        const { local, remote, received } = openPair(link);
        const closes: string[] = [];
        local.onclose = () => closes.push(`local@${now()}`);
        remote.onclose = () => closes.push(`remote@${now()}`);
        local.onopen = () => local.send('in flight');
        link.config.scheduler.schedule(() => remote.close(), 20);
        link.config.scheduler.schedule(() => {
          expect(received).toEqual([]);
          expect(closes).toEqual(['remote@70', 'local@70']);
          expect(link.stats()).toMatchObject({ messagesSent: 1, messagesDiscarded: 1, messagesDelivered: 0 });
        }, 500);
      });
    });

    it('before open: open never fires, close does', () => {
      virtual({ openDelayMs: 10 }, (link) => {
        const [local, remote] = link.createChannel('x');
        const events: string[] = [];
        for (const ch of [local, remote]) for (const type of ['open', 'closing', 'close']) ch.addEventListener(type, () => events.push(type));
        local.close();
        link.config.scheduler.schedule(() => expect(events).toEqual(['close', 'close']), 50);
      });
    });
  });

  it('reports a throwing listener asynchronously and still calls the others', () => {
    vi.useFakeTimers();
    try {
      virtual({}, (link) => {
        const { local, remote, received } = openPair(link);
        remote.onmessage = () => {
          throw new Error('listener bug');
        };
        local.onopen = () => local.send('x');
        link.config.scheduler.schedule(() => expect(received).toEqual(['x']), 1);
      });
      expect(() => vi.runAllTimers()).toThrow('listener bug');
    } finally {
      vi.useRealTimers();
    }
  });
});
