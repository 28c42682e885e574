/**
 * Two connected simple-peer 9 instances in this process, on node-datachannel's
 * polyfill (`wrtc` option), ICE on 127.0.0.1 only.
 *
 * simple-peer does not work with the polyfill as it ships: `_createOffer` does
 * `offer.sdp = this.sdpTransform(offer.sdp)` on what `createOffer()` returned,
 * and the polyfill returns an `RTCSessionDescription` whose `sdp` is a getter
 * only, so the assignment throws inside simple-peer's (strict) class body:
 * `ERR_CREATE_OFFER: Cannot set property sdp of #<RTCSessionDescription> which
 * has only a getter`, and the peer is destroyed before any signal is sent.
 * The shim below returns plain `{ type, sdp }` objects from `createOffer` and
 * `createAnswer` (what browsers' `RTCSessionDescriptionInit` allows). Nothing
 * else is changed: channels, sends and backpressure are simple-peer's own.
 * simple-peer passes `config` through to the constructor, so
 * `bindAddress: '127.0.0.1'` reaches libdatachannel through it.
 */
import { createRequire } from 'node:module';
import { RTCIceCandidate, RTCPeerConnection, RTCSessionDescription } from 'node-datachannel/polyfill';

/** The part of simple-peer's API the benchmark uses (simple-peer ships no types). */
export interface SimplePeerInstance {
  on(event: 'signal', listener: (data: unknown) => void): this;
  on(event: 'connect' | 'close', listener: () => void): this;
  on(event: 'error', listener: (error: Error & { code?: string }) => void): this;
  on(event: 'data', listener: (data: Uint8Array) => void): this;
  once(event: 'drain', listener: () => void): this;
  removeListener(event: string, listener: (...args: any[]) => void): this;
  signal(data: unknown): void;
  /** Writable side of the Duplex: false once its buffer passes the stream's highWaterMark; wait for 'drain'. */
  write(chunk: Uint8Array): boolean;
  destroy(error?: Error): void;
}

type SimplePeerConstructor = new (options: Record<string, unknown>) => SimplePeerInstance;

const SimplePeer = createRequire(import.meta.url)('simple-peer') as SimplePeerConstructor;

/** `createOffer`/`createAnswer` return plain objects, so simple-peer may assign `sdp`. */
class WritableSdpPeerConnection extends (RTCPeerConnection as unknown as new (config?: unknown) => any) {
  async createOffer(): Promise<{ type: string; sdp: string }> {
    const d = await super.createOffer();
    return { type: d.type, sdp: d.sdp };
  }
  async createAnswer(): Promise<{ type: string; sdp: string }> {
    const d = await super.createAnswer();
    return { type: d.type, sdp: d.sdp };
  }
}

/** The `wrtc` option: the polyfill, with the SDP shim. */
export const SIMPLE_PEER_WRTC = { RTCPeerConnection: WritableSdpPeerConnection, RTCSessionDescription, RTCIceCandidate };

/** The `config` option: no ICE servers, and libdatachannel bound to loopback. */
export const LOOPBACK_CONFIG = { iceServers: [], bindAddress: '127.0.0.1' };

/** A connected pair; `errors` collects every 'error' either peer emitted (none should). */
export interface SimplePeerPair {
  readonly a: SimplePeerInstance;
  readonly b: SimplePeerInstance;
  readonly errors: readonly Error[];
  /** Destroys both peers; idempotent. */
  close(): Promise<void>;
}

/**
 * Creates an initiator `a` and a responder `b`, relays their signals in
 * process, and resolves once both emit 'connect' (rejects on the first
 * 'error' or after `timeoutMs`, default 30 s). Both peers keep an 'error'
 * listener for life, so a late error (after `close()`) is recorded, never thrown.
 */
export async function createSimplePeerPair(timeoutMs = 30_000): Promise<SimplePeerPair> {
  const a = new SimplePeer({ initiator: true, wrtc: SIMPLE_PEER_WRTC, config: LOOPBACK_CONFIG });
  const b = new SimplePeer({ wrtc: SIMPLE_PEER_WRTC, config: LOOPBACK_CONFIG });
  const errors: Error[] = [];
  a.on('error', (e) => errors.push(e));
  b.on('error', (e) => errors.push(e));
  const close = async (): Promise<void> => {
    a.destroy();
    b.destroy();
    // The polyfill dispatches 'close' from setImmediate; let it land before the next run.
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  a.on('signal', (data) => b.signal(data));
  b.on('signal', (data) => a.signal(data));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let connected = 0;
      const onConnect = () => ++connected === 2 && resolve();
      a.on('connect', onConnect).on('error', reject);
      b.on('connect', onConnect).on('error', reject);
      timer = setTimeout(() => reject(new Error(`simple-peer: not connected after ${timeoutMs} ms`)), timeoutMs);
    });
  } catch (error) {
    await close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { a, b, errors, close };
}
