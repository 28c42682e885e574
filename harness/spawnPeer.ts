/**
 * Node ↔ Node WebRTC across two processes: this process is the offerer, a child running
 * `childPeer.ts` is the answerer; signalling is JSON lines over the child's stdin/stdout.
 *
 * The child imports `module` and calls its default export with a {@link ChildPeerContext}
 * once every lane is connected and every channel is open on both sides.
 *
 * Ordering contract (there is no buffering anywhere):
 * - Parent → child data is safe as soon as `spawnPeer` resolves, provided the module
 *   attached its channel listeners before its first `await`: the child only reports
 *   `ready` after the module's synchronous part has run.
 * - Child → parent data: have the module wait for a port message (`await port.next()`)
 *   and send that message after attaching the parent's listeners.
 *
 * Dead-peer watchdog (`closeOnExit`, default true): libdatachannel notices a vanished
 * peer only after ~30 s idle / ~13 s under load (measured: the connection goes straight
 * to `closed`, with no `disconnected`/`failed` step, and no binding setting shortens
 * it). So when the child process exits, the harness closes this side's peer
 * connections, and its channels fire `close` within milliseconds of the exit. Resume
 * tests that need the real network-level detection must pass `closeOnExit: false` and
 * allow ~35 s.
 */
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNegotiatedChannels, waitForClose, waitForOpen } from './channels';
import { createHarnessPort, laneTransport, type Envelope, type HarnessPort } from './jsonLines';
import { createNodePeerConnection } from './nodePeers';
import { negotiate } from './signalling';
import { REPO_ROOT, spawnScript, stopScript, signal } from './spawnScript';

/** What the child's module receives. */
export interface ChildPeerContext {
  /** The child's peer connections, one per lane (answerer side). */
  readonly lanes: RTCPeerConnection[];
  /** `channels[lane][i]` has negotiated id `i`, open. */
  readonly channels: RTCDataChannel[][];
  /** Messages to and from the test. */
  readonly port: HarnessPort;
  /** `args` from `spawnPeer`, JSON round-tripped. */
  readonly args: unknown;
}

/** The default export of a child module. Its (JSON-serialisable) result becomes `peer.result`. */
export type ChildPeerModule = (context: ChildPeerContext) => unknown;

/** Passed to the child as JSON on its command line. */
export interface ChildPeerConfig {
  readonly lanes: number;
  readonly channels: number;
  readonly channelInit?: RTCDataChannelInit;
  readonly maxMessageSize?: number;
  readonly timeoutMs: number;
  readonly args?: unknown;
}

/** Options of {@link spawnPeer}. */
export interface SpawnPeerOptions {
  /** The child module: a path (absolute or relative to the repo root) or a `file:` URL. */
  readonly module: string | URL;
  /** Peer-connection pairs. Default 1. */
  readonly lanes?: number;
  /** Negotiated channels per lane, ids 0..channels-1. Default 1. */
  readonly channels?: number;
  /** Init for every channel (ordered, maxRetransmits…). */
  readonly channelInit?: RTCDataChannelInit;
  /** libdatachannel `maxMessageSize` on both sides. */
  readonly maxMessageSize?: number;
  /** Passed to the module as `context.args`. */
  readonly args?: unknown;
  /** Close this side's peer connections when the child exits. Default true (see file comment). */
  readonly closeOnExit?: boolean;
  /** Setup timeout (spawn + connect + open). Default 20 s. */
  readonly timeoutMs?: number;
  /** Copy the child's stderr to ours. Default: HARNESS_VERBOSE. */
  readonly echoStderr?: boolean;
}

/** A connected child peer. */
export interface SpawnedPeer {
  readonly pid: number;
  /** This side's peer connections (offerer), one per lane. */
  readonly lanes: RTCPeerConnection[];
  /** `channels[lane][i]` pairs with the child's `channels[lane][i]`. */
  readonly channels: RTCDataChannel[][];
  readonly port: HarnessPort;
  /** The module's result; rejects with its error or if the child exits first. Never unhandled. */
  readonly result: Promise<unknown>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal to the child, by PID. */
  kill(signal?: NodeJS.Signals): void;
  /** The tail of the child's stderr. */
  stderr(): string;
  /** Stops the child (close → SIGTERM → SIGKILL) and closes this side. Idempotent. */
  close(): Promise<void>;
}

/** The child script. */
export const CHILD_PEER_SCRIPT = fileURLToPath(new URL('./childPeer.ts', import.meta.url));

/** Spawns a child peer, connects `lanes` lanes to it, opens `channels` channels per lane. */
export async function spawnPeer(options: SpawnPeerOptions): Promise<SpawnedPeer> {
  const { lanes: laneCount = 1, channels: channelCount = 1, channelInit = {}, maxMessageSize, args, closeOnExit = true, timeoutMs = 20_000 } = options;
  const modulePath = options.module instanceof URL ? fileURLToPath(options.module) : resolvePath(REPO_ROOT, options.module);
  const config: ChildPeerConfig = { lanes: laneCount, channels: channelCount, channelInit, maxMessageSize, timeoutMs, args };
  const spawned = spawnScript(CHILD_PEER_SCRIPT, [modulePath, JSON.stringify(config)], { echoStderr: options.echoStderr });
  const { port: envelopes } = spawned;
  const port = createHarnessPort(envelopes);

  const lanes = Array.from({ length: laneCount }, () => createNodePeerConnection({ maxMessageSize }));
  const ids = Array.from({ length: channelCount }, (_, i) => i);
  // Created before the offer, so they exist before any data can arrive.
  const channels = lanes.map((pc) => createNegotiatedChannels(pc, ids, channelInit));

  let closed = false;
  const closeLocal = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    lanes.forEach((pc) => pc.close());
    await Promise.allSettled(channels.flat().map((c) => waitForClose(c, 2_000)));
  };
  if (closeOnExit) void spawned.exited.then(closeLocal);

  const describe = (what: string): Error => new Error(`spawnPeer: ${what}\n--- child stderr ---\n${spawned.stderr()}`);
  const result = new Promise<unknown>((resolve, reject) => {
    envelopes.onMessage((e) => {
      if (e.t === 'result') resolve(e.value);
      else if (e.t === 'error') reject(describe(`child failed: ${e.message}\n${e.stack ?? ''}`));
    });
    void spawned.exited.then(({ code, signal: sig }) => reject(describe(`child exited (code ${code}, signal ${sig}) before a result`)));
  });
  result.catch(() => undefined);

  // Set when the child reported `ready`: from then on the module's failure is the peer's `result`, not a setup failure.
  let readySeen = false;
  const ready = new Promise<void>((resolve) =>
    envelopes.onMessage((e: Envelope) => {
      if (e.t !== 'ready') return;
      readySeen = true;
      resolve();
    }),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const setup = (async () => {
    await Promise.all(lanes.map((pc, lane) => negotiate(pc, { role: 'offerer', transport: laneTransport(envelopes, lane), timeoutMs })));
    await Promise.all(channels.flat().map((c) => waitForOpen(c, timeoutMs)));
    await ready;
  })();
  try {
    await Promise.race([
      setup,
      // A module may finish before 'ready' is processed here; only its failure ends the setup, and only
      // before the child said ready: 'ready' comes first, but under load this side's channels may fire
      // 'open' after both envelopes arrived (the likely cause of one unexplained failure of "a failing
      // module rejects result" in a loaded run).
      result.then(
        () => new Promise<never>(() => undefined),
        (error: unknown) => (readySeen ? new Promise<never>(() => undefined) : Promise.reject(error)),
      ),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(describe(`not ready after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    setup.catch(() => undefined);
    await stopScript(spawned, 1_000);
    await closeLocal();
    const message = error instanceof Error ? error.message : String(error);
    throw message.startsWith('spawnPeer:') ? error : describe(`setup failed: ${message}`);
  } finally {
    clearTimeout(timer);
  }

  return {
    pid: spawned.pid,
    lanes,
    channels,
    port,
    result,
    exited: spawned.exited,
    kill: (sig = 'SIGKILL') => signal(spawned.pid, sig),
    stderr: spawned.stderr,
    async close() {
      await stopScript(spawned);
      envelopes.close();
      await closeLocal();
    },
  };
}
