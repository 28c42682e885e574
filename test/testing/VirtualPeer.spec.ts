import fc from 'fast-check';
import { ReplaySubject, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import {
  createVirtualLink,
  VirtualPeer,
  type VirtualDataChannel,
  type VirtualLink,
  type VirtualLinkConfig,
} from '../../src/testing';
import type { VirtualDataChannelInit } from '../../src/testing/VirtualPeer';
import type { PeerConnectionLike } from '../../src/types';
import { marbles, testScheduler } from '../helpers/marbles';

const virtual = (body: (link: VirtualLink, now: () => number) => void, config: VirtualLinkConfig = {}): void => {
  const scheduler = testScheduler();
  scheduler.run(() => body(createVirtualLink({ scheduler, delayMs: 4, maxMessageSize: 65_536, ...config }), () => scheduler.now()));
};

/** Runs `fn` on the link's scheduler at virtual time `at`. */
const at = (link: VirtualLink, time: number, fn: () => void): void => void link.config.scheduler.schedule(fn, time);

/** The error `fn` throws. */
const thrown = (fn: () => unknown): any => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
};

const negotiated = (id: number, init: VirtualDataChannelInit = {}): VirtualDataChannelInit => ({ negotiated: true, id, ...init });

describe('VirtualPeer', () => {
  it('is a PeerConnectionLike with the link’s maxMessageSize', () => {
    virtual((link) => {
      const pc: PeerConnectionLike = link.a;
      expect(link.a).toBeInstanceOf(VirtualPeer);
      expect(link.a.name).toBe('a');
      expect(link.b.name).toBe('b');
      expect(pc.sctp?.maxMessageSize).toBe(65_536);
      expect(pc.connectionState).toBe('connected');
    });
  });

  it('createDataChannel returns this end; the far end fires datachannel just before open', () => {
    virtual((link, now) => {
      const events: string[] = [];
      let far: any;
      link.a.ondatachannel = () => events.push('a datachannel (wrong side)');
      link.b.addEventListener('datachannel', (e) => {
        far = e.channel;
        events.push(`b datachannel ${e.channel.label} ${e.channel.readyState}@${now()}`);
        e.channel.onopen = () => events.push('far open');
        e.channel.onmessage = (m: any) => events.push(`far got ${m.data}@${now()}`);
      });
      const dc = link.a.createDataChannel('chat', { ordered: false, id: 9 }); // id is ignored unless negotiated
      dc.onopen = () => {
        events.push('near open');
        dc.send('hi');
      };
      link.config.scheduler.schedule(() => {
        expect(events).toEqual(['b datachannel chat open@0', 'near open', 'far open', 'far got hi@4']);
        expect(far.ordered).toBe(false);
        expect(dc.negotiated).toBe(false);
        expect(dc.id).toBe(0);
        expect(link.a.channels).toEqual([dc]);
        expect(link.b.channels).toEqual([far]);
      }, 10);
    });
  });

  it('channels created from b run b → a', () => {
    virtual((link, now) => {
      const got: string[] = [];
      link.a.ondatachannel = (e) => (e.channel.onmessage = (m: any) => got.push(`${m.data}@${now()}`));
      const dc = link.b.createDataChannel('back');
      dc.onopen = () => dc.send('from b');
      link.config.scheduler.schedule(() => {
        expect(got).toEqual(['from b@4']);
        expect(link.stats().bToA.messagesDelivered).toBe(1);
        expect(link.stats().aToB.messagesSent).toBe(0);
      }, 10);
    });
  });

  it('close() closes the whole link and fires connectionstatechange on both peers', () => {
    virtual((link, now) => {
      const events: string[] = [];
      const dc = link.a.createDataChannel('x');
      dc.onclose = () => events.push(`dc close@${now()}`);
      for (const p of [link.a, link.b]) p.onconnectionstatechange = () => events.push(`${p.name} ${p.connectionState}@${now()}`);
      link.config.scheduler.schedule(() => link.b.close(), 3);
      link.config.scheduler.schedule(() => {
        expect(link.closed).toBe(true);
        expect(events).toEqual(['dc close@3', 'a closed@3', 'b closed@3']);
      }, 10);
    });
  });
});

describe('VirtualPeer negotiated channels', () => {
  it.each([
    ['a', 'b'],
    ['b', 'a'],
  ] as const)('%s creates id 7 first: it opens at once, its early message is undeliverable, and the pair works once %s creates id 7 (marbles)', (first, second) => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const link = createVirtualLink({ scheduler, delayMs: 4 });
      const toSecond = new Subject<string>();
      const toFirst = new Subject<string>();
      // The frame-0 open runs before expectObservable subscribes: replay it.
      const opens = new ReplaySubject<string>();
      const announced: string[] = [];
      for (const p of [link.a, link.b]) p.ondatachannel = (e) => announced.push(`${p.name}: ${e.channel.label}`);

      const early = link[first].createDataChannel('n', negotiated(7));
      early.onopen = () => {
        opens.next('f');
        early.send('m1'); // t=0: arrives at t=4, when the other endpoint has no channel 7
      };
      early.onmessage = (e) => toFirst.next(e.data);
      at(link, 10, () => {
        const late = link[second].createDataChannel('n', negotiated(7));
        late.onopen = () => {
          opens.next('s');
          late.send('r'); // t=10 → t=14
        };
        late.onmessage = (e) => toSecond.next(e.data);
      });
      at(link, 12, () => early.send('m2')); // t=12 → t=16

      expectObservable(opens, '^ 50ms !').toBe('f 9ms s');
      expectObservable(toSecond, '^ 50ms !').toBe('16ms x', { x: 'm2' });
      expectObservable(toFirst, '^ 50ms !').toBe('14ms y', { y: 'r' });
      at(link, 49, () => {
        expect(announced).toEqual([]);
        const stats = link.stats();
        const out = first === 'a' ? stats.aToB : stats.bToA;
        expect(out).toMatchObject({ messagesSent: 2, messagesDelivered: 1, messagesUndeliverable: 1, bytesUndeliverable: 2, messagesPending: 0 });
        expect(early.stats).toMatchObject({ messagesUndeliverable: 1, messagesDelivered: 1 });
        expect(stats.messagesUndeliverable).toBe(1);
        expect(stats.channels).toBe(1);
      });
    });
  });

  it('works under rxjs-marbles too', marbles((m) => {
    const link = createVirtualLink({ scheduler: m.scheduler, delayMs: 3 });
    const got = new Subject<string>();
    const x = link.a.createDataChannel('x', negotiated(1));
    const y = link.b.createDataChannel('y', negotiated(1));
    y.onmessage = (e) => got.next(e.data);
    x.onopen = () => x.send('hi');
    m.expect(got, '^ 20ms !').toBeObservable('3ms h', { h: 'hi' });
  }));

  it('delivers a message that was in flight when the far endpoint created the id', () => {
    virtual((link, now) => {
      const got: string[] = [];
      const a = link.a.createDataChannel('n', negotiated(3));
      a.onopen = () => a.send('in flight'); // t=0 → t=4
      at(link, 2, () => (link.b.createDataChannel('n', negotiated(3)).onmessage = (e) => got.push(`${e.data}@${now()}`)));
      at(link, 20, () => {
        expect(got).toEqual(['in flight@4']);
        expect(link.stats().messagesUndeliverable).toBe(0);
      });
    });
  });

  it('holds what arrives for a channel still connecting and delivers it right after its open event', () => {
    virtual(
      (link, now) => {
        const events: string[] = [];
        const a = link.a.createDataChannel('n', negotiated(3));
        a.onopen = () => a.send('early'); // a opens at 5; arrives at 6
        at(link, 3, () => {
          const b = link.b.createDataChannel('n', negotiated(3)); // opens at 8
          b.onopen = () => events.push(`open@${now()}`);
          b.onmessage = (e) => events.push(`${e.data}@${now()}:${b.readyState}`);
          at(link, 4, () => events.push(`state@${now()}:${b.readyState}`)); // t = 7
        });
        at(link, 20, () => {
          expect(events).toEqual(['state@7:connecting', 'open@8', 'early@8:open']);
          expect(link.stats()).toMatchObject({ messagesDelivered: 1, messagesPending: 0, messagesUndeliverable: 0 });
        });
      },
      { delayMs: 1, openDelayMs: 5 },
    );
  });

  it('discards held messages if the waiting channel closes before it opens', () => {
    virtual(
      (link) => {
        const a = link.a.createDataChannel('n', negotiated(3));
        a.onopen = () => a.send('early'); // arrives at 6
        at(link, 3, () => {
          const b = link.b.createDataChannel('n', negotiated(3)); // would open at 8
          b.onmessage = () => expect.unreachable('a closed channel got a message');
          at(link, 4, () => b.close()); // t = 7
        });
        at(link, 30, () => expect(link.stats()).toMatchObject({ messagesSent: 1, messagesDiscarded: 1, messagesDelivered: 0, messagesPending: 0 }));
      },
      { delayMs: 1, openDelayMs: 5 },
    );
  });

  it('reports negotiated, the given id and each end’s own label; lists the ends in peer.channels', () => {
    virtual((link) => {
      const x = link.a.createDataChannel('left', negotiated(42, { ordered: false }));
      const y = link.b.createDataChannel('right', negotiated(42));
      expect([x.negotiated, y.negotiated]).toEqual([true, true]);
      expect([x.id, y.id]).toEqual([42, 42]);
      expect([x.label, y.label, x.ordered, y.ordered]).toEqual(['left', 'right', false, true]);
      expect(link.a.channels).toEqual([x]);
      expect(link.b.channels).toEqual([y]);
      expect([x.readyState, y.readyState]).toEqual(['connecting', 'connecting']);
    });
  });

  it('each direction follows its sender’s reliability: with every message lost, the unreliable side drops and the reliable side retransmits', () => {
    virtual(
      (link, now) => {
        const got: string[] = [];
        const x = link.a.createDataChannel('n', negotiated(5, { ordered: false, maxRetransmits: 0 }));
        const y = link.b.createDataChannel('n', negotiated(5));
        x.onmessage = (e) => got.push(`a got ${e.data}@${now()}`);
        y.onmessage = (e) => got.push(`b got ${e.data}@${now()}`);
        x.onopen = () => x.send('lost');
        y.onopen = () => y.send('late');
        at(link, 50, () => {
          expect(got).toEqual(['a got late@12']); // 4 ms delay + one 8 ms round trip
          expect(link.stats().aToB).toMatchObject({ messagesDropped: 1, messagesDelivered: 0 });
          expect(link.stats().bToA).toMatchObject({ messagesRetransmitted: 1, messagesDelivered: 1 });
        });
      },
      { lossRate: 0.5, random: () => 0 },
    );
  });

  describe('ids', () => {
    it('throws OperationError for an id in use at the same endpoint, and frees it once the channel is closed', () => {
      virtual((link, now) => {
        const x = link.a.createDataChannel('x', negotiated(9));
        const y = link.b.createDataChannel('y', negotiated(9)); // the counterpart: fine
        for (const p of [link.a, link.b]) {
          const err = thrown(() => p.createDataChannel('dup', negotiated(9)));
          expect(err.name).toBe('OperationError');
          expect(err).toBeInstanceOf(DOMException);
        }
        expect(link.a.channels).toEqual([x]);
        at(link, 1, () => {
          x.close();
          expect(x.readyState).toBe('closing');
          expect(thrown(() => link.a.createDataChannel('still closing', negotiated(9))).name).toBe('OperationError');
        });
        at(link, 6, () => {
          // closed at 1 + delay 4: the id is free at both endpoints, and the new ends pair with each other.
          expect([x.readyState, y.readyState]).toEqual(['closed', 'closed']);
          const x2 = link.a.createDataChannel('x2', negotiated(9));
          const y2 = link.b.createDataChannel('y2', negotiated(9));
          const got: string[] = [];
          y2.onmessage = (e) => got.push(`${e.data}@${now()}`);
          x2.onopen = () => x2.send('again');
          at(link, 10, () => {
            expect(got).toEqual(['again@10']);
            expect(link.stats().channels).toBe(2);
          });
        });
      });
    });

    it('a close listener may reuse the id at once', () => {
      virtual((link) => {
        const x = link.a.createDataChannel('x', negotiated(2));
        let again: VirtualDataChannel | undefined;
        x.onclose = () => (again = link.a.createDataChannel('x', negotiated(2)));
        at(link, 1, () => x.close());
        at(link, 10, () => expect(again?.readyState).toBe('open'));
      });
    });

    it('in-band ids and negotiated ids never collide', () => {
      virtual((link) => {
        const inband = link.a.createDataChannel('inband'); // id 0, at both endpoints
        expect(inband.id).toBe(0);
        for (const p of [link.a, link.b]) expect(thrown(() => p.createDataChannel('n', negotiated(0))).name).toBe('OperationError');
        link.b.createDataChannel('n', negotiated(1)); // a half at b only
        expect(link.a.createDataChannel('next').id).toBe(2); // skips 1
        expect(link.b.createDataChannel('next').id).toBe(3);
      });
    });

    it('rejects a negotiated channel without a valid id with InvalidConfigError, before creating anything', () => {
      virtual((link) => {
        for (const id of [undefined, null, -1, 1.5, 65_535, Number.NaN]) {
          expect(() => link.a.createDataChannel('n', { negotiated: true, id })).toThrow(InvalidConfigError);
        }
        expect(() => link.a.createDataChannel('n', negotiated(1, { maxRetransmits: -1 }))).toThrow(InvalidConfigError);
        expect(link.a.channels).toEqual([]);
        expect(link.a.createDataChannel('max', negotiated(65_534)).id).toBe(65_534);
      });
    });

    it('throws InvalidStateError once the link is closed', () => {
      virtual((link) => {
        link.close();
        expect(thrown(() => link.b.createDataChannel('n', negotiated(1))).name).toBe('InvalidStateError');
      });
    });
  });

  describe('closing', () => {
    it('a paired channel closes like an in-band one: closing at the far end one delay later, then close on both', () => {
      virtual((link, now) => {
        const events: string[] = [];
        const x = link.a.createDataChannel('x', negotiated(4));
        const y = link.b.createDataChannel('y', negotiated(4));
        for (const [n, c] of [['x', x], ['y', y]] as const) {
          c.onclosing = () => events.push(`${n} closing@${now()}`);
          c.onclose = () => events.push(`${n} close@${now()}:${c.readyState}`);
        }
        at(link, 2, () => {
          y.close();
          expect([x.readyState, y.readyState]).toEqual(['closing', 'closing']);
          expect(() => x.send('no')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
        });
        at(link, 20, () => expect(events).toEqual(['x closing@6', 'y close@6:closed', 'x close@6:closed']));
      });
    });

    it('a half that was never paired closes alone; the far endpoint’s later channel with that id waits for a new partner', () => {
      virtual((link, now) => {
        const events: string[] = [];
        const x = link.a.createDataChannel('x', negotiated(4));
        x.onclose = () => events.push(`x close@${now()}`);
        at(link, 1, () => x.close());
        at(link, 10, () => {
          const y = link.b.createDataChannel('y', negotiated(4));
          y.onopen = () => y.send('nobody');
          at(link, 10, () => {
            // t = 20: 'nobody' arrived at 14, when a had no channel 4.
            expect(events).toEqual(['x close@5']);
            expect(link.stats().bToA).toMatchObject({ messagesUndeliverable: 1, messagesDelivered: 0 });
            const x2 = link.a.createDataChannel('x2', negotiated(4));
            x2.onmessage = (e) => events.push(`x2 got ${e.data}@${now()}`);
            y.send('partner');
          });
          at(link, 30, () => expect(events).toEqual(['x close@5', 'x2 got partner@24']));
        });
      });
    });

    it('link.fail() fires error and close on an unpaired open half, and close only on one still connecting', () => {
      virtual(
        (link, now) => {
          const events: string[] = [];
          const x = link.a.createDataChannel('x', negotiated(4));
          at(link, 5, () => {
            const y = link.b.createDataChannel('y', negotiated(6)); // opens at 8
            for (const [n, c] of [['x', x], ['y', y]] as const) {
              c.onerror = (e) => events.push(`${n} error ${e.error.name}@${now()}`);
              c.onclose = () => events.push(`${n} close@${now()}`);
              c.onopen = () => events.push(`${n} open (wrong)`);
            }
            link.fail();
          });
          at(link, 20, () => {
            expect(events).toEqual(['x error OperationError@5', 'x close@5', 'y close@5']);
            expect([x.readyState, link.b.channels[0].readyState]).toEqual(['closed', 'closed']);
          });
        },
        { openDelayMs: 3 },
      );
    });
  });

  it('keeps the books balanced for any creation order, faults and close time (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          lossRate: fc.double({ min: 0, max: 1, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 1, noNaN: true }),
          jitterMs: fc.integer({ min: 0, max: 5 }),
          delayMs: fc.integer({ min: 0, max: 10 }),
          openDelayMs: fc.integer({ min: 0, max: 5 }),
          seed: fc.integer(),
        }),
        fc.constantFrom<VirtualDataChannelInit>({}, { ordered: false }, { maxRetransmits: 0 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 40 }),
        fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
        (config, init, n, farAt, closeAt) => {
          let received = 0;
          let stats!: ReturnType<VirtualLink['stats']>;
          virtual((link) => {
            const x = link.a.createDataChannel('x', negotiated(8, init));
            x.onopen = () => {
              for (let i = 0; i < n; i++) at(link, i, () => x.readyState === 'open' && x.send(new Uint8Array([i])));
            };
            at(link, farAt, () => (link.b.createDataChannel('y', negotiated(8)).onmessage = () => received++));
            if (closeAt !== undefined) at(link, closeAt, () => x.close());
            at(link, 5000, () => (stats = link.stats()));
          }, config);
          for (const s of [stats, stats.aToB, stats.bToA]) {
            expect(s.messagesPending).toBe(0);
            expect(s.messagesSent).toBe(s.messagesDelivered - s.messagesDuplicated + s.messagesDropped + s.messagesDiscarded + s.messagesUndeliverable);
          }
          expect(stats.aToB.messagesDelivered).toBe(received);
          if (farAt === 0 && closeAt === undefined && config.lossRate === 0) expect(received).toBe(n);
        },
      ),
      { numRuns: 150 },
    );
  });
});
