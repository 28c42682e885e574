/**
 * Serves the web example and runs the rendezvous server (src/server) beside it.
 *
 *   npm run web                                   # http://127.0.0.1:8080/
 *   npm run web -- --port 9000 --host 0.0.0.0     # or PORT=9000, HOST=…; REDIS_URL for rooms in Redis
 *
 *   GET /            index.html
 *   GET /app.js      examples/web/app.ts + the library (src/index.ts), bundled by esbuild at start
 *   GET /styles.css  styles.css
 *   WS  /signal?room=<name>|code=<CODE>&lanes=<n>   the rendezvous (startRendezvousServer)
 *
 * It binds 127.0.0.1 by default: the page is a secure context there (WebCrypto, OPFS,
 * the File System Access API), and nothing is exposed to the network. The tests
 * start it with `startWebServer({ port: 0 })` inside a loopback-only namespace.
 */
import { readFileSync } from 'node:fs';
import type * as http from 'node:http';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import type { Rendezvous } from '../../src/server/createRendezvous';
import { DEFAULT_HOST, DEFAULT_PORT, startRendezvousServer, type RendezvousServerConfig } from '../../src/server/startRendezvousServer';
import { CLOSE_BAD_REQUEST } from '../../src/server/signalling';

/** The address the server binds by default. */
export const HOST = DEFAULT_HOST;
export { DEFAULT_PORT };
/** Close code for a socket with a bad room name or origin. */
export const BAD_REQUEST_CODE = CLOSE_BAD_REQUEST;

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** Options of {@link startWebServer}: the rendezvous server's, with the port defaulting to `PORT`. */
export interface WebServerOptions extends Omit<RendezvousServerConfig, 'handler'> {
  /** TCP port; 0 picks a free one. Default: `PORT` from the environment, else 8080. */
  readonly port?: number;
}

/** A running server. */
export interface WebServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  readonly port: number;
  /** The rendezvous (for tests: how many sockets it holds). */
  readonly rendezvous: Rendezvous;
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
 * Content-Security-Policy: only our own script, styles and socket. The library
 * hashes in a Worker started from a blob: URL (worker-src blob:), which runs
 * hash-wasm's WebAssembly ('wasm-unsafe-eval'; docs/architecture.md, "Hashing
 * in browsers"); received files are offered as blob: URLs.
 */
const csp = (host: string): string =>
  [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "worker-src blob:",
    `connect-src 'self' ws://${host} wss://${host} blob:`,
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

/** The page's files as an HTTP handler. */
function pageHandler(bundle: string): http.RequestListener {
  const files = new Map<string, { type: string; body: string }>([
    ['/', { type: 'text/html; charset=utf-8', body: readFileSync(here('./index.html'), 'utf8') }],
    ['/app.js', { type: 'text/javascript; charset=utf-8', body: bundle }],
    ['/styles.css', { type: 'text/css; charset=utf-8', body: readFileSync(here('./styles.css'), 'utf8') }],
  ]);
  return (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://page').pathname;
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
  };
}

/** Builds the bundle and starts the rendezvous server with the page on it. */
export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const port = options.port ?? (process.env.PORT ? Number(process.env.PORT) : DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`PORT must be 0-65535, got ${port}`);
  const bundle = await buildPageBundle();
  const server = await startRendezvousServer({ ...options, port, handler: pageHandler(bundle) });
  return { url: server.url, port: server.port, rendezvous: server.rendezvous, bundleBytes: bundle.length, close: () => server.close() };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const { values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string' } } });
  const web = await startWebServer({
    host: values.host ?? process.env.HOST ?? DEFAULT_HOST,
    port: values.port !== undefined ? Number(values.port) : undefined,
    redisUrl: process.env.REDIS_URL || undefined,
  });
  console.log(`tallow-rx web example on ${web.url} (bundle ${(web.bundleBytes / 1024).toFixed(0)} KiB)${process.env.REDIS_URL ? ', rooms in Redis' : ''}`);
  console.log(`open ${web.url} in one tab and join from another with the code it shows; Ctrl+C stops`);
  const stop = (): void => void web.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
