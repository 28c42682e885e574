/**
 * The rendezvous rules with a fake clock and fake sockets (no network, no sleeps): seating and
 * pairing, short codes (join, normalisation, expiry), resume after a dropped socket, the limits
 * (joins per address, per code, messages per socket) and malformed frames.
 */
import { describe, expect, it } from 'vitest';
import { createRendezvous, type RendezvousConfig, type RendezvousSocket } from '../../src/server/createRendezvous';
import { memoryStore } from '../../src/server/memoryStore';
import { ROOM_CODE_ALPHABET } from '../../src/server/roomCode';
import { CLOSE_RATE_LIMITED, CLOSE_REPLACED, CLOSE_ROOM_FULL, CLOSE_UNKNOWN_CODE } from '../../src/server/signalling';

const HOST = 'candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host';
const RELAY = 'candidate:4 1 udp 41885439 127.0.0.1 49152 typ relay raddr 127.0.0.1 rport 40000';
const offer = (lane = 0) => JSON.stringify({ type: 'signal', lane, description: { type: 'offer', sdp: 'v=0\r\n' } });
const candidate = (line: string, lane = 0) => JSON.stringify({ type: 'signal', lane, candidate: { candidate: line, sdpMid: '0', sdpMLineIndex: 0 } });

/** A socket that records what it got. */
type FakeSocket = RendezvousSocket & { got: any[]; closed?: number; last(): any };
const socket = (): FakeSocket => {
  const s: FakeSocket = {
    got: [],
    send: (text: string) => void s.got.push(JSON.parse(text)),
    close: (code?: number) => void (s.closed = code),
    last: () => s.got.at(-1),
  };
  return s;
};

/** A rendezvous on a hand-stepped clock, with predictable ids and codes. */
function setup(config: Partial<RendezvousConfig> = {}) {
  const clock = { t: 1_000_000 };
  const now = () => clock.t;
  let ids = 0;
  let codes = 0;
  const rendezvous = createRendezvous({
    now,
    store: memoryStore({ now }),
    randomId: () => (++ids).toString(16).padStart(32, '0'),
    // ABCDEF, GHJKMN, then unique codes.
    randomCode: () => {
      const n = codes++;
      return ['ABCDEF', 'GHJKMN'][n] ?? `Z${Array.from({ length: 5 }, (_, i) => ROOM_CODE_ALPHABET[Math.floor(n / 31 ** i) % 31]).join('')}`;
    },
    ...config,
  });
  /** Connects and waits until the join is done. */
  const join = async (query: { room?: string; code?: string; resume?: string; lanes?: number; address?: string }, s = socket()) => {
    const peer = rendezvous.connect(s, { lanes: 2, address: '10.0.0.1', ...query });
    await peer.ready;
    return { s, peer };
  };
  return { clock, rendezvous, join };
}

describe('createRendezvous: seats and pairs', () => {
  it('the first peer waits with the room, a short code and a resume token; the second pairs both (first offers, fewer lanes win)', async () => {
    const { join } = setup();
    const a = await join({ room: 'abc', lanes: 2 });
    expect(a.s.got).toEqual([{ type: 'waiting', room: 'abc', code: 'ABCDEF', codeExpiresAt: 1_000_000 + 600_000, resume: expect.stringMatching(/^[0-9a-f]{32}$/) }]);
    const b = await join({ room: 'abc', lanes: 1 });
    expect(a.s.last()).toEqual({ type: 'paired', role: 'offerer', lanes: 1, room: 'abc', iceServers: [], resume: a.s.got[0].resume });
    expect(b.s.got).toEqual([{ type: 'paired', role: 'answerer', lanes: 1, room: 'abc', iceServers: [], resume: expect.any(String) }]);
  });

  it('joins by code, in any case, with dashes or spaces; the joiner learns the room name', async () => {
    const { join } = setup();
    await join({ room: 'abc' });
    const b = await join({ code: ' ab c-d ef ' });
    expect(b.s.last()).toMatchObject({ type: 'paired', role: 'answerer', room: 'abc' });
  });

  it('without a room or code, a new room with a random name is made (what the command line does)', async () => {
    const { join } = setup();
    const a = await join({});
    expect(a.s.last()).toMatchObject({ type: 'waiting', room: expect.stringMatching(/^[0-9a-f]{32}$/), code: 'ABCDEF' });
  });

  it('a third peer gets full and is closed; its leaving changes nothing', async () => {
    const { join } = setup();
    const a = await join({ room: 'r' });
    await join({ room: 'r' });
    const c = await join({ code: 'ABCDEF' });
    expect(c.s.got).toEqual([{ type: 'full' }]);
    expect(c.s.closed).toBe(CLOSE_ROOM_FULL);
    c.peer.closed();
    expect(a.s.got.some((m) => m.type === 'peer-left')).toBe(false);
  });

  it('relays signals within a pair only, host candidates only without TURN', async () => {
    const { join } = setup();
    const a = await join({ room: 'one' });
    const b = await join({ room: 'one' });
    const x = await join({ room: 'two' });
    a.peer.message(offer(1));
    expect(b.s.last()).toEqual({ type: 'signal', lane: 1, description: { type: 'offer', sdp: 'v=0\r\n' } });
    b.peer.message(candidate(HOST));
    expect(a.s.last()).toMatchObject({ type: 'signal', lane: 0, candidate: { candidate: HOST } });
    const before = b.s.got.length;
    a.peer.message(candidate(RELAY));
    expect(b.s.got.length).toBe(before + 0);
    expect(a.s.last()).toMatchObject({ type: 'error', code: 'bad-message' });
    expect(x.s.got.filter((m) => m.type === 'signal')).toEqual([]);
  });

  it('with ICE servers configured, relay candidates pass too and paired carries the servers', async () => {
    const ice = [{ urls: ['turn:127.0.0.1:3478'], username: '1:x', credential: 'c' }];
    const { join } = setup({ iceServers: () => ice });
    const a = await join({ room: 'r' });
    const b = await join({ room: 'r' });
    expect(b.s.last()).toMatchObject({ type: 'paired', iceServers: ice });
    a.peer.message(candidate(RELAY));
    expect(b.s.last()).toMatchObject({ type: 'signal', candidate: { candidate: RELAY } });
  });

  it('malformed frames get a bad-message error frame and the socket stays open', async () => {
    const { join } = setup();
    const a = await join({ room: 'r' });
    const b = await join({ room: 'r' });
    for (const text of ['{', 'null', '[]', JSON.stringify({ type: 'signal', lane: 9, description: { type: 'offer', sdp: '' } }), JSON.stringify({ type: 'hello' })]) {
      a.peer.message(text);
      expect(a.s.last()).toMatchObject({ type: 'error', code: 'bad-message' });
    }
    expect(a.s.closed).toBeUndefined();
    expect(b.s.got.filter((m) => m.type === 'signal')).toEqual([]);
  });

  it('when one leaves, the other hears peer-left and pairs again (as offerer) with the next peer', async () => {
    const { join } = setup();
    const a = await join({ room: 'r' });
    const b = await join({ room: 'r' });
    a.peer.closed();
    a.peer.closed();
    await Promise.resolve();
    await Promise.resolve();
    expect(b.s.got.filter((m) => m.type === 'peer-left')).toHaveLength(1);
    const c = await join({ room: 'r' });
    expect(b.s.last()).toMatchObject({ type: 'paired', role: 'offerer' });
    expect(c.s.last()).toMatchObject({ type: 'paired', role: 'answerer' });
  });

  it('frames sent before the join finished are relayed once paired, not lost', async () => {
    const { rendezvous, join } = setup();
    const a = await join({ room: 'r' });
    const s = socket();
    const b = rendezvous.connect(s, { room: 'r', lanes: 2, address: '10.0.0.2' });
    b.message(offer(0));
    await b.ready;
    expect(a.s.last()).toMatchObject({ type: 'signal', lane: 0 });
  });
});

describe('createRendezvous: codes expire', () => {
  it('an unknown code gets unknown-code and close 4004; a code past its TTL too, but the room stays joinable by name with a new code', async () => {
    const { clock, join } = setup({ codeTtlMs: 60_000, leaseMs: 600_000 });
    const nobody = await join({ code: 'ZZZ-ZZZ' });
    expect(nobody.s.got).toEqual([{ type: 'error', code: 'unknown-code', message: expect.any(String) }]);
    expect(nobody.s.closed).toBe(CLOSE_UNKNOWN_CODE);

    const a = await join({ room: 'r' });
    clock.t += 59_999;
    const early = await join({ code: 'ABCDEF' });
    expect(early.s.last()).toMatchObject({ type: 'paired' });
    early.peer.closed();
    await Promise.resolve();
    clock.t += 1;
    const late = await join({ code: 'ABCDEF' });
    expect(late.s.closed).toBe(CLOSE_UNKNOWN_CODE);
    // The room itself is still there: its peer, rejoining with its token, gets a new code.
    const again = await join({ room: 'r', resume: a.s.got[0].resume });
    const waiting = again.s.last();
    expect(waiting).toMatchObject({ type: 'waiting', room: 'r', resume: a.s.got[0].resume, codeExpiresAt: clock.t + 60_000 });
    expect(waiting.code).not.toBe('ABCDEF');
    expect((await join({ code: waiting.code })).s.last()).toMatchObject({ type: 'paired', room: 'r' });
  });

  it('a code whose room both peers left is unknown-code: a receiver with a used code fails at once instead of waiting alone', async () => {
    const { join } = setup({ codeTtlMs: 600_000 });
    const a = await join({ room: 'r' });
    const code = a.s.got[0].code;
    const b = await join({ code });
    expect(b.s.last()).toMatchObject({ type: 'paired' });
    a.peer.closed();
    b.peer.closed();
    await Promise.resolve();
    await Promise.resolve();
    const late = await join({ code });
    expect(late.s.got).toEqual([{ type: 'error', code: 'unknown-code', message: expect.any(String) }]);
    expect(late.s.closed).toBe(CLOSE_UNKNOWN_CODE);
  });

  it('a malformed code (wrong alphabet or length) is unknown-code as well', async () => {
    const { join } = setup();
    await join({ room: 'r' });
    for (const code of ['ABCDE0', 'ABCDEFG', 'ab', '']) {
      const x = await join({ code: code || ' ' });
      expect(x.s.closed).toBe(CLOSE_UNKNOWN_CODE);
    }
  });
});

describe('createRendezvous: limits', () => {
  it('joins per address: the 31st within a minute is rate-limited (4029); a minute later it works again; other addresses are unaffected', async () => {
    const { clock, join } = setup();
    for (let i = 0; i < 30; i++) expect((await join({ room: `r${i}` })).s.closed).toBeUndefined();
    const over = await join({ room: 'x' });
    expect(over.s.got).toEqual([{ type: 'error', code: 'rate-limited', message: expect.any(String) }]);
    expect(over.s.closed).toBe(CLOSE_RATE_LIMITED);
    expect((await join({ room: 'x', address: '10.0.0.9' })).s.closed).toBeUndefined();
    clock.t += 60_000;
    expect((await join({ room: 'y' })).s.closed).toBeUndefined();
  });

  it('joins per code, from any address: after 10 tries on one code within a minute, even the right code is refused', async () => {
    const { clock, join } = setup({ joinsPerAddress: { limit: 1000, windowMs: 60_000 }, leaseMs: 600_000 });
    await join({ room: 'r' });
    // A guesser spreads wrong tries over many addresses; here it hammers the real code.
    for (let i = 0; i < 10; i++) {
      const x = await join({ code: 'ABCDEF', address: `10.1.0.${i}` });
      x.peer.closed();
      await Promise.resolve();
    }
    const owner = await join({ code: 'ABCDEF', address: '10.2.0.1' });
    expect(owner.s.closed).toBe(CLOSE_RATE_LIMITED);
    clock.t += 60_000;
    expect((await join({ code: 'ABCDEF', address: '10.2.0.1' })).s.last()).toMatchObject({ type: 'paired' });
  });

  it('messages per socket: a burst of 100, then 20 per second; beyond that rate-limited and closed', async () => {
    const { clock, join } = setup();
    const a = await join({ room: 'r' });
    const b = await join({ room: 'r' });
    for (let i = 0; i < 100; i++) a.peer.message(candidate(HOST));
    expect(a.s.closed).toBeUndefined();
    clock.t += 1000;
    for (let i = 0; i < 20; i++) a.peer.message(candidate(HOST));
    expect(a.s.closed).toBeUndefined();
    expect(b.s.got.filter((m) => m.type === 'signal')).toHaveLength(120);
    a.peer.message(candidate(HOST));
    expect(a.s.last()).toMatchObject({ type: 'error', code: 'rate-limited' });
    expect(a.s.closed).toBe(CLOSE_RATE_LIMITED);
  });
});

describe('createRendezvous: resume', () => {
  it('a peer whose socket was detached (server restart) takes its seat back with its token: same room, same code', async () => {
    const { rendezvous, join } = setup();
    const a = await join({ room: 'r' });
    const { resume, code } = a.s.got[0];
    rendezvous.detachAll();
    expect(a.s.closed).toBeDefined();
    const again = await join({ room: 'r', resume });
    expect(again.s.last()).toEqual({ type: 'waiting', room: 'r', code, codeExpiresAt: expect.any(Number), resume });
    const b = await join({ code });
    expect(again.s.last()).toMatchObject({ type: 'paired', role: 'offerer' });
    expect(b.s.last()).toMatchObject({ type: 'paired', role: 'answerer' });
  });

  it("a waiting peer whose own socket dropped (the server stayed up) comes back with its token to the same code: one room, one code", async () => {
    const { join } = setup({ codeTtlMs: 600_000 });
    const a = await join({ room: 'r' });
    const { resume, code } = a.s.got[0];
    // The client's connection breaks (a proxy reset): the server sees a close and frees the seat.
    a.peer.closed();
    await Promise.resolve();
    await Promise.resolve();
    // While nobody sits in it, the code opens nothing.
    expect((await join({ code })).s.closed).toBe(CLOSE_UNKNOWN_CODE);
    const again = await join({ room: 'r', resume });
    // Before: a new code here, and the old one, still registered, opened the same room too.
    expect(again.s.last()).toMatchObject({ type: 'waiting', room: 'r', code });
    const b = await join({ code });
    expect(b.s.last()).toMatchObject({ type: 'paired', room: 'r' });
  });

  it('a second socket with the token replaces a live first one (closed 4009, no peer-left)', async () => {
    const { join } = setup();
    const a = await join({ room: 'r' });
    const b = await join({ room: 'r' });
    const a2 = await join({ room: 'r', resume: a.s.got[0].resume });
    expect(a.s.closed).toBe(CLOSE_REPLACED);
    expect(b.s.got.some((m) => m.type === 'peer-left')).toBe(false);
    // Both are told to pair again: the new socket has no peer connections yet.
    expect(a2.s.last()).toMatchObject({ type: 'paired', role: 'offerer' });
    expect(b.s.last()).toMatchObject({ type: 'paired', role: 'answerer' });
  });

  it("a token sent with another room's name takes no seat and closes nobody: its owner and its peer stay paired (an outside check: 4009, and the peer left with nobody)", async () => {
    const { join } = setup();
    const a = await join({ room: 'x' });
    const b = await join({ room: 'x' });
    const stray = await join({ room: 'y', resume: a.s.got[0].resume });
    expect(a.s.closed).toBeUndefined();
    expect(stray.s.last()).toMatchObject({ type: 'waiting', room: 'y' });
    expect(stray.s.last().resume).not.toBe(a.s.got[0].resume);
    expect(b.s.got.map((m) => m.type)).toEqual(['paired']);
  });

  it('a seat whose lease ran out (its instance died) is pruned by the next join', async () => {
    const { clock, join } = setup({ leaseMs: 30_000 });
    const a = await join({ room: 'r' });
    // Nobody renews a's lease (as if its instance had been killed).
    clock.t += 30_001;
    const b = await join({ room: 'r' });
    expect(b.s.last()).toMatchObject({ type: 'waiting', room: 'r' });
    expect(a.s.got.filter((m) => m.type === 'paired')).toEqual([]);
  });

  it('renewLeases keeps live seats', async () => {
    const { clock, rendezvous, join } = setup({ leaseMs: 30_000 });
    await join({ room: 'r' });
    clock.t += 20_000;
    await rendezvous.renewLeases();
    clock.t += 20_000;
    const b = await join({ room: 'r' });
    expect(b.s.last()).toMatchObject({ type: 'paired', role: 'answerer' });
  });
});

describe("createRendezvous: a signal that reaches a seat before its own `paired` (the peer's instance was faster)", () => {
  it('is kept and delivered right after paired, not dropped (two instances on Redis: the pages never connected, once under load)', async () => {
    const clock = { t: 1_000_000 };
    const now = () => clock.t;
    const inner = memoryStore({ now });
    // Holds `paired` events for the seats in `slow` until released: the other events pass at once.
    const slow = new Set<string>();
    const held: (() => void)[] = [];
    const store: typeof inner = {
      ...inner,
      subscribe: (memberId, handler) =>
        inner.subscribe(memberId, (event) => {
          if (event.kind === 'paired' && slow.has(memberId)) held.push(() => handler(event));
          else handler(event);
        }),
    };
    let ids = 0;
    const rendezvous = createRendezvous({ now, store, randomId: () => (++ids).toString(16).padStart(32, '0'), randomCode: () => 'ABCDEF' });
    const a = socket();
    const ra = rendezvous.connect(a, { room: 'r', lanes: 1, address: '10.0.0.1' });
    await ra.ready;
    const b = socket();
    // B's seat id will be the next one (ids: A's connection, A's seat, B's connection, then B's seat).
    slow.add((ids + 2).toString(16).padStart(32, '0'));
    const rb = rendezvous.connect(b, { room: 'r', lanes: 1, address: '10.0.0.2' });
    await rb.ready;
    expect(a.last()).toMatchObject({ type: 'paired', role: 'offerer' });
    expect(b.got).toEqual([]);
    // A offers at once; B's `paired` is still on the way.
    ra.message(offer());
    await Promise.resolve();
    expect(b.got).toEqual([]);
    for (const release of held.splice(0)) release();
    expect(b.got.map((m) => m.type)).toEqual(['paired', 'signal']);
    expect(b.got[1]).toMatchObject({ type: 'signal', lane: 0, description: { type: 'offer' } });
  });
});
