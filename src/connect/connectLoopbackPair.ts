/**
 * Connected node-datachannel peer connections in one process, on 127.0.0.1 only (Node.js only:
 * import it from `tallow-rx/node`). node-datachannel is an optional peer dependency, loaded on
 * the first call, so nothing else in tallow-rx requires it.
 */
import { TallowError } from '../errors';
import { MAX_CHANNELS } from '../protocol/control';
import { checkOptions, intIn, positiveMs } from '../transfer/checkOptions';
import { connectInProcess } from './connectInProcess';
import { BOOTSTRAP_CHANNEL_ID, NEGOTIATE_TIMEOUT_MS } from './negotiate';

/** Options for {@link connectLoopbackPair}. */
export interface LoopbackPairConfig {
  /** Peer-connection pairs ("lanes"), each its own ICE/DTLS/SCTP association. 1 to 16. Default 1. */
  readonly lanes?: number;
  /** libdatachannel's `maxMessageSize`, set on both peers, bytes. Default: libdatachannel's (262144). */
  readonly maxMessageSize?: number;
  /** Reject if a lane is not connected by then, ms. Default 15000. */
  readonly timeoutMs?: number;
}

/** What {@link connectLoopbackPair} resolves to. */
export interface LoopbackPair {
  /** One end of every lane (these made the offers). Pass them to `sendFile` or `receiveFile`. */
  readonly a: RTCPeerConnection[];
  /** The other end, index-aligned with `a`. */
  readonly b: RTCPeerConnection[];
  /** Closes every peer connection (and so every channel on them). Idempotent. */
  close(): Promise<void>;
}

/** The RTCConfiguration of a loopback peer: no ICE servers, and libdatachannel's `bindAddress` on 127.0.0.1. */
export function loopbackConfiguration(config: Pick<LoopbackPairConfig, 'maxMessageSize'> = {}): RTCConfiguration {
  // The polyfill spreads its configuration into libdatachannel's RtcConfig, so native options pass through.
  // Without bindAddress libjuice gathers no usable candidate on a loopback-only host and ICE never connects.
  const native: Record<string, unknown> = { iceServers: [], bindAddress: '127.0.0.1' };
  if (config.maxMessageSize !== undefined) native.maxMessageSize = config.maxMessageSize;
  return native as RTCConfiguration;
}

/** node-datachannel's W3C polyfill, imported on first use. */
const loadPolyfill = async (): Promise<typeof import('node-datachannel/polyfill')> => {
  try {
    return await import('node-datachannel/polyfill');
  } catch (error) {
    throw new TallowError('ERR_PEER_DEPENDENCY', 'connectLoopbackPair needs the optional peer dependency node-datachannel: npm install node-datachannel', { package: 'node-datachannel' }, { cause: error });
  }
};

/** Most time `close()` waits for each peer connection, and the connect waits for the bootstrap channel, to report closed, ms. */
const CLOSE_WAIT_MS = 1_000;

/** Resolves once `target` reports closed (`isClosed()`, checked on each `type` event), or after {@link CLOSE_WAIT_MS}. */
const closedOrAfter = (target: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>, type: string, isClosed: () => boolean): Promise<void> =>
  new Promise((resolve) => {
    if (isClosed()) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      target.removeEventListener(type, onEvent);
      resolve();
    };
    const onEvent = (): void => {
      if (isClosed()) done();
    };
    const timer = setTimeout(done, CLOSE_WAIT_MS);
    target.addEventListener(type, onEvent);
  });

/**
 * Connects `lanes` pairs of node-datachannel peer connections to each other inside this process,
 * over UDP on 127.0.0.1, with no STUN or TURN server.
 *
 * Each offerer gets a negotiated bootstrap channel before its offer, because node-datachannel's
 * `createOffer()` stays pending until a channel exists; the bootstrap is closed again once the
 * lane is connected, so the pair carries no channel of ours. The answerer creates no channel
 * before the offer arrives (libdatachannel would make a second offer). Until `close()`, the
 * native threads keep the process alive.
 *
 * ```
 * connectLoopbackPair({ lanes: 2 }):  ──────(p|)     p = { a: [a0, a1], b: [b0, b1], close }
 * ```
 *
 * ## Example
 * ```ts
 * import { lastValueFrom } from 'rxjs';
 * import { blobTarget, receiveFile, sendFile } from 'tallow-rx';
 * import { connectLoopbackPair } from 'tallow-rx/node';
 *
 * const pair = await connectLoopbackPair();
 * const received = lastValueFrom(receiveFile(pair.b, { target: blobTarget() }));
 * await lastValueFrom(sendFile(pair.a, new Blob(['hello'])));
 * await received;
 * await pair.close();
 * ```
 *
 * @see sendFile
 * @see receiveFile
 * @param config Lanes, message size, timeout.
 * @return The connected peer connections and `close()`. Rejects with `InvalidConfigError` for bad
 * options (a `config` that is not an object, such as `null`, `5` or `[]`, or a field out of range), `TallowError` `ERR_PEER_DEPENDENCY` when node-datachannel is not installed, and
 * `TallowError` `ERR_CONNECT_FAILED` when a lane does not connect (everything is closed then).
 */
export async function connectLoopbackPair(config: LoopbackPairConfig = {}): Promise<LoopbackPair> {
  const { lanes = 1, maxMessageSize, timeoutMs = NEGOTIATE_TIMEOUT_MS } = checkOptions('connectLoopbackPair', config, {
    lanes: { ...intIn(1, MAX_CHANNELS), says: `an integer from 1 to ${MAX_CHANNELS}` },
    maxMessageSize: intIn(1),
    timeoutMs: positiveMs,
  }, 'config', []);

  const { RTCPeerConnection: PolyfillPeerConnection } = await loadPolyfill();
  const create = (): RTCPeerConnection => new PolyfillPeerConnection(loopbackConfiguration({ maxMessageSize })) as unknown as RTCPeerConnection;
  const a = Array.from({ length: lanes }, create);
  const b = Array.from({ length: lanes }, create);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const pc of [...a, ...b]) pc.close();
      // The polyfill dispatches its close events from setImmediate: let them land before resolving.
      await Promise.all([...a, ...b].map((pc) => closedOrAfter(pc, 'connectionstatechange', () => pc.connectionState === 'closed')));
      await new Promise((resolve) => setTimeout(resolve, 0));
    })());

  try {
    await Promise.all(
      a.map(async (offerer, i) => {
        const bootstrap = offerer.createDataChannel('bootstrap', { negotiated: true, id: BOOTSTRAP_CHANNEL_ID });
        await connectInProcess(offerer, b[i], { timeoutMs, bootstrap: false });
        // The polyfill dispatches the channel's close from setImmediate: wait, so the pair resolves with no channel.
        bootstrap.close();
        await closedOrAfter(bootstrap, 'close', () => bootstrap.readyState === 'closed');
      }),
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { a, b, close };
}
