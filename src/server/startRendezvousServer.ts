/**
 * The rendezvous over HTTP and WebSocket (the `ws` package): `WS /signal` for
 * peers, `GET /healthz` for a load balancer, anything else to an optional
 * request handler (the web page), 404 otherwise. Binds 127.0.0.1 unless told otherwise.
 *
 * ```
 * const server = await startRendezvousServer({ port: 0 });                    // memory
 * const server = await startRendezvousServer({ port: 8080, host: '0.0.0.0', redisUrl: process.env.REDIS_URL,
 *   turn: { urls: ['turn:turn.example.org:3478'], secret: process.env.TURN_SECRET! } });
 * ```
 */
import { checkServerConfig, rendezvousPart } from './checkServerConfig';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createRendezvous, type Rendezvous, type RendezvousConfig } from './createRendezvous';
import { memoryStore } from './memoryStore';
import { redisStore } from './redisStore';
import type { RendezvousStore } from './RendezvousStore';
import { dropSilentConnections } from './dropSilentConnections';
import { queueBoundedSocket } from './queueBoundedSocket';
import { CLOSE_BAD_REQUEST, MAX_SIGNAL_BYTES, parseLanes } from './signalling';
import { turnCredentials, type TurnConfig } from './turnCredentials';

/** The address bound when `host` is not given: loopback only. */
export const DEFAULT_HOST = '127.0.0.1';
/** The port when `port` is not given. */
export const DEFAULT_PORT = 8080;
/** The WebSocket path. */
export const SIGNAL_PATH = '/signal';
/** Default `maxQueuedBytes`: 16 of the largest frames, 1 MiB. */
export const MAX_QUEUED_BYTES = 16 * MAX_SIGNAL_BYTES;
/** Default `firstRequestTimeoutMs`. */
export const FIRST_REQUEST_TIMEOUT_MS = 10_000;

/** Options of {@link startRendezvousServer}; the rest are {@link RendezvousConfig}'s. */
export interface RendezvousServerConfig extends Omit<RendezvousConfig, 'store' | 'iceServers'> {
  /** Address to bind. Default `127.0.0.1`. `0.0.0.0` or a LAN address exposes it. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Rooms in Redis (several instances); default: memory, or `store` if given. */
  readonly redisUrl?: string;
  /** A ready store (overrides `redisUrl`). The server closes it on `close()`. */
  readonly store?: RendezvousStore;
  /** Hand out TURN credentials (and relay relay candidates). Default: none. */
  readonly turn?: TurnConfig;
  /**
   * Pages allowed to open the socket, by their `Origin` header: `'same'` (the
   * server's own origin), `'*'`, or a list such as `['https://send.example.org']`.
   * Clients without an Origin header (the command line) are always allowed.
   * Default `'same'`.
   */
  readonly allowedOrigins?: 'same' | '*' | readonly string[];
  /**
   * Take the client address from the last `X-Forwarded-For` entry, the one the reverse proxy in front
   * appended (the entries before it come from the client, who can write anything there). Default false.
   */
  readonly trustProxy?: boolean;
  /** Other HTTP requests (e.g. the web page; `/healthz` is answered before it). Default: 404. */
  readonly handler?: http.RequestListener;
  /** Lease renewal period, ms. Default `leaseMs / 3` (10 s). */
  readonly renewEveryMs?: number;
  /**
   * WebSocket ping period, ms. A socket that has not answered the previous ping by the next one is
   * dropped (a peer that vanished without closing: a suspended laptop, a lost network), which frees
   * its seat and tells the other peer `peer-left`. Default 30000.
   */
  readonly heartbeatMs?: number;
  /**
   * Most bytes waiting in one socket's send buffer. Past it the socket is dropped as a peer that does not
   * read (its seat is freed and the other peer gets `peer-left`): what is relayed to it would otherwise queue
   * in the server without bound. Default 1 MiB (`MAX_QUEUED_BYTES`, 16 of the largest frames).
   */
  readonly maxQueuedBytes?: number;
  /**
   * A TCP connection that sends no HTTP request and no WebSocket upgrade within this many ms of connecting
   * is closed (one that sends nothing at all would otherwise stay open for good). Default 10000.
   */
  readonly firstRequestTimeoutMs?: number;
}

/** A running server. */
export interface RendezvousServer {
  /** `http://host:port/` */
  readonly url: string;
  /** `ws://host:port/signal` */
  readonly signalUrl: string;
  readonly host: string;
  readonly port: number;
  readonly rendezvous: Rendezvous;
  /**
   * Stops: closes every socket, keeping their seats (peers resume with their
   * token, here after a restart or on another instance), then the store. Idempotent.
   */
  close(): Promise<void>;
}

const randomTag = (): string => Array.from(globalThis.crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');

/** The client's address, for the join limits. */
function clientAddress(req: http.IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? (String(req.headers['x-forwarded-for'] ?? '').split(',').pop() ?? '').trim() : '';
  return forwarded || req.socket.remoteAddress || 'unknown';
}

/** Whether a request's Origin may use the socket. */
function originAllowed(req: http.IncomingMessage, allowed: RendezvousServerConfig['allowedOrigins'] = 'same'): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || allowed === '*') return true;
  if (allowed === 'same') return origin === `http://${req.headers.host}` || origin === `https://${req.headers.host}`;
  return allowed.includes(origin);
}

/** The path of the health check: `200 ok` while the server listens, before any `handler`. */
export const HEALTH_PATH = '/healthz';

/** The plain HTTP requests: the health check, then the config's `handler` if given, else 404. */
const httpRequests =
  (config: Pick<RendezvousServerConfig, 'handler'>): http.RequestListener =>
  (req, res) => {
    // A load balancer's health check: this instance listens (Redis is not asked; a failing one shows on joins, 4503).
    if (req.url === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
    else if (config.handler) config.handler(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
  };

/**
 * Starts the server; resolves once it listens. Rejects with the listen error (`code` `EADDRINUSE` for a port in use,
 * `EACCES`, `EADDRNOTAVAIL`) after closing the store it opened; before 6 Dec 2026 a port in use crashed the process.
 */
export async function startRendezvousServer(given?: RendezvousServerConfig): Promise<RendezvousServer> {
  const config = checkServerConfig(given);
  const host = config.host ?? DEFAULT_HOST;
  const port = config.port ?? DEFAULT_PORT;
  const heartbeatMs = config.heartbeatMs ?? 30_000;
  const store = config.store ?? (config.redisUrl ? await redisStore(config.redisUrl) : memoryStore({ now: config.now }));
  const turn = config.turn;
  const rendezvous = createRendezvous({ ...rendezvousPart(config), store, iceServers: turn ? () => turnCredentials(turn, randomTag(), (config.now ?? Date.now)()) : undefined });

  const server = http.createServer(httpRequests(config));
  const stopWatching = dropSilentConnections(server, config.firstRequestTimeoutMs ?? FIRST_REQUEST_TIMEOUT_MS);
  const wss = new WebSocketServer({ server, path: SIGNAL_PATH, maxPayload: MAX_SIGNAL_BYTES });
  // `ws` re-emits the HTTP server's errors: the listen error is handled below, and unhandled here it would end the process.
  wss.on('error', () => undefined);
  // Sockets that answered the last ping (or connected since).
  const answered = new WeakSet<WebSocket>();
  wss.on('connection', (socket: WebSocket, req) => {
    socket.on('error', () => undefined);
    answered.add(socket);
    socket.on('pong', () => answered.add(socket));
    if (!originAllowed(req, config.allowedOrigins)) {
      socket.send(JSON.stringify({ type: 'error', code: 'bad-request', message: 'this page may not use this server (Origin not allowed)' }));
      socket.close(CLOSE_BAD_REQUEST, 'bad origin');
      return;
    }
    const url = new URL(req.url ?? '', 'http://rendezvous');
    const q = url.searchParams;
    const peer = rendezvous.connect(queueBoundedSocket(socket, config.maxQueuedBytes ?? MAX_QUEUED_BYTES), { room: q.get('room'), code: q.get('code'), resume: q.get('resume'), lanes: parseLanes(q.get('lanes')), address: clientAddress(req, config.trustProxy ?? false) });
    // A binary frame is not a signal message: it gets bad-message and counts against the message limit.
    socket.on('message', (data, isBinary) => peer.message(isBinary ? '' : data.toString()));
    socket.on('close', () => peer.closed());
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    stopWatching();
    rendezvous.detachAll();
    wss.close();
    if (!config.store) await store.close().catch(() => undefined);
    throw err;
  }
  const renew = setInterval(() => void rendezvous.renewLeases().catch(() => undefined), config.renewEveryMs ?? (config.leaseMs ?? 30_000) / 3);
  renew.unref();
  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) {
      if (!answered.delete(socket)) socket.terminate();
      else socket.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${bound}/`,
    signalUrl: `ws://${shown}:${bound}${SIGNAL_PATH}`,
    host,
    port: bound,
    rendezvous,
    close() {
      closing ??= (async () => {
        clearInterval(renew);
        clearInterval(heartbeat);
        stopWatching();
        rendezvous.detachAll();
        wss.clients.forEach((c) => c.terminate());
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await store.close();
      })();
      return closing;
    },
  };
}
