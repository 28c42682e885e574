import { describe, expect, it } from 'vitest';
import { createVirtualLink, VirtualPeer, type VirtualLink } from '../../src/testing';
import type { PeerConnectionLike } from '../../src/types';
import { testScheduler } from '../helpers/marbles';

const virtual = (body: (link: VirtualLink, now: () => number) => void): void => {
  const scheduler = testScheduler();
  scheduler.run(() => body(createVirtualLink({ scheduler, delay: 4, maxMessageSize: 65_536 }), () => scheduler.now()));
};

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
      const dc = link.a.createDataChannel('chat', { ordered: false, negotiated: true, id: 9 });
      dc.onopen = () => {
        events.push('near open');
        dc.send('hi');
      };
      link.config.scheduler.schedule(() => {
        expect(events).toEqual(['b datachannel chat open@0', 'near open', 'far open', 'far got hi@4']);
        expect(far.ordered).toBe(false);
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
