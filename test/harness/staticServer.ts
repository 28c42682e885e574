/**
 * A tiny HTTP + WebSocket server on 127.0.0.1 for the Chromium harness.
 *
 *   GET /                  the harness page: imports /harness.js as `window.harness` and every
 *                          extra bundle as `window.bundles[name]`, then sets `window.harnessReady`
 *   GET /harness.js        test/harness/page/pageHarness.ts, bundled
 *   GET /bundles/<name>.js any entry you pass (e.g. src/index.ts), bundled
 *   WS  /signal?session=ID signalling for Chromium ↔ Node; take it with `signalling(ID)`
 *
 * Bundles are built once at start with esbuild (`bundle: true, format: 'esm',
 * platform: 'browser', write: false`), so a broken entry fails `startStaticServer`.
 * Only 127.0.0.1 is bound: Chromium and the server share the loopback-only namespace.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { WebSocketServer, type WebSocket } from 'ws';
import { createWebSocketTransport, type SignalTransport } from '../../harness/signalling';
import { REPO_ROOT } from '../../harness/spawnScript';

/** The page harness entry. */
export const PAGE_HARNESS_ENTRY = fileURLToPath(new URL('./page/pageHarness.ts', import.meta.url));

/** Options of {@link startStaticServer}. */
export interface StaticServerOptions {
  /** Extra browser bundles: name → entry path (absolute or relative to the repo root). */
  readonly bundles?: Record<string, string>;
}

/** A running server. */
export interface StaticServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** `ws://127.0.0.1:PORT/signal` */
  readonly signalUrl: string;
  /** Bundle sizes in bytes, by name (`harness` included). */
  readonly bundleSizes: Record<string, number>;
  /** Resolves with the transport of the first WebSocket that connects with `?session=<id>`. */
  signalling(session: string, timeoutMs?: number): Promise<SignalTransport>;
  close(): Promise<void>;
}

/** Bundles `entry` for the browser as one ESM file. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [resolvePath(REPO_ROOT, entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

const pageHtml = (names: string[]): string => `<!doctype html>
<meta charset="utf-8">
<title>tallow-rx harness</title>
<script type="module">
import * as harness from '/harness.js';
window.harness = harness;
window.bundles = {};
${names.map((n) => `window.bundles[${JSON.stringify(n)}] = await import('/bundles/${encodeURIComponent(n)}.js');`).join('\n')}
window.harnessReady = true;
</script>
`;

/** Builds the bundles and serves them on 127.0.0.1 (random port). */
export async function startStaticServer(options: StaticServerOptions = {}): Promise<StaticServer> {
  const extra = options.bundles ?? {};
  const names = Object.keys(extra);
  const files = new Map<string, { type: string; body: string }>();
  files.set('/', { type: 'text/html; charset=utf-8', body: pageHtml(names) });
  files.set('/harness.js', { type: 'text/javascript; charset=utf-8', body: await bundleForBrowser(PAGE_HARNESS_ENTRY) });
  const built = await Promise.all(names.map((n) => bundleForBrowser(extra[n])));
  names.forEach((n, i) => files.set(`/bundles/${encodeURIComponent(n)}.js`, { type: 'text/javascript; charset=utf-8', body: built[i] }));

  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const file = files.get(pathname);
    if (pathname === '/favicon.ico') {
      // Chromium asks for it on every load; a 404 would log a console error.
      res.writeHead(204).end();
      return;
    }
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  const wss = new WebSocketServer({ server, path: '/signal' });
  // Sockets that arrived before anyone asked for their session, and waiters for sessions.
  // The transport is created on connection, before any 'message' event: it queues early messages.
  const arrived = new Map<string, SignalTransport>();
  const waiting = new Map<string, (transport: SignalTransport) => void>();
  wss.on('connection', (socket: WebSocket, req) => {
    const session = new URL(req.url ?? '', 'http://127.0.0.1').searchParams.get('session') ?? '';
    const transport = createWebSocketTransport(socket);
    const waiter = waiting.get(session);
    if (waiter) {
      waiting.delete(session);
      waiter(transport);
    } else arrived.set(session, transport);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const bundleSizes: Record<string, number> = {};
  for (const [path, file] of files) if (path.endsWith('.js')) bundleSizes[path === '/harness.js' ? 'harness' : decodeURIComponent(path.slice(9, -3))] = file.body.length;

  return {
    url: `http://127.0.0.1:${port}/`,
    signalUrl: `ws://127.0.0.1:${port}/signal`,
    bundleSizes,
    signalling(session, timeoutMs = 15_000) {
      const early = arrived.get(session);
      if (early) {
        arrived.delete(session);
        return Promise.resolve(early);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(session);
          reject(new Error(`no signalling socket for session ${session} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(session, (transport) => {
          clearTimeout(timer);
          resolve(transport);
        });
      });
    },
    async close() {
      wss.clients.forEach((c) => c.terminate());
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
