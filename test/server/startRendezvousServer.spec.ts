/**
 * The rendezvous server over real WebSockets on 127.0.0.1, against input an outsider can send
 * (the rules themselves are in createRendezvous.spec.ts):
 * - a frame over 64 KiB closes the socket with 1009;
 * - binary frames get bad-message and count against the message limit: a flood is closed 4029;
 * - a socket that stops answering pings (a peer gone without closing) is dropped by the heartbeat,
 *   and the other peer hears peer-left, while a socket that answers stays;
 * - behind a proxy, a client cannot dodge the per-address join limit by writing X-Forwarded-For;
 * - a peer that does not read is dropped once `maxQueuedBytes` wait for it (what its peer relayed queued
 *   without bound: an outside check took a server to 1 GiB), and a TCP connection that sends nothing is
 *   closed after `firstRequestTimeoutMs` (such connections stayed open for good).
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRendezvousServer, type RendezvousServer } from '../../src/server/startRendezvousServer';
import { createRendezvous } from '../../src/server/createRendezvous';
import { InvalidConfigError } from '../../src/errors';
import { wsClient } from './wsClient';

let server: RendezvousServer;

beforeAll(async () => {
  // A short heartbeat so the half-open case takes a fraction of a second, not a minute.
  server = await startRendezvousServer({ port: 0, heartbeatMs: 100 });
});
afterAll(async () => {
  await server?.close();
});

describe('startRendezvousServer: hostile input', () => {
  it('a frame over 64 KiB closes the socket with 1009', async () => {
    const a = await wsClient(server.signalUrl, 'room=big');
    await a.next('waiting');
    a.ws.send('x'.repeat(64 * 1024 + 1));
    expect(await a.closed).toBe(1009);
  });

  it('binary frames get bad-message and count against the message limit: a flood is closed with 4029', async () => {
    const a = await wsClient(server.signalUrl, 'room=binary');
    await a.next('waiting');
    a.ws.send(new Uint8Array([1, 2, 3]));
    expect(await a.next('error')).toMatchObject({ code: 'bad-message' });
    for (let i = 0; i < 200; i++) a.ws.send(new Uint8Array(1024));
    expect(await a.closed).toBe(4029);
    expect(a.inbox.at(-1)).toMatchObject({ type: 'error', code: 'rate-limited' });
  });

  it('a socket that stops answering pings is dropped; its peer hears peer-left and stays connected', async () => {
    // autoPong false: the socket stays open but never answers, as a peer whose machine vanished.
    const ghost = new WebSocket(`${server.signalUrl}?room=ghost`, { autoPong: false });
    ghost.on('error', () => undefined);
    const ghostClosed = new Promise<number>((resolve) => ghost.on('close', (code) => resolve(code)));
    await new Promise((resolve) => ghost.once('open', resolve));
    const live = await wsClient(server.signalUrl, 'room=ghost');
    await live.next('paired');
    // The server terminates the socket (no close frame): the client sees 1006.
    expect(await ghostClosed).toBe(1006);
    await live.next('peer-left');
    // The live socket passed the same heartbeats (it answers pings) and is still open.
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    live.ws.close();
  });
});

/** A WebSocket client by hand on a raw TCP socket: it upgrades, then never reads another byte. */
async function neverReads(port: number, query: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  const key = randomBytes(16).toString('base64');
  socket.write(`GET /signal?${query} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  return { socket, closed };
}

describe('startRendezvousServer: peers that hold the server\'s memory or sockets', () => {
  let guarded: RendezvousServer;
  beforeAll(async () => {
    // No heartbeat within the test: only the send-buffer bound can drop the socket that does not read.
    guarded = await startRendezvousServer({ port: 0, heartbeatMs: 600_000, firstRequestTimeoutMs: 200 });
  });
  afterAll(async () => {
    await guarded?.close();
  });

  it('a peer that never reads is dropped once 1 MiB waits for it; the other peer hears peer-left', async () => {
    const deaf = await neverReads(guarded.port, 'room=deaf&lanes=1');
    const talker = await wsClient(guarded.signalUrl, 'room=deaf&lanes=1');
    await talker.next('paired');
    // Offers of about 60 KiB, within the frame limit and the burst of 100: 6 MB for the deaf socket.
    const sdp = `v=0\r\n${'a=x-padding:0123456789abcdef0123456789abcdef\r\n'.repeat(1300)}`;
    for (let i = 0; i < 100; i++) talker.ws.send(JSON.stringify({ type: 'signal', lane: 0, description: { type: 'offer', sdp } }));
    await talker.next('peer-left', 20_000);
    // The server ended the deaf socket: reading again, it finds the end of the stream after what was queued.
    expect(guarded.rendezvous.peers).toBe(1);
    deaf.socket.resume();
    await deaf.closed;
    expect(talker.ws.readyState).toBe(WebSocket.OPEN);
    talker.ws.close();
  }, 30_000);

  it('a TCP connection that sends nothing is closed after firstRequestTimeoutMs; an upgraded socket stays', async () => {
    const live = await wsClient(guarded.signalUrl, 'room=silent-neighbour');
    await live.next('waiting');
    const silent = connect(guarded.port, '127.0.0.1');
    silent.on('error', () => undefined);
    await new Promise<void>((resolve) => silent.once('close', () => resolve()));
    // The live socket connected first, so its own timer would have fired by now: the upgrade spared it.
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    live.ws.close();
  });
});

describe('startRendezvousServer behind a reverse proxy (trustProxy)', () => {
  let proxied: RendezvousServer;
  beforeAll(async () => {
    proxied = await startRendezvousServer({ port: 0, trustProxy: true, joinsPerAddress: { limit: 2, windowMs: 60_000 } });
  });
  afterAll(async () => {
    await proxied?.close();
  });

  /** A join as the proxy forwards it: what the client sent in X-Forwarded-For, then the address the proxy saw. */
  const joinVia = (clientSent: string, proxySaw: string): Promise<number | 'waiting'> =>
    new Promise((resolve) => {
      const ws = new WebSocket(`${proxied.signalUrl}?lanes=1`, { headers: { 'x-forwarded-for': `${clientSent}, ${proxySaw}` } });
      ws.on('error', () => undefined);
      ws.on('message', (data) => {
        if (JSON.parse(String(data)).type === 'waiting') {
          ws.close();
          resolve('waiting');
        }
      });
      ws.on('close', (code) => resolve(code));
    });

  it('the per-address join limit counts the address the proxy appended, not what the client wrote before it', async () => {
    expect(await joinVia('198.51.100.1', '203.0.113.7')).toBe('waiting');
    expect(await joinVia('198.51.100.2', '203.0.113.7')).toBe('waiting');
    // A third join from the same client, claiming yet another address: still the same client.
    expect(await joinVia('198.51.100.3', '203.0.113.7')).toBe(4029);
    // Another client behind the same proxy is not affected.
    expect(await joinVia('198.51.100.3', '203.0.113.8')).toBe('waiting');
  });
});

describe('startRendezvousServer: a port in use', () => {
  it('rejects with EADDRINUSE instead of ending the process (ws re-emitted the listen error unhandled)', async () => {
    const first = await startRendezvousServer({ host: '127.0.0.1', port: 0 });
    try {
      const second = startRendezvousServer({ host: '127.0.0.1', port: first.port });
      await expect(second).rejects.toMatchObject({ code: 'EADDRINUSE' });
      // The first still serves.
      const ws = new WebSocket(`${first.signalUrl}?room=${'a'.repeat(32)}`);
      await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
      ws.terminate();
    } finally {
      await first.close();
    }
  });
});

describe('startRendezvousServer: the health check', () => {
  it('GET /healthz answers 200 ok, before and without the handler; other paths go to the handler or 404', async () => {
    const plain = await startRendezvousServer({ host: '127.0.0.1', port: 0 });
    const served = await startRendezvousServer({ host: '127.0.0.1', port: 0, handler: (_req, res) => void res.writeHead(299).end('page') });
    try {
      for (const s of [plain, served]) {
        const health = await fetch(`${s.url}healthz`);
        expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
      }
      expect((await fetch(`${plain.url}metrics`)).status).toBe(404);
      expect((await fetch(`${served.url}healthz/x`)).status).toBe(299);
    } finally {
      await Promise.all([plain.close(), served.close()]);
    }
  });
});

describe('startRendezvousServer and createRendezvous: options checked before anything listens', () => {
  it.each([
    [{ messagesPerSecond: 'fast' }, 'messagesPerSecond', /must be a finite number > 0, got "fast"/],
    [{ messageBurst: 'x' }, 'messageBurst', /must be an integer >= 1, got "x"/],
    [{ codeTtlMs: -5 }, 'codeTtlMs', /must be a number of ms > 0 and <= 2147483647, got -5/],
    [{ port: 70000 }, 'port', /must be an integer in \[0, 65535\], got 70000/],
    [{ heartbeatMs: 0 }, 'heartbeatMs', /got 0/],
    [{ joinsPerCode: { limit: 0, windowMs: 60_000 } }, 'joinsPerCode', /limit: an integer >= 1/],
    [{ allowedOrigins: ['notaurl'] }, 'allowedOrigins', /array of origins/],
    [{ turn: { urls: [], secret: 's' } }, 'urls', /non-empty array of turn: or turns: URLs/],
    [{ turn: { urls: ['turn:127.0.0.1:3478'], secret: '' } }, 'secret', /non-empty string/],
    [{ turn: { urls: ['turn:127.0.0.1:3478'] } }, 'turn.secret', /non-empty string, got undefined/],
  ])('%j: InvalidConfigError naming %s', async (config, field, message) => {
    const err = await startRendezvousServer({ host: '127.0.0.1', port: 0, ...(config as object) }).then(
      (s) => (void s.close(), undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).details).toMatchObject({ field });
    expect((err as Error).message).toMatch(message);
  });

  it('createRendezvous checks its own the same way', () => {
    expect(() => createRendezvous({ messagesPerSecond: Number.NaN })).toThrow(/createRendezvous: messagesPerSecond must be a finite number > 0, got NaN/);
    expect(() => createRendezvous(null as never)).toThrow(InvalidConfigError);
  });
});
