/**
 * Serves the web example on 127.0.0.1 and pairs tabs for signalling.
 *
 *   node --import tsx examples/web/server.ts          # http://127.0.0.1:8080/
 *   PORT=9000 node --import tsx examples/web/server.ts
 *
 *   GET /            index.html
 *   GET /app.js      examples/web/app.ts + the library (src/index.ts), bundled by esbuild at start
 *   GET /styles.css  styles.css
 *   WS  /signal?room=<name>&lanes=<n>   pairs two tabs per room, relays offer/answer/ICE
 *                                      (host UDP candidates only; see signalling.ts)
 *
 * It binds 127.0.0.1 only: the page is a secure context there (WebCrypto, OPFS,
 * the File System Access API), and nothing is exposed to the network. The tests
 * start it with `startWebServer({ port: 0 })` inside a loopback-only namespace.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { WebSocketServer, type WebSocket } from 'ws';
import { createRooms, type Rooms } from './rooms';
import { MAX_SIGNAL_BYTES, parseLanes, ROOM_PATTERN } from './signalling';

/** The address the server binds. */
export const HOST = '127.0.0.1';
/** Port when neither the option nor `PORT` says otherwise. */
export const DEFAULT_PORT = 8080;
/** Close code for a socket with a bad room name or origin. */
export const BAD_REQUEST_CODE = 4000;

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** Options of {@link startWebServer}. */
export interface WebServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. Default: `PORT` from the environment, else 8080. */
  readonly port?: number;
}

/** A running server. */
export interface WebServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  readonly port: number;
  /** The room book (for tests: how many rooms are open). */
  readonly rooms: Rooms;
  /** Size of /app.js, bytes. */
  readonly bundleBytes: number;
  /** Closes every socket and the server. Idempotent. */
  close(): Promise<void>;
}

/** Bundles examples/web/app.ts (and the library it imports) as one ES module for the browser. */
export async function buildPageBundle(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [here('./app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/**
 * Content-Security-Policy: only our own script, styles and socket. hash-wasm
 * (the library's SHA-256 in browsers) compiles WebAssembly, hence
 * 'wasm-unsafe-eval'; received files are offered as blob: URLs.
 */
const csp = (host: string): string =>
  [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    `connect-src 'self' ws://${host} blob:`,
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

/** Builds the bundle and listens on 127.0.0.1. */
export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const port = options.port ?? (process.env.PORT ? Number(process.env.PORT) : DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`PORT must be 0-65535, got ${port}`);
  const bundle = await buildPageBundle();
  const files = new Map<string, { type: string; body: string }>([
    ['/', { type: 'text/html; charset=utf-8', body: readFileSync(here('./index.html'), 'utf8') }],
    ['/app.js', { type: 'text/javascript; charset=utf-8', body: bundle }],
    ['/styles.css', { type: 'text/css; charset=utf-8', body: readFileSync(here('./styles.css'), 'utf8') }],
  ]);

  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', `http://${HOST}`).pathname;
    if (pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = files.get(pathname === '/index.html' ? '/' : pathname);
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(file ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' }).end(file ? 'method not allowed' : 'not found');
      return;
    }
    res.writeHead(200, {
      'content-type': file.type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': csp(req.headers.host ?? HOST),
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  });

  const rooms = createRooms();
  const wss = new WebSocketServer({ server, path: '/signal', maxPayload: MAX_SIGNAL_BYTES });
  wss.on('connection', (socket: WebSocket, req) => {
    const url = new URL(req.url ?? '', `http://${HOST}`);
    const room = url.searchParams.get('room') ?? '';
    // Pages from another origin may not use our rooms (a browser always sends Origin).
    const origin = req.headers.origin;
    if (!ROOM_PATTERN.test(room) || (origin !== undefined && origin !== `http://${req.headers.host}`)) {
      socket.send(JSON.stringify({ type: 'error', message: 'bad room name or origin' }));
      socket.close(BAD_REQUEST_CODE, 'bad request');
      return;
    }
    socket.on('message', (data, isBinary) => {
      if (!isBinary) rooms.message(socket, data.toString());
    });
    socket.on('close', () => rooms.leave(socket));
    socket.on('error', () => rooms.leave(socket));
    rooms.join(socket, room, parseLanes(url.searchParams.get('lanes')));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${HOST}:${bound}/`,
    port: bound,
    rooms,
    bundleBytes: bundle.length,
    close() {
      closing ??= (async () => {
        wss.clients.forEach((c) => c.terminate());
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const web = await startWebServer();
  const room = Math.random().toString(36).slice(2, 8);
  console.log(`tallow-rx web example on ${web.url} (bundle ${(web.bundleBytes / 1024).toFixed(0)} KiB)`);
  console.log(`open ${web.url}?room=${room} in two tabs; Ctrl+C stops`);
  const stop = (): void => void web.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
