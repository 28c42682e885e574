/**
 * Virtual peer connections made by a network's createConnection: offer, answer and ICE candidates travel
 * as opaque strings over an app's own channel (here the control channel of a first lane), and the new
 * connection joins the network as a lane, all in virtual time.
 */
import { catchError, filter, last, map, merge, of, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, type TransferEvent } from '../../src';
import { createVirtualNetwork, VirtualPeerConnection, type VirtualNetwork, type VirtualSessionDescription } from '../../src/testing';
import { testScheduler } from '../helpers/marbles';

/** Runs `body` inside TestScheduler.run() with a network of 20 ms one way; closes it at `stopAt`. */
const virtual = (body: (net: VirtualNetwork, now: () => number) => void, stopAt = 5000): void => {
  const scheduler = testScheduler();
  scheduler.run(() => {
    const net = createVirtualNetwork({ scheduler, delayMs: 20 });
    body(net, () => scheduler.now());
    scheduler.schedule(() => net.close(), stopAt);
  });
};

/** The error a SyncPromise rejected with. */
const rejection = (p: PromiseLike<unknown>): any => {
  let error: unknown;
  p.then(undefined, (e) => void (error = e));
  return error;
};

describe('VirtualPeerConnection (network.createConnection)', () => {
  it('signals over an app channel and connects as a new lane in virtual time', () => {
    const log: string[] = [];
    let lanes = 0;
    virtual((net, now) => {
      // The app's first connection and its control channel.
      const first = net.createLink();
      const [toReceiver, toSender] = first.createChannel('control');
      const note = (what: string) => log.push(`${Math.round(now())} ${what}`);

      // Sender: a new connection, a channel on it, the offer and its candidates over the control channel.
      const pc = net.createConnection({ iceServers: [] });
      const data = pc.createDataChannel('lane-data');
      data.onopen = () => (note('sender data open'), data.send('through the new lane'));
      pc.onicecandidate = (e: any) => toReceiver.send(JSON.stringify({ candidate: e.candidate }));
      pc.onconnectionstatechange = () => note(`sender ${pc.connectionState}`);
      toReceiver.onopen = () =>
        pc.createOffer().then((offer) => pc.setLocalDescription(offer).then(() => toReceiver.send(JSON.stringify({ description: pc.localDescription }))));
      toReceiver.onmessage = (e: MessageEvent) => {
        const msg = JSON.parse(e.data as string);
        if (msg.description) pc.setRemoteDescription(msg.description).then(() => note('sender has the answer'));
        else pc.addIceCandidate(msg.candidate ?? undefined);
      };

      // Receiver: its own factory (the same network), answering the same way.
      let answerer: VirtualPeerConnection | undefined;
      toSender.onmessage = (e: MessageEvent) => {
        const msg = JSON.parse(e.data as string);
        if (msg.candidate !== undefined) return void answerer?.addIceCandidate(msg.candidate ?? undefined);
        const them = (answerer = net.createConnection());
        them.ondatachannel = (ev: any) => {
          note(`receiver datachannel ${ev.channel.label}`);
          ev.channel.onmessage = (m: MessageEvent) => note(`receiver got "${m.data}"`);
        };
        them.onconnectionstatechange = () => note(`receiver ${them.connectionState}`);
        them.onicecandidate = (ev: any) => toSender.send(JSON.stringify({ candidate: ev.candidate }));
        them
          .setRemoteDescription(msg.description)
          .then(() => them.createAnswer())
          .then((answer) => them.setLocalDescription(answer))
          .then(() => toSender.send(JSON.stringify({ description: them.localDescription })));
      };
      net.config.scheduler.schedule(() => (lanes = net.stats().lanes.length), 1000);
    });
    // Offer at 0 arrives at 20 (plus 0.2 ms at the bottleneck); the answer arrives back at 40; connected one
    // round trip (40 ms) later; the channel opens at once (openDelayMs 0) and its message crosses in 20 ms.
    // Closing the network at 5 s disconnects both.
    expect(log).toEqual([
      '20 receiver connecting',
      '40 sender connecting',
      '40 sender has the answer',
      '80 sender connected',
      '80 receiver connected',
      '80 receiver datachannel lane-data',
      '80 sender data open',
      '100 receiver got "through the new lane"',
      '5000 sender disconnected',
      '5000 receiver disconnected',
    ]);
    expect(lanes).toBe(2);
  });

  it('gives SDP that names the lane, and candidates that change nothing', () => {
    virtual((net) => {
      const pc = net.createConnection();
      expect(pc.sctp).toBeNull();
      expect(pc.connectionState).toBe('new');
      pc.createOffer().then((offer) => {
        expect(offer.type).toBe('offer');
        expect(offer.sdp).toMatch(/^v=0\r\n/);
        expect(offer.sdp).toContain('a=x-tallow-virtual:lane-0\r\n');
      });
      expect(pc.sctp?.maxMessageSize).toBe(262_144);
      expect(pc.link?.stats().association?.lane).toBe(0);
      expect(pc.getConfiguration()).toEqual({});
      const candidates: unknown[] = [];
      pc.onicecandidate = (e: any) => candidates.push(e.candidate);
      pc.setLocalDescription();
      expect(pc.signalingState).toBe('have-local-offer');
      net.config.scheduler.schedule(() => {
        expect(candidates).toEqual([expect.objectContaining({ sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'lane-0' }), null]);
        expect(pc.iceGatheringState).toBe('complete');
      }, 1);
    });
  });

  it('rejects what a browser rejects', () => {
    virtual((net) => {
      const offerer = net.createConnection();
      let offer!: VirtualSessionDescription;
      offerer.createOffer().then((o) => void (offer = o));
      offerer.setLocalDescription(offer);
      expect(rejection(net.createConnection().createAnswer()).name).toBe('InvalidStateError');
      expect(rejection(net.createConnection().setRemoteDescription({ type: 'offer', sdp: 'v=0\r\n' })).name).toBe('OperationError');
      expect(rejection(net.createConnection().setRemoteDescription({ type: 'offer', sdp: offer.sdp.replaceAll('lane-0', 'lane-9') })).name).toBe('OperationError');
      const answerer = net.createConnection();
      expect(rejection(answerer.setRemoteDescription(offer))).toBeUndefined();
      // One offer, one answerer.
      expect(rejection(net.createConnection().setRemoteDescription(offer)).name).toBe('OperationError');
      // An answer for another lane.
      expect(rejection(offerer.setRemoteDescription({ type: 'answer', sdp: offer.sdp.replaceAll('lane-0', 'lane-1') })).name).toBe('OperationError');
      offerer.close();
      expect(rejection(offerer.createOffer()).name).toBe('InvalidStateError');
      expect(() => offerer.createDataChannel('x')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    });
  });

  it('never connects without an answer, and closing one side closes the lane', () => {
    virtual((net) => {
      const lonely = net.createConnection();
      const waiting = lonely.createDataChannel('x');
      lonely.setLocalDescription();

      const a = net.createConnection();
      const channel = a.createDataChannel('y');
      a.setLocalDescription();
      const b = net.createConnection();
      b.setRemoteDescription(a.localDescription!);
      b.setLocalDescription();
      a.setRemoteDescription(b.localDescription!);
      const scheduler = net.config.scheduler;
      scheduler.schedule(() => {
        expect([a.connectionState, b.connectionState, channel.readyState]).toEqual(['connected', 'connected', 'open']);
        a.close();
      }, 100);
      scheduler.schedule(() => {
        expect([a.connectionState, b.connectionState, channel.readyState]).toEqual(['closed', 'disconnected', 'closed']);
        expect([lonely.connectionState, waiting.readyState]).toEqual(['new', 'connecting']);
      }, 200);
    });
  });

  it('can be awaited outside virtual time', async () => {
    const net = createVirtualNetwork();
    const pc = net.createConnection();
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await expect(net.createConnection().setRemoteDescription({ type: 'answer', sdp: 'x' })).rejects.toMatchObject({ name: 'OperationError' });
    net.close();
  });

  it('carries a whole transfer once connected, with channels created before the answer', () => {
    const scheduler = testScheduler();
    const outcomes: string[] = [];
    const ended = (side: string, events$: Observable<TransferEvent>) =>
      events$.pipe(
        filter((e) => e.type === 'completed'),
        last(),
        map(() => `${side} completed`),
        catchError((err: { code?: string }) => of(`${side} ${err.code}`)),
      );
    scheduler.run(() => {
      const net = createVirtualNetwork({ scheduler, delayMs: 10, lossRate: 0.01 });
      const [a, b] = [net.createConnection(), net.createConnection()];
      // The transfers start (and create their channels) before the connections are up.
      const sent$ = sendFile(a, new Uint8Array(300_000).map((_, i) => i % 253), { scheduler, transferId: 1 });
      const received$ = receiveFile(b, { scheduler });
      merge(ended('sender', sent$), ended('receiver', received$)).subscribe({ next: (o) => outcomes.push(o), complete: () => net.close() });
      a.setLocalDescription();
      b.setRemoteDescription(a.localDescription!);
      b.setLocalDescription();
      a.setRemoteDescription(b.localDescription!);
    });
    expect(outcomes.sort()).toEqual(['receiver completed', 'sender completed']);
  });
});
