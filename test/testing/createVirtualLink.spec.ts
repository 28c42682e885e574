import fc from 'fast-check';
import { asyncScheduler, fromEvent, map, type SchedulerLike } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { createVirtualLink, type VirtualChannelInit, type VirtualLink, type VirtualLinkConfig } from '../../src/testing';
import { marbles, testScheduler } from '../helpers/marbles';
import { thrownBy } from '../helpers/thrown';

/** Runs `body` inside TestScheduler.run with a link on that scheduler. */
const virtual = (config: VirtualLinkConfig, body: (link: VirtualLink, now: () => number) => void): void => {
  const scheduler = testScheduler();
  scheduler.run(() => body(createVirtualLink({ scheduler, ...config }), () => scheduler.now()));
};

/** A 4-byte message carrying its index. */
const indexed = (i: number): Uint8Array => new Uint8Array(new Uint32Array([i]).buffer);
const indexOf = (data: ArrayBuffer): number => new Uint32Array(data)[0];

/** Sends `n` indexed messages on open and records (index, time) of each arrival; returns the records and the link stats after `until` ms. */
const run = (config: VirtualLinkConfig, init: VirtualChannelInit, n: number, until = 100_000) => {
  const got: { i: number; t: number }[] = [];
  let stats!: ReturnType<VirtualLink['stats']>;
  virtual(config, (link, now) => {
    const [local, remote] = link.createChannel('x', init);
    remote.onmessage = (e) => got.push({ i: indexOf(e.data), t: now() });
    local.onopen = () => {
      for (let i = 0; i < n; i++) local.send(indexed(i));
    };
    link.config.scheduler.schedule(() => (stats = link.stats()), until);
  });
  return { got, stats, order: got.map((g) => g.i) };
};

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sorted = (xs: number[]): number[] => [...xs].sort((x, y) => x - y);

afterEach(() => vi.restoreAllMocks());

describe('createVirtualLink', () => {
  describe('timing (TestScheduler, exact virtual times)', () => {
    it('delivers at drain completion + delay, and fires bufferedamountlow at the downward crossing', () => {
      const scheduler = testScheduler();
      scheduler.run(({ expectObservable }) => {
        const link = createVirtualLink({ scheduler, bandwidth: 1000, delayMs: 10 });
        const [local, remote] = link.createChannel('data');
        local.bufferedAmountLowThreshold = 150;
        // 3 × 100 B at t=0; 1000 B/s drains one every 100 ms: bufferedAmount 300 → 200 (100 ms) → 100 (200 ms) → 0 (300 ms).
        local.onopen = () => [1, 2, 3].forEach((n) => local.send(new Uint8Array(100).fill(n)));
        const arrivals = fromEvent<MessageEvent>(remote, 'message').pipe(map((e) => new Uint8Array(e.data)[0]));
        const lows = fromEvent(local, 'bufferedamountlow').pipe(map(() => local.bufferedAmount));
        expectObservable(arrivals, '^ 1s !').toBe('110ms a 99ms b 99ms c', { a: 1, b: 2, c: 3 });
        expectObservable(lows, '^ 1s !').toBe('200ms x', { x: 100 });
      });
    });

    it('works with rxjs-marbles too', marbles((m) => {
      const link = createVirtualLink({ scheduler: m.scheduler, bandwidth: 2000, delayMs: 5 });
      const [local, remote] = link.createChannel('data');
      local.onopen = () => local.send('ab'.repeat(100)); // 200 B → drained at 100 ms
      m.expect(fromEvent<MessageEvent>(remote, 'message').pipe(map((e) => e.data.length)), '^ 1s !').toBeObservable('105ms a', { a: 200 });
    }));

    it('with bandwidth Infinity drains on the next tick, not synchronously', () => {
      virtual({ delayMs: 3 }, (link, now) => {
        const [local, remote] = link.createChannel('x');
        const seen: string[] = [];
        remote.onmessage = () => seen.push(`message@${now()}`);
        local.onbufferedamountlow = () => seen.push(`low@${now()}`);
        link.config.scheduler.schedule(() => {
          local.send(new Uint8Array(10));
          expect(local.bufferedAmount).toBe(10);
        }, 5);
        link.config.scheduler.schedule(() => expect(seen).toEqual(['low@5', 'message@8']), 20);
      });
    });

    it('shares one direction’s bandwidth first-in first-out across channels; the two directions are independent', () => {
      virtual({ bandwidth: 1000 }, (link, now) => {
        const [[l1, l2], [r1, r2]] = link.createChannels(2);
        const seen: string[] = [];
        r1.onmessage = () => seen.push(`r1@${now()}`);
        r2.onmessage = () => seen.push(`r2@${now()}`);
        l1.onmessage = () => seen.push(`l1@${now()}`);
        l2.onopen = () => {
          l1.send(new Uint8Array(100));
          l2.send(new Uint8Array(300));
          l1.send(new Uint8Array(100));
          r1.send(new Uint8Array(200)); // b → a has its own 1000 B/s
        };
        link.config.scheduler.schedule(() => expect(seen).toEqual(['r1@100', 'l1@200', 'r2@400', 'r1@500']), 1000);
      });
    });

    it('closing a channel frees the shared bandwidth: the next message starts draining at the close', () => {
      virtual({ bandwidth: 1000 }, (link, now) => {
        const [[l1, l2], [, r2]] = link.createChannels(2);
        const times: number[] = [];
        r2.onmessage = () => times.push(now());
        l2.onopen = () => {
          l1.send(new Uint8Array(500)); // would drain until 500
          l2.send(new Uint8Array(100)); // queued behind it
        };
        link.config.scheduler.schedule(() => l1.close(), 200);
        link.config.scheduler.schedule(() => expect(times).toEqual([300]), 1000);
      });
    });

    it('a pipe that went idle starts again from the next send, not from its last completion', () => {
      virtual({ bandwidth: 100, delayMs: 1 }, (link, now) => {
        const [local, remote] = link.createChannel('x');
        const times: number[] = [];
        remote.onmessage = () => times.push(now());
        local.onopen = () => local.send(new Uint8Array(10)); // drained at 100
        link.config.scheduler.schedule(() => local.send(new Uint8Array(10)), 500); // drained at 600
        link.config.scheduler.schedule(() => expect(times).toEqual([101, 601]), 1000);
      });
    });

    it('uses no real timers under a TestScheduler, and moves 10 MiB in 64 KiB messages in virtual time', () => {
      const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
      const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
      const total = 10 * 1024 * 1024;
      let received = 0;
      let doneAt = -1;
      virtual({ bandwidth: 1_048_576, delayMs: 25 }, (link, now) => {
        const [local, remote] = link.createChannel('bulk');
        const chunk = new Uint8Array(65_536);
        let sent = 0;
        local.bufferedAmountLowThreshold = 1 << 20;
        const pump = () => {
          while (sent < total && local.bufferedAmount < 4 << 20) {
            local.send(chunk);
            sent += chunk.length;
          }
        };
        local.onopen = pump;
        local.onbufferedamountlow = pump;
        remote.onmessage = (e) => {
          received += e.data.byteLength;
          if (received === total) doneAt = now();
        };
      });
      expect(received).toBe(total);
      expect(doneAt).toBe(10_000 + 25); // 10 MiB at 1 MiB/s, plus the one-way delay
      expect(setTimeoutSpy).not.toHaveBeenCalled();
      expect(setIntervalSpy).not.toHaveBeenCalled();
    });

    it('with bandwidth Infinity, a bulk send costs a constant number of scheduled actions', async () => {
      let scheduled = 0;
      const counting: SchedulerLike = {
        now: () => asyncScheduler.now(),
        schedule: (work: any, delay?: number, state?: any) => {
          scheduled++;
          return asyncScheduler.schedule(work, delay, state);
        },
      };
      const link = createVirtualLink({ scheduler: counting });
      const [local, remote] = link.createChannel('bulk');
      const total = 10 * 1024 * 1024;
      let received = 0;
      const done = new Promise<void>((resolve) => {
        remote.onmessage = (e) => {
          received += e.data.byteLength;
          if (received === total) resolve();
        };
      });
      local.onopen = () => {
        for (let sent = 0; sent < total; sent += 65_536) local.send(new Uint8Array(65_536));
      };
      await done;
      expect(received).toBe(total);
      expect(scheduled).toBeLessThanOrEqual(3); // open, one drain tick (which also delivers)
      expect(link.stats()).toMatchObject({ messagesSent: 160, messagesDelivered: 160, messagesPending: 0 });
    });

    it('a bufferedamountlow listener that sends again is served on the next tick, not in a loop', () => {
      virtual({}, (link, now) => {
        const [local, remote] = link.createChannel('x');
        const seen: string[] = [];
        let left = 3;
        remote.onmessage = (e) => seen.push(`${e.data}@${now()}`);
        local.onbufferedamountlow = () => {
          seen.push('low');
          if (--left > 0) local.send(`again${left}`);
        };
        local.onopen = () => local.send('first');
        // Each tick drains what was queued when it began, then delivers: low and message alternate.
        link.config.scheduler.schedule(() => expect(seen).toEqual(['low', 'first@0', 'low', 'again2@0', 'low', 'again1@0']), 1);
      });
    });

    it('a late-firing scheduler (real timers) starts the next message no earlier than it was sent', () => {
      // A hand-driven scheduler whose actions run when the test says, possibly late.
      let clock = 0;
      const due: { at: number; work: () => void; cancelled: boolean }[] = [];
      const manual: SchedulerLike = {
        now: () => clock,
        schedule: (work: any, delay = 0) => {
          const action = { at: clock + delay, work: () => work(), cancelled: false };
          due.push(action);
          return { unsubscribe: () => void (action.cancelled = true) } as any;
        },
      };
      const advance = (to: number) => {
        clock = to;
        for (const a of due.splice(0).sort((x, y) => x.at - y.at)) {
          if (a.cancelled) continue;
          if (a.at <= to) a.work();
          else due.push(a);
        }
      };
      const link = createVirtualLink({ scheduler: manual, bandwidth: 1000 });
      const [local, remote] = link.createChannel('x');
      const times: number[] = [];
      remote.onmessage = () => times.push(clock);
      advance(0); // open
      local.send(new Uint8Array(100)); // due to drain at 100
      clock = 120; // the timer is late; meanwhile another send
      local.send(new Uint8Array(100));
      advance(150); // the late tick: the first drained at 100, the second started at 120 (not 100)
      expect(times).toEqual([150]);
      expect(local.bufferedAmount).toBe(100);
      advance(215);
      expect(local.bufferedAmount).toBe(100);
      advance(220);
      expect(times).toEqual([150, 220]);
      expect(local.bufferedAmount).toBe(0);
    });
  });

  describe('ordering', () => {
    const jittery: VirtualLinkConfig = { bandwidth: 40_000, delayMs: 20, jitterMs: 15 }; // one 4 B message per 0.1 ms

    it('ordered channels deliver in send order despite jitter, holding later messages back', () => {
      const { order, got } = run(jittery, {}, 200);
      expect(order).toEqual(range(200));
      for (let k = 1; k < got.length; k++) expect(got[k].t).toBeGreaterThanOrEqual(got[k - 1].t);
      // Each message arrives no earlier than drain + delay - jitter.
      got.forEach(({ i, t }) => expect(t).toBeGreaterThanOrEqual((i + 1) * 0.1 + 5 - 1e-9));
    });

    it('unordered channels may deliver out of order, within drain + delay ± jitter', () => {
      const { order, got } = run(jittery, { ordered: false }, 200);
      expect(order).not.toEqual(range(200));
      expect(sorted(order)).toEqual(range(200));
      got.forEach(({ i, t }) => {
        const drained = (i + 1) * 0.1;
        expect(t).toBeGreaterThanOrEqual(drained + 5 - 1e-9);
        expect(t).toBeLessThanOrEqual(drained + 35 + 1e-9);
      });
    });

    it('reorder holds a message back by reorderDelayMs (default delayMs + 1)', () => {
      expect(run({ delayMs: 10, reorder: 1 }, { ordered: false }, 1).got).toEqual([{ i: 0, t: 21 }]);
      expect(run({ delayMs: 10, reorder: 1, reorderDelayMs: 5 }, { ordered: false }, 1).got).toEqual([{ i: 0, t: 15 }]);
    });

    it('reorder shuffles unordered channels; ordered channels only see delay', () => {
      const config = { bandwidth: 40_000, delayMs: 10, reorder: 0.3 };
      const unordered = run(config, { ordered: false }, 100).order;
      expect(unordered).not.toEqual(range(100));
      expect(sorted(unordered)).toEqual(range(100));
      expect(run(config, {}, 100).order).toEqual(range(100));
    });
  });

  describe('faults', () => {
    const faulty: VirtualLinkConfig = { lossRate: 0.1, duplicate: 0.05, corrupt: 0.02, delayMs: 10 };
    const unreliable: [string, VirtualChannelInit][] = [
      ['maxRetransmits: 0', { maxRetransmits: 0 }],
      ['ordered: false, maxRetransmits: 3', { ordered: false, maxRetransmits: 3 }],
    ];
    const reliable: [string, VirtualChannelInit][] = [
      ['default (reliable, ordered)', {}],
      ['ordered: false', { ordered: false }],
      ['ordered: true, maxRetransmits: 3', { ordered: true, maxRetransmits: 3 }],
    ];

    it.each(unreliable)('%s: loses and duplicates, with reproducible counts for seed 1', (_, init) => {
      const first = run(faulty, init, 1000);
      expect(first.stats).toMatchObject({
        messagesSent: 1000,
        messagesDropped: 82,
        bytesDropped: 328,
        messagesDuplicated: 48,
        messagesDelivered: 1000 - 82 + 48,
        messagesCorrupted: 19,
        messagesRetransmitted: 0,
        messagesPending: 0,
      });
      expect(first.got).toHaveLength(966);
      const again = run(faulty, init, 1000);
      expect(again.got).toEqual(first.got);
    });

    it.each(reliable)('%s: never loses or duplicates; a loss becomes one round trip of delay', (_, init) => {
      const { stats } = run(faulty, init, 1000);
      expect(stats).toMatchObject({
        messagesSent: 1000,
        messagesDelivered: 1000,
        messagesDropped: 0,
        messagesDuplicated: 0,
        messagesRetransmitted: 82,
        messagesCorrupted: 21,
        messagesPending: 0,
      });
      const { order } = run({ ...faulty, corrupt: 0 }, init, 1000); // uncorrupted indexes
      expect(sorted(order)).toEqual(range(1000));
      if (init.ordered !== false) expect(order).toEqual(range(1000));
      else expect(order).not.toEqual(range(1000)); // retransmitted ones overtaken
    });

    it('a lost message on a reliable channel arrives 2 × delayMs late; on an unreliable one it never arrives', () => {
      expect(run({ delayMs: 10, lossRate: 1 }, {}, 2).got).toEqual([
        { i: 0, t: 30 },
        { i: 1, t: 30 },
      ]);
      const lost = run({ delayMs: 10, lossRate: 1 }, { maxRetransmits: 0 }, 2);
      expect(lost.got).toEqual([]);
      expect(lost.stats).toMatchObject({ messagesDropped: 2, bytesDropped: 8, messagesPending: 0 });
    });

    it('duplicate: 1 doubles every message on unreliable channels only', () => {
      const dup = run({ duplicate: 1 }, { maxRetransmits: 0 }, 3);
      expect(dup.order).toEqual([0, 0, 1, 1, 2, 2]);
      expect(dup.stats).toMatchObject({ messagesDelivered: 6, messagesDuplicated: 3 });
      const reliable = run({ duplicate: 1 }, {}, 3);
      expect(reliable.order).toEqual([0, 1, 2]);
      expect(reliable.stats.messagesDuplicated).toBe(0);
    });

    it('corrupt flips exactly one bit of each corrupted message', () => {
      const sent = Array.from({ length: 50 }, (_, i) => new Uint8Array(64).fill(i));
      const got: Uint8Array[] = [];
      let stats!: ReturnType<VirtualLink['stats']>;
      virtual({ corrupt: 1 }, (link) => {
        const [local, remote] = link.createChannel('x');
        remote.onmessage = (e) => got.push(new Uint8Array(e.data));
        local.onopen = () => sent.forEach((m) => local.send(m));
        link.config.scheduler.schedule(() => (stats = link.stats()), 1);
      });
      expect(got).toHaveLength(50);
      got.forEach((m, i) => {
        let bits = 0;
        for (let k = 0; k < 64; k++) for (let x = m[k] ^ sent[i][k]; x; x &= x - 1) bits++;
        expect(bits).toBe(1);
      });
      expect(stats.messagesCorrupted).toBe(50);
    });

    it('gives each direction its own stream of the built-in PRNG: a → b fates do not depend on b → a traffic', () => {
      const arrivals = (backTraffic: boolean) => {
        const got: number[] = [];
        virtual({ lossRate: 0.5, seed: 7 }, (link) => {
          const [local, remote] = link.createChannel('x', { maxRetransmits: 0 });
          remote.onmessage = (e) => got.push(indexOf(e.data));
          for (let i = 0; i < 40; i++) {
            link.config.scheduler.schedule(() => {
              local.send(indexed(i));
              if (backTraffic) remote.send(indexed(i));
            }, i);
          }
        });
        return got;
      };
      const quiet = arrivals(false);
      expect(quiet.length).toBeGreaterThan(5);
      expect(quiet.length).toBeLessThan(35);
      expect(arrivals(true)).toEqual(quiet);
      // A custom random is shared by both directions: five draws per message, either way.
      const draws = vi.fn(() => 0.9);
      virtual({ random: draws }, (link) => {
        const [local, remote] = link.createChannel('x');
        local.onopen = () => {
          local.send('a');
          remote.send('b');
        };
      });
      expect(draws).toHaveBeenCalledTimes(10);
    });

    it('faultFilter spares the channels it rejects from loss, reorder, duplicate and corrupt, and still takes five draws per message', () => {
      const draws = vi.fn(() => 0); // every fault fires wherever it applies
      const got: string[] = [];
      let stats!: ReturnType<VirtualLink['stats']>;
      const seen: string[] = [];
      virtual(
        { delayMs: 2, lossRate: 0.5, reorder: 0.5, duplicate: 0.5, corrupt: 0.5, random: draws, faultFilter: (ch) => (seen.push(ch.label), ch.label !== 'clean') },
        (link, now) => {
          const [clean, cleanR] = link.createChannel('clean', { maxRetransmits: 0 });
          const [dirty, dirtyR] = link.createChannel('dirty', { maxRetransmits: 0 });
          cleanR.onmessage = (e) => got.push(`clean ${new Uint8Array(e.data)[0]}@${now()}`);
          dirtyR.onmessage = (e) => got.push(`dirty ${new Uint8Array(e.data)[0]}@${now()}`);
          clean.onopen = () => clean.send(new Uint8Array([1]));
          dirty.onopen = () => dirty.send(new Uint8Array([1]));
          link.config.scheduler.schedule(() => (stats = link.stats()), 50);
        },
      );
      expect(got).toEqual(['clean 1@2']);
      expect(seen).toEqual(['clean', 'dirty']);
      expect(draws).toHaveBeenCalledTimes(10);
      expect(stats).toMatchObject({ messagesDropped: 1, messagesCorrupted: 0, messagesDelivered: 1 });
    });

    it('corrupts strings through UTF-8 and still delivers a string', () => {
      const { got } = (() => {
        const out: unknown[] = [];
        virtual({ corrupt: 1 }, (link) => {
          const [local, remote] = link.createChannel('x');
          remote.onmessage = (e) => out.push(e.data);
          local.onopen = () => local.send('hello world');
        });
        return { got: out };
      })();
      expect(typeof got[0]).toBe('string');
      expect(got[0]).not.toBe('hello world');
    });

    it('is reproducible per seed, different across seeds, and uses a custom random when given', () => {
      const config = { lossRate: 0.3, jitterMs: 5, delayMs: 10 };
      const seed1 = run({ ...config, seed: 1 }, { ordered: false, maxRetransmits: 0 }, 200);
      expect(run({ ...config, seed: 1 }, { ordered: false, maxRetransmits: 0 }, 200).got).toEqual(seed1.got);
      expect(run({ ...config, seed: 2 }, { ordered: false, maxRetransmits: 0 }, 200).got).not.toEqual(seed1.got);
      const calls = vi.fn(() => 0);
      const all = run({ lossRate: 0.5, random: calls }, { maxRetransmits: 0 }, 10);
      expect(all.stats.messagesDropped).toBe(10);
      expect(calls).toHaveBeenCalledTimes(50); // five draws per message
    });

    it('keeps the books balanced for any config and any close time (property)', () => {
      fc.assert(
        fc.property(
          fc.record({
            lossRate: fc.double({ min: 0, max: 1, noNaN: true }),
            duplicate: fc.double({ min: 0, max: 1, noNaN: true }),
            reorder: fc.double({ min: 0, max: 1, noNaN: true }),
            jitterMs: fc.integer({ min: 0, max: 20 }),
            delayMs: fc.integer({ min: 0, max: 20 }),
            bandwidth: fc.constantFrom(Infinity, 1000, 50_000),
            seed: fc.integer(),
          }),
          fc.constantFrom<VirtualChannelInit>({}, { ordered: false }, { maxRetransmits: 0 }, { ordered: false, maxRetransmits: 1 }),
          fc.integer({ min: 0, max: 60 }),
          fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
          (config, init, n, closeAt) => {
            let stats!: ReturnType<VirtualLink['stats']>;
            let received = 0;
            virtual(config, (link) => {
              const [local, remote] = link.createChannel('x', init);
              remote.onmessage = () => received++;
              local.onopen = () => {
                for (let i = 0; i < n; i++) local.send(indexed(i));
                remote.send('back');
              };
              if (closeAt !== undefined) link.config.scheduler.schedule(() => local.close(), closeAt);
              link.config.scheduler.schedule(() => (stats = link.stats()), 10_000);
            });
            for (const s of [stats, stats.aToB, stats.bToA]) {
              expect(s.messagesPending).toBe(0);
              expect(s.messagesUndeliverable).toBe(0); // only negotiated channels can miss their far end
              expect(s.messagesSent).toBe(s.messagesDelivered - s.messagesDuplicated + s.messagesDropped + s.messagesDiscarded);
            }
            expect(stats.messagesSent).toBe(n + 1);
            expect(stats.aToB.messagesDelivered).toBe(received);
            if (closeAt === undefined) expect(stats.messagesDiscarded).toBe(0);
          },
        ),
        { numRuns: 150 },
      );
    });
  });

  describe('createChannels', () => {
    it('creates n labelled pairs and returns [locals, remotes]', () => {
      virtual({}, (link) => {
        const [locals, remotes] = link.createChannels(3, { label: 'lane', ordered: false });
        expect(locals.map((c) => c.label)).toEqual(['lane-0', 'lane-1', 'lane-2']);
        expect(remotes.map((c) => c.label)).toEqual(['lane-0', 'lane-1', 'lane-2']);
        expect(new Set(locals.map((c) => c.id)).size).toBe(3);
        expect(remotes.every((c) => c.ordered === false)).toBe(true);
        expect(link.createChannels(1)[0][0].label).toBe('channel-0');
        expect(link.stats().channels).toBe(4);
        expect(link.a.channels).toHaveLength(4);
        expect(link.b.channels[0]).toBe(remotes[0]);
      });
    });

    it('opens the whole batch before the first open event, so any channel may send from an open listener', () => {
      virtual({}, (link, now) => {
        const [[l1, l2, l3], [, , r3]] = link.createChannels(3);
        const got: string[] = [];
        r3.onmessage = (e) => got.push(`${e.data}@${now()}`);
        l1.onopen = () => {
          expect([l2.readyState, l3.readyState]).toEqual(['open', 'open']);
          l3.send('early');
        };
        l2.onopen = () => l2.close(); // closing one of the batch does not disturb the others
        link.config.scheduler.schedule(() => {
          expect(got).toEqual(['early@0']);
          expect([l1.readyState, l2.readyState, l3.readyState]).toEqual(['open', 'closed', 'open']);
        }, 1);
      });
    });

    it('rejects a bad count or a bad init with InvalidConfigError', () => {
      const link = createVirtualLink();
      for (const n of [0, -1, 1.5, NaN]) expect(() => link.createChannels(n)).toThrow(InvalidConfigError);
      expect(() => link.createChannel('x', { maxRetransmits: -1 })).toThrow(InvalidConfigError);
      expect(() => link.createChannel('x', { maxRetransmits: 1.5 })).toThrow(InvalidConfigError);
      expect(() => link.createChannel('x', { ordered: 'yes' as any })).toThrow(InvalidConfigError);
      expect(link.stats().channels).toBe(0);
      link.close();
    });
  });

  describe('close() and fail()', () => {
    it('close(): every channel closing now, closed with close events on the next tick; no new channels', () => {
      virtual({ delayMs: 10, bandwidth: 1000 }, (link, now) => {
        const [locals, remotes] = link.createChannels(2);
        const events: string[] = [];
        [...locals, ...remotes].forEach((c, k) => {
          c.onclose = () => events.push(`${k}@${now()}:${c.readyState}`);
          c.onclosing = () => events.push('closing (not fired by link.close)');
        });
        link.a.onconnectionstatechange = () => events.push(`a ${link.a.connectionState}`);
        locals[0].onopen = () => locals[0].send(new Uint8Array(500));
        link.config.scheduler.schedule(() => {
          link.close();
          link.close();
          expect(link.closed).toBe(true);
          expect([...locals, ...remotes].map((c) => c.readyState)).toEqual(['closing', 'closing', 'closing', 'closing']);
          expect(() => link.createChannel('late')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
          expect(() => link.a.createDataChannel('late')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
        }, 100);
        link.config.scheduler.schedule(() => {
          expect(events).toEqual(['0@100:closed', '2@100:closed', '1@100:closed', '3@100:closed', 'a closed']);
          expect(link.stats()).toMatchObject({ messagesSent: 1, messagesDiscarded: 1, messagesDelivered: 0 });
        }, 1000);
      });
    });

    it('fail(): error (OperationError with errorDetail) then close on every open channel', () => {
      virtual({}, (link, now) => {
        const [local, remote] = link.createChannel('x');
        const events: string[] = [];
        for (const [name, ch] of [['local', local], ['remote', remote]] as const) {
          ch.onerror = (e) => events.push(`${name} error ${e.error.name} ${e.error.errorDetail}@${now()}`);
          ch.onclose = () => events.push(`${name} close@${now()}`);
        }
        link.config.scheduler.schedule(() => link.fail(), 5);
        link.config.scheduler.schedule(() => {
          expect(events).toEqual([
            'local error OperationError sctp-failure@5',
            'remote error OperationError sctp-failure@5',
            'local close@5',
            'remote close@5',
          ]);
          expect(link.closed).toBe(true);
        }, 10);
      });
    });
  });
});

describe('createVirtualLink: a config that is not an object (an outside check)', () => {
  it('null or a string is an InvalidConfigError naming config, not a TypeError ("reading \'scheduler\'")', () => {
    for (const [config, shown] of [[null, 'null'], ['x', '"x"']] as const) {
      const error = thrownBy(() => createVirtualLink(config as never));
      expect(error).toBeInstanceOf(InvalidConfigError);
      expect(error).toMatchObject({ message: `createVirtualLink: config must be an object, got ${shown}`, details: { field: 'config', value: config } });
    }
  });
});
