/**
 * Offer/answer/candidate exchange for the real-WebRTC harness.
 *
 * Environment-neutral on purpose: no `node:` imports, so the same code runs in
 * Node (node-datachannel's polyfill) and inside the Chromium page (esbuild
 * bundles it into the page harness). One implementation serves all three
 * transports: in-process (`createLoopbackTransports`), JSON lines over a child's
 * stdin/stdout (`spawnPeer`) and a loopback WebSocket (Chromium ↔ Node).
 *
 * Gotchas (all seen here):
 * - node-datachannel's polyfill `createOffer()` only resolves once libdatachannel
 *   auto-negotiates, which happens when the first data channel is created. With no
 *   channel, `createOffer()` hangs forever. The offerer therefore always creates a
 *   negotiated bootstrap channel (`BOOTSTRAP_CHANNEL_ID`) before `createOffer()`;
 *   that also puts the SCTP m-line in the offer, so later negotiated channels need
 *   no renegotiation (in Chromium too).
 * - Never create a channel on a fresh libdatachannel answerer before the offer
 *   arrives: it auto-generates its own offer (glare). Create app channels after
 *   `negotiate()` resolves.
 * - Candidates arriving before the remote description must be queued:
 *   libdatachannel throws "remote candidate without remote description".
 * - The polyfill's candidate strings start with `a=candidate:` and carry no
 *   `sdpMLineIndex`; we strip `a=` and always send `sdpMid`.
 * - Chromium outside a loopback-only namespace offers 192.0.2.x, ::1, fd00:: and
 *   mDNS `*.local` candidates; both directions are filtered to UDP 127.0.0.1.
 * - The offerer holds its own candidates back until it has applied the answer. Otherwise the
 *   answerer can finish ICE (its checks get answered) and start DTLS before the offerer has
 *   any remote description; libdatachannel's offerer then closes itself. Seen in 3 of 400
 *   in-process connects under CPU load, as "connectionState became closed" or "Got a remote
 *   candidate without ICE transport"; 0 of 1000 with the hold.
 * - A throw inside a node-datachannel callback goes to `uncaughtException`; every
 *   async step here is caught and turned into a rejection of `negotiate()`.
 */

/** Reserved negotiated stream id of the bootstrap channel (libdatachannel's max id is 1023). */
export const BOOTSTRAP_CHANNEL_ID = 1023;

/** Default time allowed to reach `connectionState === 'connected'`. */
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

/** What travels over a signalling transport. */
export type SignalMessage = DescriptionMessage | CandidateMessage;

/** A bidirectional pipe for signalling messages. */
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
  /** Reject if not connected by then. Default {@link NEGOTIATE_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Create the negotiated bootstrap channel on the offerer. Default true. */
  readonly bootstrap?: boolean;
}

/** Removes the `a=` prefix that node-datachannel puts on candidate lines. */
export const normaliseCandidate = (candidate: string): string => candidate.replace(/^a=/, '').trim();

/**
 * True for an ICE candidate line that is UDP on 127.0.0.1.
 *
 * `candidate:<foundation> <component> <protocol> <priority> <address> <port> typ <type> …`
 */
export function isLoopbackUdpCandidate(candidate: string): boolean {
  const fields = normaliseCandidate(candidate).split(/\s+/);
  if (fields.length < 8 || !fields[0].startsWith('candidate:')) return false;
  return fields[2].toLowerCase() === 'udp' && fields[4] === '127.0.0.1';
}

/** Two connected in-memory transports; delivery is asynchronous (a macrotask), like a real pipe. */
export function createLoopbackTransports(): [SignalTransport, SignalTransport] {
  const handlers: [Set<(m: SignalMessage) => void>, Set<(m: SignalMessage) => void>] = [new Set(), new Set()];
  const side = (mine: number): SignalTransport => ({
    send(message) {
      // Round-trip through JSON so nothing non-serialisable sneaks through.
      const copy = JSON.parse(JSON.stringify(message)) as SignalMessage;
      setTimeout(() => handlers[1 - mine].forEach((h) => h(copy)), 0);
    },
    onMessage(handler) {
      handlers[mine].add(handler);
      return () => handlers[mine].delete(handler);
    },
  });
  return [side(0), side(1)];
}

/**
 * Runs offer/answer over `transport` and resolves when `pc.connectionState` is `'connected'`.
 *
 * Rejects on `'failed'`/`'closed'`, on any signalling error, or after `timeoutMs`.
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
      finish(message.startsWith('negotiate(') ? (error as Error) : new Error(`negotiate(${role}): ${message}`, { cause: error }));
    };

    const onState = (): void => {
      const state = pc.connectionState;
      if (state === 'connected') finish();
      else if (state === 'failed' || state === 'closed') fail(new Error(`negotiate(${role}): connectionState became ${state}`));
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
      () => fail(new Error(`negotiate(${role}): not connected after ${timeoutMs} ms (connectionState=${pc.connectionState}, iceConnectionState=${pc.iceConnectionState})`)),
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

    if (role === 'offerer') {
      (async () => {
        if (bootstrap) pc.createDataChannel('harness-bootstrap', { negotiated: true, id: BOOTSTRAP_CHANNEL_ID });
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        transport.send({ kind: 'description', description: { type: offer.type, sdp: offer.sdp ?? '' } });
      })().catch(fail);
    }
    onState();
  });
}

/** Connects two peer connections in the same realm through {@link createLoopbackTransports}. */
export async function connectInProcess(offerer: RTCPeerConnection, answerer: RTCPeerConnection, config: Omit<NegotiateConfig, 'role' | 'transport'> = {}): Promise<void> {
  const [ta, tb] = createLoopbackTransports();
  await Promise.all([negotiate(offerer, { ...config, role: 'offerer', transport: ta }), negotiate(answerer, { ...config, role: 'answerer', transport: tb })]);
}

/** The part of a WebSocket (browser or the `ws` package) that {@link createWebSocketTransport} uses. */
export interface WebSocketLike {
  send(data: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/**
 * A {@link SignalTransport} over a WebSocket carrying one JSON message per text frame.
 *
 * Messages that arrive before the first handler registers are queued and delivered to it:
 * the page sends its offer as soon as the socket opens, possibly before the Node side
 * has called `negotiate()`.
 */
export function createWebSocketTransport(socket: WebSocketLike): SignalTransport {
  const handlers = new Set<(m: SignalMessage) => void>();
  // Messages not yet delivered, in arrival order.
  const early: SignalMessage[] = [];
  const flush = (): void => {
    if (!handlers.size) return;
    for (const message of early.splice(0)) handlers.forEach((h) => h(message));
  };
  socket.addEventListener('message', (event) => {
    early.push(JSON.parse(String(event.data)) as SignalMessage);
    flush();
  });
  return {
    send: (message) => socket.send(JSON.stringify(message)),
    onMessage(handler) {
      handlers.add(handler);
      // Deliver the backlog on a later turn, so the caller finishes its own setup first.
      if (early.length) setTimeout(flush, 0);
      return () => handlers.delete(handler);
    },
  };
}
