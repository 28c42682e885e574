/**
 * Runs inside the loopback-only namespace (see `spawnChromiumRunner`):
 *   node --import tsx test/harness/chromiumRunner.ts <module> <config JSON>
 *
 * 1. builds the bundles and serves the page on 127.0.0.1 (`startStaticServer`);
 * 2. launches Chromium (`launchChromium`) and loads the page (`openHarnessPage`);
 * 3. imports <module>, calls its default export with a `ChromiumRunnerContext`, reports `ready`;
 * 4. reports `result` or `error`; stays up until `close` or stdin ends (the parent died),
 *    then closes node peers, Chromium, the server, and exits.
 * Guard: refuses to run if any interface other than `lo` is present (not namespaced).
 */
import * as os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectPageToNode, launchChromium, openHarnessPage, type ChromiumRunnerConfig, type ChromiumRunnerModule, type ChromiumSession } from './chromium';
import { createHarnessPort, createJsonLinePort, redirectConsoleToStderr, type Envelope } from '../../harness/jsonLines';
import { shutdownNodeDataChannel } from '../../harness/nodePeers';
import { startStaticServer, type StaticServer } from './staticServer';

redirectConsoleToStderr();

const [modulePath, configJson] = process.argv.slice(2);
const config = JSON.parse(configJson ?? '{}') as ChromiumRunnerConfig;
const envelopes = createJsonLinePort<Envelope>(process.stdin, process.stdout, (line) => console.error(`chromiumRunner: ignoring non-JSON line: ${line}`));
const port = createHarnessPort(envelopes);

// Resources to release on shutdown.
let server: StaticServer | undefined;
let browser: ChromiumSession | undefined;
const nodePeers: RTCPeerConnection[] = [];
// Set once shutdown started.
let closing = false;

const shutdown = async (code: number): Promise<void> => {
  if (closing) return;
  closing = true;
  const hardStop = setTimeout(() => process.exit(code || 1), 10_000);
  hardStop.unref();
  nodePeers.forEach((pc) => pc.close());
  await browser?.close().catch((e) => console.error('chromiumRunner: browser close failed', e));
  await server?.close().catch((e) => console.error('chromiumRunner: server close failed', e));
  shutdownNodeDataChannel();
  process.exit(code);
};
const report = (error: unknown): void => {
  const e = error instanceof Error ? error : new Error(String(error));
  envelopes.send({ t: 'error', message: e.message, stack: e.stack });
};

envelopes.onMessage((e) => e.t === 'close' && void shutdown(0));
process.stdin.on('end', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('uncaughtException', (error) => {
  report(error);
  void shutdown(1);
});

try {
  const foreign = Object.keys(os.networkInterfaces()).filter((name) => name !== 'lo');
  if (foreign.length) throw new Error(`chromiumRunner must run in a loopback-only network namespace; found ${foreign.join(', ')}`);
  const loaded = (await import(pathToFileURL(resolve(modulePath)).href)) as { default?: ChromiumRunnerModule };
  const run = loaded.default;
  if (typeof run !== 'function') throw new TypeError(`chromiumRunner: ${modulePath} has no default export function`);
  server = await startStaticServer({ bundles: config.bundles });
  browser = await launchChromium({ timeoutMs: config.timeoutMs });
  browser.page.on('console', (m) => console.error(`[page ${m.type()}] ${m.text()}`));
  browser.page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await openHarnessPage(browser.page, server);
  const { page, context } = browser;
  const ready = server;
  let running: Promise<unknown>;
  try {
    running = Promise.resolve(
      run({
        page,
        context,
        server: ready,
        port,
        args: config.args,
        async connectToNode(options) {
          const connected = await connectPageToNode(page, ready, options);
          nodePeers.push(connected.pc);
          return connected;
        },
      }),
    );
  } catch (error) {
    running = Promise.reject(error);
  }
  envelopes.send({ t: 'ready' });
  running.then(
    (value) => envelopes.send({ t: 'result', value: value ?? null }),
    (error) => report(error),
  );
} catch (error) {
  report(error);
  void shutdown(1);
}
