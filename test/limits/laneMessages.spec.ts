/**
 * Limit: the in-band lane messages (`lane-offer`, `lane-answer`, `lane-candidate`, `lane-close`) from a
 * hostile sender. Outside an agreed `offer.inband`/`accept.inband`, for a lane number beyond what the
 * receiver accepted, for a lane never offered, past the candidate bound or the offer bound: a ProtocolError
 * for the session (the peer is told), never a crash, and never more live connections than the receiver
 * accepted. Malformed lane messages are refused by `parseControl`.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError, receiveFile } from '../../src/index';
import { MAX_INBAND_LANES, MAX_LANE_CANDIDATES, MAX_LANE_SDP, parseControl } from '../../src/protocol/control';
import type { PeerConnectionLike } from '../../src/types';
import { HostileSender, manifestOf, offerMessages, watch, within } from './hostileSender';
import { closeAfter } from './tmpDirs';

const M = manifestOf({ size: 16 * 1024, chunk: { min: 4096, max: 4096 } });

/** A peer connection that answers offers and never connects; records whether it was closed. */
class FakeConnection extends EventTarget {
  closed = false;
  connectionState = 'new';
  readonly remote: unknown[] = [];
  createDataChannel(): never {
    throw new Error('the receiver never creates channels on a lane');
  }
  setRemoteDescription(d: unknown): Promise<void> {
    this.remote.push(d);
    return Promise.resolve();
  }
  createAnswer(): Promise<{ type: string; sdp: string }> {
    return Promise.resolve({ type: 'answer', sdp: 'v=0 fake answer' });
  }
  setLocalDescription(): Promise<void> {
    return Promise.resolve();
  }
  addIceCandidate(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {
    this.closed = true;
    this.connectionState = 'closed';
  }
}

/** A fake lane that connects once its answer is set, and then sees no channel at all. */
class ConnectingConnection extends FakeConnection {
  override setLocalDescription(): Promise<void> {
    setTimeout(() => {
      this.connectionState = 'connected';
      this.dispatchEvent(new Event('connectionstatechange'));
    }, 10);
    return Promise.resolve();
  }
}

/** A receiver with a recording factory, and a hostile sender that offers `inband` lanes (none: no field). */
async function setUp(inband?: number, lanes: { Fake?: typeof FakeConnection; laneConnectTimeoutMs?: number } = {}) {
  const built: FakeConnection[] = [];
  const { Fake = FakeConnection, laneConnectTimeoutMs = 60_000 } = lanes;
  const createConnection = () => {
    const pc = new Fake();
    built.push(pc);
    return pc as unknown as PeerConnectionLike;
  };
  const s = closeAfter(new HostileSender());
  const r = watch(receiveFile(s.link.b, { createConnection, laneConnectTimeoutMs }));
  await s.opened();
  const [offer, entry] = offerMessages(M);
  s.send(inband === undefined ? offer : { ...offer, inband } as typeof offer);
  s.send(entry);
  const accept = await s.next('accept');
  await s.openData(M);
  const live = () => built.filter((pc) => !pc.closed).length;
  return { s, r, built, accept, live };
}

const laneOffer = (lane: number) => ({ t: 'lane-offer' as const, id: M.session, lane, sdp: 'v=0 fake offer' });
const candidate = (lane: number, n: number) => ({ t: 'lane-candidate' as const, id: M.session, lane, candidate: `candidate:${n} 1 udp 1 127.0.0.1 ${40000 + n} typ host`, mid: '0' });

/** The session fails with ProtocolError and the peer gets an `error` with ERR_PROTOCOL. */
async function expectProtocolError(x: Awaited<ReturnType<typeof setUp>>): Promise<void> {
  await within(x.r.settled, 5_000, 'receiver settles');
  expect(x.r.error()).toBeInstanceOf(ProtocolError);
  expect(await x.s.next('error')).toMatchObject({ id: M.session, code: 'ERR_PROTOCOL' });
}

describe('limit: hostile in-band lane messages', () => {
  it('an older sender (no offer.inband) gets an accept without inband; a lane message from it is a ProtocolError', async () => {
    const x = await setUp();
    expect(x.accept.inband).toBeUndefined();
    x.s.send(laneOffer(0));
    await expectProtocolError(x);
    expect(x.built).toHaveLength(0);
  });

  it('the receiver takes at most what was offered; a lane-offer beyond what it accepted is a ProtocolError', async () => {
    const x = await setUp(2);
    expect(x.accept.inband).toBe(2);
    x.s.send(laneOffer(2));
    await expectProtocolError(x);
    expect(x.built).toHaveLength(0);
  });

  it('a lane-candidate for a lane never offered is a ProtocolError', async () => {
    const x = await setUp(2);
    x.s.send(candidate(1, 0));
    await expectProtocolError(x);
  });

  it(`more than ${MAX_LANE_CANDIDATES} candidates for one lane: ProtocolError, and the lane's connection is closed`, async () => {
    const x = await setUp(1);
    x.s.send(laneOffer(0));
    expect(await x.s.next('lane-answer')).toMatchObject({ id: M.session, lane: 0, sdp: 'v=0 fake answer' });
    for (let n = 0; n <= MAX_LANE_CANDIDATES; n++) x.s.send(candidate(0, n));
    await expectProtocolError(x);
    expect(x.built).toHaveLength(1);
    expect(x.built[0].closed).toBe(true);
  });

  it('offers again and again for the same lanes: never more live connections than accepted, and a ProtocolError past 4 per lane', async () => {
    const x = await setUp(2);
    let most = 0;
    for (let k = 0; k < 8; k++) {
      x.s.send(laneOffer(k % 2));
      await x.s.next('lane-answer');
      x.s.received.length = 0;
      most = Math.max(most, x.live());
    }
    expect(x.r.error()).toBeUndefined();
    x.s.send(laneOffer(0));
    await expectProtocolError(x);
    expect(most).toBeLessThanOrEqual(2);
    expect(x.built).toHaveLength(8);
    expect(x.live()).toBe(0);
  });

  it('a lane that connects but never opens a channel is dropped within laneConnectTimeoutMs: lane-close, its connection closed', async () => {
    const x = await setUp(1, { Fake: ConnectingConnection, laneConnectTimeoutMs: 300 });
    x.s.send(laneOffer(0));
    await x.s.next('lane-answer');
    expect(await x.s.next('lane-close', 2_000)).toMatchObject({ id: M.session, lane: 0 });
    expect(x.built[0].closed).toBe(true);
    x.s.sendAll(M, new Uint8Array(M.size).fill(7), 4096);
    await within(x.r.settled, 5_000, 'receiver settles');
    expect(x.r.error()).toBeUndefined();
  });

  it("candidates still in flight for a lane the receiver dropped (its lane-close crossed them) are ignored, not a ProtocolError (an outside check: the session failed)", async () => {
    const x = await setUp(1, { Fake: ConnectingConnection, laneConnectTimeoutMs: 300 });
    x.s.send(laneOffer(0));
    await x.s.next('lane-answer');
    expect(await x.s.next('lane-close', 2_000)).toMatchObject({ id: M.session, lane: 0 });
    x.s.send(candidate(0, 1));
    x.s.send(candidate(0, 2));
    x.s.sendAll(M, new Uint8Array(M.size).fill(7), 4096);
    await within(x.r.settled, 5_000, 'receiver settles');
    expect(x.r.error()).toBeUndefined();
  });

  it('lane-close for a lane the receiver holds closes its connection; the transfer goes on', async () => {
    const x = await setUp(1);
    x.s.send(laneOffer(0));
    await x.s.next('lane-answer');
    x.s.send({ t: 'lane-close', id: M.session, lane: 0 });
    x.s.sendAll(M, new Uint8Array(M.size).fill(7), 4096);
    await within(x.r.settled, 5_000, 'receiver settles');
    expect(x.r.error()).toBeUndefined();
    expect(x.built[0].closed).toBe(true);
  });
});

describe('parseControl: lane messages', () => {
  const bad: [string, unknown][] = [
    ['a lane number past the bound', { t: 'lane-offer', id: 1, lane: MAX_INBAND_LANES, sdp: 'x' }],
    ['an SDP past the bound', { t: 'lane-answer', id: 1, lane: 0, sdp: 'x'.repeat(MAX_LANE_SDP + 1) }],
    ['an SDP that is not a string', { t: 'lane-offer', id: 1, lane: 0, sdp: { nested: true } }],
    ['a candidate line past 1024 characters', { t: 'lane-candidate', id: 1, lane: 0, candidate: 'c'.repeat(1025) }],
    ['a negative m-line index', { t: 'lane-candidate', id: 1, lane: 0, candidate: 'candidate:1', mline: -1 }],
    ['a lane-close without a lane', { t: 'lane-close', id: 1 }],
    ['offer.inband past the bound', { ...offerMessages(M)[0], inband: MAX_INBAND_LANES + 1 }],
    ['accept.inband that is not a count', { t: 'accept', id: 1, inband: 1.5 }],
  ];
  it.each(bad)('%s → ProtocolError', (_, msg) => {
    expect(() => parseControl(JSON.stringify(msg))).toThrow(ProtocolError);
  });

  it('valid lane messages round-trip', () => {
    const ok = [laneOffer(0), { t: 'lane-answer', id: 1, lane: 14, sdp: 'v=0' }, candidate(3, 1), { t: 'lane-close', id: 1, lane: 0 }, { t: 'accept', id: 1, inband: 15 }];
    for (const m of ok) expect(parseControl(JSON.stringify(m))).toEqual(m);
  });
});
