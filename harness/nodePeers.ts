/**
 * Node ↔ Node WebRTC in one process: node-datachannel's polyfill, ICE on 127.0.0.1 only.
 *
 * Measured with node-datachannel 0.33.4 (libdatachannel 0.24.5) on this machine:
 * - The polyfill spreads its config into libdatachannel's `RtcConfig`, so the native
 *   options `bindAddress`, `enableIceUdpMux`, `portRangeBegin/End` and `maxMessageSize`
 *   pass straight through. `bindAddress: '127.0.0.1'` makes libjuice gather exactly one
 *   candidate, `UDP 127.0.0.1 <port> typ host`; the selected pair is 127.0.0.1 ↔ 127.0.0.1.
 *   Without it the host has no usable route and ICE silently never connects.
 * - `maxMessageSize` must be set on both peers; the default is 262144.
 * - Connecting takes 10 ms to about 1 s (the 1 s case is libjuice's check pacing).
 * - An open peer connection keeps the process alive (native thread-safe callbacks):
 *   a script that never calls `close()` never exits. `close()` on every pc is enough;
 *   `shutdownNodeDataChannel()` (libdatachannel `cleanup()`) closes whatever is left
 *   and joins the native threads; call it in `afterAll` of suites that may leak.
 * - Dead-peer detection is slow: after the remote process dies, libdatachannel closes
 *   the connection after ~30 s when idle and ~13 s while sending (no setting exposed
 *   by the binding shortens it). See spawnPeer.ts for the harness watchdog.
 * - The signalling order that works with the polyfill (a channel before `createOffer()`) is
 *   described in src/connect/negotiate.ts; `connectLoopbackPair` applies it.
 */
import nodeDataChannel from 'node-datachannel';
import { RTCPeerConnection as PolyfillPeerConnection } from 'node-datachannel/polyfill';
import { connectLoopbackPair, loopbackConfiguration, type LoopbackPairConfig } from '../src/connect/connectLoopbackPair';
import { BOOTSTRAP_CHANNEL_ID } from '../src/connect/negotiate';
import { createNegotiatedChannels, waitForClose, waitForOpen } from './channels';

/** Options for a node-datachannel peer connection. */
export interface NodePeerOptions {
  /** libdatachannel's `maxMessageSize`, set on both peers. Default: library default (262144). */
  readonly maxMessageSize?: number;
}

/** One lane: a connected pair of peer connections. `a` made the offer. */
export interface Lane {
  readonly a: RTCPeerConnection;
  readonly b: RTCPeerConnection;
}

/** Channels created by `openChannels`, per lane, so `close()` can wait for them. */
const laneChannels = new WeakMap<Lane, RTCDataChannel[]>();
/** Next free negotiated id, per lane. */
const nextId = new WeakMap<Lane, number>();

/**
 * A node-datachannel polyfill `RTCPeerConnection` that only uses 127.0.0.1 and no ICE servers
 * (`loopbackConfiguration`, the one `connectLoopbackPair` uses). For peers that signal through
 * something other than this process's memory: `spawnPeer`, the Chromium runner.
 */
export function createNodePeerConnection(options: NodePeerOptions = {}): RTCPeerConnection {
  return new PolyfillPeerConnection(loopbackConfiguration(options)) as unknown as RTCPeerConnection;
}

/**
 * Creates `lanes` connected peer-connection pairs (default 1), each its own ICE/DTLS/SCTP stack:
 * `connectLoopbackPair` (`tallow-rx/node`), shaped as lanes, whose `close()` also waits for the
 * channels `openChannels` made. Resolves once `connectionState === 'connected'` on both sides of
 * every lane.
 */
export async function createNodePeerPair(opts: Pick<LoopbackPairConfig, 'lanes' | 'maxMessageSize'> = {}): Promise<{ lanes: Lane[]; close(): Promise<void> }> {
  const pair = await connectLoopbackPair(opts);
  const lanes: Lane[] = pair.a.map((a, i) => ({ a, b: pair.b[i] }));
  const close = async (): Promise<void> => {
    const channels = lanes.flatMap((lane) => laneChannels.get(lane) ?? []);
    await pair.close();
    // The polyfill dispatches 'close' from setImmediate; wait so no event lands after the test.
    await Promise.allSettled(channels.map((c) => waitForClose(c, 2_000)));
  };
  return { lanes, close };
}

/**
 * Opens `count` negotiated channels on `lane` (ids allocated per lane from 0) and resolves when
 * every end is open. Returns `[channels on a, channels on b]`, index-aligned.
 */
export async function openChannels(lane: Lane, count: number, init: RTCDataChannelInit = {}): Promise<[RTCDataChannel[], RTCDataChannel[]]> {
  const first = nextId.get(lane) ?? 0;
  if (first + count > BOOTSTRAP_CHANNEL_ID) throw new RangeError(`openChannels: ids ${first}..${first + count - 1} reach the reserved id ${BOOTSTRAP_CHANNEL_ID}`);
  nextId.set(lane, first + count);
  const ids = Array.from({ length: count }, (_, i) => first + i);
  const local = createNegotiatedChannels(lane.a, ids, init);
  const remote = createNegotiatedChannels(lane.b, ids, init);
  laneChannels.set(lane, [...(laneChannels.get(lane) ?? []), ...local, ...remote]);
  await Promise.all([...local, ...remote].map((c) => waitForOpen(c)));
  return [local, remote];
}

/**
 * Closes every node-datachannel object left in this process and joins libdatachannel's threads
 * (`nodeDataChannel.cleanup()`, which waits up to 10 s). Peer connections are unusable afterwards.
 */
export function shutdownNodeDataChannel(): void {
  // Not inside a vitest worker: vitest ends the worker process after each file anyway, and cleanup() is
  // synchronous native code (it closes every connection and joins libdatachannel's threads). Were it to
  // deadlock in an afterAll, it would block the event loop, where no vitest timeout can end it.
  if (process.env.VITEST) return;
  nodeDataChannel.cleanup();
}
