/**
 * Why the obvious order (signal first, then sendFile) hangs on node-datachannel's polyfill, and
 * the orders that work. Pins the polyfill's behaviour (node-datachannel 0.33.4) that the README
 * and connectLoopbackPair rely on, so an upgrade that changes it is noticed.
 */
import { randomBytes } from 'node:crypto';
import { RTCPeerConnection as PolyfillPeerConnection } from 'node-datachannel/polyfill';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { connectInProcess } from '../../src/connect/connectInProcess';
import { loopbackConfiguration } from '../../src/connect/connectLoopbackPair';
import { blobTarget, receiveFile, sendFile, type TransferEvent } from '../../src/index';
import { sha256Hex as sha256 } from '../helpers/sha256';
import { completedOf as completed } from '../helpers/events';

/** Resolves 'pending' if `promise` has not settled within `ms`. */
const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> => Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

const made: RTCPeerConnection[] = [];
const create = (): RTCPeerConnection => {
  const pc = new PolyfillPeerConnection(loopbackConfiguration()) as unknown as RTCPeerConnection;
  made.push(pc);
  return pc;
};
afterEach(async () => {
  for (const pc of made.splice(0)) pc.close();
  await new Promise((r) => setTimeout(r, 20));
});

describe('node-datachannel polyfill: createOffer() before any channel', () => {
  it('stays pending: libdatachannel makes its offer only once a channel exists', async () => {
    const pc = create();
    const offer = pc.createOffer();
    // The polyfill hands out one stored promise, whatever the call (a cheap way to recognise it).
    expect(pc.createOffer()).toBe(offer);
    expect(await within(offer, 500)).toBe('pending');
    expect(pc.signalingState).toBe('stable');

    // A channel created later makes libdatachannel negotiate, and the same promise resolves.
    pc.createDataChannel('late');
    const resolved = await offer;
    expect(resolved.sdp).toMatch(/m=application .* webrtc-datachannel/);
    expect(pc.signalingState).toBe('have-local-offer');
  });

  it('never fires negotiationneeded, so an app that waits for it never starts signalling', async () => {
    const pc = create();
    let fired = 0;
    pc.addEventListener('negotiationneeded', () => fired++);
    pc.createDataChannel('x');
    await new Promise((r) => setTimeout(r, 200));
    expect(fired).toBe(0);
  });
});

describe('orders that work without connectLoopbackPair', () => {
  const data = randomBytes(1024 * 1024 + 3);
  const transfer = (a: RTCPeerConnection, b: RTCPeerConnection) =>
    Promise.all([lastValueFrom(sendFile(a, data).pipe(toArray())), lastValueFrom(receiveFile(b, { target: blobTarget() }).pipe(toArray()))]);
  const expectIntact = async ([sent, received]: [TransferEvent[], TransferEvent[]]) => {
    expect(completed(sent)!.sha256).toBe(sha256(data));
    expect(sha256(new Uint8Array(await (completed(received)!.result as Blob).arrayBuffer()))).toBe(sha256(data));
  };

  it('a channel first (any channel), then offer/answer, then sendFile/receiveFile', async () => {
    const a = create();
    const b = create();
    a.createDataChannel('bootstrap', { negotiated: true, id: 1023 });
    await connectInProcess(a, b, { bootstrap: false });
    await expectIntact(await transfer(a, b));
  });

  it('receiveFile, then sendFile (its control channel starts the negotiation), then offer/answer', async () => {
    const a = create();
    const b = create();
    const running = transfer(a, b);
    await connectInProcess(a, b, { bootstrap: false });
    await expectIntact(await running);
  });
});
