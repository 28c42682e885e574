/**
 * tallow-rx itself: `sendFile` / `receiveFile` from src/index.ts. The receiver
 * writes into a WritableStream that hashes what it is given (so every run's
 * SHA-256 is checked independently of the library's own verification, and the
 * file is not held in memory).
 */
import { createHash } from 'node:crypto';
import type { Observable, Subscription } from 'rxjs';
import { receiveFile, sendFile, writableTarget, type SendOptions, type TransferEvent, type TransferStats } from '../../../src/index';
import { createNodePeerConnection } from '../../../harness/nodePeers';
import { emulatedLaneOptions, isRelayableCandidate } from '../emulatedSignalling';
import { connectPeers } from '../peers';
import { controlPingNote, unansweredPings, watchControlPings } from '../controlPing';
import { traceChannels } from '../channelTrace';
import { laneLog } from '../laneLog';
import { withTimeout, type NetworkSystem, type TransferInput, type TransferOutcome } from './types';

/** Subscribes to `events$`; the promise settles when it completes or errors. Unsubscribe to stop it early. */
const collect = (events$: Observable<TransferEvent>, onEvent: (e: TransferEvent) => void): { done: Promise<void>; stop: () => void } => {
  let subscription: Subscription | undefined;
  const done = new Promise<void>((resolve, reject) => {
    subscription = events$.subscribe({ next: onEvent, error: reject, complete: resolve });
  });
  return { done, stop: () => subscription?.unsubscribe() };
};

const kib = (n: number) => `${Math.round(n / 1024)}K`;

/** How a tallow-rx system runs, besides its send options. */
export interface TallowSystemConfig {
  /**
   * Let the library open lanes in band (`createConnection`: node-datachannel's, on 127.0.0.1 only), through
   * the emulator when there is one (`emulatedLaneOptions`). Default false: no factory, so Node opens none.
   */
  readonly inband?: boolean;
}

/**
 * A tallow-rx system named `name`: `lanes` peer-connection pairs are offered
 * to `sendFile`/`receiveFile` (the tuning decides how many it uses), with `options` for sendFile.
 */
export function tallow(name: string, lanes: number, options: SendOptions = {}, config: TallowSystemConfig = {}): NetworkSystem {
  return {
    name,
    async run(input: TransferInput): Promise<TransferOutcome> {
      // Setup failures (no 'started' event yet) get fresh connections; see SETUP_ATTEMPTS.
      for (let attempt = 1; ; attempt++) {
        try {
          const outcome = await once(name, lanes, options, input, config);
          return attempt > 1 ? { ...outcome, notes: [...(outcome.notes ?? []), `${attempt - 1} setup retr${attempt > 2 ? 'ies' : 'y'}`] } : outcome;
        } catch (error) {
          if (!(error instanceof SetupError) || attempt >= SETUP_ATTEMPTS) throw error instanceof SetupError ? error.cause : error;
        }
      }
    },
  };
}

/**
 * Attempts per run when the transfer fails before data flows. The library's
 * in-band control channel sometimes never opens, or closes right after opening,
 * on a fresh node-datachannel connection (reproduced with a plain
 * `createDataChannel` too: see docs/benchmarks.md, "Emulated networks").
 */
export const SETUP_ATTEMPTS = 3;
/** How long the sender waits for the receiver's accept (the library's default is 120 s). */
export const BENCH_ACCEPT_TIMEOUT = 10_000;

class SetupError extends Error {
  constructor(override readonly cause: unknown) {
    super('setup failed');
  }
}

/** The lane options of both sides for `config` (none without `inband`). */
function laneOptionsOf(config: TallowSystemConfig, input: TransferInput) {
  if (!config.inband) return { sender: {}, receiver: {} };
  const createConnection = () => createNodePeerConnection();
  const routed = input.emulator ? emulatedLaneOptions(input.emulator) : { sender: { acceptLaneCandidate: isRelayableCandidate }, receiver: { acceptLaneCandidate: isRelayableCandidate } };
  return { sender: { createConnection, ...routed.sender }, receiver: { createConnection, ...routed.receiver } };
}

/** The lane count over time from the sender's stats, `1@0 2@1.5 …` (s since the start), when it changed. */
const laneTimeline = (stats: readonly TransferStats[], startMs: number | undefined): string => {
  const steps: string[] = [];
  let last: number | undefined;
  for (const st of stats) {
    if (st.lanes === undefined || st.lanes === last) continue;
    last = st.lanes;
    steps.push(`${st.lanes}@${startMs === undefined ? '?' : ((st.timestamp - startMs) / 1000).toFixed(1)}${st.laneChange ? `(${st.laneChange.reason})` : ''}`);
  }
  return steps.length > 1 ? `lanes ${steps.join(' ')}` : '';
};

async function once(name: string, lanes: number, options: SendOptions, input: TransferInput, config: TallowSystemConfig): Promise<TransferOutcome> {
  const peers = await connectPeers(input.emulator, { lanes });
  const laneOptions = laneOptionsOf(config, input);
  const pings = watchControlPings(peers.lanes[0].a);
  const trace = process.env.NETWORK_BENCH_TRACE ? traceChannels(peers.lanes[0].a, peers.lanes[0].b) : undefined;
  let started = false;
  try {
    const { data } = input;
    const hash = createHash('sha256');
    let got = 0;
    const target = writableTarget(
      () =>
        new WritableStream<Uint8Array>({
          write(chunk) {
            hash.update(chunk);
            got += chunk.length;
          },
        }),
    );
    let receivedAt = 0;
    let librarySha: string | undefined;
    let manifest: { channels: number; lanes: number; chunk: { min: number; max: number } } | undefined;
    const senderStats: TransferStats[] = [];
    const chunkSizes: number[] = [];
    // Payload the sender sent again (NACKed, or its channel closed), from its `completed` event.
    let resentBytes = 0;
    const startedAt = performance.now();
    const startedWall = Date.now();
    // NETWORK_BENCH_LANE_LOG=1: the lane controller's decisions of this run, printed after it (rows with in-band lanes).
    const decisions = process.env.NETWORK_BENCH_LANE_LOG && config.inband ? laneLog(startedWall) : undefined;
    const receiving = collect(receiveFile(peers.lanes.map((l) => l.b), { target, ...laneOptions.receiver }), (e) => {
      if (e.type === 'completed') {
        receivedAt = performance.now();
        librarySha = e.sha256;
      }
    });
    const sending = collect(sendFile(peers.lanes.map((l) => l.a), data, { acceptTimeoutMs: BENCH_ACCEPT_TIMEOUT, ...laneOptions.sender, ...options, ...(decisions && { onLaneDecision: decisions.onLaneDecision }) }), (e) => {
      if (e.type === 'started') {
        started = true;
        manifest = e.manifest;
      }
      if (e.type === 'completed') resentBytes = e.retransmittedBytes ?? 0;
      if (e.type === 'stats') {
        senderStats.push(e.stats);
        if (e.stats.chunkSize && !e.stats.final) chunkSizes.push(e.stats.chunkSize);
      }
    });
    try {
      await withTimeout(Promise.all([sending.done, receiving.done]), input.timeoutMs, name);
    } catch (error) {
      throw started ? error : new SetupError(error);
    } finally {
      sending.stop();
      receiving.stop();
      trace?.stop();
      if (decisions) console.error(`[lanes] ${name}: the lane controller's decisions\n${decisions.lines().join('\n')}`);
    }
    const intact = hash.digest('hex') === input.sha256 && got === data.length;
    const last = senderStats.filter((s) => !s.final).at(-1) ?? senderStats.at(-1);
    const rtts = senderStats.map((s) => s.rtt.current).filter((r): r is number => r !== undefined);
    const notes = [
      manifest ? `${manifest.channels} ch × ${manifest.lanes} lane${manifest.lanes > 1 ? 's' : ''}, chunks ${kib(manifest.chunk.min)}-${kib(manifest.chunk.max)}` : '',
      chunkSizes.length ? `used ${kib(Math.min(...chunkSizes))}-${kib(Math.max(...chunkSizes))}` : '',
      laneTimeline(senderStats, startedWall),
      controlPingNote(pings, startedWall, startedWall + (receivedAt - startedAt)),
      rtts.length ? `RTT seen ${Math.min(...rtts).toFixed(0)}-${Math.max(...rtts).toFixed(0)} ms` : '',
      resentBytes ? `resent ${kib(resentBytes)}` : '',
      last && last.bottleneck !== 'none' ? `bottleneck ${last.bottleneck}` : '',
      librarySha !== input.sha256 ? 'LIBRARY SHA-256 MISMATCH' : '',
      intact ? 'sha256 ok' : 'WRONG BYTES',
    ].filter(Boolean);
    const endWall = startedWall + (receivedAt - startedAt);
    if (trace && unansweredPings(pings, startedWall, endWall).some((t) => t < endWall - 3000)) console.error(`[trace] ${name}: control pings unanswered\n${trace.lines().join('\n')}`);
    return { seconds: (receivedAt - startedAt) / 1000, delivered: intact ? got : 0, intact, corruptBytes: intact ? 0 : undefined, notes };
  } finally {
    await peers.close();
  }
}
