/**
 * Offer/answer/candidate exchange over any message pipe, for peers that must stay on 127.0.0.1.
 *
 * Environment-neutral on purpose: no `node:` imports, so the same code runs in Node
 * (node-datachannel's polyfill, @roamhq/wrtc) and in a browser page.
 *
 * Gotchas (all seen with node-datachannel 0.33.4 / libdatachannel 0.24.5 and Chromium):
 * - node-datachannel's polyfill `createOffer()` returns a promise that only resolves once
 *   libdatachannel auto-negotiates, which it does when the first data channel is created.
 *   With no channel, `createOffer()` stays pending forever (and `setLocalDescription({ type:
 *   'offer' })` aborts the process: "No DataChannel or Track to negotiate"). Its
 *   `negotiationneeded` event never fires either. The offerer therefore creates a negotiated
 *   bootstrap channel ({@link BOOTSTRAP_CHANNEL_ID}) before `createOffer()`; that also puts the
 *   SCTP m-line in the offer, so later channels need no renegotiation (in browsers too).
 * - Never create a channel on a fresh libdatachannel answerer before the offer arrives: it
 *   auto-generates its own offer (glare). Create channels after `negotiate()` resolves.
 * - Candidates arriving before the remote description must be queued: libdatachannel throws
 *   "remote candidate without remote description".
 * - The polyfill's candidate strings start with `a=candidate:` and carry no `sdpMLineIndex`;
 *   we strip `a=` and always send `sdpMid`.
 * - The offerer holds its own candidates back until it has applied the answer. Otherwise the
 *   answerer can finish ICE and start DTLS before the offerer has any remote description, and
 *   libdatachannel's offerer closes itself (3 of 400 in-process connects under CPU load; 0 of
 *   1000 with the hold).
 * - A throw inside a node-datachannel callback goes to `uncaughtException`; every async step
 *   here is caught and turned into a rejection of `negotiate()`.
 */
import { TallowError } from '../errors';
import { isLoopbackUdpCandidate, normaliseCandidate } from './loopbackCandidates';

/** Negotiated stream id of the offerer's bootstrap channel (libdatachannel's and Chromium's highest id). */
export const BOOTSTRAP_CHANNEL_ID = 1023;

/** Default time allowed to reach `connectionState === 'connected'`, ms. */
export const NEGOTIATE_TIMEOUT_MS = 15_000;

/** A serialisable session description. */
export interface DescriptionMessage {
  readonly kind: 'description';
  readonly description: { type: string; sdp: string };
}

/** A serialisable ICE candidate. */
export interface CandidateMessage {
  readonly kind: 'candidate';
  readonly candidate: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };
}

/** What travels over a signalling transport: plain JSON-safe data. */
export type SignalMessage = DescriptionMessage | CandidateMessage;

/** A bidirectional pipe for signalling messages (a WebSocket, a child's stdin/stdout, memory). */
export interface SignalTransport {
  send(message: SignalMessage): void;
  /** Registers the handler; returns an unregister function. */
  onMessage(handler: (message: SignalMessage) => void): () => void;
}

/** Options of {@link negotiate}. */
export interface NegotiateConfig {
  /** Which side creates the offer. */
  readonly role: 'offerer' | 'answerer';
  /** The pipe to the other side. */
  readonly transport: SignalTransport;
  /** Which candidates to send and accept. Default: {@link isLoopbackUdpCandidate}. */
  readonly acceptCandidate?: (candidate: string) => boolean;
  /** Reject if not connected by then, ms. Default {@link NEGOTIATE_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Create a negotiated bootstrap channel ({@link BOOTSTRAP_CHANNEL_ID}) on the offerer before the offer. Default true. */
  readonly bootstrap?: boolean;
}

/**
 * Runs offer/answer over `transport` and resolves when `pc.connectionState` is `'connected'`.
 *
 * Call it on both peers, one as `offerer` and one as `answerer`, each with its end of the pipe.
 *
 * ```
 * offerer:  bootstrap channel → offer ─────────────► answer applied → (held) candidates ─► connected
 * answerer:                      ◄─ offer applied → answer ─► candidates ──────────────────► connected
 * ```
 *
 * ## Example
 * ```ts
 * const [ta, tb] = createLoopbackTransports();
 * await Promise.all([negotiate(a, { role: 'offerer', transport: ta }), negotiate(b, { role: 'answerer', transport: tb })]);
 * ```
 *
 * @see connectInProcess
 * @param pc The peer connection, fresh (no description set).
 * @param config Role, transport, candidate filter, timeout.
 * @return Resolves once connected; rejects with a `TallowError` (`ERR_CONNECT_FAILED`) on
 * `'failed'`/`'closed'`, on any signalling error, or after `timeoutMs`.
 */
export function negotiate(pc: RTCPeerConnection, config: NegotiateConfig): Promise<void> {
  const { role, transport, acceptCandidate = isLoopbackUdpCandidate, timeoutMs = NEGOTIATE_TIMEOUT_MS, bootstrap = true } = config;
  return new Promise<void>((resolve, reject) => {
    // Candidates received before the remote description was set.
    const pending: CandidateMessage['candidate'][] = [];
    // Whether setRemoteDescription has completed.
    let haveRemote = false;
    // Offerer only: local candidates held back until the answer is applied (see file comment).
    const held: CandidateMessage['candidate'][] | null = role === 'offerer' ? [] : null;
    // Set once the promise settled.
    let settled = false;

    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      pc.removeEventListener('icecandidate', onCandidate);
      pc.removeEventListener('connectionstatechange', onState);
      if (error) reject(error);
      else resolve();
    };
    const fail = (error: unknown): void => {
      const message = error instanceof Error ? error.message : String(error);
      const state = { role, connectionState: pc.connectionState, signalingState: pc.signalingState };
      finish(error instanceof TallowError ? error : new TallowError('ERR_CONNECT_FAILED', `negotiate(${role}): ${message}`, state, { cause: error }));
    };

    const onState = (): void => {
      const state = pc.connectionState;
      if (state === 'connected') finish();
      else if (state === 'failed' || state === 'closed') fail(`connectionState became ${state}`);
    };
    const onCandidate = (event: RTCPeerConnectionIceEvent): void => {
      const c = event.candidate;
      if (!c || !c.candidate || !acceptCandidate(c.candidate)) return;
      const candidate = { candidate: normaliseCandidate(c.candidate), sdpMid: c.sdpMid ?? '0', sdpMLineIndex: c.sdpMLineIndex ?? null };
      if (held && !haveRemote) held.push(candidate);
      else transport.send({ kind: 'candidate', candidate });
    };
    const addCandidate = async (c: CandidateMessage['candidate']): Promise<void> => {
      await pc.addIceCandidate(c.sdpMLineIndex === null ? { candidate: c.candidate, sdpMid: c.sdpMid ?? '0' } : c);
    };
    const onDescription = async (d: DescriptionMessage['description']): Promise<void> => {
      await pc.setRemoteDescription(d as RTCSessionDescriptionInit);
      haveRemote = true;
      for (const c of held?.splice(0) ?? []) transport.send({ kind: 'candidate', candidate: c });
      for (const c of pending.splice(0)) await addCandidate(c);
      if (d.type === 'offer') {
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        transport.send({ kind: 'description', description: { type: answer.type, sdp: answer.sdp ?? '' } });
      }
    };

    const timer = setTimeout(
      () => fail(`not connected after ${timeoutMs} ms (connectionState=${pc.connectionState}, iceConnectionState=${pc.iceConnectionState})`),
      timeoutMs,
    );
    const unsubscribe = transport.onMessage((message) => {
      if (settled) return;
      if (message.kind === 'description') onDescription(message.description).catch(fail);
      else if (message.kind === 'candidate') {
        if (!acceptCandidate(message.candidate.candidate)) return;
        if (haveRemote) addCandidate(message.candidate).catch(fail);
        else pending.push(message.candidate);
      }
    });
    pc.addEventListener('icecandidate', onCandidate);
    pc.addEventListener('connectionstatechange', onState);

    if (role === 'offerer') sendOffer(pc, transport, bootstrap).catch(fail);
    onState();
  });
}

/** The offerer's first step: the bootstrap channel unless turned off (see the file's comment), then the offer, applied and sent. */
async function sendOffer(pc: RTCPeerConnection, transport: SignalTransport, bootstrap: boolean): Promise<void> {
  if (bootstrap) pc.createDataChannel('bootstrap', { negotiated: true, id: BOOTSTRAP_CHANNEL_ID });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  transport.send({ kind: 'description', description: { type: offer.type, sdp: offer.sdp ?? '' } });
}
