/**
 * Child side of `spawnPeer`. Run as: node --import tsx harness/childPeer.ts <module> <config JSON>
 *
 * 1. answers one offer per lane (JSON lines on stdin/stdout), ICE on 127.0.0.1 only, while
 *    importing <module> (a bad path fails the setup);
 * 3. creates negotiated channels 0..n-1 per lane and waits until they are open;
 * 4. calls the module's default export, then reports `ready` (so listeners the module
 *    attached synchronously are in place before the parent may send);
 * 5. reports `result` or `error`, and stays up until the parent sends `close` or its
 *    stdin ends (the parent died), then closes everything and exits.
 *
 * Gotchas: stdout carries the protocol, so console output goes to stderr; a throw
 * inside a node-datachannel callback surfaces as `uncaughtException`, reported here
 * as an `error` envelope before exiting with code 1.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createNegotiatedChannels, waitForOpen } from './channels';
import { createHarnessPort, createJsonLinePort, laneTransport, redirectConsoleToStderr, type Envelope } from './jsonLines';
import { createNodePeerConnection, shutdownNodeDataChannel } from './nodePeers';
import { negotiate } from './signalling';
import type { ChildPeerConfig, ChildPeerModule } from './spawnPeer';

redirectConsoleToStderr();

const [modulePath, configJson] = process.argv.slice(2);
const config = JSON.parse(configJson ?? '{}') as ChildPeerConfig;
const envelopes = createJsonLinePort<Envelope>(process.stdin, process.stdout, (line) => console.error(`childPeer: ignoring non-JSON line: ${line}`));
const port = createHarnessPort(envelopes);
const lanes = Array.from({ length: config.lanes }, () => createNodePeerConnection({ maxMessageSize: config.maxMessageSize }));

// Set once shutdown started.
let closing = false;
const shutdown = (code: number): void => {
  if (closing) return;
  closing = true;
  lanes.forEach((pc) => pc.close());
  // Let the polyfill's setImmediate close events run, then join the native threads.
  setTimeout(() => {
    shutdownNodeDataChannel();
    process.exit(code);
  }, 50);
};
const report = (error: unknown): void => {
  const e = error instanceof Error ? error : new Error(String(error));
  envelopes.send({ t: 'error', message: e.message, stack: e.stack });
};

envelopes.onMessage((e) => e.t === 'close' && shutdown(0));
process.stdin.on('end', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
process.on('uncaughtException', (error) => {
  report(error);
  shutdown(1);
});

// Subscribe to signalling at once: envelopes that arrive before a handler exists are dropped,
// and the parent sends its offer without waiting for us.
const connected = Promise.all(lanes.map((pc, lane) => negotiate(pc, { role: 'answerer', transport: laneTransport(envelopes, lane), timeoutMs: config.timeoutMs })));
connected.catch(() => undefined);

try {
  const loaded = (await import(pathToFileURL(resolve(modulePath)).href)) as { default?: ChildPeerModule };
  const run = loaded.default;
  if (typeof run !== 'function') throw new TypeError(`childPeer: ${modulePath} has no default export function`);
  await connected;
  const ids = Array.from({ length: config.channels }, (_, i) => i);
  const channels = lanes.map((pc) => createNegotiatedChannels(pc, ids, config.channelInit));
  await Promise.all(channels.flat().map((c) => waitForOpen(c, config.timeoutMs)));
  let running: Promise<unknown>;
  try {
    running = Promise.resolve(run({ lanes, channels, port, args: config.args }));
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
  shutdown(1);
}
