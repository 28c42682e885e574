/**
 * Browser side of the Chromium harness. esbuild bundles this file into `/harness.js`; the page
 * exposes its exports as `window.harness`, and specs drive them with `page.evaluate`.
 *
 * Peers and channels live in registries here and are addressed by string keys, so
 * `page.evaluate` only moves small JSON values (results stay compact: hashes, counts).
 *
 * Gotchas:
 * - `init()` calls `getUserMedia({ audio: true })` once (fake device, auto-accepted by the
 *   flags). WEBRTC-FACTS.md found that without media permission Chromium gathers no
 *   candidates; in a loopback-only namespace with `--allow-loopback-in-peer-connection`
 *   Chromium 156 gathered 127.0.0.1 even without it, but the call is cheap and kept.
 * - Served from http://127.0.0.1:PORT, which is a secure context, so `crypto.subtle` exists.
 * - A negotiated channel opens as soon as SCTP is up even if the other end has not created
 *   its side yet; data sent before that is reset by libdatachannel. Create both ends, then send.
 */
import { createNegotiatedChannels, waitForOpen } from '../../../harness/channels';
import { patternBytes, receiveBytes, sendBytes, type SendBytesConfig } from '../../../harness/pump';
import { connectInProcess, createWebSocketTransport, negotiate } from '../../../harness/signalling';
import { selectedCandidatePair, type CandidateEnd } from '../stats';

/** Peer connections by key. */
const peers = new Map<string, RTCPeerConnection>();
/** Signalling sockets by peer key. */
const sockets = new Map<string, WebSocket>();
/** Channels by `<peer>/<id>`. */
const channels = new Map<string, RTCDataChannel>();
/** Receives started by `expectBytes`, by channel key. */
const receiving = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
/** Key counter. */
let seq = 0;

const peer = (key: string): RTCPeerConnection => {
  const pc = peers.get(key);
  if (!pc) throw new Error(`no peer ${key}`);
  return pc;
};
const channel = (key: string): RTCDataChannel => {
  const c = channels.get(key);
  if (!c) throw new Error(`no channel ${key}`);
  return c;
};
const newPeer = (): string => {
  const key = `p${++seq}`;
  peers.set(key, new RTCPeerConnection({ iceServers: [] }));
  return key;
};

/** Hex SHA-256 via WebCrypto. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Grants media permission once (see file comment); returns facts about the page. */
export async function init(): Promise<{ userAgent: string; secureContext: boolean }> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  stream.getTracks().forEach((t) => t.stop());
  return { userAgent: navigator.userAgent, secureContext: isSecureContext };
}

/** Two connected peer connections in this page; returns their keys `[offerer, answerer]`. */
export async function connectLocalPair(): Promise<[string, string]> {
  const a = newPeer();
  const b = newPeer();
  await connectInProcess(peer(a), peer(b));
  return [a, b];
}

/** Connects a new peer (offerer) to a Node peer that answers on the signalling WebSocket `url`. */
export async function connectToNode(url: string): Promise<string> {
  const key = newPeer();
  const socket = new WebSocket(url);
  sockets.set(key, socket);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`signalling socket ${url} failed`)), { once: true });
  });
  await negotiate(peer(key), { role: 'offerer', transport: createWebSocketTransport(socket) });
  return key;
}

/** Creates negotiated channels `ids` on peer `key`, waits until open, returns their keys. */
export async function openChannels(key: string, ids: number[], init: RTCDataChannelInit = {}): Promise<string[]> {
  const created = createNegotiatedChannels(peer(key), ids, init);
  await Promise.all(created.map((c) => waitForOpen(c)));
  return created.map((c, i) => {
    const channelKey = `${key}/${ids[i]}`;
    channels.set(channelKey, c);
    return channelKey;
  });
}

/** Sends `bytes` of `patternBytes(bytes, seed)` on a channel; returns the SHA-256 of what was sent. */
export async function sendPattern(key: string, bytes: number, seed: number, config: SendBytesConfig = {}): Promise<{ sent: number; sha256: string; ms: number }> {
  const data = patternBytes(bytes, seed);
  const started = performance.now();
  const sent = await sendBytes(channel(key), data, config);
  return { sent, sha256: await sha256Hex(data), ms: performance.now() - started };
}

/** Starts collecting `bytes` on a channel (returns at once); read the outcome with `received`. */
export function expectBytes(key: string, bytes: number, timeoutMs?: number): void {
  const pending = receiveBytes(channel(key), bytes, timeoutMs);
  pending.catch(() => undefined);
  receiving.set(key, pending);
}

/** Waits for the receive started by `expectBytes`; returns the byte count and SHA-256. */
export async function received(key: string): Promise<{ bytes: number; sha256: string }> {
  const pending = receiving.get(key);
  if (!pending) throw new Error(`expectBytes(${key}) was not called`);
  receiving.delete(key);
  const data = await pending;
  return { bytes: data.length, sha256: await sha256Hex(data) };
}

/** The selected candidate pair of peer `key`. */
export async function selectedPair(key: string): Promise<{ local: CandidateEnd; remote: CandidateEnd } | null> {
  return selectedCandidatePair(peer(key));
}

/** Closes every channel, peer and signalling socket in the page. */
export function closeAll(): void {
  channels.forEach((c) => c.close());
  peers.forEach((pc) => pc.close());
  sockets.forEach((s) => s.close());
  channels.clear();
  peers.clear();
  sockets.clear();
  receiving.clear();
}
