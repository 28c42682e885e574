import { describe, expect, it } from 'vitest';
import { createRooms, ROOM_FULL_CODE, type RoomSocket } from '../../examples/web/rooms';

const HOST = 'candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host';

/** A socket that records what it got. */
const socket = (): RoomSocket & { got: any[]; closed?: [number | undefined, string | undefined] } => {
  const s = {
    got: [] as any[],
    closed: undefined as [number | undefined, string | undefined] | undefined,
    send: (text: string) => void s.got.push(JSON.parse(text)),
    close: (code?: number, reason?: string) => void (s.closed = [code, reason]),
  };
  return s;
};
const offer = (lane = 0) => JSON.stringify({ type: 'signal', lane, description: { type: 'offer', sdp: 'v=0\r\n' } });

describe('createRooms', () => {
  it('the first tab waits; the second pairs both, the first offers, lanes are the smaller request', () => {
    const rooms = createRooms();
    const a = socket();
    const b = socket();
    expect(rooms.join(a, 'abc', 2)).toBe(true);
    expect(a.got).toEqual([{ type: 'waiting', room: 'abc' }]);
    expect(rooms.join(b, 'abc', 1)).toBe(true);
    expect(a.got.at(-1)).toEqual({ type: 'paired', role: 'offerer', lanes: 1 });
    expect(b.got).toEqual([{ type: 'paired', role: 'answerer', lanes: 1 }]);
    expect(rooms.size).toBe(1);
  });

  it('a third tab is told the room is full and closed', () => {
    const rooms = createRooms();
    const [a, b, c] = [socket(), socket(), socket()];
    rooms.join(a, 'r', 2);
    rooms.join(b, 'r', 2);
    expect(rooms.join(c, 'r', 2)).toBe(false);
    expect(c.got).toEqual([{ type: 'full' }]);
    expect(c.closed?.[0]).toBe(ROOM_FULL_CODE);
    // Its leaving changes nothing for the pair.
    rooms.leave(c);
    expect(a.got.some((m) => m.type === 'peer-left')).toBe(false);
  });

  it('relays signals both ways within a pair only, and only what parseSignal accepts', () => {
    const rooms = createRooms();
    const [a, b, x, y] = [socket(), socket(), socket(), socket()];
    rooms.join(a, 'one', 2);
    rooms.join(b, 'one', 2);
    rooms.join(x, 'two', 2);
    rooms.join(y, 'two', 2);
    expect(rooms.message(a, offer(1))).toBe(true);
    expect(b.got.at(-1)).toEqual({ type: 'signal', lane: 1, description: { type: 'offer', sdp: 'v=0\r\n' } });
    expect(rooms.message(b, JSON.stringify({ type: 'signal', lane: 0, candidate: { candidate: HOST, sdpMid: '0', sdpMLineIndex: 0 } }))).toBe(true);
    expect(a.got.at(-1)).toMatchObject({ type: 'signal', lane: 0, candidate: { candidate: HOST } });
    // Out-of-range lane, a STUN candidate, garbage: dropped.
    expect(rooms.message(a, offer(2))).toBe(false);
    expect(rooms.message(a, JSON.stringify({ type: 'signal', lane: 0, candidate: { candidate: HOST.replace('typ host', 'typ srflx'), sdpMid: '0' } }))).toBe(false);
    expect(rooms.message(a, 'nonsense')).toBe(false);
    expect(x.got.concat(y.got).filter((m) => m.type === 'signal')).toEqual([]);
  });

  it('an unpaired tab cannot signal anyone', () => {
    const rooms = createRooms();
    const a = socket();
    rooms.join(a, 'solo', 1);
    expect(rooms.message(a, offer())).toBe(false);
    expect(rooms.message(socket(), offer())).toBe(false);
  });

  it('when one leaves, the other hears peer-left and pairs again (as offerer) with the next tab', () => {
    const rooms = createRooms();
    const [a, b, c] = [socket(), socket(), socket()];
    rooms.join(a, 'r', 2);
    rooms.join(b, 'r', 2);
    rooms.leave(a);
    rooms.leave(a); // idempotent
    expect(b.got.filter((m) => m.type === 'peer-left')).toHaveLength(1);
    expect(rooms.message(b, offer())).toBe(false);
    rooms.join(c, 'r', 2);
    expect(b.got.at(-1)).toEqual({ type: 'paired', role: 'offerer', lanes: 2 });
    expect(c.got.at(-1)).toEqual({ type: 'paired', role: 'answerer', lanes: 2 });
    rooms.leave(b);
    rooms.leave(c);
    expect(rooms.size).toBe(0);
  });

  it('a socket that throws on send does not break the room', () => {
    const rooms = createRooms();
    const broken: RoomSocket = { send: () => { throw new Error('closing'); }, close: () => undefined };
    const b = socket();
    rooms.join(broken, 'r', 2);
    expect(() => rooms.join(b, 'r', 2)).not.toThrow();
    expect(b.got).toEqual([{ type: 'paired', role: 'answerer', lanes: 2 }]);
  });
});
