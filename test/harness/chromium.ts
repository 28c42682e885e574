/**
 * Chromium for the real-WebRTC harness: Debian's /usr/bin/chromium driven by playwright-core,
 * always inside a loopback-only network namespace.
 *
 * Two halves:
 * - In the namespace (used by `chromiumRunner.ts` and the modules it runs): `launchChromium`,
 *   `openHarnessPage`, `callHarness`, `connectPageToNode`.
 * - In the test process (host network): `spawnChromiumRunner(module)` starts
 *   `unshare -n sh -c 'ip link set lo up && exec node --import tsx chromiumRunner.ts …'`, which
 *   serves the page, launches Chromium and calls the module's default export with a
 *   {@link ChromiumRunnerContext}. Results come back over JSON lines on stdin/stdout.
 *
 * Launch recipe and gotchas (Chromium 156, playwright-core 1.65, as root):
 * - `launchPersistentContext(freshTmpDir, …)`: Playwright refuses `--user-data-dir` in args.
 * - `--no-sandbox` is required as root. Playwright adds its own `--headless`; repeating it is harmless.
 * - /usr/bin/chromium is Debian's shell wrapper: it prints "[: <n>: unexpected operator" on
 *   stderr (its /dev/shm size check) and adds a few flags; both are harmless, and it `exec`s the
 *   real binary.
 * - The namespace needs nothing extra: /dev/shm and /tmp are shared mounts (a net namespace
 *   only isolates the network), root's HOME works. We still point HOME, XDG_CONFIG_HOME and
 *   XDG_CACHE_HOME into the fresh profile dir so nothing lands in /root, and delete it on close.
 * - Outside a loopback-only namespace Chromium hides host addresses behind mDNS names and
 *   offers 192.0.2.x/::1/fd00:: candidates; inside it, with --allow-loopback-in-peer-connection,
 *   it offers exactly one `udp 127.0.0.1` host candidate. Signalling forwards only those.
 * - A launch takes ~0.4-2 s; the first page load, with bundles prebuilt, ~50 ms.
 * - If the runner is SIGKILLed, Chromium loses its DevTools pipe and exits by itself.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createHarnessPort, type HarnessPort } from '../../harness/jsonLines';
import { createNodePeerConnection, type NodePeerOptions } from '../../harness/nodePeers';
import { negotiate } from '../../harness/signalling';
import { REPO_ROOT, spawnScript, stopScript, signal } from '../../harness/spawnScript';
import type { StaticServer } from './staticServer';

/** Debian's Chromium. */
export const CHROMIUM_EXECUTABLE = '/usr/bin/chromium';

/** Flags from WEBRTC-FACTS.md (the recipe that gathered 127.0.0.1 candidates). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

/** The page harness module, as exposed on `window.harness`. */
export type PageHarness = typeof import('./page/pageHarness');

/** A launched browser with one page. */
export interface ChromiumSession {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly userDataDir: string;
  /** Closes the browser and deletes the profile directory. Idempotent. */
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile. Call inside the loopback-only namespace. */
export async function launchChromium(options: { args?: readonly string[]; timeoutMs?: number } = {}): Promise<ChromiumSession> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tallow-chromium-'));
  const home = path.join(userDataDir, 'home');
  fs.mkdirSync(home);
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(path.join(userDataDir, 'profile'), {
      executablePath: CHROMIUM_EXECUTABLE,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_CACHE_HOME: path.join(home, '.cache') },
      timeout: options.timeoutMs ?? 30_000,
    });
  } catch (error) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  context.setDefaultTimeout(options.timeoutMs ?? 30_000);
  const page = context.pages()[0] ?? (await context.newPage());
  let closed = false;
  return {
    context,
    page,
    userDataDir,
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Calls `window.harness[name](...args)` in the page. */
export function callHarness<K extends keyof PageHarness>(
  page: Page,
  name: K,
  ...args: PageHarness[K] extends (...a: infer A) => unknown ? A : never
): Promise<PageHarness[K] extends (...a: never[]) => infer R ? Awaited<R> : never> {
  return page.evaluate(([n, a]) => (window as any).harness[n](...a), [name, args] as const) as any;
}

/** Loads the harness page from `server`, waits for its bundles, and runs `harness.init()`. */
export async function openHarnessPage(page: Page, server: StaticServer): Promise<{ userAgent: string; secureContext: boolean }> {
  await page.goto(server.url);
  await page.waitForFunction(() => (window as any).harnessReady === true);
  return callHarness(page, 'init');
}

/** Session ids for signalling sockets. */
let sessionSeq = 0;

/**
 * Connects the page (offerer) to a new node-datachannel peer in this process (answerer) over
 * the server's signalling WebSocket. Resolves when both sides are connected.
 */
export async function connectPageToNode(page: Page, server: StaticServer, options: NodePeerOptions = {}): Promise<{ pc: RTCPeerConnection; peerKey: string }> {
  const session = `s${process.pid}-${++sessionSeq}`;
  const pc = createNodePeerConnection(options);
  try {
    const pageSide = callHarness(page, 'connectToNode', `${server.signalUrl}?session=${session}`);
    pageSide.catch(() => undefined);
    const transport = await server.signalling(session);
    const [peerKey] = await Promise.all([pageSide, negotiate(pc, { role: 'answerer', transport })]);
    return { pc, peerKey };
  } catch (error) {
    pc.close();
    throw error;
  }
}

/** What a Chromium runner module receives (it runs inside the namespace). */
export interface ChromiumRunnerContext {
  readonly page: Page;
  readonly context: BrowserContext;
  readonly server: StaticServer;
  /** Messages to and from the test. */
  readonly port: HarnessPort;
  /** `args` from `spawnChromiumRunner`, JSON round-tripped. */
  readonly args: unknown;
  /** `connectPageToNode(page, server, options)`; the runner closes these peers on exit. */
  connectToNode(options?: NodePeerOptions): Promise<{ pc: RTCPeerConnection; peerKey: string }>;
}

/** The default export of a Chromium runner module; its JSON result becomes `runner.result`. */
export type ChromiumRunnerModule = (context: ChromiumRunnerContext) => unknown;

/** Passed to the runner as JSON on its command line. */
export interface ChromiumRunnerConfig {
  readonly bundles: Record<string, string>;
  readonly timeoutMs: number;
  readonly args?: unknown;
}

/** Options of {@link spawnChromiumRunner}. */
export interface SpawnChromiumRunnerOptions {
  /** Extra browser bundles: name → entry (absolute or relative to the repo root), as `window.bundles[name]`. */
  readonly bundles?: Record<string, string>;
  /** Passed to the module as `context.args`. */
  readonly args?: unknown;
  /** Time allowed for bundling + launch + page load. Default 60 s. */
  readonly timeoutMs?: number;
  /** Copy the runner's stderr to ours. Default: HARNESS_VERBOSE. */
  readonly echoStderr?: boolean;
}

/** A runner started by {@link spawnChromiumRunner}. */
export interface SpawnedChromiumRunner {
  readonly pid: number;
  readonly port: HarnessPort;
  /** The module's result; rejects with its error or if the runner exits first. Never unhandled. */
  readonly result: Promise<unknown>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
  stderr(): string;
  /** Asks the runner to close Chromium and exit; SIGTERM then SIGKILL by PID if it does not. */
  close(): Promise<void>;
}

/** The namespaced runner script. */
export const CHROMIUM_RUNNER_SCRIPT = fileURLToPath(new URL('./chromiumRunner.ts', import.meta.url));

/**
 * Starts the Chromium runner in a loopback-only network namespace and resolves once Chromium
 * is up, the page is loaded and the module has started (`ready`).
 */
export async function spawnChromiumRunner(module: string | URL, options: SpawnChromiumRunnerOptions = {}): Promise<SpawnedChromiumRunner> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const modulePath = module instanceof URL ? fileURLToPath(module) : path.resolve(REPO_ROOT, module);
  const bundles = Object.fromEntries(Object.entries(options.bundles ?? {}).map(([name, entry]) => [name, path.resolve(REPO_ROOT, entry)]));
  const config: ChromiumRunnerConfig = { bundles, timeoutMs, args: options.args };
  const spawned = spawnScript(CHROMIUM_RUNNER_SCRIPT, [modulePath, JSON.stringify(config)], { loopbackNamespace: true, echoStderr: options.echoStderr });
  const describe = (what: string): Error => new Error(`spawnChromiumRunner: ${what}\n--- runner stderr ---\n${spawned.stderr()}`);
  const result = new Promise<unknown>((resolve, reject) => {
    spawned.port.onMessage((e) => {
      if (e.t === 'result') resolve(e.value);
      else if (e.t === 'error') reject(describe(`runner failed: ${e.message}\n${e.stack ?? ''}`));
    });
    void spawned.exited.then(({ code, signal: sig }) => reject(describe(`runner exited (code ${code}, signal ${sig}) before a result`)));
  });
  result.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve) => spawned.port.onMessage((e) => e.t === 'ready' && resolve())),
      result.then(() => new Promise<never>(() => undefined)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(describe(`not ready after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    await stopScript(spawned, 2_000);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    pid: spawned.pid,
    port: createHarnessPort(spawned.port),
    result,
    exited: spawned.exited,
    kill: (sig = 'SIGKILL') => signal(spawned.pid, sig),
    stderr: spawned.stderr,
    close: () => stopScript(spawned, 10_000),
  };
}
