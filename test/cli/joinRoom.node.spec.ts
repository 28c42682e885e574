/**
 * joinRoom when the paired peer leaves before the lanes connect (its connection attempt failed, or it
 * quit), against the real rendezvous server on 127.0.0.1 with node-datachannel peers bound to 127.0.0.1:
 * - the room's owner hears `onPeerLeft`, keeps its seat and connects with the next peer on the same code;
 * - a peer that joined by code gives up after `peerLeftGraceMs` with `RendezvousError` `peer-left`
 *   (it used to wait for `--timeout`, 600 s by default, and then say "nobody joined");
 * - but a peer whose owner only lost its socket and came back with its seat still connects;
 * - `signal` aborts a join: socket and lanes closed, `RendezvousError` `aborted`.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinRoom, RendezvousError, type JoinedRoom, type JoinRoomConfig, type RoomWebSocket } from '../../src/cli/joinRoom';
import { loadPeerConnection } from '../../src/cli/loadPeerConnection';
import { startRendezvousServer, type RendezvousServer } from '../../src/server/startRendezvousServer';

let server: RendezvousServer;
let common: Omit<JoinRoomConfig, 'onWaiting'>;
const rooms: JoinedRoom[] = [];

beforeAll(async () => {
  server = await startRendezvousServer({ port: 0 });
  const createPeerConnection = await loadPeerConnection();
  common = { signalUrl: server.signalUrl, createSocket: (u) => new WebSocket(u) as unknown as RoomWebSocket, lanes: 1, createPeerConnection, bindAddress: '127.0.0.1', connectTimeoutMs: 15_000 };
});
afterAll(async () => {
  rooms.forEach((r) => r.close());
  await server?.close();
});

/** The owner's join, with its code once known. */
function owner(extra: Partial<JoinRoomConfig> = {}): { joined: Promise<JoinedRoom>; code: Promise<string> } {
  let codeKnown!: (c: string) => void;
  const code = new Promise<string>((resolve) => (codeKnown = resolve));
  const joined = joinRoom({ ...common, ...extra, onWaiting: (c) => codeKnown(c) });
  joined.then((r) => rooms.push(r), () => undefined);
  return { joined, code };
}

describe('joinRoom: the paired peer leaves before the lanes connect', () => {
  it("the room's owner keeps its seat and connects with the next peer on the same code", async () => {
    let left = 0;
    let heard!: () => void;
    const peerLeft = new Promise<void>((resolve) => (heard = resolve));
    const a = owner({ onPeerLeft: () => (left++, heard()) });
    const code = await a.code;
    // B joins and quits as soon as it is paired.
    const quit = new AbortController();
    const b = joinRoom({ ...common, code, signal: quit.signal, onPaired: () => quit.abort() });
    await expect(b).rejects.toMatchObject({ name: 'RendezvousError', code: 'aborted' });
    // Once the server told the owner, the seat is free for C.
    await peerLeft;
    const c = joinRoom({ ...common, code });
    const [ra, rc] = await Promise.all([a.joined, c]);
    rooms.push(rc);
    expect(left).toBe(1);
    expect(ra.lanes[0].connectionState).toBe('connected');
    expect(rc.lanes[0].connectionState).toBe('connected');
  });

  it('a peer that joined by code fails with peer-left once the owner is gone for peerLeftGraceMs', async () => {
    const gone = new AbortController();
    const a = owner({ signal: gone.signal, onPaired: () => gone.abort() });
    const code = await a.code;
    let left = 0;
    const b = joinRoom({ ...common, code, peerLeftGraceMs: 300, onPeerLeft: () => left++ });
    const error = await b.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RendezvousError);
    expect(error).toMatchObject({ code: 'peer-left', message: expect.stringMatching(/left before the connection was made/) });
    expect(left).toBe(1);
    await expect(a.joined).rejects.toMatchObject({ code: 'aborted' });
  });

  it('a peer that joined by code still connects when the owner only lost its socket and took its seat back', async () => {
    const sockets: RoomWebSocket[] = [];
    let pairedOnce = false;
    const a = owner({
      createSocket: (u) => {
        const s = new WebSocket(u) as unknown as RoomWebSocket;
        sockets.push(s);
        return s;
      },
      reconnectDelayMs: 50,
      onPaired: () => {
        // The first pairing: drop the owner's socket (a network blip); joinRoom reconnects with its seat.
        if (pairedOnce) return;
        pairedOnce = true;
        sockets[0].close();
      },
    });
    const code = await a.code;
    let left = 0;
    const b = joinRoom({ ...common, code, peerLeftGraceMs: 10_000, onPeerLeft: () => left++ });
    const [ra, rb] = await Promise.all([a.joined, b]);
    rooms.push(rb);
    expect(sockets.length).toBe(2);
    expect(left).toBe(1);
    expect(ra.lanes[0].connectionState).toBe('connected');
    expect(rb.lanes[0].connectionState).toBe('connected');
  });

  it("a bad-message error (a frame the server dropped; the socket stays open) does not end the owner's wait", async () => {
    // An outside check saw a sender exit with "not a signal message …" after a receiver left mid-negotiation.
    const sockets: RoomWebSocket[] = [];
    const a = owner({
      createSocket: (u) => {
        const s = new WebSocket(u) as unknown as RoomWebSocket;
        sockets.push(s);
        return s;
      },
    });
    const code = await a.code;
    sockets[0].send('not a signal message');
    const b = joinRoom({ ...common, code });
    const [ra, rb] = await Promise.all([a.joined, b]);
    rooms.push(rb);
    expect(ra.lanes[0].connectionState).toBe('connected');
  });
});

describe('joinRoom: --relay against a server without TURN', () => {
  it('fails at pairing with RendezvousError no-relay, not after the connect timeout', async () => {
    const a = owner({ relayOnly: true });
    const code = await a.code;
    const started = Date.now();
    const b = joinRoom({ ...common, code, relayOnly: true });
    await expect(b).rejects.toMatchObject({ name: 'RendezvousError', code: 'no-relay', message: expect.stringMatching(/--relay needs a server that hands out TURN credentials/) });
    await expect(a.joined).rejects.toMatchObject({ code: 'no-relay' });
    // Well inside the 15 s connect timeout these joins were given.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
