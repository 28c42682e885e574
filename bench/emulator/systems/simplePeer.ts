/**
 * simple-peer 9.11 itself, on node-datachannel's polyfill (`wrtc` option):
 * one ordered reliable channel, its own 64 KiB backpressure, 16 KiB writes.
 *
 * One shim was needed: simple-peer assigns `offer.sdp = …` to what
 * `createOffer()` returns, and the polyfill's `RTCSessionDescription.sdp` is a
 * getter only (TypeError "Cannot set property sdp"). The shim's
 * `createOffer`/`createAnswer` return plain `{ type, sdp }` objects, as browsers
 * effectively allow. simple-peer has no types: the small interface below is ours.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { RTCIceCandidate, RTCPeerConnection, RTCSessionDescription } from 'node-datachannel/polyfill';
import { rewriteCandidate, rewriteSdp } from '../emulatedSignalling';
import type { LinkEmulatorApi } from '../UdpRelay';
import { withTimeout, type NetworkSystem, type TransferInput, type TransferOutcome } from './types';

/** The part of simple-peer's API used here. */
interface SimplePeerInstance {
  on(event: 'signal', listener: (data: any) => void): void;
  on(event: 'connect' | 'close', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'data', listener: (data: Uint8Array) => void): void;
  once(event: 'drain', listener: () => void): void;
  signal(data: unknown): void;
  write(chunk: Uint8Array): boolean;
  destroy(): void;
}
type SimplePeerConstructor = new (options: Record<string, unknown>) => SimplePeerInstance;

const SimplePeer = createRequire(import.meta.url)('simple-peer') as SimplePeerConstructor;

/** node-datachannel's polyfill, adjusted so simple-peer can rewrite SDP, on 127.0.0.1 only. */
class CompatPeerConnection extends (RTCPeerConnection as unknown as new (config?: Record<string, unknown>) => any) {
  constructor(config: Record<string, unknown> = {}) {
    super({ ...config, iceServers: [], bindAddress: '127.0.0.1' });
  }
  async createOffer(options?: unknown): Promise<{ type: string; sdp: string }> {
    const d = await super.createOffer(options);
    return { type: d.type, sdp: d.sdp };
  }
  async createAnswer(options?: unknown): Promise<{ type: string; sdp: string }> {
    const d = await super.createAnswer(options);
    return { type: d.type, sdp: d.sdp };
  }
}

const WRTC = { RTCPeerConnection: CompatPeerConnection, RTCSessionDescription, RTCIceCandidate };
const WRITE_SIZE = 16 * 1024;

/** Passes `from`'s signals to `to`, rewriting candidates to the emulator's port when there is one (in order, after the port is learned). */
function relaySignals(from: SimplePeerInstance, to: SimplePeerInstance, route?: { emulator: LinkEmulatorApi; pathId: number; side: 'a' | 'b'; port: number }): void {
  let chain = Promise.resolve();
  from.on('signal', (data) => {
    if (!route) return to.signal(data);
    const learned: Promise<void>[] = [];
    const learn = (realPort: number) => learned.push(route.emulator.learn(route.pathId, route.side, realPort));
    let out: unknown;
    if (data.candidate) {
      const r = rewriteCandidate(data.candidate.candidate, route.port);
      if (!r) return;
      learn(r.realPort);
      out = { ...data, candidate: { ...data.candidate, candidate: `a=${r.candidate}` } };
    } else if (data.sdp) {
      out = { ...data, sdp: rewriteSdp(data.sdp, route.port, learn) };
    } else out = data;
    chain = chain.then(() => Promise.all(learned)).then(() => to.signal(out), () => to.signal(out));
  });
}

/** Connect attempts: simple-peer does not hold the offerer's candidates back, and about 1 in 100 connects here never completes (see src/connect/negotiate.ts). */
export const CONNECT_ATTEMPTS = 3;
const CONNECT_TIMEOUT_MS = 10_000;

/** Two connected simple-peer instances, and a promise that rejects on the first error of either. */
async function connect(input: TransferInput): Promise<{ a: SimplePeerInstance; b: SimplePeerInstance; failed: Promise<never> }> {
  // No ICE servers, and libjuice bound to 127.0.0.1: one host candidate each, which signalling rewrites to the emulator.
  const config = { iceServers: [], bindAddress: '127.0.0.1' } as RTCConfiguration;
  const a = new SimplePeer({ initiator: true, wrtc: WRTC, config });
  const b = new SimplePeer({ wrtc: WRTC, config });
  const failed = new Promise<never>((_, reject) => {
    a.on('error', reject);
    b.on('error', reject);
  });
  failed.catch(() => undefined);
  try {
    const path = input.emulator ? await input.emulator.addPath() : undefined;
    relaySignals(a, b, path && { emulator: input.emulator!, pathId: path.id, side: 'a', port: path.portFacingB });
    relaySignals(b, a, path && { emulator: input.emulator!, pathId: path.id, side: 'b', port: path.portFacingA });
    const connected = Promise.all([new Promise<void>((r) => a.on('connect', r)), new Promise<void>((r) => b.on('connect', r))]);
    await withTimeout(Promise.race([failed, connected]), CONNECT_TIMEOUT_MS, 'simple-peer connect');
    return { a, b, failed };
  } catch (error) {
    a.destroy();
    b.destroy();
    throw error;
  }
}

export const simplePeer: NetworkSystem = {
  name: 'simple-peer',
  async run(input: TransferInput): Promise<TransferOutcome> {
    let peers: Awaited<ReturnType<typeof connect>> | undefined;
    let retries = 0;
    for (let attempt = 1; !peers; attempt++) {
      try {
        peers = await connect(input);
      } catch (error) {
        if (attempt >= CONNECT_ATTEMPTS) throw error;
        retries++;
      }
    }
    const { a, b, failed } = peers;
    try {
      const { data } = input;
      const hash = createHash('sha256');
      let got = 0;
      const started = performance.now();
      const received = new Promise<number>((resolve) => {
        b.on('data', (chunk) => {
          hash.update(chunk);
          got += chunk.length;
          if (got >= data.length) resolve(performance.now());
        });
      });
      let off = 0;
      const write = () => {
        while (off < data.length) {
          const chunk = data.subarray(off, Math.min(off + WRITE_SIZE, data.length));
          off += chunk.length;
          if (!a.write(chunk)) return a.once('drain', write);
        }
      };
      write();
      const ended = await withTimeout(Promise.race([failed, received]), input.timeoutMs, 'simple-peer');
      const intact = hash.digest('hex') === input.sha256;
      const notes = retries ? [`${retries} connect retr${retries > 1 ? 'ies' : 'y'}`] : [];
      return { seconds: (ended - started) / 1000, delivered: intact ? got : 0, intact, notes };
    } finally {
      a.destroy();
      b.destroy();
      await new Promise((r) => setTimeout(r, 20));
    }
  },
};
